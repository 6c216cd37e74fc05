import { UsageError } from '../core/errors.js';
import type { PendingMemberships, PreviousRow } from '../core/run-sync.js';
import { checkReplaceable, checkRunFiles, looksLikeFailedRows } from '../report/output-guard.js';
import { journalPathOf } from '../report/report-writer.js';
import { readPreviousResults } from '../report/resume-reader.js';
import { checkResumable, exists, fingerprint, runRecordPathOf, writeRunRecord } from '../report/run-record.js';
import type { DataJob } from './data-job-types.js';

/**
 * Before anything is opened for writing: no output (report, journal, run record, lock, failed rows, backup, state)
 * may be, or resolve to, an input, the mapping or another output; a --failed file this tool did not write is
 * replaced only with --overwrite.
 */
export function guardRunFiles(job: DataJob): void {
  const { input, reportPath, statePath } = job;
  const failedFile = job.failed ? { path: job.failed, role: 'the failed-rows file', option: '--failed' } : undefined;
  checkRunFiles(
    [{ path: input, role: 'the input' }, ...(job.map ? [{ path: job.map, role: 'the mapping file' }] : []), ...(job.applyPlan ? [{ path: job.applyPlan, role: 'the plan' }] : [])],
    [
      { path: reportPath, role: 'the report', option: '--report' },
      { path: journalPathOf(reportPath), role: "the report's journal", option: '--report' },
      { path: runRecordPathOf(reportPath), role: "the report's run record", option: '--report' },
      { path: `${reportPath}.lock`, role: "the report's lock", option: '--report' },
      ...(failedFile ? [failedFile] : []),
      ...(job.backup ? [{ path: job.backup, role: 'the backup', option: '--backup' }] : []),
      ...(job.undoLog ? [{ path: job.undoLog, role: 'the undo log', option: '--undo-log' }] : []),
      ...(job.trace ? [{ path: job.trace, role: 'the trace', option: '--trace' }] : []),
      ...(statePath ? [{ path: statePath, role: 'the local state', option: '--state', createsFolder: true }] : []),
    ],
  );
  if (failedFile) checkReplaceable(failedFile, looksLikeFailedRows, job.overwrite);
}

/**
 * The run record beside the report (what the report is made from), and with --resume the final answers a previous
 * real run of the same input, target and operation left. A preview writes a record of what it was, so --resume can
 * never take its report for a real run's.
 */
export async function recordRun(job: DataJob, commandLabel: string): Promise<{ previous?: Map<number, PreviousRow>; pending?: Map<number, PendingMemberships>; notes: string[] }> {
  const { input, target, operation, mode, sending, reportPath } = job;
  const notes: string[] = [];
  let previous: Map<number, PreviousRow> | undefined;
  let pending: Map<number, PendingMemberships> | undefined;
  if (sending && input !== '-') {
    const print = await fingerprint(input);
    const current = { input: { path: input, ...print }, target: target.name, operation };
    if (job.resume && ((await exists(reportPath)) || (await exists(journalPathOf(reportPath))))) {
      await checkResumable(reportPath, current);
      ({ previous, pending } = await readPreviousResults(reportPath));
      notes.push(`resumed from ${reportPath}: ${previous.size} rows already had a final answer and were not sent again`);
      if (pending.size > 0) notes.push(`${pending.size} row${pending.size === 1 ? ' was' : 's were'} written by the earlier run but not all of ${pending.size === 1 ? 'its' : 'their'} group changes: only those were sent`);
    } else if (job.resume) {
      notes.push(`--resume: no report at ${reportPath} yet, so every row was sent`);
    }
    await writeRunRecord(reportPath, { version: 1, mode, ...current, startedAt: new Date().toISOString() });
  } else if (job.resume && input === '-') {
    throw new UsageError('--resume needs the input as a file: stdin cannot be read again to match rows.', 'E_RESUME');
  } else if (job.resume) {
    throw new UsageError(`--resume continues a run that sent; a ${commandLabel} sends nothing, so there is nothing to resume. Run it without --resume.`, 'E_RESUME');
  } else {
    // A preview's record says what it was, so --resume can never take its report for a real run's. A plan's also
    // fingerprints its input: --apply-plan refuses a plan of another version of the file.
    const print = mode === 'plan' && input !== '-' ? await fingerprint(input) : {};
    await writeRunRecord(reportPath, { version: 1, mode, input: { path: input, ...print }, target: target.name, operation, startedAt: new Date().toISOString() });
  }
  return { previous, pending, notes };
}
