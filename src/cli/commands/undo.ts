import { UsageError } from '../../core/errors.js';
import { DEFAULT_STATE_PATH } from '../../state/paths.js';
import { runUndoJob } from '../../jobs/undo-job.js';
import { cliJobIO } from '../job-io.js';
import type { CommandIO } from '../io.js';
import { intOption } from '../options.js';
import { printable } from '../printable.js';
import { formatSummary } from '../summary.js';

export interface UndoOptions {
  report?: string;
  dryRun?: boolean;
  force?: boolean;
  resume?: boolean;
  maxDeletes?: string;
  yes?: boolean;
  backup?: string;
  concurrency?: string;
  rate?: string;
  timeout?: string;
  retries?: string;
  state?: string | boolean;
  json?: boolean;
  quiet?: boolean;
  /** false with --no-html. */
  html?: boolean;
  trace?: string;
}

/** `undo <undo-log>`: flags to an UndoJob, the job, the summary. */
export async function runUndoCommand(log: string, opts: UndoOptions, io: CommandIO): Promise<number> {
  if (opts.resume && opts.dryRun) throw new UsageError('--resume continues an undo that sent; a --dry-run sends nothing.');
  const base = log.replace(/\.undo\.jsonl$/i, '').replace(/\.jsonl$/i, '');
  const reportPath = opts.report ?? `${base}.undo${opts.dryRun ? '.dry-run' : ''}.report.csv`;
  const timeoutSec = intOption(opts.timeout, '--timeout', 1, 3600) ?? 60;
  const jobIO = cliJobIO(io, { graceMs: (timeoutSec + 5) * 1000 });
  const { result, notes, verb, redact, targetName } = await runUndoJob(
    {
      log,
      reportPath,
      dryRun: !!opts.dryRun,
      force: !!opts.force,
      resume: !!opts.resume,
      maxDeletes: intOption(opts.maxDeletes, '--max-deletes', 0) ?? 100,
      yes: !!opts.yes,
      backup: opts.backup,
      concurrency: intOption(opts.concurrency, '--concurrency', 1, 64),
      rate: intOption(opts.rate, '--rate', 1, 1_000_000),
      timeoutSec,
      retries: intOption(opts.retries, '--retries', 0, 20),
      statePath: opts.state === false ? undefined : typeof opts.state === 'string' ? opts.state : io.env.SYNC_SUPPORTERS_STATE || DEFAULT_STATE_PATH,
      quiet: !!opts.quiet,
      html: opts.html !== false,
      trace: opts.trace,
    },
    jobIO,
  ).finally(() => jobIO.dispose());
  const unfinished = (result.counts.FAILED ?? 0) + (result.counts.SYSTEM_ERROR ?? 0) + (result.counts.NOT_ATTEMPTED ?? 0);
  if (unfinished > 0 && !opts.dryRun) notes.push(`to finish the ${unfinished} unfinished: sync-supporters undo ${log}${opts.report ? ` -r ${opts.report}` : ''} --resume`);
  if (!opts.quiet) io.stderr.write(printable(redact(formatSummary(result, { verb, target: targetName, report: reportPath, notes }))));
  if (opts.json) io.stdout.write(JSON.stringify({ rows: result.rows, counts: result.counts, durationMs: Math.round(result.durationMs), report: reportPath, exitCode: result.exitCode, calls: result.calls }) + '\n');
  return result.exitCode;
}
