import type { Target } from '../core/types.js';

/** What a target folder exports (src/targets/<name>/index.ts): the target, and its emulator for the sandbox. */
export interface TargetModule {
  target: Target;
  /** Loaded when a sandbox starts, not with the target (start-up time). */
  createEmulator(settings: EmulatorSettings): Promise<Emulator>;
}

/** Sandbox settings an emulator may honour (`sandbox --rate-limit --max-batch-size`). */
export interface EmulatorSettings {
  rateLimit?: number;
  maxBatchSize?: number;
}

/** What the sandbox server asks of each target's emulator (src/targets/<name>/emulator.ts). */
export interface EmulatorRequest {
  method: string;
  path: string;
  /** The query string as received ("" or "?a=b"): credentials must never be in it. */
  query: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The body parsed as JSON once by the server (undefined when it is not JSON); emulators may mutate it. */
  json?: unknown;
}

export interface EmulatorReply {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

export interface Emulator {
  readonly name: string;
  handles(path: string): boolean;
  handle(req: EmulatorRequest): EmulatorReply;
  /** The remote's records, for tests and `GET /_sandbox/state`. */
  snapshot(): unknown;
  /** Admin: put records in place (to seed duplicates and the like). */
  seed?(records: unknown[]): void;
  /** The environment (endpoint URL and credentials) that points a real run at this emulator served at `baseUrl`. */
  environment(baseUrl: string): Record<string, string>;
  /** How many records a request carries (the sandbox's stats); 0 when it is not a data call. */
  itemsIn?(req: EmulatorRequest): number;
  /** Whether injected faults apply to calls on this path (default: yes; e.g. not a limits endpoint). */
  faultable?(path: string): boolean;
  /** This remote's own wording of a fault (its 429 body, its rate message inside a 200), instead of the generic one. */
  faultReply?(kind: string): EmulatorReply | undefined;
}
