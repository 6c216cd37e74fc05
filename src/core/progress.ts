import type { Status } from './types.js';

/** Where the core reports progress; the CLI decides how it looks (bar, plain lines, nothing). */
export interface ProgressSink {
  start(info: { operation: string; target: string }): void;
  /** Rows finished (reported, in input order) so far, and their statuses. */
  update(rows: number, counts: Readonly<Partial<Record<Status, number>>>): void;
  /** How many rows the input holds: estimated from the bytes read until the end of the input, then exact. */
  total?(rows: number, exact: boolean): void;
  /** The pace of the last few seconds, in calls a minute, and the account's ceiling when it has one. */
  pace?(callsPerMinute: number, ceilingPerMinute: number | undefined): void;
  stop(): void;
}

export const silentProgress: ProgressSink = { start() {}, update() {}, stop() {} };
