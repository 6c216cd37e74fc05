import { exitCodeOf } from './outcome.js';
import pLimit from 'p-limit';
import { admitRow } from './admit-row.js';
import { deliverBatch } from './deliver-batch.js';
import { MembershipStage } from './deliver-memberships.js';
import { AllowanceWatch } from './allowance.js';
import { InternalError } from './errors.js';
import { silentProgress } from './progress.js';
import { RunContext } from './run-context.js';
import type { RunOptions, RunResult } from './run-types.js';
import type { SourceRecord } from './types.js';

export type { Finished, Outcome, PendingMemberships, PreviousRow, UndoEntry, UndoSink, ReportSink, RunOptions, RunResult, Work } from './run-types.js';

/**
 * One run: read the source a chunk at a time, admit rows (admit-row.ts), dispatch batches within the concurrency
 * and the read-ahead window (deliver-batch.ts), and finish with the result and exit code. Memory stays bounded: the
 * next chunk is read only when the queue and the window allow.
 */
export async function runSync(options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const { operation, target, mapper, report } = options;
  const progress = options.progress ?? silentProgress;
  const concurrency = Math.max(1, options.concurrency);
  const limit = pLimit(concurrency);
  const tasks = new Set<Promise<void>>();
  let failure: unknown;
  // Every call — a batch of records, a group's members — takes one of the run's concurrency slots.
  const dispatch = (delivery: () => Promise<void>) => {
    const task = limit(delivery)
      .catch((err) => {
        failure ??= err;
      })
      .finally(() => {
        ctx.stateTracker.flush();
        report.flush();
        tasks.delete(task);
        ctx.wakeUp();
      });
    tasks.add(task);
  };
  const ctx: RunContext = new RunContext(options, { dispatch, membership: (c) => new MembershipStage(c), allowance: (c) => new AllowanceWatch(c) });
  if ((ctx.sending || ctx.planning) && !options.session && !options.abortBeforeStart) throw new InternalError(`runSync: ${options.mode} mode needs a session`);
  const maxWindow = options.maxWindow ?? Math.max(10_000, concurrency * ctx.batchLimit * 20);
  const onInterrupt = () => ctx.requestStop('interrupt', 'interrupted before this row was sent');
  options.signal?.addEventListener('abort', onInterrupt, { once: true });
  if (options.abortBeforeStart) ctx.requestStop('abort', options.abortBeforeStart);
  if (options.signal?.aborted) onInterrupt();

  const inFlight = () => limit.activeCount + limit.pendingCount;
  progress.start({ operation: operation === 'upsert' ? 'import' : operation, target: target.displayName });
  const iterator = options.source.chunks()[Symbol.asyncIterator]();
  let sourceDone = false;
  let bound = false;
  // A chunk is admitted row by row, only as far as the read-ahead allows: admitting thousands of rows in one go
  // would hold up the answers of requests in flight.
  let buffered: SourceRecord[] = [];
  let bufferedAt = 0;
  const { ready, emitter } = ctx;
  try {
    for (;;) {
      if (failure) throw failure;
      const windowFull = ctx.rowsRead - (emitter.nextToEmit - 1) >= maxWindow;
      const enoughQueued = ready.length >= ctx.batchLimit * (concurrency + 1);
      let dispatched = false;
      if (ctx.stop) {
        while (ready.length > 0) ctx.notAttempted(ready.shift()!);
        // Written records' group changes are answered too (each says it was not sent): their rows are finished.
        if (ctx.membership.waiting > 0) ctx.membership.flush();
      } else {
        while (inFlight() < concurrency && ready.length > 0 && (ready.length >= ctx.batchLimit || sourceDone || windowFull)) {
          dispatched = true;
          const batch = ready.splice(0, ctx.batchLimit);
          dispatch(() => deliverBatch(ctx, batch));
        }
        // Group changes wait to fill a call; the rest go at the end of the input, when the read-ahead window is full,
        // or when nothing else has been in flight while they waited a second.
        const idle = inFlight() === 0 && ready.length === 0 && ctx.membership.waitedMs() > 1000;
        if (ctx.membership.waiting > 0 && (windowFull || sourceDone || idle)) {
          dispatched = true;
          ctx.membership.flush();
        }
      }
      if (!sourceDone && !windowFull && (!enoughQueued || ctx.stop)) {
        // Requests just dispatched go out before the queue is topped up: admitting rows (mapping, checks, the state
        // lookup) runs without a pause, and held them back (median answer-to-next-request 1.0 -> 0.9 ms, 2a bench).
        if (dispatched) await new Promise<void>((resolve) => setImmediate(resolve));
        if (bufferedAt < buffered.length) {
          if (ctx.sending || ctx.planning) admitRow(ctx, buffered[bufferedAt++]!);
          else while (bufferedAt < buffered.length) admitRow(ctx, buffered[bufferedAt++]!); // nothing in flight to hold up
          continue;
        }
        const next = await iterator.next();
        if (next.done) {
          sourceDone = true;
        } else {
          mapper.bind(options.source.columns(), options.source.fixedColumns, next.value); // once, then each chunk's new JSONL keys
          if (!bound) {
            bound = true;
            options.onBound?.(mapper, next.value);
          }
          buffered = next.value;
          bufferedAt = 0;
        }
        continue;
      }
      if (sourceDone && tasks.size === 0 && ready.length === 0 && ctx.locks.blocked === 0 && ctx.membership.waiting === 0 && ctx.retrying === 0) break;
      await ctx.woken;
    }
  } catch (err) {
    // Reading failed mid-file or a bug surfaced: let requests in flight finish so their rows are reported.
    ctx.requestStop('abort', `stopped: ${(err as Error).message}`);
    if (ctx.membership.waiting > 0) ctx.membership.flush();
    while (tasks.size > 0 || ctx.retrying > 0) {
      if (tasks.size > 0) await Promise.allSettled([...tasks]);
      else await new Promise<void>((resolve) => setImmediate(resolve)); // a retry's wait ends at the stop
    }
    ctx.stateTracker.flush(true);
    report.flush();
    throw err;
  } finally {
    options.signal?.removeEventListener('abort', onInterrupt);
    progress.stop();
  }
  ctx.stateTracker.flush(true);
  report.flush();
  if (failure) throw failure;
  return result(ctx, performance.now() - started);
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
    planFields: ctx.planFields,
    planSecondCalls: ctx.planSecondCalls,
    ceilingPerMinute: s.ceilingPerMinute,
    achievedPerMinute,
    abortReason,
    interrupted,
    exitCode: exitCodeOf({ counts, warned: ctx.warned, interrupted, abortReason }),
  };
}
