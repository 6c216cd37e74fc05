import type { RunResult } from '../core/run-sync.js';
import { STATUSES } from '../core/statuses.js';

export interface SummaryInfo {
  verb: string;
  target: string;
  report: string;
  notes: string[];
}

export function formatSummary(result: RunResult, info: SummaryInfo): string {
  const secs = result.durationMs / 1000;
  const lines: string[] = [];
  // After a stop, the rows it never got to are not rows done: the pace is of the rows that have an answer.
  const notAttempted = result.counts.NOT_ATTEMPTED ?? 0;
  const done = result.interrupted || result.abortReason ? result.rows - notAttempted : result.rows;
  const rate = secs > 0 ? Math.round(done / secs) : done;
  const what = done === result.rows ? `${result.rows} rows` : `${done} of ${result.rows} rows done (the other ${notAttempted} NOT_ATTEMPTED)`;
  lines.push(`${info.verb} → ${info.target}: ${what} in ${secs.toFixed(1)} s (${rate} rows/s)`);
  const counts = STATUSES.filter((s) => result.counts[s]).map((s) => `${s} ${result.counts[s]}`);
  lines.push(`  ${counts.join(' · ') || 'no rows'}`);
  if (result.calls > 0) {
    let pace = `  ${result.calls} API call${result.calls === 1 ? '' : 's'}`;
    if (result.ceilingPerMinute && result.achievedPerMinute) {
      const share = Math.min(100, (result.achievedPerMinute / result.ceilingPerMinute) * 100);
      pace += ` · pace ${Math.round(result.achievedPerMinute)}/min of the ${result.ceilingPerMinute}/min ceiling (${share.toFixed(0)}%)`;
    }
    pace += ` · ${result.rateLimited} rate-limited (429)`;
    lines.push(pace);
  }
  for (const n of info.notes) lines.push(`  note: ${n}`);
  lines.push(`  report: ${info.report}`);
  if (result.abortReason) lines.push(`  ABORTED: ${result.abortReason}`);
  return lines.join('\n') + '\n';
}
