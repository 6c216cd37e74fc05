import { setMaxListeners } from 'node:events';
import { createInterface } from 'node:readline/promises';
import { silentProgress, type ProgressSink } from '../core/progress.js';
import type { JobIO } from '../jobs/job-io.js';
import type { CommandIO } from './io.js';
import { printable } from './printable.js';

/**
 * The CLI's side of a job: lines on stderr (made safe to print), the progress display, questions at a terminal, and
 * the process's signals. The first Ctrl-C (or SIGTERM) asks the job to stop; a second one, or the job not coming back
 * within `graceMs` of the first, quits at once after the job's own cleanup (its report closed), with exit 130.
 */
export function cliJobIO(io: CommandIO, options: { graceMs: number }): JobIO & { dispose(): void } {
  const stop = new AbortController();
  setMaxListeners(0, stop.signal); // each request in flight and each wait listens to it
  const cleanups: Array<() => void> = [];
  const onSignal = (sig: string) => {
    if (stop.signal.aborted) {
      for (const c of cleanups) c();
      io.stderr.write(`\nSecond ${sig}: quitting now. Rows without an answer are missing from the report; run again with --resume.\n`);
      process.exit(130);
    }
    stop.abort();
    io.stderr.write(`\n${sig}: stopping — finishing the requests in flight, then writing the report (press Ctrl-C again to quit at once).\n`);
    // Bounded wait: a request that does not come back in time is not waited for.
    setTimeout(() => onSignal(sig), options.graceMs).unref();
  };
  const sigint = () => onSignal('SIGINT');
  const sigterm = () => onSignal('SIGTERM');
  process.on('SIGINT', sigint);
  process.on('SIGTERM', sigterm);
  return {
    env: io.env,
    argv: io.argv,
    say: (line) => void io.stderr.write(printable(line) + '\n'),
    progress: (label, quiet) => chooseProgress(quiet, io, label),
    async confirm(question, expected) {
      if (!process.stdin.isTTY || !io.stderr.isTTY) return undefined;
      const rl = createInterface({ input: process.stdin, output: io.stderr as NodeJS.WritableStream });
      try {
        return (await rl.question(question)).trim() === expected;
      } finally {
        rl.close();
      }
    },
    stop: stop.signal,
    onQuit: (cleanup) => void cleanups.push(cleanup),
    dispose() {
      process.off('SIGINT', sigint);
      process.off('SIGTERM', sigterm);
    },
  };
}

async function chooseProgress(quiet: boolean, io: CommandIO, label: string): Promise<ProgressSink> {
  if (quiet) return silentProgress;
  const { createBarProgress, createLineProgress } = await import('./progress.js');
  if (io.stderr.isTTY) return createBarProgress(io.stderr);
  return createLineProgress(label, 5000, (s) => io.stderr.write(s));
}
