import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../core/retry-policy.js';
import { chunkedSource } from '../core/chunked-source.js';
import type { Source, SourceRecord, TargetSession } from '../core/types.js';
import type { FailedRowsWriter } from '../report/failed-rows.js';
import type { ReportWriter } from '../report/report-writer.js';
import type { TraceFile } from '../report/trace-file.js';
import type { UndoLogWriter } from '../report/undo-log.js';
import type { Sandbox } from '../sandbox/server.js';
import type { StateDb } from '../state/sqlite-state.js';
import type { JobIO } from './job-io.js';

/**
 * Everything a job opens (the sandbox, the trace, the connection, the state, the report, the failed-rows file, the
 * undo log), owned in one place and closed in one place, whatever way the job ends. A second Ctrl-C closes the
 * report as it stands.
 */
export class RunResources {
  sandbox?: Sandbox;
  trace?: TraceFile;
  session?: TargetSession;
  stateDb?: StateDb;
  report?: ReportWriter;
  failed?: FailedRowsWriter;
  undoLog?: UndoLogWriter;

  constructor(io: JobIO) {
    io.onQuit(() => this.report?.close(false));
  }

  /** --trace: every request and answer appended to `path`, these secrets masked. */
  async openTrace(path: string | undefined, secrets: Array<string | undefined>): Promise<void> {
    if (!path) return;
    const { TraceFile } = await import('../report/trace-file.js');
    this.trace = new TraceFile(path, secrets);
  }

  /**
   * Closes what is open. The report is the record of what happened; a state that was not saved costs the next
   * --changed-only run a resend of those rows, so it is a warning (`warn`), not a failed run.
   */
  async close(warn: (line: string) => void): Promise<void> {
    await this.session?.close();
    await this.sandbox?.close();
    this.failed?.close();
    this.undoLog?.close();
    this.trace?.close();
    await this.stateDb?.close().catch((err: Error) => warn(`warning: ${err.message}; the next --changed-only run will send those rows again`));
  }
}

/** The retry policy of a run: --retries, and the environment's shorter backoff (tests). */
export function retryPolicyFor(retries: number | undefined, env: Record<string, string | undefined>): RetryPolicy {
  return { ...DEFAULT_RETRY_POLICY, ...(retries !== undefined ? { maxAttempts: retries + 1 } : {}), ...retryTuning(env) };
}

/** Tests shorten the backoff through the environment; people use --retries and --timeout. */
function retryTuning(env: Record<string, string | undefined>) {
  const base = Number(env.SYNC_SUPPORTERS_RETRY_BASE_MS);
  return Number.isFinite(base) && base > 0 ? { baseDelayMs: base, maxDelayMs: base * 8 } : {};
}

/** Records already in memory (a plan's, an undo's) as a source. */
export function recordsSource(records: SourceRecord[]): Source {
  return chunkedSource(() => [], async function* () {
    for (let i = 0; i < records.length; i += 1000) yield records.slice(i, i + 1000);
  }, true);
}
