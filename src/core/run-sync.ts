import { exitCodeOf } from './outcome.js';
import pLimit from 'p-limit';
import { admitRow } from './admit-row.js';
import { deliverBatch } from './deliver-batch.js';
import { MembershipStage } from './deliver-memberships.js';
import { AllowanceWatch } from './allowance.js';
import { InternalError } from './errors.js';
import { silentProgress, type ProgressSink } from './progress.js';
import { RunContext } from './run-context.js';
import type { PaceSample, RunOptions, RunResult } from './run-types.js';
import type { SourceRecord } from './types.js';

export type { Finished, Outcome, PendingMemberships, PreviousRow, UndoEntry, UndoSink, ReportSink, RunOptions, RunResult, Work } from './run-types.js';

/**
 * One run: read the source a chunk at a time, admit rows (admit-row.ts), dispatch batches within the concurrency
 * and the read-ahead window (deliver-batch.ts), and finish with the result and exit code. Memory stays bounded: the
 * next chunk is read only when the queue and the window allow.
 */
export async function runSync(options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const loop = new SendLoop(options);
  const { ctx } = loop;
  const progress = options.progress ?? silentProgress;
  const onInterrupt = () => ctx.requestStop('interrupt', 'interrupted before this row was sent');
  options.signal?.addEventListener('abort', onInterrupt, { once: true });
  if (options.abortBeforeStart) ctx.requestStop('abort', options.abortBeforeStart);
  if (options.signal?.aborted) onInterrupt();
  progress.start({ operation: options.operation === 'upsert' ? 'import' : options.operation, target: options.target.displayName });
  const pace = samplePace(ctx, started);
  try {
    await loop.run();
  } catch (err) {
    await loop.drain(err as Error);
    throw err;
  } finally {
    options.signal?.removeEventListener('abort', onInterrupt);
    progress.stop();
    pace.stop();
  }
  ctx.stateTracker.flush(true);
  options.report.flush();
  if (loop.failure) throw loop.failure;
  return { ...result(ctx, performance.now() - started), pace: pace.samples };
}

/** The run's calls and finished rows, once a second; past 720 points every other is dropped and the pace halves. */
function samplePace(ctx: RunContext, started: number): { samples: PaceSample[]; stop(): void } {
  const samples: PaceSample[] = [{ atMs: 0, calls: 0, rows: 0 }];
  let every = 1;
  let tick = 0;
  const progress = ctx.options.progress;
  const take = () => {
    samples.push({ atMs: performance.now() - started, calls: ctx.calls, rows: ctx.emitter.nextToEmit - 1 });
    // The pace of the last five seconds or so, for the progress display.
    const recent = samples[Math.max(0, samples.length - 6)]!;
    const last = samples[samples.length - 1]!;
    if (progress?.pace && last.atMs > recent.atMs) progress.pace(((last.calls - recent.calls) / (last.atMs - recent.atMs)) * 60_000, ctx.pacer.stats.ceilingPerMinute);
  };
  const timer = setInterval(() => {
    if (++tick % every !== 0) return;
    take();
    if (samples.length >= 720) {
      const kept = samples.filter((_, i) => i % 2 === 0);
      samples.splice(0, samples.length, ...kept);
      every *= 2;
    }
  }, 1000);
  timer.unref();
  return {
    samples,
    stop() {
      clearInterval(timer);
      take();
    },
  };
}

/** The send loop's moving parts: the concurrency slots, the calls in flight, the rows read and not yet admitted. */
class SendLoop {
  readonly ctx: RunContext;
  failure: unknown;
  private readonly concurrency: number;
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly tasks = new Set<Promise<void>>();
  private readonly maxWindow: number;
  private readonly iterator: AsyncIterator<SourceRecord[]>;
  private sourceDone = false;
  private bound = false;
  // A chunk is admitted row by row, only as far as the read-ahead allows: admitting thousands of rows in one go
  // would hold up the answers of requests in flight.
  private buffered: SourceRecord[] = [];
  private bufferedAt = 0;
  /** Records the source has given so far. */
  private rowsSeen = 0;
  private readonly progress: ProgressSink;

  constructor(private readonly options: RunOptions) {
    this.progress = options.progress ?? silentProgress;
    this.concurrency = Math.max(1, options.concurrency);
    this.limit = pLimit(this.concurrency);
    const dispatch = (delivery: () => Promise<void>) => this.dispatch(delivery);
    this.ctx = new RunContext(options, { dispatch, membership: (c) => new MembershipStage(c), allowance: (c) => new AllowanceWatch(c) });
    if ((this.ctx.sending || this.ctx.planning) && !options.session && !options.abortBeforeStart) throw new InternalError(`runSync: ${options.mode} mode needs a session`);
    this.maxWindow = options.maxWindow ?? Math.max(10_000, this.concurrency * this.ctx.batchLimit * 20);
    this.iterator = options.source.chunks()[Symbol.asyncIterator]();
  }

  /** Every call — a batch of records, a group's members — takes one of the run's concurrency slots. */
  private dispatch(delivery: () => Promise<void>): void {
    const task = this.limit(delivery)
      .catch((err) => {
        this.failure ??= err;
      })
      .finally(() => {
        this.ctx.stateTracker.flush();
        this.options.report.flush();
        this.tasks.delete(task);
        this.ctx.wakeUp();
      });
    this.tasks.add(task);
  }

  private inFlight(): number {
    return this.limit.activeCount + this.limit.pendingCount;
  }

  /** Until every row has its answer: dispatch what is ready, top up the queue, or wait for an answer. */
  async run(): Promise<void> {
    const { ctx } = this;
    for (;;) {
      if (this.failure) throw this.failure;
      const windowFull = ctx.rowsRead - (ctx.emitter.nextToEmit - 1) >= this.maxWindow;
      const enoughQueued = ctx.ready.length >= ctx.batchLimit * (this.concurrency + 1);
      const dispatched = this.dispatchReady(windowFull);
      if (!this.sourceDone && !windowFull && (!enoughQueued || ctx.stop)) {
        // Requests just dispatched go out before the queue is topped up: admitting rows (mapping, checks, the state
        // lookup) runs without a pause, and held them back (median answer-to-next-request 1.0 -> 0.9 ms, 2a bench).
        if (dispatched) await new Promise<void>((resolve) => setImmediate(resolve));
        await this.admitMore();
        continue;
      }
      if (this.sourceDone && this.tasks.size === 0 && ctx.ready.length === 0 && ctx.locks.blocked === 0 && ctx.membership.waiting === 0 && ctx.retrying === 0) return;
      await ctx.woken;
    }
  }

  /** Sends full batches (or what is left at the end, or when the window is full) and due group changes. */
  private dispatchReady(windowFull: boolean): boolean {
    const { ctx } = this;
    const { ready } = ctx;
    if (ctx.stop) {
      while (ready.length > 0) ctx.notAttempted(ready.shift()!);
      // Written records' group changes are answered too (each says it was not sent): their rows are finished.
      if (ctx.membership.waiting > 0) ctx.membership.flush();
      return false;
    }
    let dispatched = false;
    while (this.inFlight() < this.concurrency && ready.length > 0 && (ready.length >= ctx.batchLimit || this.sourceDone || windowFull)) {
      dispatched = true;
      const batch = ready.splice(0, ctx.batchLimit);
      this.dispatch(() => deliverBatch(ctx, batch));
    }
    // Group changes wait to fill a call; the rest go at the end of the input, when the read-ahead window is full,
    // or when nothing else has been in flight while they waited a second.
    const idle = this.inFlight() === 0 && ready.length === 0 && ctx.membership.waitedMs() > 1000;
    if (ctx.membership.waiting > 0 && (windowFull || this.sourceDone || idle)) {
      dispatched = true;
      ctx.membership.flush();
    }
    return dispatched;
  }

  /** Admits the next buffered row (all of them when nothing is in flight to hold up), else reads the next chunk. */
  private async admitMore(): Promise<void> {
    const { ctx, options } = this;
    if (this.bufferedAt < this.buffered.length) {
      if (ctx.sending || ctx.planning) admitRow(ctx, this.buffered[this.bufferedAt++]!);
      else while (this.bufferedAt < this.buffered.length) admitRow(ctx, this.buffered[this.bufferedAt++]!);
      return;
    }
    const next = await this.iterator.next();
    if (next.done) {
      this.sourceDone = true;
      this.progress.total?.(this.rowsSeen, true);
      return;
    }
    this.rowsSeen += next.value.length;
    // Until the end of the input, its rows are estimated from the bytes read so far (a file's size is known).
    const bytes = options.source.bytes?.();
    if (bytes?.total && bytes.read > 0) this.progress.total?.(Math.max(this.rowsSeen, Math.round((this.rowsSeen * bytes.total) / bytes.read)), false);
    options.mapper.bind(options.source.columns(), options.source.fixedColumns, next.value); // once, then each chunk's new JSONL keys
    if (!this.bound) {
      this.bound = true;
      options.onBound?.(options.mapper, next.value);
    }
    this.buffered = next.value;
    this.bufferedAt = 0;
  }

  /** Reading failed mid-file or a bug surfaced: requests in flight finish so that their rows are reported. */
  async drain(err: Error): Promise<void> {
    const { ctx } = this;
    ctx.requestStop('abort', `stopped: ${err.message}`);
    if (ctx.membership.waiting > 0) ctx.membership.flush();
    while (this.tasks.size > 0 || ctx.retrying > 0) {
      if (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
      else await new Promise<void>((resolve) => setImmediate(resolve)); // a retry's wait ends at the stop
    }
    ctx.stateTracker.flush(true);
    this.options.report.flush();
  }
}

/** The run's counts, pace and exit code (docs/CONTRACT.md "Exit status"). */
function result(ctx: RunContext, durationMs: number): RunResult {
  const { counts } = ctx.emitter;
  const s = ctx.pacer.stats;
  const spanMs = s.firstGrantAt !== undefined && s.lastGrantAt !== undefined ? s.lastGrantAt - s.firstGrantAt : 0;
  const achievedPerMinute = ctx.calls > 1 && spanMs > 0 ? ((ctx.calls - 1) / spanMs) * 60_000 : undefined;
  const stop = ctx.stop;
  const abortReason = stop?.kind === 'abort' ? stop.message : undefined;
  const interrupted = stop?.kind === 'interrupt';
  return {
    rows: ctx.rowsRead,
    counts,
    durationMs,
    calls: ctx.calls,
    rateLimited: s.rateLimited,
    unchanged: ctx.unchanged,
    rowNotes: ctx.rowNotes,
    droppedValues: ctx.droppedValues,
    followUps: ctx.followUps,
    warned: ctx.warned,
    memberships: ctx.membershipCounts,
    membershipCalls: ctx.membershipCalls,
    refusedGroups: [...ctx.membership.refused.values()],
    lookupCalls: ctx.lookupCalls,
    kept: ctx.kept,
    unreadTimes: ctx.unreadTimes,
    repeats: ctx.repeats,
    keptSpellings: ctx.keptSpellings,
    planFields: ctx.planFields,
    planSecondCalls: ctx.planSecondCalls,
    ceilingPerMinute: s.ceilingPerMinute,
    achievedPerMinute,
    abortReason,
    interrupted,
    exitCode: exitCodeOf({ counts, warned: ctx.warned, interrupted, abortReason }),
  };
}
