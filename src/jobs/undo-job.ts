import { combineOutcomes } from '../core/outcome.js';
import { UsageError } from '../core/errors.js';
import { RequestPacer } from '../core/pace-requests.js';
import { createRedactor } from '../core/redact.js';
import { runSync, type RunResult } from '../core/run-sync.js';
import type { Source, SourceRecord, Target } from '../core/types.js';
import { readBatchSize } from '../core/limits.js';
import { createRowMapper } from '../mapping/mapper.js';
import { checkRunFiles, lockReport, prepareReportPath } from '../report/output-guard.js';
import { journalPathOf, ReportWriter } from '../report/report-writer.js';
import { readPreviousResults } from '../report/resume-reader.js';
import { checkResumable, exists, fingerprint, runRecordPathOf, writeRunRecord } from '../report/run-record.js';
import type { UndoHeader } from '../report/undo-log.js';
import { coalesce, deletionRecords, readUndoLog, restoreItem, type RowUndo } from './undo-records.js';
import { openStateDb } from '../state/sqlite-state.js';
import { allSecrets, TARGETS } from '../targets/index.js';
import type { JobIO } from './job-io.js';
import { backupPathFor, confirmLargeDelete, writeBackup } from './delete-guard.js';
import { recordsSource, retryPolicyFor, RunResources } from './run-resources.js';
import { PageCollector, writeSummaryPage } from '../report/summary-page.js';
import type { PreviousRow } from '../core/run-types.js';
import type { ProgressSink } from '../core/progress.js';

export interface UndoJob {
  log: string;
  reportPath: string;
  dryRun: boolean;
  force: boolean;
  resume: boolean;
  maxDeletes: number;
  yes: boolean;
  backup?: string;
  concurrency?: number;
  rate?: number;
  timeoutSec: number;
  retries?: number;
  statePath?: string;
  quiet: boolean;
  /** Write `<report>.html`, the summary page. */
  html: boolean;
  /** --trace: every request and answer, appended as JSON lines (credentials masked). */
  trace?: string;
}

export interface UndoOutcome {
  result: RunResult;
  notes: string[];
  reportPath: string;
  verb: string;
  redact: (s: string) => string;
  targetName: string;
}

/**
 * `undo <undo-log>`: puts back the records an import updated (the fields it changed, to their prior values; "" is
 * sent to empty a field that was empty), then deletes the records it created — with delete's rules: a preview
 * (--dry-run, which reads every record and says what would change), the cap (--max-deletes / --yes) and a backup.
 * A record changed again since the import is a CONFLICT, not overwritten (--force overwrites). One report line per
 * record, resumable with --resume like an import.
 */
export async function runUndoJob(job: UndoJob, io: JobIO): Promise<UndoOutcome> {
  const { header, rows } = await readUndoLog(job.log);
  const target = undoTarget(job, header, io.env);
  const sending = !job.dryRun;
  checkRunFiles([{ path: job.log, role: 'the undo log' }], [
    { path: job.reportPath, role: 'the report', option: '--report' },
    { path: journalPathOf(job.reportPath), role: "the report's journal", option: '--report' },
    { path: runRecordPathOf(job.reportPath), role: "the report's run record", option: '--report' },
    ...(job.backup ? [{ path: job.backup, role: 'the backup', option: '--backup' }] : []),
  ]);
  const release = lockReport(job.reportPath, `undo ${job.log}`);
  const res = new RunResources(io);
  const notes: string[] = [];
  const redact = createRedactor(allSecrets(io.env));
  const page = job.html ? new PageCollector() : undefined;
  const startedAt = new Date();
  try {
    const kept = prepareReportPath(job.reportPath, { sending, resuming: job.resume, overwrite: false, commandLabel: 'undo --dry-run' });
    notes.push(...kept.notes);
    const previous = await resumeUndo(job, target, sending, notes);
    await res.openTrace(job.trace, [...allSecrets(io.env), io.env.LUMINATE_LOGIN_NAME]);
    const session = (res.session = await target.connect({ env: io.env, timeoutMs: job.timeoutSec * 1000, concurrency: job.concurrency ?? 4, trace: res.trace?.record }));
    const limits = session.limits;
    const rate = job.rate && limits.ratePerMinute ? Math.min(job.rate, limits.ratePerMinute) : job.rate ?? limits.ratePerMinute;
    const calls = { pacer: new RequestPacer(rate, undefined, job.rate ? undefined : limits.startRatePerMinute), retry: retryPolicyFor(job.retries, io.env), signal: io.stop };
    if (job.statePath) res.stateDb = openStateDb(job.statePath);
    const { restores, creations } = undoRecords(target, rows, job.force);
    // The cap is asked about before anything is written: a refusal must not leave the records half undone.
    if (sending && target.deletes && creations.length > job.maxDeletes && !job.yes) await confirmLargeDelete(creations.length, job.maxDeletes, io, target.nouns);
    const nounOf = (k: number) => (k === 1 ? target.nouns.one : target.nouns.many);
    notes.push(`undo log of the import of ${header.input} started ${header.startedAt}: ${restores.length} ${nounOf(restores.length)} it wrote over, ${creations.length} it created`);
    res.report = new ReportWriter(job.reportPath, { journal: sending, carry: previous ? [...previous.values()].map((p) => p.line) : undefined });
    const common = {
      target,
      mapper: createRowMapper(target, undefined, job.log),
      session,
      ...calls,
      concurrency: job.concurrency ?? limits.defaultConcurrency,
      batchSize: readBatchSize(limits), // each batch is read before it is restored
      report: page ? page.tap(res.report) : res.report,
      redact,
      previous,
      state: res.stateDb?.forAccount(target.name, header.account),
      expectLabel: 'since the import',
      forceHint: '--force puts it back anyway',
    };
    // Pass 1: records the import updated, put back field by field, each checked first against what the import wrote.
    const progress = await io.progress(sending ? 'Undo' : 'Undo preview', job.quiet);
    const restored = await runSync({ ...common, operation: 'upsert', mode: sending ? 'send' : 'plan', source: recordsSource(restores), progress });
    // Pass 2: records the import created: deleted (Salsa), with the delete rules; Luminate cannot delete them.
    const deletions = await deletionRecords(target, session, creations, { ...calls, force: job.force, previous });
    const deleted = restored.interrupted || restored.abortReason ? undefined : await deleteCreated(job, io, target, deletions, notes, (source, progress) => runSync({ ...common, operation: 'delete', mode: sending ? 'send' : 'dry-run', source, firstRow: restores.length + 1, progress }));
    res.report.close(true);
    const result = deleted ? combineOutcomes(restored, deleted) : restored;
    notes.push(...undoNotes(result, target, sending, !!res.stateDb));
    if (page) {
      const facts = { title: `${sending ? 'Undo' : 'Undo preview'} → ${target.displayName}: ${job.log}`, input: job.log, target: target.displayName, account: header.account, mode: sending ? 'undo' : 'undo --dry-run', reportPath: job.reportPath, startedAt, endedAt: new Date(), notes, redact };
      notes.push(writeSummaryPage(facts, result, page));
    }
    return { result, notes, reportPath: job.reportPath, verb: sending ? 'Undo' : 'Undo preview', redact, targetName: target.displayName };
  } catch (err) {
    res.report?.close(false);
    throw err;
  } finally {
    await res.close(() => undefined);
    release();
  }
}

/** The target the undo log names, with this environment's credentials for the same account. */
function undoTarget(job: UndoJob, header: UndoHeader, env: Record<string, string | undefined>): Target {
  const target = Object.hasOwn(TARGETS, header.target) ? TARGETS[header.target] : undefined;
  if (!target) throw new UsageError(`${job.log} is the undo log of a ${header.target} import, which this version does not know.`, 'E_UNDO');
  const missing = target.missingCredentials(env);
  if (missing.length > 0) throw new UsageError(`Missing ${missing.join(', ')} for ${target.displayName} (environment or .env): undo talks to the account the import wrote to.`, 'E_CREDENTIALS');
  if (target.accountId(env) !== header.account) {
    throw new UsageError(`${job.log} belongs to an import into ${header.account.replace(/#.*/, '')} with other credentials than this environment's: point the environment at that account. Nothing was sent.`, 'E_UNDO');
  }
  return target;
}

/** The run record of this undo, and with --resume the answers an earlier undo already had. */
async function resumeUndo(job: UndoJob, target: Target, sending: boolean, notes: string[]): Promise<Map<number, PreviousRow> | undefined> {
  const print = await fingerprint(job.log);
  const current = { input: { path: job.log, ...print }, target: target.name, operation: 'undo' };
  let previous: Map<number, PreviousRow> | undefined;
  if (job.resume && sending && ((await exists(job.reportPath)) || (await exists(journalPathOf(job.reportPath))))) {
    await checkResumable(job.reportPath, current);
    previous = (await readPreviousResults(job.reportPath)).previous;
    notes.push(`resumed from ${job.reportPath}: ${previous.size} records already had a final answer`);
  }
  await writeRunRecord(job.reportPath, { version: 1, mode: sending ? 'send' : 'dry-run', ...current, startedAt: new Date().toISOString() });
  return previous;
}

/** The undo's rows: restores first, in the import's order, then the creations to delete (numbered after them). */
function undoRecords(target: Target, rows: RowUndo[], force: boolean): { restores: SourceRecord[]; creations: Array<{ row: number; r: RowUndo }> } {
  const restores: SourceRecord[] = [];
  const creations: Array<{ row: number; r: RowUndo }> = [];
  let n = 0;
  for (const r of coalesce(rows)) {
    if (r.entry.before === null) creations.push({ row: 0, r });
    else restores.push({ row: ++n, line: r.entry.line, ready: restoreItem(target, r, force) });
  }
  for (const c of creations) c.row = ++n;
  return { restores, creations };
}

type Deletion = Awaited<ReturnType<typeof deletionRecords>>[number];

/** The second pass: what cannot be deleted said, the cap and the backup, then the deletions sent (or previewed). */
async function deleteCreated(job: UndoJob, io: JobIO, target: Target, deletions: Deletion[], notes: string[], send: (source: Source, progress: ProgressSink | undefined) => Promise<RunResult>): Promise<RunResult> {
  const sending = !job.dryRun;
  const cannot = deletions.filter((d) => d.ready?.decided?.errorCode === 'NO_DELETE').map((d) => d.ready!.decided!.remoteId);
  if (cannot.length > 0) notes.push(`${cannot.length} ${target.nouns.many} created by the import cannot be deleted through ${target.displayName}'s API: ${cannot.join(', ')} (delete them in its admin)`);
  const toDelete = deletions.filter((d) => d.ready && !d.ready.decided);
  if (sending && toDelete.length > 0) {
    const backupPath = job.backup ?? backupPathFor(job.reportPath, 'undo-deleted');
    await writeBackup(backupPath, toDelete.map((d) => d.found!));
    notes.push(`backup of the ${toDelete.length} ${toDelete.length === 1 ? target.nouns.one : target.nouns.many} the undo deletes: ${backupPath}`);
  }
  const progress = deletions.length > 0 ? await io.progress(sending ? 'Undo: deleting what the import created' : 'Undo preview: what the import created', job.quiet) : undefined;
  return send(recordsSource(deletions.map((d) => d.record)), progress);
}

/** The undo's own lines for the summary. */
function undoNotes(result: RunResult, target: Target, sending: boolean, withState: boolean): string[] {
  const notes: string[] = [];
  if (!sending) notes.push('nothing was changed: each line says what the undo would do (UPDATE with the fields it puts back, DRY_RUN for a deletion) or why it would not (CONFLICT)');
  const conflicts = result.counts.CONFLICT ?? 0;
  if (conflicts > 0) notes.push(`${conflicts} ${conflicts === 1 ? target.nouns.one : target.nouns.many} changed again since the import: not overwritten (their lines say how; --force overwrites)`);
  if (result.warned > 0) notes.push(`${result.warned} ${result.warned === 1 ? target.nouns.one : target.nouns.many} could not be put back whole through the API (each line says what stays as the import left it): exit 1`);
  if (withState) notes.push(`state: the keys put back will be sent again by the next --changed-only run`);
  return notes;
}
