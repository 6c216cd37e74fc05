import { checkCurrent } from './check-current.js';
import { afterTransientFailure, retryDelayMs } from './retry-policy.js';
import type { RunContext } from './run-context.js';
import type { Outcome, Work } from './run-types.js';
import type { Status } from './types.js';

/**
 * Delivery of one batch, holding one concurrency slot throughout: a pacer slot per attempt, then what the answer
 * means item by item (a created record's second call, a stale remembered id sent again without it, a retryable
 * item retried), the whole-request outcomes (retry with backoff or Retry-After, shrink to the remote's batch size,
 * split a refused request until the poisoned row stands alone, abort), and the circuit breaker.
 */
/** Sends one batch until every row in it has an answer; holds one concurrency slot throughout. */
export async function deliverBatch(ctx: RunContext, items: Work[]): Promise<void> {
  const { options, pacer, policy, breaker } = ctx;
  const { operation, target } = options;
  const deliver = (batch: Work[]) => deliverBatch(ctx, batch);
  const finishWork = (w: Work, r: Outcome) => ctx.finishWork(w, r);
  const notAttempted = (w: Work) => ctx.notAttempted(w);
  let pending = items;
  while (pending.length > 0) {
    if (ctx.stop) return pending.forEach(notAttempted);
    if (pending.length > ctx.batchLimit) {
      // The remote's batch limit dropped below this batch: send it in pieces, one after another.
      const pieces: Work[][] = [];
      for (let i = 0; i < pending.length; i += ctx.batchLimit) pieces.push(pending.slice(i, i + ctx.batchLimit));
      for (const piece of pieces) await deliver(piece);
      return;
    }
    if (pending.some((w) => w.identity && !w.current)) {
      // Read first (a plan, the undo log, a reviewed item's check): a plan's rows are finished by the reading.
      pending = await checkCurrent(ctx, pending);
      if (ctx.planning) return;
      continue;
    }
    const grantedAt = await pacer.acquire(ctx.stopController.signal);
    if (ctx.stop) return pending.forEach(notAttempted);
    for (const w of pending) w.attempts++;
    ctx.calls++;
    const outcome = await options.session!.send(operation, pending.map((w) => w.payload));
    ctx.allowance.afterCall(outcome.kind === 'retry' && !!outcome.rateLimited);
    const attempt = pending[0]!.attempts;
    switch (outcome.kind) {
      case 'results': {
        pacer.onSuccess();
        breaker.record(true);
        const again: Work[] = [];
        let backoff = false;
        outcome.results.forEach((r, i) => {
          const w = pending[i]!;
          // Recorded at once, before any second call: an undo deletes what the run created.
          if (r.status === 'ADDED' && r.remoteId && !w.created) options.undoLog?.created(w.row, r.remoteId);
          if (r.status === 'ADDED' && w.afterCreate !== undefined && r.remoteId && target.withRemoteId) {
            // A new record: nothing was stored to erase, so what was held back goes now, by the new id.
            w.created = ctx.itemToResult(r, outcome.httpStatus);
            ctx.followUps++;
            w.payload = target.withRemoteId(w.afterCreate, r.remoteId);
            w.afterCreate = undefined;
            w.fallback = undefined;
            w.heldBackNote = undefined;
            again.push(w);
          } else if (r.status === 'NOT_FOUND' && w.fallback !== undefined) {
            // The id remembered from an earlier run is gone (deleted elsewhere): match by the row's own key.
            w.payload = w.fallback;
            w.fallback = undefined;
            again.push(w);
          } else if (r.retryable && w.attempts < policy.maxAttempts) {
            again.push(w);
            backoff = true;
          }
          else if (operation === 'delete' && r.status === 'NOT_FOUND' && w.answerLost) {
            // The lookup found it, an earlier DELETE went unanswered, and now it is gone: that DELETE did it.
            finishWork(w, { status: 'DELETED', httpStatus: outcome.httpStatus, errorMessage: 'deleted by an earlier attempt whose answer was lost (the retry found it already gone)' });
          } else finishWork(w, ctx.itemToResult(r, outcome.httpStatus));
        });
        // A reply that answers fewer items than were sent leaves the rest without an answer.
        for (const w of pending.slice(outcome.results.length)) {
          finishWork(w, { status: 'FAILED', httpStatus: outcome.httpStatus, errorMessage: 'the remote returned no result for this row' });
        }
        if (backoff && again.length > 0) return ctx.later(retryDelayMs(policy, attempt), () => deliver(again));
        pending = again;
        break;
      }
      case 'retry': {
        if (!outcome.rateLimited) for (const w of pending) w.answerLost = true;
        const next = afterTransientFailure(policy, attempt, outcome, pacer, grantedAt);
        if (next.giveUp) {
          for (const w of pending) finishWork(w, { status: 'FAILED', httpStatus: outcome.httpStatus, errorMessage: next.why });
          return ctx.callFailed(outcome.reason);
        }
        // A gateway's 502/503/504 never reached the remote's own count of calls: its slot is given back.
        if (outcome.httpStatus === 502 || outcome.httpStatus === 503 || outcome.httpStatus === 504) pacer.refund(grantedAt);
        const retryAgain = pending;
        return ctx.later(next.delayMs, () => deliver(retryAgain));
      }
      case 'shrink': {
        if (pending.length === 1) {
          // One row is already more than a request may carry (a delete row naming many remote records).
          breaker.record(false, outcome.reason);
          finishWork(pending[0]!, { status: 'VALIDATION_ERROR', httpStatus: outcome.httpStatus, errorMessage: `this row alone is more than one request may carry (${outcome.reason})` });
          return;
        }
        ctx.batchLimit = Math.max(1, Math.min(ctx.batchLimit, outcome.maxBatchSize, pending.length - 1));
        for (const w of pending) w.attempts--; // refused for its size, not for its rows
        break;
      }
      case 'reject': {
        if (pending.length > 1) {
          // Split so that one poisoned row costs that row alone (issue: isolating bad rows).
          const half = Math.ceil(pending.length / 2);
          await deliver(pending.slice(0, half));
          await deliver(pending.slice(half));
          return;
        }
        const status: Status = outcome.httpStatus !== undefined && outcome.httpStatus >= 500 ? 'SYSTEM_ERROR' : 'VALIDATION_ERROR';
        finishWork(pending[0]!, { status, httpStatus: outcome.httpStatus, errorCode: outcome.errorCode, errorMessage: outcome.reason });
        return ctx.callFailed(outcome.reason);
      }
      case 'abort': {
        ctx.requestStop('abort', outcome.reason);
        for (const w of pending) {
          finishWork(w, { status: 'NOT_ATTEMPTED', httpStatus: outcome.httpStatus, errorCode: outcome.errorCode, errorMessage: `run aborted: ${outcome.reason}` });
        }
        return;
      }
    }
  }
}
