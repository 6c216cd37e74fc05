import { sendInGroups, type GroupCall } from './attempt-loop.js';
import { checkCurrent } from './check-current.js';
import type { RunContext } from './run-context.js';
import type { Work } from './run-types.js';
import type { Status } from './types.js';

/** Sends one batch of rows until every row in it has an answer; holds one concurrency slot throughout. */
export function deliverBatch(ctx: RunContext, items: Work[]): Promise<void> {
  return sendInGroups(ctx, rowsCall(ctx), items);
}

/**
 * What a batch of rows' records means to the attempt loop: the current records read first when a row needs them (a
 * plan, the undo log, a reviewed item's check; a plan's rows are finished by the reading), and the answers item by
 * item — a created record's second call, a stale remembered id sent again without it, a retryable item retried.
 */
function rowsCall(ctx: RunContext): GroupCall<Work> {
  const { options, policy, breaker } = ctx;
  const { operation, target } = options;
  const finish = (w: Work, r: Parameters<RunContext['finishWork']>[1]) => ctx.finishWork(w, r);
  return {
    send: (items) => options.session!.send(operation, items.map((w) => w.payload)),
    // A row's attempts are the requests that carried its own write: a created record's second call is not one.
    counted: (items, by) => items.forEach((w) => (w.created ? undefined : (w.attempts += by))),
    readFirst: (items) => (items.some((w) => w.identity && !w.current) ? checkCurrent(ctx, items).then((rest) => (ctx.planning ? [] : rest)) : undefined),
    notSent: (items) => items.forEach((w) => ctx.notAttempted(w)),
    answered(items, outcome, attempt) {
      const again: Work[] = [];
      let backoff = false;
      outcome.results.forEach((r, i) => {
        const w = items[i]!;
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
        } else if (r.retryable && attempt < policy.maxAttempts) {
          again.push(w);
          backoff = true;
        } else if (operation === 'delete' && r.status === 'NOT_FOUND' && w.answerLost) {
          // The lookup found it, an earlier DELETE went unanswered, and now it is gone: that DELETE did it.
          finish(w, { status: 'DELETED', httpStatus: outcome.httpStatus, errorMessage: 'deleted by an earlier attempt whose answer was lost (the retry found it already gone)' });
        } else finish(w, ctx.itemToResult(r, outcome.httpStatus));
      });
      // A reply that answers fewer items than were sent leaves the rest without an answer.
      for (const w of items.slice(outcome.results.length)) {
        finish(w, { status: 'FAILED', httpStatus: outcome.httpStatus, errorMessage: 'the remote returned no result for this row' });
      }
      return { again, backoff };
    },
    unanswered: (items, outcome) => {
      if (!outcome.rateLimited) for (const w of items) w.answerLost = true;
    },
    gaveUp: (items, why, outcome) => items.forEach((w) => finish(w, { status: 'FAILED', httpStatus: outcome.httpStatus, errorMessage: why })),
    refused(items, outcome) {
      // Split so that one poisoned row costs that row alone.
      if (items.length > 1) return 'split';
      const status: Status = outcome.httpStatus !== undefined && outcome.httpStatus >= 500 ? 'SYSTEM_ERROR' : 'VALIDATION_ERROR';
      finish(items[0]!, { status, httpStatus: outcome.httpStatus, errorCode: outcome.errorCode, errorMessage: outcome.reason });
      ctx.callFailed(outcome.reason);
      return 'finished';
    },
    tooBig(w, outcome) {
      // One row is already more than a request may carry (a delete row naming many remote records).
      breaker.record(false, outcome.reason);
      finish(w, { status: 'VALIDATION_ERROR', httpStatus: outcome.httpStatus, errorMessage: `this row alone is more than one request may carry (${outcome.reason})` });
    },
    aborted: (items, outcome) => items.forEach((w) => finish(w, { status: 'NOT_ATTEMPTED', httpStatus: outcome.httpStatus, errorCode: outcome.errorCode, errorMessage: `run aborted: ${outcome.reason}` })),
  };
}
