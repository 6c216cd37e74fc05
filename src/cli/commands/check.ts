import { runCheckJob } from '../../jobs/check-job.js';
import { cliJobIO } from '../job-io.js';
import { intOption } from '../options.js';
import { printable } from '../printable.js';
import { resolveTarget, type CommandIO } from '../io.js';

export interface CheckOptions {
  target?: string;
  map?: string;
  format?: string;
  delimiter?: string;
  encoding?: string;
  sample?: string;
  sandbox?: boolean;
  json?: boolean;
  trace?: string;
  segment?: string[];
  removeSegment?: string[];
}


/**
 * `check`: flags to a check request, the check job, its lines printed — a table on stdout (`check file.csv >
 * out.txt` keeps it), or one JSON object — and its exit code (0 a run would go through, 1 rows would not all go
 * through as written, 2 it would not run).
 */
export async function runCheck(input: string | undefined, opts: CheckOptions, io: CommandIO): Promise<number> {
  const target = resolveTarget(opts.target, io.env);
  const request = {
    input,
    target,
    map: opts.map,
    format: opts.format,
    delimiter: opts.delimiter,
    encoding: opts.encoding as BufferEncoding | undefined,
    sampleSize: intOption(opts.sample, '--sample', 1, 10_000) ?? 0,
    sandbox: !!opts.sandbox,
    trace: opts.trace,
    segments: { add: opts.segment ?? [], remove: opts.removeSegment ?? [] },
  };
  const jobIO = cliJobIO(io, { graceMs: 35_000 });
  const { lines, facts, exitCode, redact } = await runCheckJob(request, jobIO).finally(() => jobIO.dispose());
  if (opts.json) {
    io.stdout.write(JSON.stringify({ ok: exitCode === 0, exitCode, checks: lines.map((l) => ({ ...l, detail: redact(l.detail) })), ...facts }) + '\n');
    return exitCode;
  }
  const w = Math.max(...lines.map((l) => l.check.length));
  const out = [`Check of ${target.displayName}${input ? ` for ${input}` : ''} (read-only: nothing was written):`];
  for (const l of lines) out.push(`  ${l.ok ? 'ok  ' : l.severity === 'problem' ? 'WARN' : 'FAIL'}  ${l.check.padEnd(w)}  ${l.detail}`);
  out.push(exitCode === 0 ? 'A run would go through.' : exitCode === 1 ? 'A run would start, but not every row would go through as written: see WARN, then check again.' : 'A run would not go through: fix what says FAIL, then check again.');
  io.stdout.write(printable(redact(out.join('\n'))) + '\n');
  return exitCode;
}
