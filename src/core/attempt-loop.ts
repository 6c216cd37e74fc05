import { afterTransientFailure, retryDelayMs } from './retry-policy.js';
import type { RunContext } from './run-context.js';
import type { AttemptOutcome } from './types.js';

type Answered = Extract<AttemptOutcome, { kind: 'results' }>;
type Refused = Extract<AttemptOutcome, { kind: 'reject' }>;
type TooBig = Extract<AttemptOutcome, { kind: 'shrink' }>;
type Stopped = Extract<AttemptOutcome, { kind: 'abort' }>;
type Transient = Extract<AttemptOutcome, { kind: 'retry' }>;

/**
 * What differs between the calls that carry a group of items (rows' records, one group change for many records):
 * how a request is made and what each kind of answer means for the items. How often, how long and in what pieces
 * they are tried is the attempt loop's alone.
 */
export interface GroupCall<I> {
  /** One request carrying these items. */
  send(items: I[]): Promise<AttemptOutcome>;
  /** The items were sent once more (`by` 1), or the request did not count against them (-1: refused for its size). */
  counted(items: I[], by: 1 | -1): void;
  /** Read what the items need before they are sent, if they need it: the items still to send (none: all finished). */
  readFirst?(items: I[]): Promise<I[]> | undefined;
  /** The run stops: the items are not sent. */
  notSent(items: I[]): void;
  /**
   * The remote answered item by item: finish the items whose answer is final; the rest go again (`backoff`: after
   * the retry policy's delay, as a retry; otherwise at once, as a further call such as a created record's second).
   */
  answered(items: I[], outcome: Answered, attempt: number): { again: I[]; backoff: boolean };
  /** The request got no usable answer (it may have been acted on all the same); it is tried again or given up. */
  unanswered?(items: I[], outcome: Transient): void;
  /** Retrying is over: the items fail with `why`. */
  gaveUp(items: I[], why: string, outcome: Transient): void;
  /**
   * The remote refused the request as a whole: `split` (more than one item) to isolate the item it is about, else
   * the items are finished here.
   */
  refused(items: I[], outcome: Refused): 'split' | 'finished';
  /** One item alone is more than a request may carry. */
  tooBig(item: I, outcome: TooBig): void;
  /** The remote says no call can succeed (credentials refused): the run stops and the items end with the reason. */
  aborted(items: I[], outcome: Stopped): void;
}

/**
 * The one attempt loop of a run's group calls, holding one concurrency slot throughout: a pacer slot per attempt,
 * pieces no larger than the remote's batch limit, backoff or the remote's Retry-After after a transient failure (a
 * gateway's 502/503/504 gives its pacer slot back: it never reached the remote's count), a smaller batch when the
 * remote asks, a refused request split until the item it is about stands alone, the circuit breaker, and the stop.
 * Single-answer calls (lookups, field lists) take the same policy through callWithRetry.
 */
export async function sendInGroups<I>(ctx: RunContext, call: GroupCall<I>, items: I[], attempt = 0): Promise<void> {
  const { pacer, policy, breaker } = ctx;
  const resend = (list: I[], from: number) => sendInGroups(ctx, call, list, from);
  let pending = items;
  while (pending.length > 0) {
    if (ctx.stop) return call.notSent(pending);
    if (pending.length > ctx.batchLimit) {
      // The remote's batch limit dropped below this group: send it in pieces, one after another.
      for (let i = 0; i < pending.length; i += ctx.batchLimit) await resend(pending.slice(i, i + ctx.batchLimit), attempt);
      return;
    }
    const reading = call.readFirst?.(pending);
    if (reading) {
      pending = await reading;
      continue;
    }
    const grantedAt = await pacer.acquire(ctx.stopController.signal);
    if (ctx.stop) return call.notSent(pending);
    attempt++;
    call.counted(pending, 1);
    ctx.calls++;
    const outcome = await call.send(pending);
    ctx.allowance.afterCall(outcome.kind === 'retry' && !!outcome.rateLimited);
    switch (outcome.kind) {
      case 'results': {
        pacer.onSuccess();
        breaker.record(true);
        const next = call.answered(pending, outcome, attempt);
        if (next.backoff && next.again.length > 0) {
          const from = attempt;
          return ctx.later(retryDelayMs(policy, from), () => resend(next.again, from));
        }
        pending = next.again;
        break;
      }
      case 'retry': {
        call.unanswered?.(pending, outcome);
        const next = afterTransientFailure(policy, attempt, outcome, pacer, grantedAt);
        if (next.giveUp) {
          call.gaveUp(pending, next.why, outcome);
          return ctx.callFailed(outcome.reason);
        }
        const list = pending;
        const from = attempt;
        return ctx.later(next.delayMs, () => resend(list, from));
      }
      case 'shrink': {
        call.counted(pending, -1);
        attempt--;
        if (pending.length === 1) return call.tooBig(pending[0]!, outcome);
        ctx.batchLimit = Math.max(1, Math.min(ctx.batchLimit, outcome.maxBatchSize, pending.length - 1));
        break;
      }
      case 'reject': {
        if (call.refused(pending, outcome) === 'split') {
          // One poisoned item costs that item alone.
          const half = Math.ceil(pending.length / 2);
          await resend(pending.slice(0, half), attempt);
          await resend(pending.slice(half), attempt);
        }
        return;
      }
      case 'abort': {
        ctx.requestStop('abort', outcome.reason);
        return call.aborted(pending, outcome);
      }
    }
  }
}
