import { UsageError } from '../../core/errors.js';
import type { Operation, PrepareOptions, Target } from '../../core/types.js';
import { UPDATE_RULES } from '../../core/update-policy.js';
import { DEFAULT_STATE_PATH } from '../../state/paths.js';
import { defaultReportPath, type DataCommand, type DataJob } from '../../jobs/data-job-types.js';
import { runDataJob } from '../../jobs/data-job.js';
import { cliJobIO } from '../job-io.js';
import { undoLogPathFor } from '../../report/undo-log.js';
import { resolveTarget, type CommandIO, type DataCommandOptions } from '../io.js';
import { intOption } from '../options.js';
import { printable } from '../printable.js';
import { formatSummary } from '../summary.js';

const oneOf = <T extends string>(value: string | undefined, flag: string, allowed: readonly T[], what: string): T | undefined => {
  if (value === undefined) return undefined;
  const v = allowed.find((a) => a.toLowerCase() === value.toLowerCase());
  if (!v) throw new UsageError(`${flag} must be ${what}, got "${value}".`);
  return v;
};

/** Flags to a typed job: every flag is checked here, before anything is read or written (exit 2 on a bad one). */
export function parseDataJob(command: DataCommand, input: string, opts: DataCommandOptions, env: Record<string, string | undefined>): DataJob {
  const target = resolveTarget(opts.target, env);
  const operation: Operation = command === 'delete' ? 'delete' : 'upsert';
  if (!target.operations.includes(operation)) {
    throw new UsageError(target.unsupportedReason?.[operation] ?? `${target.displayName} does not support ${command}.`, 'E_UNSUPPORTED');
  }
  refuseContradictions(command, opts, target);
  const sending = command !== 'validate' && !opts.dryRun && !opts.plan;
  // A delete names supporters the remote must look up, so its preview (--dry-run) talks to the remote too.
  const needsRemote = sending || !!opts.plan || (command === 'delete' && !!target.deletes) || (command === 'import' && !!opts.mirror);
  if (needsRemote && !opts.sandbox) requireCredentials(target, env);
  const useState = command !== 'validate' && opts.state !== false;
  const groups = { add: (opts.segment ?? []).map((x) => x.trim()).filter(Boolean), remove: (opts.removeSegment ?? []).map((x) => x.trim()).filter(Boolean) };
  const mode = command === 'validate' ? 'validate' : opts.plan ? 'plan' : opts.dryRun ? 'dry-run' : 'send';
  const reportPath = opts.report ?? defaultReportPath(input, mode);
  if (mode === 'plan' && !/\.(jsonl|ndjson|json)$/i.test(reportPath)) throw new UsageError(`A plan is written as JSONL (it carries what --apply-plan sends): give --report a .jsonl name, or leave it out (${defaultReportPath(input, 'plan')}).`);
  return {
    command,
    input,
    target,
    operation,
    mode,
    sending,
    needsRemote,
    useState,
    reportPath,
    undoLog: opts.undoLog || opts.applyPlan ? (typeof opts.undoLog === 'string' ? opts.undoLog : undoLogPathFor(reportPath)) : undefined,
    applyPlan: opts.applyPlan,
    statePath: useState ? (typeof opts.state === 'string' ? opts.state : env.SYNC_SUPPORTERS_STATE || DEFAULT_STATE_PATH) : undefined,
    map: opts.map,
    format: opts.format,
    delimiter: opts.delimiter,
    encoding: opts.encoding as BufferEncoding | undefined,
    concurrency: intOption(opts.concurrency, '--concurrency', 1, 64),
    batchSize: intOption(opts.batchSize, '--batch-size', 1, 1000),
    rate: intOption(opts.rate, '--rate', 1, 1_000_000),
    timeoutSec: intOption(opts.timeout, '--timeout', 1, 3600) ?? 60,
    retries: intOption(opts.retries, '--retries', 0, 20),
    sandbox: opts.sandbox ? { faults: opts.sandboxFaults, latencyMs: intOption(opts.sandboxLatency, '--sandbox-latency', 0, 60_000) } : undefined,
    maxDeletes: intOption(opts.maxDeletes, '--max-deletes', 0) ?? 100,
    yes: !!opts.yes,
    backup: opts.backup,
    allMatches: !!opts.allMatches,
    resume: !!opts.resume,
    changedOnly: !!opts.changedOnly,
    strictValues: !!opts.strictValues,
    trace: opts.trace,
    full: !!opts.full,
    mirror: !!opts.mirror,
    failed: opts.failed,
    overwrite: !!opts.overwrite,
    empty: oneOf(opts.empty, '--empty', ['skip', 'clear'] as const, 'skip (the default: an empty cell is not sent) or clear (an empty cell clears the stored value)') ?? 'skip',
    address: oneOf(opts.address, '--address', ['complete', 'replace'] as const, 'complete (send an address only when it is whole: the default) or replace') ?? 'complete',
    dateOrder: oneOf(opts.dateOrder, '--date-order', ['dmy', 'mdy'] as const, 'dmy (day first: 31/12/1980) or mdy (month first: 12/31/1980)'),
    newEmailStatus: oneOf(opts.newEmailStatus, '--new-email-status', ['OPT_OUT', 'OPT_IN', 'account-default'] as const, 'OPT_OUT (the default), OPT_IN or account-default') as PrepareOptions['newEmailStatus'],
    update: oneOf(opts.update, '--update', UPDATE_RULES, 'always, if-empty, never or if-newer'),
    newerColumn: opts.newerColumn,
    quiet: !!opts.quiet,
    groups,
    json: !!opts.json,
    html: opts.html !== false,
  };
}

/** Flags that contradict each other, or ask the target for what it cannot do: refused before anything is read. */
function refuseContradictions(command: DataCommand, opts: DataCommandOptions, target: Target): void {
  if (opts.plan && (opts.dryRun || opts.resume || opts.mirror || opts.applyPlan || opts.undoLog)) {
    throw new UsageError('--plan only reads: it cannot be combined with --dry-run, --resume, --mirror, --apply-plan or --undo-log.');
  }
  if ((opts.applyPlan || opts.undoLog) && (opts.dryRun || command !== 'import')) throw new UsageError('--apply-plan and --undo-log belong to an import that sends (the plan itself is the preview).');
  if (opts.applyPlan && opts.update) throw new UsageError('--apply-plan sends what the plan says, and the plan already holds what its update policy kept (the policy goes with --plan): drop --update here.');
  if (opts.applyPlan && opts.mirror) throw new UsageError('--apply-plan sends what the plan says, and nothing else: it cannot be combined with --mirror.');
  if (opts.applyPlan && (opts.segment?.length || opts.removeSegment?.length)) throw new UsageError('--apply-plan sends what the plan says: segment changes are not part of a plan. Run the segments as an import of their own.');
  if ((opts.plan || opts.undoLog || opts.applyPlan) && !target.readBack) throw new UsageError(`${target.displayName} records cannot be read before writing, so --plan, --undo-log and --apply-plan are not available.`, 'E_UNSUPPORTED');
  if (opts.newerColumn !== undefined && opts.update !== 'if-newer') throw new UsageError('--newer-column goes with --update if-newer (a mapping field\'s own "newer" names its column there).');
  if (opts.changedOnly && opts.full) throw new UsageError('--changed-only and --full contradict each other: choose one.');
  if ((opts.changedOnly || opts.mirror) && !(command !== 'validate' && opts.state !== false)) throw new UsageError(`--${opts.mirror ? 'mirror' : 'changed-only'} needs the local state (drop --no-state).`);
  if (opts.mirror && (command !== 'import' || !target.deletes)) {
    throw new UsageError(`--mirror deletes what the file no longer has, and ${target.displayName}${target.operations.includes('delete') ? '' : "'s API has no delete"}: it works with import to Salsa only.`, 'E_UNSUPPORTED');
  }
  if ([...(opts.segment ?? []), ...(opts.removeSegment ?? [])].some((x) => x.trim()) && !target.groups) {
    throw new UsageError(`${target.displayName} has no groups this tool can set: drop --segment / --remove-segment.`, 'E_UNSUPPORTED');
  }
}

/** A run that talks to the remote needs its credentials (the sandbox has its own). */
function requireCredentials(target: Target, env: Record<string, string | undefined>): void {
  const missing = target.missingCredentials(env);
  if (missing.length > 0) {
    throw new UsageError(
      `Missing ${missing.join(', ')} for ${target.displayName}. Set ${missing.length > 1 ? 'them' : 'it'} in the environment or in a .env file in this folder ` +
        '(or try the built-in emulator with --sandbox, or check the file with validate).',
      'E_CREDENTIALS',
    );
  }
}

/** import, delete, validate: flags to a job, the job run, its summary printed; the exit status. */
export async function runDataCommand(command: DataCommand, input: string, opts: DataCommandOptions, io: CommandIO): Promise<number> {
  const job = parseDataJob(command, input, opts, io.env);
  const jobIO = cliJobIO(io, { graceMs: (job.timeoutSec + 5) * 1000 });
  const { result, notes, reportPath, verb, redact, said } = await runDataJob(job, jobIO).finally(() => jobIO.dispose());
  // --quiet silences progress and the summary, never the reason a run was aborted (exit 3 with no word is a mystery in a cron mail).
  if (job.quiet && result.abortReason) io.stderr.write(printable(redact(`ABORTED: ${result.abortReason} (report: ${reportPath})`)) + '\n');
  // What was said before the run is not said again; --json and the summary page keep every note.
  if (!job.quiet) io.stderr.write(printable(redact(formatSummary(result, { verb, target: job.target.displayName, report: reportPath, notes: notes.filter((n) => !said.has(n)) }))));
  if (job.json) {
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
        ...(Object.keys(result.kept).length > 0 ? { kept: result.kept } : {}),
        ...(result.repeats?.rows ? { repeats: result.repeats } : {}),
        ...(result.keptSpellings ? { keptSpellings: result.keptSpellings } : {}),
        ...(Object.keys(result.memberships).length > 0 ? { memberships: result.memberships, membershipCalls: result.membershipCalls } : {}),
        // What the human summary says besides the counts (warnings, what was left out, files written).
        notes: notes.map((n) => redact(n)),
      }) + '\n',
    );
  }
  return result.exitCode;
}
