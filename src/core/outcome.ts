import type { RunResult } from './run-types.js';
import type { Status } from './types.js';
import { SUCCESS_STATUSES } from './statuses.js';

/**
 * The exit code of a run, the one rule (docs/CONTRACT.md "Exit status"): 130 interrupted, 3 aborted, 0 when every
 * row ended in success and none was written with a part the remote did not apply (or could not be put back whole),
 * 1 otherwise.
 */
export function exitCodeOf(r: { counts: Partial<Record<Status, number>>; warned: number; interrupted?: boolean; abortReason?: string }): number {
  if (r.interrupted) return 130;
  if (r.abortReason !== undefined) return 3;
  const allOk = Object.entries(r.counts).every(([s, n]) => !n || SUCCESS_STATUSES.has(s as Status));
  return allOk && r.warned === 0 ? 0 : 1;
}

/**
 * Two parts of one run as one outcome (an import and its mirror deletions; an undo's restores and its deletions):
 * counts, calls and warnings added up, the first stop kept, and the exit code by the one rule.
 */
export function combineOutcomes(a: RunResult, b: RunResult, extra: Partial<RunResult> = {}): RunResult {
  const counts: Partial<Record<Status, number>> = { ...a.counts };
  for (const [s, n] of Object.entries(b.counts)) counts[s as Status] = (counts[s as Status] ?? 0) + (n ?? 0);
  const merged: RunResult = {
    ...a,
    rows: a.rows + b.rows,
    counts,
    calls: a.calls + b.calls,
    rateLimited: a.rateLimited + b.rateLimited,
    durationMs: a.durationMs + b.durationMs,
    warned: a.warned + b.warned,
    abortReason: a.abortReason ?? b.abortReason,
    interrupted: a.interrupted || b.interrupted,
    ...extra,
  };
  return { ...merged, exitCode: exitCodeOf(merged) };
}
