import type { MembershipOutcome } from './memberships.js';
import { afterTransientFailure, retryDelayMs } from './retry-policy.js';
import type { RunContext } from './run-context.js';
import type { MembershipQueue, Work } from './run-types.js';
import type { Membership } from './types.js';

/** One row's record id waiting for one group change. */
export interface MembershipItem {
  w: Work;
  remoteId: string;
}

/**
 * Group changes of written records (targets whose groups are separate calls, e.g. Salsa's segments/members): one
 * queue per group and change, sent `batchLimit` ids a call when full, and all at once when the run would otherwise
 * wait (nothing else in flight, the read-ahead window full, the end of the input, a stop). Each call goes through
 * the run's concurrency slots (ctx.dispatch) and its pacer, retry policy and circuit breaker, like every other call.
 */
export class MembershipStage implements MembershipQueue {
  private readonly queues = new Map<string, { membership: Membership; items: MembershipItem[] }>();
  /**
   * Groups whose members the remote will not change through its API (a Salsa segment that is not a CRM segment:
   * HTTP 405 or NOT_ALLOWED): said once, and no further call is made for them. Label → reason.
   */
  readonly refused = new Map<string, string>();
  /** Group changes queued and not yet dispatched. */
  waiting = 0;
  private waitingSince = 0;

  constructor(private readonly ctx: RunContext) {}

  /** A written record's group changes (those not done by an earlier run) join their queues. */
  enqueue(w: Work): void {
    const remoteId = w.upserted?.remoteId;
    const todo = (w.memberships ?? []).filter((m) => !w.membershipResults?.some((r) => r.membership === m));
    w.membershipResults ??= [];
    w.membershipsLeft = todo.length;
    if (todo.length === 0) return this.ctx.finishMemberships(w);
    if (!remoteId) {
      for (const m of todo) this.record({ w, remoteId: '' }, m, 'failed', `the remote gave no id for this ${this.ctx.options.target.nouns.one}`);
      return;
    }
    for (const m of todo) {
      const refused = this.refused.get(m.group.id);
      if (refused) {
        this.record({ w, remoteId }, m, 'failed', refused);
        continue;
      }
      const key = `${m.change}\u0000${m.group.kind ?? ''}\u0000${m.group.id}`;
      let q = this.queues.get(key);
      if (!q) this.queues.set(key, (q = { membership: m, items: [] }));
      q.items.push({ w, remoteId });
      if (this.waiting++ === 0) this.waitingSince = performance.now();
      if (q.items.length >= this.ctx.batchLimit) this.send(key);
    }
  }

  /** How long the oldest queued change has waited. */
  waitedMs(): number {
    return this.waiting > 0 ? performance.now() - this.waitingSince : 0;
  }

  /** Sends every queue that holds anything. */
  flush(): void {
    for (const key of [...this.queues.keys()]) this.send(key);
  }

  private send(key: string): void {
    const q = this.queues.get(key);
    if (!q || q.items.length === 0) return;
    this.queues.delete(key);
    this.waiting -= q.items.length;
    if (this.waiting > 0) this.waitingSince = performance.now();
    this.ctx.dispatch(() => deliverMemberships(this.ctx, this, q.membership, q.items));
  }

  /** One group change of one row has its answer; the row finishes with its last. */
  record(item: MembershipItem, membership: Membership, outcome: MembershipOutcome, reason?: string): void {
    const { w } = item;
    // A row's own membership objects are those it was queued with: match by group and change.
    const own = w.memberships!.find((m) => m.change === membership.change && m.group.id === membership.group.id && m.group.kind === membership.group.kind) ?? membership;
    w.membershipResults!.push({ membership: own, outcome, reason });
    if (--w.membershipsLeft! <= 0) this.ctx.finishMemberships(w);
  }
}

/** One group change for a batch of records, until each has an answer; holds one concurrency slot throughout. */
export async function deliverMemberships(ctx: RunContext, stage: MembershipStage, membership: Membership, items: MembershipItem[], attempts = 0): Promise<void> {
  const { options, pacer, policy, breaker } = ctx;
  const fail = (list: MembershipItem[], reason: string) => list.forEach((it) => stage.record(it, membership, 'failed', reason));
  let pending = items;
  let attempt = attempts;
  while (pending.length > 0) {
    if (ctx.stop) return fail(pending, `not sent: ${(ctx.stop as { message: string }).message}`);
    if (pending.length > ctx.batchLimit) {
      for (let i = 0; i < pending.length; i += ctx.batchLimit) await deliverMemberships(ctx, stage, membership, pending.slice(i, i + ctx.batchLimit));
      return;
    }
    const grantedAt = await pacer.acquire(ctx.stopController.signal);
    if (ctx.stop) return fail(pending, `not sent: ${(ctx.stop as { message: string }).message}`);
    attempt++;
    for (const it of pending) it.w.attempts++;
    ctx.calls++;
    ctx.membershipCalls++;
    const outcome = await options.session!.sendMembership!(membership.change, membership.group.id, pending.map((it) => it.remoteId));
    ctx.allowance.afterCall(outcome.kind === 'retry' && !!outcome.rateLimited);
    switch (outcome.kind) {
      case 'results': {
        pacer.onSuccess();
        breaker.record(true);
        const again: MembershipItem[] = [];
        if (outcome.results.some((r) => r.errorCode === 'NOT_ALLOWED')) {
          return refuse(ctx, stage, membership, pending, 'NOT_ALLOWED');
        }
        pending.forEach((it, i) => {
          const r = outcome.results[i];
          if (!r) return stage.record(it, membership, 'failed', 'the remote returned no result for it');
          const adding = membership.change === 'add';
          if (adding && (r.status === 'ADDED' || r.status === 'UPDATED')) stage.record(it, membership, r.status === 'ADDED' ? 'added' : 'already');
          else if (!adding && (r.status === 'DELETED' || r.status === 'NOT_FOUND')) stage.record(it, membership, r.status === 'DELETED' ? 'removed' : 'not-member');
          else if (r.retryable && attempt < policy.maxAttempts) again.push(it);
          else stage.record(it, membership, 'failed', `${r.status}${r.errorMessage ? `: ${r.errorMessage}` : ''}`);
        });
        if (again.length > 0) return ctx.later(retryDelayMs(policy, attempt), () => deliverMemberships(ctx, stage, membership, again, attempt));
        pending = again;
        break;
      }
      case 'retry': {
        const next = afterTransientFailure(policy, attempt, outcome, pacer, grantedAt);
        if (next.giveUp) {
          fail(pending, next.why);
          return ctx.callFailed(outcome.reason);
        }
        if (outcome.httpStatus === 502 || outcome.httpStatus === 503 || outcome.httpStatus === 504) pacer.refund(grantedAt);
        const retryAgain = pending;
        return ctx.later(next.delayMs, () => deliverMemberships(ctx, stage, membership, retryAgain, attempt));
      }
      case 'shrink': {
        for (const it of pending) it.w.attempts--; // refused for its size, not for its rows
        attempt--;
        if (pending.length === 1) return fail(pending, outcome.reason);
        ctx.batchLimit = Math.max(1, Math.min(ctx.batchLimit, outcome.maxBatchSize, pending.length - 1));
        break;
      }
      case 'reject': {
        // The remote refused the call as a whole: about the group itself (a segment deleted meanwhile), not one
        // record (an unknown supporter has its own NOT_FOUND): splitting would only repeat the refusal.
        if (outcome.httpStatus === 405) return refuse(ctx, stage, membership, pending, 'HTTP 405');
        fail(pending, outcome.reason);
        return ctx.callFailed(outcome.reason);
      }
      case 'abort': {
        ctx.requestStop('abort', outcome.reason);
        return fail(pending, `run aborted: ${outcome.reason}`);
      }
    }
  }
}

/**
 * A group whose members the API cannot change: these rows' changes fail with the reason, every later row's too
 * without a call, and the summary says it once. Not a failure of the remote, so not one the circuit breaker counts.
 */
function refuse(ctx: RunContext, stage: MembershipStage, membership: Membership, pending: MembershipItem[], answer: string): void {
  const reason = `not a CRM ${ctx.options.target.groups?.noun.one ?? 'group'}: the API cannot change the members of "${membership.group.label}" (${answer})`;
  stage.refused.set(membership.group.id, reason);
  for (const it of pending) stage.record(it, membership, 'failed', reason);
}
