/** Every status a report line can carry, and which of them count as success or are sent again by `--resume`. */
export const STATUSES = [
  'ADDED',
  'UPDATED',
  'DELETED',
  'UPSERTED',
  'UNCHANGED',
  'DRY_RUN',
  'CREATE',
  'UPDATE',
  'NO_CHANGE',
  'INVALID',
  'CONFLICT',
  'NOT_FOUND',
  'VALIDATION_ERROR',
  'SYSTEM_ERROR',
  'FAILED',
  'NOT_ATTEMPTED',
] as const;

export type Status = (typeof STATUSES)[number];

/** Statuses that count as success for the exit code (docs/CONTRACT.md "Exit status"). */
export const SUCCESS_STATUSES: ReadonlySet<Status> = new Set<Status>([
  'ADDED',
  'UPDATED',
  'DELETED',
  'UPSERTED',
  'UNCHANGED',
  'DRY_RUN',
  // A plan's outcomes (--plan): what the run would do.
  'CREATE',
  'UPDATE',
  'NO_CHANGE',
]);

/** Statuses that `--resume` sends again (docs/CONTRACT.md "final?" column). */
export const RETRYABLE_STATUSES: ReadonlySet<Status> = new Set<Status>(['SYSTEM_ERROR', 'FAILED', 'NOT_ATTEMPTED']);
