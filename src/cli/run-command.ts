import { rmSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { SyncError, UsageError } from '../core/errors.js';
import { silentProgress, type ProgressSink } from '../core/progress.js';
import { createRedactor } from '../core/redact.js';
import { DEFAULT_RETRY_POLICY } from '../core/retry-policy.js';
import { runSync, type RunResult } from '../core/run-sync.js';
import type { Operation, PrepareOptions, SourceRecord, Target, TargetSession } from '../core/types.js';
import { isEmail } from '../mapping/values.js';
import { loadMappingFile } from '../mapping/mapping-file.js';
import { createRowMapper, type RowMapper } from '../mapping/mapper.js';
import { journalPathOf, ReportWriter } from '../report/report-writer.js';
import { readPreviousResults } from '../report/resume-reader.js';
import { checkResumable, exists, fingerprint, runRecordPathOf, writeRunRecord } from '../report/run-record.js';
import { checkReplaceable, checkRunFiles, lockReport, looksLikeFailedRows, prepareReportPath } from '../report/output-guard.js';
import type { PreviousRow } from '../core/run-sync.js';
import { planDeletes, type DeletePlan } from '../core/plan-deletes.js';
import { RequestPacer } from '../core/pace-requests.js';
import { backupPathFor, writeBackup, confirmLargeDelete } from './delete-guard.js';
import { createHash } from 'node:crypto';
import { DEFAULT_STATE_PATH, openStateDb, type AccountState, type StateDb } from '../state/sqlite-state.js';
import { runMirror, mirrorCandidates } from './mirror.js';
import { FailedRowsWriter } from '../report/failed-rows.js';
import { resolveFormat } from '../sources/index.js';
import { startSandbox, type Sandbox } from '../sandbox/server.js';
import { openSource } from '../sources/index.js';
import { createEmulators, TARGETS } from '../targets/index.js';
import { intOption } from './options.js';
import { surveyDateColumns } from '../mapping/date-survey.js';
import { createBarProgress, createLineProgress } from './progress.js';
import { formatSummary } from './summary.js';
import { resolveTarget, type CommandIO, type DataCommandOptions } from './io.js';
export { resolveTarget, type CommandIO, type DataCommandOptions } from './io.js';
import { printable } from './printable.js';

export type DataCommand = 'import' | 'delete' | 'validate';


export type RunMode = 'send' | 'dry-run' | 'validate';

/**
 * `<input-name>.report.csv` beside the input for a run that sends; a preview (validate, dry run) has its own name,
 * `<input-name>.validate.report.csv` / `.dry-run.report.csv`, so it can never take the place of a real run's report.
 */
export function defaultReportPath(input: string, mode: RunMode = 'send'): string {
  const kind = mode === 'send' ? '' : `.${mode}`;
  if (input === '-') return `sync-report${kind}.csv`;
  const ext = extname(input);
  return join(dirname(input), `${basename(input, ext)}${kind}.report.csv`);
}

/** Every secret any target knows of, so no message can print one whatever the target. */
function allSecrets(env: Record<string, string | undefined>): string[] {
  return Object.values(TARGETS).flatMap((t) => t.secrets(env));
}

export async function runDataCommand(command: DataCommand, input: string, opts: DataCommandOptions, io: CommandIO): Promise<number> {
  const env = io.env;
  const target = resolveTarget(opts.target, env);
  const operation: Operation = command === 'delete' ? 'delete' : 'upsert';
  if (!target.operations.includes(operation)) {
    throw new UsageError(target.unsupportedReason?.[operation] ?? `${target.displayName} does not support ${command}.`, 'E_UNSUPPORTED');
  }
  const sending = command !== 'validate' && !opts.dryRun;
  // A delete names supporters the remote must look up, so its preview (--dry-run) talks to the remote too.
  const needsRemote = sending || (command === 'delete' && !!target.identify) || (command === 'import' && !!opts.mirror);
  if (needsRemote && !opts.sandbox) {
    const missing = target.missingCredentials(env);
    if (missing.length > 0) {
      throw new UsageError(
        `Missing ${missing.join(', ')} for ${target.displayName}. Set ${missing.length > 1 ? 'them' : 'it'} in the environment or in a .env file in this folder ` +
          '(or try the built-in emulator with --sandbox, or check the file with validate).',
        'E_CREDENTIALS',
      );
    }
  }
  if (opts.changedOnly && opts.full) throw new UsageError('--changed-only and --full contradict each other: choose one.');
  const useState = command !== 'validate' && opts.state !== false;
  if ((opts.changedOnly || opts.mirror) && !useState) throw new UsageError(`--${opts.mirror ? 'mirror' : 'changed-only'} needs the local state (drop --no-state).`);
  if (opts.mirror && (command !== 'import' || !target.operations.includes('delete') || !target.identify)) {
    throw new UsageError(`--mirror deletes what the file no longer has, and ${target.displayName}${target.operations.includes('delete') ? '' : "'s API has no delete"}: it works with import to Salsa only.`, 'E_UNSUPPORTED');
  }
  const mode: RunMode = command === 'validate' ? 'validate' : opts.dryRun ? 'dry-run' : 'send';
  const reportPath = opts.report ?? defaultReportPath(input, mode);
  const statePath = useState ? (typeof opts.state === 'string' ? opts.state : env.SYNC_SUPPORTERS_STATE || DEFAULT_STATE_PATH) : undefined;
  // Before anything is opened for writing: no output may be an input, a mapping or another output.
  const failedFile = opts.failed ? { path: opts.failed, role: 'the failed-rows file', option: '--failed' } : undefined;
  checkRunFiles(
    [{ path: input, role: 'the input' }, ...(opts.map ? [{ path: opts.map, role: 'the mapping file' }] : [])],
    [
      { path: reportPath, role: 'the report', option: '--report' },
      { path: journalPathOf(reportPath), role: "the report's journal", option: '--report' },
      { path: runRecordPathOf(reportPath), role: "the report's run record", option: '--report' },
      { path: `${reportPath}.lock`, role: "the report's lock", option: '--report' },
      ...(failedFile ? [failedFile] : []),
      ...(opts.backup ? [{ path: opts.backup, role: 'the backup', option: '--backup' }] : []),
      ...(statePath ? [{ path: statePath, role: 'the local state', option: '--state', createsFolder: true }] : []),
    ],
  );
  if (failedFile) checkReplaceable(failedFile, looksLikeFailedRows, !!opts.overwrite);
  const release = lockReport(reportPath, `${command}${mode === 'dry-run' ? ' --dry-run' : ''} ${input}`);
  try {
    return await runLocked(command, input, opts, io, { target, operation, mode, sending, needsRemote, useState, reportPath, statePath });
  } finally {
    release();
  }
}

interface RunPlan {
  target: Target;
  operation: Operation;
  mode: RunMode;
  sending: boolean;
  needsRemote: boolean;
  useState: boolean;
  reportPath: string;
  statePath?: string;
}

/** The run, under the report's lock. */
async function runLocked(command: DataCommand, input: string, opts: DataCommandOptions, io: CommandIO, plan0: RunPlan): Promise<number> {
  const { target, operation, mode, sending, needsRemote, useState, reportPath, statePath } = plan0;
  const env = io.env;
  const concurrency = intOption(opts.concurrency, '--concurrency', 1, 64);
  const batchSize = intOption(opts.batchSize, '--batch-size', 1, 1000);
  const rate = intOption(opts.rate, '--rate', 1, 1_000_000);
  const timeoutSec = intOption(opts.timeout, '--timeout', 1, 3600) ?? 60;
  const retries = intOption(opts.retries, '--retries', 0, 20);
  const latency = intOption(opts.sandboxLatency, '--sandbox-latency', 0, 60_000);
  const maxDeletes = intOption(opts.maxDeletes, '--max-deletes', 0) ?? 100;
  const commandLabel = mode === 'validate' ? 'validate' : `${command} --dry-run`;
  const kept = prepareReportPath(reportPath, { sending, resuming: !!opts.resume, overwrite: !!opts.overwrite, commandLabel });
  const spec = opts.map ? await loadMappingFile(opts.map, target) : undefined;
  const source = await openSource(input, { format: opts.format, delimiter: opts.delimiter, encoding: opts.encoding as BufferEncoding | undefined, parseOnWorker: !sending });
  if (opts.empty !== undefined && opts.empty !== 'skip' && opts.empty !== 'clear') throw new UsageError(`--empty must be skip (the default: an empty cell is not sent) or clear (an empty cell clears the stored value), got "${opts.empty}".`);
  const mapper = createRowMapper(target, spec, input === '-' ? 'stdin' : input, { emptyClears: opts.empty === 'clear' });
  const dateNotes = await settleDates(input, opts, target, mapper);
  if (opts.address !== undefined && opts.address !== 'complete' && opts.address !== 'replace') {
    throw new UsageError(`--address must be complete (send an address only with its street and city: the default) or replace, got "${opts.address}".`);
  }
  const newEmailStatus = opts.newEmailStatus === undefined ? spec?.newEmailStatus : opts.newEmailStatus.toUpperCase().replace('ACCOUNT-DEFAULT', 'account-default');
  if (newEmailStatus !== undefined && !['OPT_IN', 'OPT_OUT', 'account-default'].includes(newEmailStatus)) {
    throw new UsageError(`--new-email-status must be OPT_OUT (the default), OPT_IN or account-default, got "${opts.newEmailStatus}".`);
  }
  if (newEmailStatus !== undefined && !target.setsNewRecordStatus) {
    throw new UsageError(`--new-email-status does not apply to ${target.displayName}: it creates records opted out of email unless the row's own opt-in field says otherwise. Map your opt-in column.`);
  }
  const prepareOptions: PrepareOptions = { replacePartial: opts.address === 'replace', newEmailStatus: newEmailStatus as PrepareOptions['newEmailStatus'] };
  // What ran, in the progress log's first line and the summary alike.
  const verb = command === 'validate' ? 'Validate' : opts.dryRun ? `Dry run (${command})` : command === 'delete' ? 'Delete' : 'Import';
  const notes: string[] = [...kept.notes, ...dateNotes];
  let previous: Map<number, PreviousRow> | undefined;
  if (sending && input !== '-') {
    const print = await fingerprint(input);
    const current = { input: { path: input, ...print }, target: target.name, operation };
    if (opts.resume && ((await exists(reportPath)) || (await exists(journalPathOf(reportPath))))) {
      await checkResumable(reportPath, current);
      previous = await readPreviousResults(reportPath);
      notes.push(`resumed from ${reportPath}: ${previous.size} rows already had a final answer and were not sent again`);
    } else if (opts.resume) {
      notes.push(`--resume: no report at ${reportPath} yet, so every row was sent`);
    }
    await writeRunRecord(reportPath, { version: 1, mode, ...current, startedAt: new Date().toISOString() });
  } else if (opts.resume && input === '-') {
    throw new UsageError('--resume needs the input as a file: stdin cannot be read again to match rows.', 'E_RESUME');
  } else if (opts.resume) {
    throw new UsageError(`--resume continues a run that sent; a ${commandLabel} sends nothing, so there is nothing to resume. Run it without --resume.`, 'E_RESUME');
  } else {
    // A preview's record says what it was, so --resume can never take its report for a real run's.
    await writeRunRecord(reportPath, { version: 1, mode, input: { path: input }, target: target.name, operation, startedAt: new Date().toISOString() });
  }
  const redact = createRedactor(allSecrets(env));

  let stateDb: StateDb | undefined;
  let state: AccountState | undefined;
  let sandbox: Sandbox | undefined;
  let session: TargetSession | undefined;
  let abortBeforeStart: string | undefined;
  let report: ReportWriter | undefined;
  let failedWriter: FailedRowsWriter | undefined;
  let result: RunResult | undefined;
  const interrupt = new AbortController();
  const onSignal = (sig: string) => {
    if (interrupt.signal.aborted) {
      report?.close(false);
      io.stderr.write(`\nSecond ${sig}: quitting now. Rows without an answer are missing from the report; run again with --resume.\n`);
      process.exit(130);
    }
    interrupt.abort();
    io.stderr.write(`\n${sig}: stopping — finishing the requests in flight, then writing the report (press Ctrl-C again to quit at once).\n`);
    // Bounded wait: a request that does not come back in time is not waited for.
    setTimeout(() => onSignal(sig), (timeoutSec + 5) * 1000).unref();
  };
  const sigint = () => onSignal('SIGINT');
  const sigterm = () => onSignal('SIGTERM');
  // The environment the remote is reached with: the user's, or the sandbox's endpoints and credentials.
  let remoteEnv = env;
  try {
    if (needsRemote) {
      if (opts.sandbox) {
        sandbox = await startSandbox({ emulators: createEmulators(), faults: opts.sandboxFaults, latencyMs: latency });
        remoteEnv = { ...env };
        for (const e of sandbox.emulators) Object.assign(remoteEnv, e.environment(sandbox.url));
        notes.push(`sent to the built-in sandbox at ${sandbox.url}${opts.sandboxFaults ? ` with faults ${opts.sandboxFaults}` : ''}; nothing left this machine`);
      }
      try {
        session = await target.connect({ env: remoteEnv, timeoutMs: timeoutSec * 1000, concurrency: concurrency ?? 8 });
        notes.push(...(session.notes ?? []));
        // The account's own field list (Luminate's listUserFields), when it can be read: the mapping is checked
        // against it before the first row, and values are sent as it needs them (an enumeration's own choices).
        if (operation === 'upsert' && session.describeFields) {
          const described = await session.describeFields();
          if ('fields' in described) prepareOptions.remoteFields = new Map(described.fields.map((f) => [f.name, f]));
          else notes.push(`could not read the ${target.displayName} field list (${described.error}): fields were checked by name only`);
        }
      } catch (err) {
        if (err instanceof SyncError && err.exitCode === 3) abortBeforeStart = err.message;
        else throw err;
      }
    }
    if (useState) {
      stateDb = openStateDb(statePath!, {
        // Said as it happens (stderr is written synchronously): the run is paused, not hung.
        onWait: (n) => opts.quiet || io.stderr.write(`\nwaiting for the local state database: ${n} results not saved yet (another process may hold its write lock); sending resumes when they are\n`),
      });
      state = stateDb.forAccount(target.name, target.accountId(remoteEnv));
    }
    const limits = session?.limits;
    const effectiveBatch = Math.min(batchSize ?? limits?.maxBatchSize ?? 1, limits?.maxBatchSize ?? Infinity);
    if (batchSize && limits && batchSize > limits.maxBatchSize) notes.push(`--batch-size ${batchSize} is above the account's maxBatchSize; using ${limits.maxBatchSize}`);
    const ratePerMinute = rate && limits?.ratePerMinute ? Math.min(rate, limits.ratePerMinute) : rate ?? limits?.ratePerMinute;

    const retry = { ...DEFAULT_RETRY_POLICY, ...(retries !== undefined ? { maxAttempts: retries + 1 } : {}), ...retryTuning(env) };
    const pacer = new RequestPacer(needsRemote ? ratePerMinute : undefined, undefined, rate ? undefined : limits?.startRatePerMinute);
    process.on('SIGINT', sigint);
    process.on('SIGTERM', sigterm);
    let plan: DeletePlan | undefined;
    if (command === 'delete' && session && !abortBeforeStart) {
      plan = await planDeletes({ source, mapper, target, session, pacer, retry, allMatches: !!opts.allMatches, operation, signal: interrupt.signal });
      describeMapping(mapper, io, opts);
      notes.push(`${plan.lookups} lookup call${plan.lookups === 1 ? '' : 's'} found ${plan.toDelete.length} ${plan.toDelete.length === 1 ? target.nouns.one : target.nouns.many} to delete`);
      if (sending && plan.toDelete.length > maxDeletes && !opts.yes) {
        await confirmLargeDelete(plan.toDelete.length, maxDeletes, io, target.nouns);
      }
      if (sending && plan.toDelete.length > 0) {
        const backupPath = opts.backup ?? backupPathFor(reportPath, 'deleted');
        await writeBackup(backupPath, plan.toDelete);
        notes.push(`backup of the ${plan.toDelete.length} ${target.nouns.many} being deleted: ${backupPath} (to undo: sync-supporters import ${backupPath})`);
      }
    }
    let mirror: Awaited<ReturnType<typeof mirrorCandidates>> | undefined;
    if (opts.mirror && state) {
      // Before anything is sent: who the file no longer has, and whether that is within the cap.
      mirror = await mirrorCandidates({ input, opts, target, spec, state });
      notes.push(`mirror: ${mirror.candidates.length} ${mirror.candidates.length === 1 ? target.nouns.one : target.nouns.many} synced earlier ${mirror.candidates.length === 1 ? 'is' : 'are'} no longer in the file`);
      if (sending && mirror.candidates.length > maxDeletes && !opts.yes) await confirmLargeDelete(mirror.candidates.length, maxDeletes, io, target.nouns);
    }
    report = new ReportWriter(reportPath, { journal: sending, carry: previous ? [...previous.values()].map((p) => p.line) : undefined });
    if (opts.failed) failedWriter = new FailedRowsWriter(opts.failed, resolveFormat(input, opts.format), () => source.columns(), () => source.delimiter?.());
    const progress = chooseProgress(opts, io, verb);
    result = await runSync({
      operation,
      mode: sending ? 'send' : 'dry-run',
      source: plan ? plan.source : source,
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
      changedOnly: !!opts.changedOnly && !opts.full,
      hashSalt: spec ? createHash('sha256').update(spec.source).digest('hex') : '',
      abortBeforeStart,
      prepare: prepareOptions,
      onBound: plan
        ? undefined
        : (m, sample) => {
            describeMapping(m, io, opts);
            if (operation === 'upsert') {
              requireKeyColumn(m, target, sample, input === '-' ? 'stdin' : input);
              const problems = prepareOptions.remoteFields && target.checkFields ? target.checkFields(new Set(m.matches().map((x) => x.field)), prepareOptions.remoteFields) : [];
              if (problems.length > 0) {
                throw new UsageError(`The mapping names fields ${target.displayName} will not take: ${problems.join('; ')}. Fix the mapping (sync-supporters check lists the fields). Nothing was sent.`, 'E_REMOTE_FIELDS');
              }
              // Said before the first request, and again in the summary.
              const policy = target.describeMapping?.(new Set(m.matches().map((x) => x.field)), prepareOptions) ?? [];
              if (opts.empty === 'clear') policy.push(describeClearing(m, target));
              if (!opts.quiet) for (const line of policy) io.stderr.write(printable(`Note: ${line}`) + '\n');
              notes.push(...policy);
            }
          },
    });
    if (mirror && session && result.exitCode < 2 && !result.abortReason && !result.interrupted) {
      const m = await runMirror({ candidates: mirror.candidates, firstRow: result.rows + 1, target, session, pacer, retry, report, state: state!, sending, redact, signal: interrupt.signal, reportPath, backup: opts.backup, concurrency: concurrency ?? limits?.defaultConcurrency ?? 4, batchSize: effectiveBatch });
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
    throw err;
  } finally {
    process.off('SIGINT', sigint);
    process.off('SIGTERM', sigterm);
    await session?.close();
    await sandbox?.close();
    failedWriter?.close();
    // The report is the record of what happened; a state that was not saved costs the next --changed-only run
    // a resend of those rows, so it is a warning, not a failed run.
    await stateDb?.close().catch((err: Error) => notes.push(`warning: ${err.message}; the next --changed-only run will send those rows again`));
  }

  if (opts.dryRun && command === 'delete') notes.push(`nothing was deleted; the report lists what would be (remote_id and the name and email found)`);
  if (result.interrupted) notes.push('interrupted: requests in flight were finished; the rest are NOT_ATTEMPTED');
  for (const [note, n] of Object.entries(result.rowNotes)) notes.push(`${n} row${n === 1 ? '' : 's'}: ${note}`);
  if (result.warned > 0) notes.push(`${result.warned} row${result.warned === 1 ? ' was' : 's were'} written with a value the remote did not apply (see their report lines): exit 1`);
  if (result.followUps > 0) {
    notes.push(
      `${result.followUps} ${result.followUps === 1 ? target.nouns.one : target.nouns.many} created: a second call set what could not go in the first without risk to existing ${target.nouns.many} ` +
        `(email status ${prepareOptions.newEmailStatus ?? 'OPT_OUT'} where the row has none; a held-back partial address). An email status column in the file saves these calls`,
    );
  }
  if (result.unchanged > 0) {
    const batch = session?.limits.maxBatchSize;
    const saved = batch ? Math.ceil(result.unchanged / batch) : undefined;
    notes.push(`${result.unchanged} rows unchanged since the last sync were not sent${saved ? `: about ${saved} API call${saved === 1 ? '' : 's'} saved` : ''}`);
  }
  if (stateDb) notes.push(`state: ${stateDb.path}`);
  if (failedWriter) {
    notes.push(failedWriter.count > 0 ? `failed rows: ${failedWriter.path} (${failedWriter.count}; fix them there and re-run that file as it is)` : `failed rows: none (${failedWriter.path} not written)`);
  }
  const unfinished = (result.counts.FAILED ?? 0) + (result.counts.SYSTEM_ERROR ?? 0) + (result.counts.NOT_ATTEMPTED ?? 0);
  if (unfinished > 0 && sending && input !== '-') notes.push(`to send the ${unfinished} unfinished rows: ${resumeCommand(command, input, opts, io)}`);
  // --quiet silences progress and the summary, never the reason a run was aborted (exit 3 with no word is a mystery in a cron mail).
  if (opts.quiet && result.abortReason) io.stderr.write(printable(redact(`ABORTED: ${result.abortReason} (report: ${reportPath})`)) + '\n');
  if (!opts.quiet) io.stderr.write(printable(redact(formatSummary(result, { verb, target: target.displayName, report: reportPath, notes }))));
  if (opts.json) {
    io.stdout.write(
      JSON.stringify({
        rows: result.rows,
        counts: result.counts,
        durationMs: Math.round(result.durationMs),
        report: reportPath,
        exitCode: result.exitCode,
        calls: result.calls,
        rateLimited: result.rateLimited,
        unchanged: result.unchanged,
        ...(result.ceilingPerMinute ? { ceilingPerMinute: result.ceilingPerMinute } : {}),
        ...(result.achievedPerMinute ? { achievedPerMinute: Math.round(result.achievedPerMinute) } : {}),
        ...(result.abortReason ? { aborted: redact(result.abortReason) } : {}),
      }) + '\n',
    );
  }
  return result.exitCode;
}

/**
 * Every date column's day/month order, once for the whole column: from --date-order, else from the file itself (a
 * survey that reads as far as it must). Stdin cannot be read twice: there the first value that reads one way
 * settles it, and ambiguous rows before it are INVALID with the fix.
 */
async function settleDates(input: string, opts: DataCommandOptions, target: Target, mapper: RowMapper): Promise<string[]> {
  if (opts.dateOrder !== undefined) {
    const order = opts.dateOrder.toLowerCase();
    if (order !== 'dmy' && order !== 'mdy') throw new UsageError(`--date-order must be dmy (day first: 31/12/1980) or mdy (month first: 12/31/1980), got "${opts.dateOrder}".`);
    for (const f of target.fields) if (f.kind === 'date') mapper.settleDate(f.name, order);
    return [];
  }
  if (input === '-') return [];
  const survey = await openSource(input, { format: opts.format, delimiter: opts.delimiter, encoding: opts.encoding as BufferEncoding | undefined });
  return surveyDateColumns(survey, mapper, input);
}

/**
 * A file in which no column maps to a field that identifies a record (email, an id) would make every row INVALID:
 * said once, before anything is sent, naming the column whose values look like email addresses.
 */
function requireKeyColumn(mapper: RowMapper, target: Target, sample: readonly SourceRecord[], name: string): void {
  const mapped = new Set(mapper.matches().map((m) => m.field));
  if (target.keyFields.some((f) => mapped.has(f))) return;
  const columns = [...new Set(sample.flatMap((r) => Object.keys(r.fields ?? {})))];
  const emails = columns
    .map((c) => ({ c, n: sample.filter((r) => isEmail((r.fields?.[c] ?? '').trim())).length }))
    .filter((x) => x.n > 0)
    .sort((a, b) => b.n - a.n);
  const emailField = target.keyFields[0]!;
  const hint = emails.length > 0
    ? `Column "${emails[0]!.c}" holds email addresses: map it with a mapping file ({"fields": {"${emailField}": "${emails[0]!.c}"}}), or rename the column to Email.`
    : `Add a column named Email (or one of ${target.keyFields.join(', ')}), or map one with --map.`;
  throw new UsageError(`${name}: no column maps to ${target.keyFields.join(' or ')}, so no row could be matched to a ${target.nouns.one} and every row would be INVALID. ${hint} Nothing was sent.`, 'E_NO_KEY');
}

/** --empty clear: which mapped fields an empty cell clears, and which it cannot (and why), before the run. */
function describeClearing(mapper: RowMapper, target: Target): string {
  const fields = [...new Set(mapper.matches().map((m) => m.field))];
  const can = fields.filter((f) => f.startsWith('custom ') || target.canClear?.(f) === true);
  const cannot = fields.filter((f) => !can.includes(f)).map((f) => `${f} (${target.canClear?.(f) ?? 'not clearable'})`);
  return `--empty clear: an empty cell clears ${can.join(', ') || 'nothing mapped'}${cannot.length ? `; never cleared: ${cannot.join('; ')}` : ''}`;
}

/** The command that finishes this run: the same arguments plus --resume (credentials are never in arguments). */
function resumeCommand(command: DataCommand, input: string, opts: DataCommandOptions, io: CommandIO): string {
  const args = io.argv ?? [];
  const quoted = (args.length > 0 ? args : [command, input]).map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`));
  if (!opts.resume) quoted.push('--resume');
  return `sync-supporters ${quoted.join(' ')}`;
}

/** Tests shorten the backoff through the environment; people use --retries and --timeout. */
function retryTuning(env: Record<string, string | undefined>) {
  const base = Number(env.SYNC_SUPPORTERS_RETRY_BASE_MS);
  return Number.isFinite(base) && base > 0 ? { baseDelayMs: base, maxDelayMs: base * 8 } : {};
}

function chooseProgress(opts: DataCommandOptions, io: CommandIO, label: string): ProgressSink {
  if (opts.quiet) return silentProgress;
  if (io.stderr.isTTY) return createBarProgress();
  return createLineProgress(label, 5000, (s) => io.stderr.write(s));
}

function describeMapping(mapper: RowMapper, io: CommandIO, opts: DataCommandOptions) {
  if (opts.quiet) return;
  const matches = mapper.matches();
  const unused = mapper.unusedColumns();
  io.stderr.write(printable(`Columns used: ${matches.map((m) => `${m.column} → ${m.field}`).join(', ') || 'none'}`) + '\n');
  if (unused.length > 0) {
    io.stderr.write(printable(`Columns not used: ${unused.join(', ')} (name them in a --map file, e.g. as custom fields, to send them)`) + '\n');
  }
}
