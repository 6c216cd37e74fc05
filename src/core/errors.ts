/**
 * Errors that end a whole run. Row failures are data (a report row), never one of these.
 * Each has a stable `code` (printed as `error [CODE]: …`, and in `--json` as {"error":{"code":…}}) and the exit
 * status the contract gives it (docs/CONTRACT.md "Exit status").
 */
export type ErrorCode =
  // exit 2: nothing was sent
  | 'E_USAGE' | 'E_UNSUPPORTED' | 'E_CREDENTIALS' | 'E_CONFIG' | 'E_PORT'
  | 'E_INPUT' | 'E_EMPTY' | 'E_HEADER' | 'E_NOT_TEXT' | 'E_DATE_ORDER' | 'E_NO_KEY'
  | 'E_MAPPING' | 'E_REMOTE_FIELDS'
  | 'E_REPORT' | 'E_REPORT_EXISTS' | 'E_REPORT_REAL' | 'E_OUTPUT_CLASH' | 'E_OUTPUT_PATH' | 'E_OUTPUT_EXISTS' | 'E_EXISTS'
  | 'E_FAILED_FILE' | 'E_BACKUP' | 'E_LOCK' | 'E_LOCKED' | 'E_RESUME' | 'E_STATE'
  | 'E_MAX_DELETES' | 'E_CONFIRM' | 'E_MIRROR' | 'E_SEGMENT' | 'E_PLAN' | 'E_UNDO'
  // exit 3: aborted
  | 'E_AUTH' | 'E_ABORTED' | 'E_LOOKUP' | 'E_READ'
  // exit 130
  | 'E_INTERRUPTED'
  // exit 70: a bug
  | 'E_INTERNAL';

export class SyncError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  constructor(code: ErrorCode, message: string, exitCode: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SyncError';
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** Nothing was sent: bad usage, missing credentials, unreadable input or mapping (exit 2). */
export class UsageError extends SyncError {
  constructor(message: string, code: ErrorCode = 'E_USAGE', options?: { cause?: unknown }) {
    super(code, message, 2, options);
    this.name = 'UsageError';
  }
}

/** The remote refused our credentials or configuration, or the input could not be read on; no row can succeed (exit 3). */
export class RunAbortedError extends SyncError {
  constructor(message: string, code: ErrorCode = 'E_ABORTED', options?: { cause?: unknown }) {
    super(code, message, 3, options);
    this.name = 'RunAbortedError';
  }
}

/** Ctrl-C or SIGTERM before the run's rows were sent: nothing more is sent (exit 130). */
export class InterruptedError extends SyncError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_INTERRUPTED', message, 130, options);
    this.name = 'InterruptedError';
  }
}

/** A state of the program that should not be reachable: a bug, reported as such (exit 70). */
export class InternalError extends SyncError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_INTERNAL', message, 70, options);
    this.name = 'InternalError';
  }
}
