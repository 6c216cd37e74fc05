/**
 * Errors that end a whole run. Row failures are data (a report row), never one of these.
 * Each has a stable `code` and the exit status the contract gives it.
 */
export class SyncError extends Error {
  readonly code: string;
  readonly exitCode: number;
  constructor(code: string, message: string, exitCode: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SyncError';
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** Nothing was sent: bad usage, missing credentials, unreadable input or mapping (exit 2). */
export class UsageError extends SyncError {
  constructor(message: string, code = 'E_USAGE', options?: { cause?: unknown }) {
    super(code, message, 2, options);
    this.name = 'UsageError';
  }
}

/** The remote refused our credentials or configuration; no row can succeed (exit 3). */
export class RunAbortedError extends SyncError {
  constructor(message: string, code = 'E_ABORTED', options?: { cause?: unknown }) {
    super(code, message, 3, options);
    this.name = 'RunAbortedError';
  }
}
