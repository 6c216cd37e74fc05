import type { MembershipOutcome } from './memberships.js';
import { sendInGroups, type GroupCall } from './attempt-loop.js';
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
export function deliverMemberships(ctx: RunContext, stage: MembershipStage, membership: Membership, items: MembershipItem[]): Promise<void> {
  return sendInGroups(ctx, membershipCall(ctx, stage, membership), items);
}

/** What one group change for many records means to the attempt loop: each record's answer is that change's outcome. */
function membershipCall(ctx: RunContext, stage: MembershipStage, membership: Membership): GroupCall<MembershipItem> {
  const { options, policy } = ctx;
  const fail = (list: MembershipItem[], reason: string) => list.forEach((it) => stage.record(it, membership, 'failed', reason));
  return {
    send(items) {
      ctx.membershipCalls++;
      return options.session!.sendMembership!(membership.change, membership.group.id, items.map((it) => it.remoteId));
    },
    // Group changes are calls of their own: a row's attempts count only its own write.
    counted: () => undefined,
    notSent: (items) => fail(items, `not sent: ${(ctx.stop as { message: string }).message}`),
    answered(items, outcome, attempt) {
      const again: MembershipItem[] = [];
      if (outcome.results.some((r) => r.errorCode === 'NOT_ALLOWED')) {
        refuse(ctx, stage, membership, items, 'NOT_ALLOWED');
        return { again, backoff: false };
      }
      const adding = membership.change === 'add';
      items.forEach((it, i) => {
        const r = outcome.results[i];
        if (!r) return stage.record(it, membership, 'failed', 'the remote returned no result for it');
        if (adding && (r.status === 'ADDED' || r.status === 'UPDATED')) stage.record(it, membership, r.status === 'ADDED' ? 'added' : 'already');
        else if (!adding && (r.status === 'DELETED' || r.status === 'NOT_FOUND')) stage.record(it, membership, r.status === 'DELETED' ? 'removed' : 'not-member');
        else if (r.retryable && attempt < policy.maxAttempts) again.push(it);
        else stage.record(it, membership, 'failed', `${r.status}${r.errorMessage ? `: ${r.errorMessage}` : ''}`);
      });
      return { again, backoff: true };
    },
    gaveUp: (items, why) => fail(items, why),
    refused(items, outcome) {
      // About the group itself (a segment deleted meanwhile), not one record (an unknown supporter has its own
      // NOT_FOUND): splitting would only repeat the refusal.
      if (outcome.httpStatus === 405) refuse(ctx, stage, membership, items, 'HTTP 405');
      else {
        fail(items, outcome.reason);
        ctx.callFailed(outcome.reason);
      }
      return 'finished';
    },
    tooBig: (it, outcome) => fail([it], outcome.reason),
    aborted: (items, outcome) => fail(items, `run aborted: ${outcome.reason}`),
  };
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
