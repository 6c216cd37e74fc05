import type { Status } from './types.js';

/** Where the core reports progress; the CLI decides how it looks (bar, plain lines, nothing). */
export interface ProgressSink {
  start(info: { operation: string; target: string }): void;
  update(rows: number, counts: Readonly<Partial<Record<Status, number>>>): void;
  stop(): void;
}

export const silentProgress: ProgressSink = { start() {}, update() {}, stop() {} };
