import { createHash } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { SyncError, UsageError } from '../core/errors.js';
import { createRedactor } from '../core/redact.js';
import { DEFAULT_RETRY_POLICY } from '../core/retry-policy.js';
import { runSync, type RunResult } from '../core/run-sync.js';
import type { DeletePlan } from '../core/plan-deletes.js';
import { RequestPacer } from '../core/pace-requests.js';
import { readBatchSize, type PrepareOptions, type TargetSession } from '../core/types.js';
import { loadMappingFile } from '../mapping/mapping-file.js';
import { createRowMapper } from '../mapping/mapper.js';
import type { FailedRowsWriter } from '../report/failed-rows.js';
import { lockReport, prepareReportPath, restoreKeptReport } from '../report/output-guard.js';
import { journalPathOf, ReportWriter } from '../report/report-writer.js';
import { runRecordPathOf } from '../report/run-record.js';
import type { Sandbox } from '../sandbox/server.js';
import { openSource, resolveFormat } from '../sources/index.js';
import type { AccountState, StateDb } from '../state/sqlite-state.js';
import { allSecrets, createEmulators } from '../targets/index.js';
import { callWithRetry } from '../core/call-with-retry.js';
import type { JobIO } from './job-io.js';
import { describeAddressGaps, runNotes } from './run-notes.js';
import { describeClearing, requireKeyColumn, settleDates } from './mapping-checks.js';
import { guardRunFiles, recordRun } from './run-files.js';
import type { mirrorCandidates } from './mirror.js';
import type { DataJob } from './data-job-types.js';
import type { GroupDirectory, Membership, RowMapper, Source, SourceRecord, Target } from '../core/types.js';
import { chunkedSource } from '../core/chunked-source.js';
import type { UndoLogWriter } from '../report/undo-log.js';
import { readGroupDirectory } from '../core/memberships.js';
import { isGroupField } from '../mapping/mapping-file.js';

export type { DataJob } from './data-job-types.js';

/** What a data run came to: its result and the notes the summary prints. */
export interface DataJobOutcome {
  result: RunResult;
  notes: string[];
  reportPath: string;
  /** What ran ("Import", "Dry run (delete)"…), for the summary's first line. */
  verb: string;
  redact: (text: string) => string;
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


/** The run, under the report's lock. */
async function runLocked(job: DataJob, io: JobIO, keptNotes: string[], commandLabel: string): Promise<DataJobOutcome> {
  const { command, input, target, operation, mode, sending, needsRemote, useState, reportPath, statePath } = job;
  const env = io.env;
  const { concurrency, batchSize, rate, timeoutSec, retries, maxDeletes } = job;
  const latency = job.sandbox?.latencyMs;
  const spec = job.map ? await loadMappingFile(job.map, target) : undefined;
  // --apply-plan: the reviewed plan's items are the run's records (the input only proves the plan is of this file).
  const planned = job.applyPlan ? await (await import('./plan-file.js')).readPlan(job) : undefined;
  const source = planned ? recordsSource(planned.records) : await openSource(input, { format: job.format, delimiter: job.delimiter, encoding: job.encoding, parseOnWorker: !sending });
  const mapper = createRowMapper(target, spec, input === '-' ? 'stdin' : input, { emptyClears: job.empty === 'clear', strictValues: job.strictValues });
  const dateNotes = planned ? planned.notes : await settleDates(job, mapper);
  const newEmailStatus = job.newEmailStatus ?? spec?.newEmailStatus;
  if (newEmailStatus !== undefined && !target.setsNewRecordStatus) {
    throw new UsageError(`--new-email-status does not apply to ${target.displayName}: it creates records opted out of email unless the row's own opt-in field says otherwise. Map your opt-in column.`);
  }
  const prepareOptions: PrepareOptions = { replacePartial: job.address === 'replace', newEmailStatus };
  // What ran, in the progress log's first line and the summary alike.
  const verb = command === 'validate' ? 'Validate' : mode === 'plan' ? 'Plan (import)' : mode === 'dry-run' ? `Dry run (${command})` : command === 'delete' ? 'Delete' : job.applyPlan ? 'Import (plan applied)' : 'Import';
  const notes: string[] = [...keptNotes, ...dateNotes];
  const { previous, pending, notes: resumeNotes } = await recordRun(job, commandLabel);
  notes.push(...resumeNotes);
  const redact = createRedactor(allSecrets(env));

  let stateDb: StateDb | undefined;
  let state: AccountState | undefined;
  let sandbox: Sandbox | undefined;
  let session: TargetSession | undefined;
  let abortBeforeStart: string | undefined;
  let report: ReportWriter | undefined;
  let failedWriter: FailedRowsWriter | undefined;
  let undoLog: UndoLogWriter | undefined;
  let trace: import('../report/trace-file.js').TraceFile | undefined;
  let result: RunResult | undefined;
  // The person's stop (Ctrl-C): the CLI's signal; quitting at once closes the report as it stands.
  const interrupt = { signal: io.stop };
  io.onQuit(() => report?.close(false));
  // The environment the remote is reached with: the user's, or the sandbox's endpoints and credentials.
  let remoteEnv = env;
  // Groups named by name need the account's list: a dry run reads it too when it can (a read, nothing sent).
  const groupsUsed = job.groups.add.length + job.groups.remove.length > 0 || !!spec?.rules.some((r) => isGroupField(r.field));
  const listsGroups = groupsUsed && operation === 'upsert' && mode !== 'validate' && target.groups?.delivery === 'calls' && !target.groups.offline;
  const connectForGroups = listsGroups && !needsRemote && (!!job.sandbox || target.missingCredentials(env).length === 0);
  if (groupsUsed && mode === 'validate' && target.groups?.delivery === 'calls') notes.push(`${target.groups.noun.many} are named as written: validate does not connect, so names are not checked (a --dry-run checks them against the account)`);
  if (listsGroups && !needsRemote && !connectForGroups) notes.push(`${target.groups!.noun.many} were not checked against the account (no credentials): names are shown as written`);
  try {
    if (needsRemote || connectForGroups) {
      if (job.sandbox) {
        // Loaded only for --sandbox (and so for every command below: what a run does not use, it does not load).
        const { sandboxEnvironment, startSandbox } = await import('../sandbox/server.js');
        sandbox = await startSandbox({ emulators: await createEmulators(), faults: job.sandbox.faults, latencyMs: latency });
        remoteEnv = sandboxEnvironment(sandbox, env);
        notes.push(`sent to the built-in sandbox at ${sandbox.url}${job.sandbox.faults ? ` with faults ${job.sandbox.faults}` : ''}; nothing left this machine`);
      }
      try {
        if (job.trace) {
          const { TraceFile } = await import('../report/trace-file.js');
          trace = new TraceFile(job.trace, [...allSecrets(remoteEnv), ...allSecrets(env), remoteEnv.LUMINATE_LOGIN_NAME, env.LUMINATE_LOGIN_NAME]);
        }
        session = await target.connect({ env: remoteEnv, timeoutMs: timeoutSec * 1000, concurrency: concurrency ?? 8, trace: trace?.record });
        notes.push(...(session.notes ?? []));
      } catch (err) {
        if (err instanceof SyncError && err.exitCode === 3) abortBeforeStart = err.message;
        else throw err;
      }
    }
    if (useState) {
      const { openStateDb } = await import('../state/sqlite-state.js');
      stateDb = openStateDb(statePath!, {
        // Said as it happens (stderr is written synchronously): the run is paused, not hung.
        onWait: (n) => job.quiet || io.say(`\nwaiting for the local state database: ${n} results not saved yet (another process may hold its write lock); sending resumes when they are`),
      });
      state = stateDb.forAccount(target.name, target.accountId(remoteEnv));
    }
    const limits = session?.limits;
    // A run that reads each batch's records first batches as many as one read answers in one call.
    const reads = mode === 'plan' || !!job.applyPlan || (!!job.undoLog && sending);
    const effectiveBatch = Math.min(batchSize ?? limits?.maxBatchSize ?? 1, limits ? (reads ? readBatchSize(limits) : limits.maxBatchSize) : Infinity);
    if (batchSize && limits && batchSize > limits.maxBatchSize) notes.push(`--batch-size ${batchSize} is above the account's maxBatchSize; using ${limits.maxBatchSize}`);
    const ratePerMinute = rate && limits?.ratePerMinute ? Math.min(rate, limits.ratePerMinute) : rate ?? limits?.ratePerMinute;

    const retry = { ...DEFAULT_RETRY_POLICY, ...(retries !== undefined ? { maxAttempts: retries + 1 } : {}), ...retryTuning(env) };
    const pacer = new RequestPacer(needsRemote ? ratePerMinute : undefined, undefined, rate ? undefined : limits?.startRatePerMinute);
    // Connecting read the limits from the remote: that call counts in its windows too.
    if (limits?.fromRemote) pacer.noteCall();
    // The account's own field list (Luminate's listUserFields), when it can be read: the mapping is checked against
    // it before the first row, and values are sent as it needs them (an enumeration's own choices). One call,
    // through the run's pacer and retry policy like every other.
    if (operation === 'upsert' && session?.describeFields && !abortBeforeStart) {
      try {
        const { value } = await callWithRetry({ pacer, retry, signal: interrupt.signal }, `reading the ${target.displayName} field list`, () => session!.describeFields!());
        prepareOptions.remoteFields = new Map(value.map((f) => [f.name, f]));
      } catch (err) {
        if (!(err instanceof SyncError) || err.code === 'E_INTERRUPTED') throw err;
        notes.push(`could not read the ${target.displayName} field list (${err.message}): fields were checked by name only`);
      }
    }
    let groupDirectory: GroupDirectory | undefined = target.groups?.offline;
    if (listsGroups && session?.listGroups && !abortBeforeStart) {
      const { directory, count } = await readGroupDirectory({ pacer, retry, signal: interrupt.signal }, session, target.groups!.noun);
      groupDirectory = directory;
      notes.push(`${count} ${target.groups!.noun.many} in the account; names resolved once, at the start`);
    }
    const memberships = resolveFlagGroups(job, target, groupDirectory);
    let plan: DeletePlan | undefined;
    if (command === 'delete' && session && !abortBeforeStart) {
      const { planDeletes } = await import('../core/plan-deletes.js');
      const { backupPathFor, confirmLargeDelete, writeBackup } = await import('./delete-guard.js');
      plan = await planDeletes({ source, mapper, target, session, pacer, retry, allMatches: !!job.allMatches, operation, signal: interrupt.signal });
      describeMapping(mapper, io, job.quiet);
      notes.push(`${plan.lookups} lookup call${plan.lookups === 1 ? '' : 's'} found ${plan.toDelete.length} ${plan.toDelete.length === 1 ? target.nouns.one : target.nouns.many} to delete`);
      if (sending && plan.toDelete.length > maxDeletes && !job.yes) {
        await confirmLargeDelete(plan.toDelete.length, maxDeletes, io, target.nouns);
      }
      if (sending && plan.toDelete.length > 0) {
        const backupPath = job.backup ?? backupPathFor(reportPath, 'deleted');
        await writeBackup(backupPath, plan.toDelete);
        notes.push(`backup of the ${plan.toDelete.length} ${target.nouns.many} being deleted: ${backupPath} (to undo: sync-supporters import ${backupPath})`);
      }
    }
    let mirror: Awaited<ReturnType<typeof mirrorCandidates>> | undefined;
    if (job.mirror && state) {
      // Before anything is sent: who the file no longer has, and whether that is within the cap.
      const { mirrorCandidates, confirmLargeDelete } = { ...(await import('./mirror.js')), ...(await import('./delete-guard.js')) };
      mirror = await mirrorCandidates({ input, job, target, spec, state });
      notes.push(`mirror: ${mirror.candidates.length} ${mirror.candidates.length === 1 ? target.nouns.one : target.nouns.many} synced earlier ${mirror.candidates.length === 1 ? 'is' : 'are'} no longer in the file`);
      if (sending && mirror.candidates.length > maxDeletes && !job.yes) await confirmLargeDelete(mirror.candidates.length, maxDeletes, io, target.nouns);
    }
    if (job.undoLog && sending && session && !abortBeforeStart) {
      const { UndoLogWriter } = await import('../report/undo-log.js');
      undoLog = new UndoLogWriter(job.undoLog, { target: target.name, account: target.accountId(remoteEnv), input, report: reportPath, startedAt: new Date().toISOString() }, job.resume);
      notes.push(`undo log: ${job.undoLog} (the prior values of every record written; to put them back: sync-supporters undo ${job.undoLog})`);
    }
    report = new ReportWriter(reportPath, { journal: sending, carry: previous ? [...previous.values()].map((p) => p.line) : undefined });
    if (job.failed) {
      const { FailedRowsWriter, sniffTextStyle } = await import('../report/failed-rows.js');
      failedWriter = new FailedRowsWriter(job.failed, resolveFormat(input, job.format), () => source.columns(), () => source.delimiter?.(), sniffTextStyle(input, job.encoding));
    }
    const progress = await io.progress(verb, job.quiet);
    result = await runSync({
      operation,
      mode: sending ? 'send' : mode === 'plan' ? 'plan' : 'dry-run',
      source: plan ? plan.source : source,
      undoLog,
      ...(planned ? { expectLabel: 'since the plan was made', forceHint: 'make a new plan and review it' } : {}),
      target,
      mapper: plan ? createRowMapper(target, undefined, input) : mapper,
      decided: plan?.decided,
      annotations: plan?.annotations,
      pacer,
      session,
      concurrency: concurrency ?? limits?.defaultConcurrency ?? 4,
      batchSize: effectiveBatch,
      retry,
      report,
      progress,
      signal: interrupt.signal,
      redact,
      previous,
      state,
      onFailure: failedWriter ? (rec, r) => failedWriter!.add(rec, { status: r.status, errorMessage: r.errorMessage ? redact(r.errorMessage) : undefined }) : undefined,
      changedOnly: !!job.changedOnly && !job.full,
      strictValues: job.strictValues,
      hashSalt: spec ? createHash('sha256').update(spec.source).digest('hex') : '',
      abortBeforeStart,
      prepare: prepareOptions,
      memberships,
      groupDirectory,
      membershipsPending: pending,
      onBound: plan || planned
        ? undefined
        : (m, sample) => {
            describeMapping(m, io, job.quiet);
            if (operation === 'upsert') {
              // What the header and sample told (consent read in words, the email column found by its values).
              const told = [...m.planNotes()];
              const gaps = m.addressGaps();
              if (gaps.length > 0 && job.address !== 'replace') {
                told.push(`the address is not whole: ${describeAddressGaps(gaps, target)}`);
              }
              if (!job.quiet) for (const line of told) io.say(`Note: ${line}`);
              notes.push(...told);
              requireKeyColumn(m, target, sample, input === '-' ? 'stdin' : input);
              const stored = new Set(m.matches().map((x) => x.field).filter((f) => !isGroupField(f)));
              let problems = prepareOptions.remoteFields && target.checkFields ? target.checkFields(stored, prepareOptions.remoteFields) : [];
              if (problems.length > 0) {
                // A field matched from a header that the account lacks (a work phone, and a site without work_phone)
                // is left out, said; one a mapping file names is an error.
                const lacking = [...stored].filter((f) => target.checkFields!(new Set([f]), prepareOptions.remoteFields!).length > 0);
                const named = m.dropAutoFields(lacking);
                const dropped = lacking.filter((f) => !named.includes(f));
                if (dropped.length > 0) {
                  const line = `not sent: ${dropped.join(', ')} (matched from the file's columns, but not a field this ${target.displayName} account lets the API update)`;
                  if (!job.quiet) io.say(`Note: ${line}`);
                  notes.push(line);
                }
                problems = target.checkFields!(new Set(named), prepareOptions.remoteFields!);
              }
              if (problems.length > 0) {
                throw new UsageError(`The mapping names fields ${target.displayName} will not take: ${problems.join('; ')}. Fix the mapping (sync-supporters check lists the fields). Nothing was sent.`, 'E_REMOTE_FIELDS');
              }
              // Said before the first request, and again in the summary.
              const policy = target.describeMapping?.(stored, prepareOptions) ?? [];
              if (job.empty === 'clear') policy.push(describeClearing(m, target));
              if (!job.quiet) for (const line of policy) io.say(`Note: ${line}`);
              notes.push(...policy);
            }
          },
    });
    if (mirror && session && result.exitCode < 2 && !result.abortReason && !result.interrupted) {
      const { runMirror } = await import('./mirror.js');
      const m = await runMirror({ candidates: mirror.candidates, firstRow: result.rows + 1, target, session, pacer, retry, report, state: state!, sending, redact, signal: interrupt.signal, reportPath, backup: job.backup, concurrency: concurrency ?? limits?.defaultConcurrency ?? 4, batchSize: effectiveBatch });
      notes.push(...m.notes);
      result = m.merge(result);
    } else if (mirror) {
      notes.push('mirror: skipped, because the import did not finish cleanly; nothing was deleted');
    }
    report.close(true);
  } catch (err) {
    // Nothing was sent when a usage problem ends the run: leave no half-made report behind — unless it resumes,
    // when the journal holds the earlier run's answers and must stay.
    if (report && err instanceof UsageError && !previous) {
      report.close(true);
      rmSync(reportPath, { force: true });
      rmSync(journalPathOf(reportPath), { force: true });
      rmSync(runRecordPathOf(reportPath), { force: true });
    } else report?.close(false);
    // Stopped before a report was begun (a segment name unknown, the field list refused): no run record of it either.
    if (!report && err instanceof UsageError && !previous && !existsSync(reportPath)) rmSync(runRecordPathOf(reportPath), { force: true });
    throw err;
  } finally {
    await session?.close();
    await sandbox?.close();
    failedWriter?.close();
    undoLog?.close();
    trace?.close();
    // The report is the record of what happened; a state that was not saved costs the next --changed-only run
    // a resend of those rows, so it is a warning, not a failed run.
    await stateDb?.close().catch((err: Error) => notes.push(`warning: ${err.message}; the next --changed-only run will send those rows again`));
  }

  notes.push(...runNotes(result, {
    job,
    limits: session?.limits,
    newEmailStatus: prepareOptions.newEmailStatus,
    statePath: stateDb?.path,
    trace: trace && { path: trace.path, count: trace.count },
    failed: failedWriter && { path: failedWriter.path, count: failedWriter.count },
    resumeCommand: resumeCommand(job, io),
  }));
  return { result, notes, reportPath, verb, redact };
}


/**
 * The run's --segment / --remove-segment, resolved: an unknown or ambiguous name stops the run before anything is
 * sent (exit 2), naming the close matches. Without a directory (validate, a dry run without credentials) names are
 * taken as written.
 */
function resolveFlagGroups(job: DataJob, target: Target, directory: GroupDirectory | undefined): Membership[] {
  const out: Membership[] = [];
  const problems: string[] = [];
  for (const change of ['add', 'remove'] as const) {
    for (const ref of job.groups[change]) {
      if (!directory) {
        out.push({ change, group: { id: ref, label: ref } });
        continue;
      }
      const r = directory.resolve(ref);
      if ('error' in r) problems.push(`${change === 'add' ? '--segment' : '--remove-segment'} "${ref}": ${r.error}`);
      else out.push({ change, group: r.group });
    }
  }
  if (problems.length > 0) throw new UsageError(`${problems.join('; ')}. Nothing was sent.`, 'E_SEGMENT');
  const both = out.filter((m) => m.change === 'add' && out.some((o) => o.change === 'remove' && o.group.id === m.group.id && o.group.kind === m.group.kind));
  if (both.length > 0) throw new UsageError(`${both.map((m) => `"${m.group.label}"`).join(', ')} is both --segment and --remove-segment: say one. Nothing was sent.`, 'E_SEGMENT');
  return out;
}



/** Records already in memory (a plan's) as a source. */
export function recordsSource(records: SourceRecord[]): Source {
  return chunkedSource(() => [], async function* () {
    for (let i = 0; i < records.length; i += 1000) yield records.slice(i, i + 1000);
  }, true);
}

/** "segments: 120 added to, 30 already in, 2 failed (4 calls)" for the summary. */

/** The command that finishes this run: the same arguments plus --resume (credentials are never in arguments). */
function resumeCommand(job: DataJob, io: JobIO): string {
  const args = io.argv ?? [];
  const quoted = (args.length > 0 ? args : [job.command, job.input]).map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`));
  if (!job.resume) quoted.push('--resume');
  return `sync-supporters ${quoted.join(' ')}`;
}

/** Tests shorten the backoff through the environment; people use --retries and --timeout. */
export function retryTuning(env: Record<string, string | undefined>) {
  const base = Number(env.SYNC_SUPPORTERS_RETRY_BASE_MS);
  return Number.isFinite(base) && base > 0 ? { baseDelayMs: base, maxDelayMs: base * 8 } : {};
}


function describeMapping(mapper: RowMapper, io: JobIO, quiet: boolean) {
  if (quiet) return;
  const matches = mapper.matches();
  const unused = mapper.unusedColumns();
  io.say(`Columns used: ${matches.map((m) => `${m.column} → ${m.field}`).join(', ') || 'none'}`);
  if (unused.length > 0) io.say(`Columns not used: ${unused.join(', ')} (name them in a --map file, e.g. as custom fields, to send them)`);
}
