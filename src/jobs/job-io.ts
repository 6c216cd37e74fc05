import type { ProgressSink } from '../core/progress.js';

/**
 * What a job needs from whoever runs it, and no more: the CLI provides it (src/cli/job-io.ts), a test can too. A job
 * never touches the console, the process's signals or its exit code itself: it says lines, asks, reports progress,
 * watches `stop`, and returns an outcome for the command to print and exit with.
 */
export interface JobIO {
  env: Record<string, string | undefined>;
  /** The arguments as typed (for the resume command the summary prints). */
  argv?: string[];
  /** A line for the person running the job (notes before the run, a wait): shown as it comes, made safe to print. */
  say(line: string): void;
  /** The run's progress display (a bar in a terminal, a line every few seconds otherwise, nothing when quiet). */
  progress(label: string, quiet: boolean): Promise<ProgressSink>;
  /**
   * Asks the person to type `expected` to go on: true if they did, false if not, undefined when nobody can answer
   * (not a terminal): the job then refuses and says how to proceed without a question.
   */
  confirm(question: string, expected: string): Promise<boolean | undefined>;
  /** Aborted when the person asks the job to stop (Ctrl-C, SIGTERM): requests in flight finish, the rest is reported. */
  stop: AbortSignal;
  /** Registers what must be done if the person insists on quitting at once (a second Ctrl-C): close the report. */
  onQuit(cleanup: () => void): void;
}
