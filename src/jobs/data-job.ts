import { createHash } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import { RequestPacer } from '../core/pace-requests.js';
import type { DeletePlan } from '../core/plan-deletes.js';
import { createRedactor } from '../core/redact.js';
import { runSync, type RunResult } from '../core/run-sync.js';
import type { RunOptions } from '../core/run-types.js';
import type { PrepareOptions, RowMapper, SourceRecord, Status, TargetSession } from '../core/types.js';
import { readBatchSize } from '../core/limits.js';
import { loadMappingFile } from '../mapping/mapping-file.js';
import { createRowMapper } from '../mapping/mapper.js';
import { lockReport, prepareReportPath, restoreKeptReport } from '../report/output-guard.js';
import { journalPathOf, ReportWriter } from '../report/report-writer.js';
import { runRecordPathOf } from '../report/run-record.js';
import { openSource, resolveFormat } from '../sources/index.js';
import type { AccountState } from '../state/sqlite-state.js';
import { allSecrets } from '../targets/index.js';
import type { DataJob } from './data-job-types.js';
import type { JobIO } from './job-io.js';
import { checkBoundColumns, describeMapping, settleDates } from './mapping-checks.js';
import type { MirrorCandidate } from './mirror.js';
import { recordsSource, retryPolicyFor, RunResources } from './run-resources.js';
import { guardRunFiles, recordRun } from './run-files.js';
import { connect, groupsNeeded, openState, readFieldList, readGroups, resolveFlagGroups, type Calls, type Setup } from './account.js';
import { runNotes } from './run-notes.js';
import { PageCollector, writeSummaryPage } from '../report/summary-page.js';
import { buildUpdatePolicy, settleTimestampOrder } from './update-setup.js';

export type { DataJob } from './data-job-types.js';

/** What a data run came to: its result and the notes the summary prints. */
export interface DataJobOutcome {
  result: RunResult;
  notes: string[];
  reportPath: string;
  /** What ran ("Import", "Dry run (delete)"…), for the summary's first line. */
  verb: string;
  redact: (text: string) => string;
  /** Notes already said before the run, as they were said: the terminal summary leaves them out. */
  said: ReadonlySet<string>;
}

/**
 * A data command (import, delete, validate) composed: the files it will write checked and locked, resume, the
 * sandbox, the connection and the account's field list, the state, the delete plan and its cap and backup, the send
 * loop, mirror. The CLI turns flags into the DataJob and prints what this returns.
 */
export async function runDataJob(job: DataJob, io: JobIO): Promise<DataJobOutcome> {
  const { command, input, mode, reportPath } = job;
  guardRunFiles(job);
  const release = lockReport(reportPath, `${command}${mode === 'dry-run' ? ' --dry-run' : ''} ${input}`);
  try {
    const commandLabel = mode === 'validate' ? 'validate' : mode === 'plan' ? `${command} --plan` : `${command} --dry-run`;
    const kept = prepareReportPath(reportPath, { sending: job.sending, resuming: job.resume, overwrite: job.overwrite, commandLabel });
    try {
      return await runLocked(job, io, kept.notes, commandLabel);
    } catch (err) {
      // Nothing was sent: the earlier report goes back where the person left it.
      if (err instanceof UsageError && kept.keptAs) restoreKeptReport(reportPath, kept.keptAs);
      throw err;
    }
  } finally {
    release();
  }
}

/** The run, under the report's lock: set up, connect and send, then the summary's notes. */
async function runLocked(job: DataJob, io: JobIO, keptNotes: string[], commandLabel: string): Promise<DataJobOutcome> {
  const setup = await setUp(job, io, keptNotes, commandLabel);
  const startedAt = new Date();
  const res = new RunResources(io);
  let result: RunResult;
  try {
    result = await connectAndSend(setup, res);
    res.report!.close(true);
  } catch (err) {
    abandonReport(err, res, job.reportPath, !!setup.previous);
    throw err;
  } finally {
    await res.close((line) => setup.notes.push(line));
  }
  setup.notes.push(...runNotes(result, {
    job,
    limits: res.session?.limits,
    newEmailStatus: setup.prepare.newEmailStatus,
    statePath: res.stateDb?.path,
    trace: res.trace && { path: res.trace.path, count: res.trace.count },
    failed: res.failed && { path: res.failed.path, count: res.failed.count },
    resumeCommand: resumeCommand(job, io),
    readsRecords: readsEachRecord(setup),
  }));
  if (setup.page) writePage(setup, result, startedAt);
  return { result, notes: setup.notes, reportPath: job.reportPath, verb: setup.verb, redact: setup.redact, said: setup.said };
}

/** `<report>.html`: the run on one page, to share; said in the notes (or why it was not written). */
function writePage(s: Setup, result: RunResult, startedAt: Date): void {
  const { job } = s;
  const facts = { title: `${s.verb} → ${job.target.displayName}: ${job.input === '-' ? 'stdin' : job.input}`, input: job.input, target: job.target.displayName, account: s.account, mode: job.mode, reportPath: job.reportPath, startedAt, endedAt: new Date(), notes: s.notes, redact: s.redact };
  s.notes.push(writeSummaryPage(facts, result, s.page!));
}

/** The mapping, the records (the input's, or a reviewed plan's), the dates' order, and the resume state. */
async function setUp(job: DataJob, io: JobIO, keptNotes: string[], commandLabel: string): Promise<Setup> {
  const { command, input, target, mode } = job;
  const spec = job.map ? await loadMappingFile(job.map, target) : undefined;
  // --apply-plan: the reviewed plan's items are the run's records (the input only proves the plan is of this file).
  const planned = job.applyPlan ? await (await import('./plan-file.js')).readPlan(job) : undefined;
  const source = planned ? recordsSource(planned.records) : await openSource(input, { format: job.format, delimiter: job.delimiter, encoding: job.encoding, parseOnWorker: !job.sending });
  const mapper = createRowMapper(target, spec, input === '-' ? 'stdin' : input, { emptyClears: job.empty === 'clear', strictValues: job.strictValues });
  const dateNotes = planned ? planned.notes : await settleDates(job, mapper);
  const newEmailStatus = job.newEmailStatus ?? spec?.newEmailStatus;
  if (newEmailStatus !== undefined && !target.setsNewRecordStatus) {
    throw new UsageError(`--new-email-status does not apply to ${target.displayName}: it creates records opted out of email unless the row's own opt-in field says otherwise. Map your opt-in column.`);
  }
  // What ran, in the progress log's first line and the summary alike.
  const verb = command === 'validate' ? 'Validate' : mode === 'plan' ? 'Plan (import)' : mode === 'dry-run' ? `Dry run (${command})` : command === 'delete' ? 'Delete' : job.applyPlan ? 'Import (plan applied)' : 'Import';
  const { previous, pending, notes: resumeNotes } = await recordRun(job, commandLabel);
  const prepare: PrepareOptions = { replacePartial: job.address === 'replace', newEmailStatus };
  const redact = createRedactor(allSecrets(io.env));
  // A reviewed plan already says what each record keeps: its items are sent as they are.
  const update = planned || job.operation !== 'upsert' ? undefined : await settleTimestampOrder(job, buildUpdatePolicy(job, spec));
  const page = job.html ? new PageCollector() : undefined;
  return { job, io, spec, planned, source, mapper, prepare, update, verb, notes: [...keptNotes, ...dateNotes, ...resumeNotes], previous, pending, redact, page, said: new Set<string>() };
}

/**
 * Nothing was sent when a usage problem ends the run: leave no half-made report behind — unless it resumes, when
 * the journal holds the earlier run's answers and must stay. Stopped before a report was begun (a segment name
 * unknown, the field list refused): no run record of it either.
 */
function abandonReport(err: unknown, res: RunResources, reportPath: string, resuming: boolean): void {
  const usage = err instanceof UsageError && !resuming;
  if (res.report && usage) {
    res.report.close(true);
    for (const path of [reportPath, journalPathOf(reportPath), runRecordPathOf(reportPath)]) rmSync(path, { force: true });
  } else res.report?.close(false);
  if (!res.report && usage && !existsSync(reportPath)) rmSync(runRecordPathOf(reportPath), { force: true });
  if (usage && res.undoLog) {
    res.undoLog.discardIfEmpty();
    res.undoLog = undefined;
  }
}

/** The run reads each record before writing it: a plan, --apply-plan, and when sending, --undo-log or an update policy. */
function readsEachRecord(s: Setup): boolean {
  const { job } = s;
  return job.mode === 'plan' || !!job.applyPlan || (job.sending && (!!job.undoLog || !!s.update));
}

/** Connected (or not), with the account's limits, field list and groups read: the send loop, then mirror. */
async function connectAndSend(s: Setup, res: RunResources): Promise<RunResult> {
  const { job, io, notes } = s;
  const { target, operation, sending } = job;
  const groups = groupsNeeded(s);
  const { env: remoteEnv, abortBeforeStart } = await connect(s, res, groups.connect);
  const state = await openState(s, res, remoteEnv);
  const limits = res.session?.limits;
  // A run that reads each batch's records first batches as many as one read answers in one call.
  const batchSize = Math.min(job.batchSize ?? limits?.maxBatchSize ?? 1, limits ? (readsEachRecord(s) ? readBatchSize(limits) : limits.maxBatchSize) : Infinity);
  if (job.batchSize && limits && job.batchSize > limits.maxBatchSize) notes.push(`--batch-size ${job.batchSize} is above the account's maxBatchSize; using ${limits.maxBatchSize}`);
  const rate = job.rate;
  const ratePerMinute = rate && limits?.ratePerMinute ? Math.min(rate, limits.ratePerMinute) : rate ?? limits?.ratePerMinute;
  const pacer = new RequestPacer(job.needsRemote ? ratePerMinute : undefined, undefined, rate ? undefined : limits?.startRatePerMinute);
  // Connecting read the limits from the remote: that call counts in its windows too.
  if (limits?.fromRemote) pacer.noteCall();
  const calls: Calls = { pacer, retry: retryPolicyFor(job.retries, io.env), signal: io.stop };
  const live = abortBeforeStart ? undefined : res.session;
  if (operation === 'upsert' && live) await readFieldList(s, live, calls);
  const groupDirectory = groups.list && live?.listGroups ? await readGroups(s, live, calls) : target.groups?.offline;
  const memberships = resolveFlagGroups(job, target, groupDirectory);
  const plan = job.command === 'delete' && live ? await planDeleteRun(s, live, calls) : undefined;
  const mirror = job.mirror && state ? await findMirror(s, state) : undefined;
  await openWriters(s, res, remoteEnv, !!live);
  const progress = await io.progress(s.verb, job.quiet);
  const concurrency = job.concurrency ?? limits?.defaultConcurrency ?? 4;
  const options = sendOptions(s, res, plan);
  const result = await runSync({
    ...options,
    pacer,
    retry: calls.retry,
    signal: io.stop,
    concurrency,
    batchSize,
    progress,
    state,
    abortBeforeStart,
    memberships,
    groupDirectory,
  });
  if (!mirror) return result;
  if (!res.session || result.exitCode >= 2 || result.abortReason || result.interrupted) {
    notes.push('mirror: skipped, because the import did not finish cleanly; nothing was deleted');
    return result;
  }
  const { runMirror } = await import('./mirror.js');
  const m = await runMirror({ candidates: mirror.candidates, firstRow: result.rows + 1, target, session: res.session, ...calls, report: options.report, state: state!, sending, redact: s.redact, reportPath: job.reportPath, backup: job.backup, concurrency, batchSize });
  notes.push(...m.notes);
  return m.merge(result);
}

/** A delete's lookups, its cap (a question above --max-deletes) and its backup, before anything is deleted. */
async function planDeleteRun(s: Setup, session: TargetSession, calls: Calls): Promise<DeletePlan> {
  const { job, io, notes } = s;
  const { target } = job;
  const { planDeletes } = await import('../core/plan-deletes.js');
  const { backupPathFor, confirmLargeDelete, writeBackup } = await import('./delete-guard.js');
  const plan = await planDeletes({ source: s.source, mapper: s.mapper, target, session, ...calls, allMatches: !!job.allMatches, operation: job.operation });
  describeMapping(s.mapper, io, job.quiet);
  const n = plan.toDelete.length;
  notes.push(`${plan.lookups} lookup call${plan.lookups === 1 ? '' : 's'} found ${n} ${n === 1 ? target.nouns.one : target.nouns.many} to delete`);
  if (job.sending && n > job.maxDeletes && !job.yes) await confirmLargeDelete(n, job.maxDeletes, io, target.nouns);
  if (job.sending && n > 0) {
    const backupPath = job.backup ?? backupPathFor(job.reportPath, 'deleted');
    await writeBackup(backupPath, plan.toDelete);
    notes.push(`backup of the ${n} ${target.nouns.many} being deleted: ${backupPath} (to undo: sync-supporters import ${backupPath})`);
  }
  return plan;
}

/** --mirror, before anything is sent: who the file no longer has, and whether that is within the cap. */
async function findMirror(s: Setup, state: AccountState): Promise<{ candidates: MirrorCandidate[] }> {
  const { job, io } = s;
  const { target } = job;
  const { mirrorCandidates } = await import('./mirror.js');
  const { confirmLargeDelete } = await import('./delete-guard.js');
  const mirror = await mirrorCandidates({ input: job.input, job, target, spec: s.spec, state });
  const n = mirror.candidates.length;
  s.notes.push(`mirror: ${n} ${n === 1 ? target.nouns.one : target.nouns.many} synced earlier ${n === 1 ? 'is' : 'are'} no longer in the file`);
  if (job.sending && n > job.maxDeletes && !job.yes) await confirmLargeDelete(n, job.maxDeletes, io, target.nouns);
  return mirror;
}

/** The undo log (a real import with --undo-log), the report, and the failed-rows file (--failed). */
async function openWriters(s: Setup, res: RunResources, remoteEnv: Record<string, string | undefined>, connected: boolean): Promise<void> {
  const { job } = s;
  const { target, input, reportPath } = job;
  if (job.undoLog && job.sending && connected) {
    const { UndoLogWriter } = await import('../report/undo-log.js');
    res.undoLog = new UndoLogWriter(job.undoLog, { target: target.name, account: target.accountId(remoteEnv), input, report: reportPath, startedAt: new Date().toISOString() }, job.resume);
    s.notes.push(`undo log: ${job.undoLog} (the prior values of every record written; to put them back: sync-supporters undo ${job.undoLog})`);
  }
  res.report = new ReportWriter(reportPath, { journal: job.sending, carry: s.previous ? [...s.previous.values()].map((p) => p.line) : undefined });
  if (job.failed) {
    const { FailedRowsWriter, sniffTextStyle } = await import('../report/failed-rows.js');
    const source = s.source;
    res.failed = new FailedRowsWriter(job.failed, resolveFormat(input, job.format), () => source.columns(), () => source.delimiter?.(), sniffTextStyle(input, job.encoding));
  }
}

/** What the send loop is given beyond pacing and groups: the records, the mapping, where results go. */
function sendOptions(s: Setup, res: RunResources, plan: DeletePlan | undefined) {
  const { job, io, spec, planned, redact } = s;
  const { target, input } = job;
  const failed = res.failed;
  return {
    operation: job.operation,
    mode: job.sending ? 'send' : job.mode === 'plan' ? 'plan' : 'dry-run',
    source: plan ? plan.source : s.source,
    undoLog: res.undoLog,
    ...(planned ? { expectLabel: 'since the plan was made', forceHint: 'make a new plan and review it' } : {}),
    target,
    mapper: plan ? createRowMapper(target, undefined, input) : s.mapper,
    decided: plan?.decided,
    annotations: plan?.annotations,
    session: res.session,
    report: s.page ? s.page.tap(res.report!) : res.report!,
    redact,
    previous: s.previous,
    onFailure: failed ? (rec: SourceRecord, r: { status: Status; errorMessage?: string }) => failed.add(rec, { status: r.status, errorMessage: r.errorMessage ? redact(r.errorMessage) : undefined }) : undefined,
    changedOnly: !!job.changedOnly && !job.full,
    strictValues: job.strictValues,
    // A changed mapping or update policy changes every hash: --changed-only sends everything again.
    hashSalt: spec || s.update ? createHash('sha256').update(`${spec?.source ?? ''}\u0000${job.update ?? ''}\u0000${job.newerColumn ?? ''}`).digest('hex') : '',
    update: s.update,
    prepare: s.prepare,
    membershipsPending: s.pending,
    onBound: plan || planned ? undefined : (m: RowMapper, sample: readonly SourceRecord[]) => checkBoundColumns(m, sample, { job, io, prepare: s.prepare, notes: s.notes, update: s.update, columns: s.source.columns(), said: s.said }),
  } satisfies Partial<RunOptions>;
}

/** The command that finishes this run: the same arguments plus --resume (credentials are never in arguments). */
function resumeCommand(job: DataJob, io: JobIO): string {
  const args = io.argv ?? [];
  const quoted = (args.length > 0 ? args : [job.command, job.input]).map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`));
  if (!job.resume) quoted.push('--resume');
  return `sync-supporters ${quoted.join(' ')}`;
}
