import { setMaxListeners } from 'node:events';
import { CircuitBreaker } from './circuit-breaker.js';
import { describeMemberships, MEMBERSHIP_CODE, type MembershipOutcome, type MembershipResult } from './memberships.js';
import { InOrderEmitter } from './in-order-emitter.js';
import { KeyLocks } from './key-locks.js';
import { RequestPacer, realClock, type PacerClock } from './pace-requests.js';
import { silentProgress } from './progress.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-policy.js';
import { SeenKeys } from './seen-keys.js';
import { newerColumns, PolicyFields } from './update-policy.js';
import type { DroppedValues, MembershipQueue, Outcome, RunOptions, Work } from './run-types.js';
import { StateTracker } from './state-tracker.js';
import type { FoundRecord, ItemResult, PrepareOptions, RowRepeat, RowResult, SourceRecord, Status } from './types.js';
import { SUCCESS_STATUSES } from './statuses.js';

/**
 * What the stages of one run share: its options, its stop, its counters, and how a row is finished (the report line
 * in order, the state, the key locks). runSync creates one; admit-row.ts and deliver-batch.ts work through it.
 */
export class RunContext {
  readonly sending: boolean;
  readonly policy: RetryPolicy;
  readonly clock: PacerClock;
  readonly pacer: RequestPacer;
  readonly breaker = new CircuitBreaker();
  readonly redact: (text: string) => string;
  /** A run that neither sends nor hashes payloads (validate, a dry run without the state) only needs the checks. */
  readonly prepareOptions: PrepareOptions;
  readonly emitter: InOrderEmitter;
  readonly stateTracker: StateTracker;
  readonly locks = new KeyLocks();
  /** Rows ready to send, in order. */
  readonly ready: Work[] = [];
  /** Items per request; lowered when the remote says a batch was too large. */
  batchLimit: number;
  rowsRead = 0;
  calls = 0;
  unchanged = 0;
  followUps = 0;
  /** Rows written with a part not applied (ItemResult.warning). */
  warned = 0;
  membershipCalls = 0;
  lookupCalls = 0;
  readonly planFields: Record<string, number> = {};
  /** Fields records kept by the update policy, rows per field. */
  readonly kept: Record<string, number> = {};
  /** Rows whose if-newer fields were kept because the row's timestamp could not be read. */
  unreadTimes = 0;
  /** Every identity the run has met (a row naming one again says so). */
  readonly seen = new SeenKeys();
  readonly repeats = { rows: 0, caseOnly: 0 };
  keptSpellings = 0;
  /** The address and consent fields as an update policy sees them (a run with a policy only). */
  readonly policyFields?: PolicyFields;
  /** The columns an update policy reads row timestamps from (if-newer): worked out once, read for every row. */
  readonly newerColumns: readonly string[] = [];
  planSecondCalls = 0;
  /**
   * A plan's records as the rows planned so far would leave them, by identity and by remote id: a key that comes
   * again is planned against what the earlier row would have written (check-current.ts).
   */
  readonly planned = new Map<string, FoundRecord>();
  /** `--plan`: rows are read and compared, never sent. */
  readonly planning: boolean;
  readonly membershipCounts: Partial<Record<MembershipOutcome, number>> = {};
  /** Group changes of written records, sent in calls of their own. */
  readonly membership: MembershipQueue;
  /** Reads what is left of a shared token again during the run. */
  readonly allowance: { afterCall(throttled: boolean): void };
  /** Deliveries waiting out a retry delay, holding no concurrency slot meanwhile. */
  retrying = 0;
  /** Runs a delivery in one of the run's concurrency slots. */
  readonly dispatch: (delivery: () => Promise<void>) => void;
  readonly rowNotes: Record<string, number> = {};
  readonly droppedValues: Record<string, number> = {};
  stop: { kind: 'abort' | 'interrupt'; message: string } | undefined;
  /** Aborted at the stop: sleeps and pacer waits end at once. */
  readonly stopController = new AbortController();
  private wake!: () => void;
  /** Resolves at the next change the loop must look at (a row finished, a stop). */
  woken: Promise<void>;

  /**
   * Built whole: what runSync owns (its concurrency slots) and the parts that need the context itself (the group
   * changes' queue, the shared token's watch) come in as `wiring`, so no member is a stub replaced later.
   */
  constructor(readonly options: RunOptions, wiring: RunWiring) {
    // Every waiting call (a pacer slot, a retry's wait) listens to it: dozens at once are normal, not a leak.
    setMaxListeners(0, this.stopController.signal);
    this.sending = options.mode === 'send';
    this.planning = options.mode === 'plan';
    this.policy = options.retry ?? DEFAULT_RETRY_POLICY;
    this.clock = options.clock ?? realClock;
    this.pacer = options.pacer ?? new RequestPacer(undefined, this.clock);
    this.redact = options.redact ?? ((s: string) => s);
    // Fixed for the run: what the header tells about a row (an address part with no place) travels on the row itself.
    this.prepareOptions = { ...options.prepare, checkOnly: !this.sending && !this.planning && !(options.state && options.operation === 'upsert') };
    this.emitter = new InOrderEmitter(options.report, options.progress ?? silentProgress, options.onFailure, options.firstRow ?? 1);
    this.stateTracker = new StateTracker(options.state, this.sending, options.operation);
    this.batchLimit = Math.max(1, options.batchSize);
    if (options.update) {
      this.policyFields = new PolicyFields(options.target.fields, options.target.keyFields);
      this.newerColumns = newerColumns(options.update);
    }
    this.woken = new Promise<void>((r) => (this.wake = r));
    this.dispatch = wiring.dispatch;
    this.membership = wiring.membership(this);
    this.allowance = wiring.allowance(this);
  }

  /** A row whose keys are free: to the send queue, or, its record already written, straight to its group changes. */
  toReady(w: Work): void {
    if (w.upserted) this.membership.enqueue(w);
    else this.ready.push(w);
  }

  /**
   * Runs a delivery again after `ms`, without holding a concurrency slot while it waits (a batch waiting a second for
   * its retry would otherwise keep others from going out). A stop ends the wait at once.
   */
  later(ms: number, delivery: () => Promise<void>): void {
    this.retrying++;
    void this.clock.sleep(ms, this.stopController.signal).then(() => {
      this.retrying--;
      this.dispatch(delivery);
    });
  }

  wakeUp(): void {
    const w = this.wake;
    this.woken = new Promise<void>((r) => (this.wake = r));
    w();
  }

  requestStop(kind: 'abort' | 'interrupt', message: string): void {
    if (this.stop) return;
    this.stop = { kind, message };
    this.stopController.abort();
    this.wakeUp();
  }

  /** A row's report line (journaled when it was sent), in input order. */
  finishRow(base: { row: number; line: number; key: string; input?: SourceRecord; note?: string; dropped?: DroppedValues; repeat?: RowRepeat; kept?: string; membershipResults?: readonly MembershipResult[] }, r: Partial<RowResult> & { status: Status }, attempts = 0): void {
    const { options } = this;
    this.emitter.keepInput(base.input, r.status);
    const note = options.annotations?.get(base.row);
    const ok = r.status === 'DRY_RUN' || SUCCESS_STATUSES.has(r.status);
    // A succeeding row's group changes, said on its line and counted for the summary.
    let membership: string | undefined;
    if (ok && base.membershipResults?.length) {
      membership = describeMemberships(options.target.groups?.noun.many ?? 'groups', base.membershipResults);
      for (const x of base.membershipResults) if (!x.earlier) this.membershipCounts[x.outcome] = (this.membershipCounts[x.outcome] ?? 0) + 1;
    }
    const useNote = note && ok;
    const result: RowResult = {
      row: base.row,
      line: base.line,
      operation: options.operation,
      key: base.key,
      status: r.status,
      remoteId: r.remoteId ?? (useNote ? note.remoteId : undefined),
      attempts,
      httpStatus: r.httpStatus,
      errorCode: r.errorCode,
      // What the row went without is said first on its line, whatever else it says (a plan's changes too).
      errorMessage: r.errorMessage ? this.redact(joinNotes(ok ? base.dropped?.text : undefined, base.repeat?.text, r.errorMessage, membership)!) : useNote ? note.message : ok ? joinNotes(base.dropped?.text, base.note, base.repeat?.text, base.kept, membership) : undefined,
    };
    if (ok && base.dropped) for (const f of base.dropped.fields) this.droppedValues[f] = (this.droppedValues[f] ?? 0) + 1;
    if (r.details) result.details = r.details;
    if (base.note && ok && !r.errorMessage) this.rowNotes[base.note] = (this.rowNotes[base.note] ?? 0) + 1;
    if (this.sending && attempts > 0) options.report.journal(result);
    this.emitter.emit(result);
  }

  /** A sent row has its final answer: remembered, reported, its keys released. */
  finishWork(w: Work, r: Outcome): void {
    if (w.done) return;
    if (w.upserted) {
      // Its record is written: what is still open of its group changes ends with this answer (a stop).
      for (const m of w.memberships ?? []) if (!w.membershipResults!.some((x) => x.membership === m)) w.membershipResults!.push({ membership: m, outcome: 'failed', reason: r.errorMessage ?? r.status });
      return this.finishMemberships(w);
    }
    if (w.heldBackNote) w.note = [w.note, w.heldBackNote].filter(Boolean).join('; ');
    if (w.created) {
      // The second call of a created row: the row reports its creation; a failed second call says what was not set.
      r = SUCCESS_STATUSES.has(r.status) || r.status === 'NOT_ATTEMPTED'
        ? { ...w.created, ...(r.status === 'NOT_ATTEMPTED' ? { errorMessage: `created, but what was held back (its email status or partial address) was not sent: ${r.errorMessage ?? 'interrupted'}` } : {}) }
        : { ...r, remoteId: w.created.remoteId, errorMessage: `the ${this.options.target.nouns.one} was created (${w.created.remoteId}), but the second call (its email status or partial address) failed: ${r.errorMessage ?? r.status}` };
    }
    this.stateTracker.remember(w, r.status, r.remoteId, r.incomplete);
    if (this.sending && w.memberships?.length && SUCCESS_STATUSES.has(r.status)) {
      // Written: now its group changes, by the record's id. Until they are done the row keeps its keys, and the
      // journal says the record is written, so that a killed run's --resume does not send it again.
      w.upserted = r;
      w.membershipResults = [];
      this.options.report.journal({ row: w.row, line: w.line, operation: this.options.operation, key: w.key, status: 'FAILED', remoteId: r.remoteId, attempts: w.attempts, errorCode: MEMBERSHIP_CODE, errorMessage: `${r.status}; its ${this.groupNoun()} changes are not sent yet` });
      this.membership.enqueue(w);
      return;
    }
    w.done = true;
    if (w.partial && SUCCESS_STATUSES.has(r.status) && this.sending) this.warned++;
    this.finishRow(w, r, w.attempts);
    for (const next of this.locks.release(w)) this.toReady(next);
    this.wakeUp();
  }

  private groupNoun(): string {
    return this.options.target.groups?.noun.one ?? 'group';
  }

  /**
   * A written record's group changes are all answered: the row succeeds with what its record's call said, or — when
   * any change failed — it is FAILED with error_code MEMBERSHIP and its remote_id, which `--resume` completes by
   * sending only the changes not done (docs/CONTRACT.md).
   */
  finishMemberships(w: Work): void {
    if (w.done) return;
    w.done = true;
    const up = w.upserted!;
    // Said in the row's own order of changes, whichever answered first (or was done by an earlier run).
    const order = w.memberships ?? [];
    const results = [...(w.membershipResults ?? [])].sort((a, b) => order.indexOf(a.membership) - order.indexOf(b.membership));
    w.membershipResults = results;
    const nouns = this.options.target.groups?.noun ?? { one: 'group', many: 'groups' };
    const failed = results.filter((x) => x.outcome === 'failed').length;
    if (failed === 0) this.finishRow(w, up, w.attempts);
    else {
      for (const x of results) if (!x.earlier) this.membershipCounts[x.outcome] = (this.membershipCounts[x.outcome] ?? 0) + 1;
      this.finishRow({ ...w, membershipResults: undefined }, {
        status: 'FAILED',
        remoteId: up.remoteId,
        httpStatus: up.httpStatus,
        errorCode: MEMBERSHIP_CODE,
        errorMessage: `${up.status}, but ${failed} of its ${results.length} ${nouns.one} change${results.length === 1 ? '' : 's'} failed (--resume sends ${failed === 1 ? 'it' : 'them'} again, not the ${this.options.target.nouns.one}); ${joinNotes(up.errorMessage, describeMemberships(nouns.many, results))}`,
      }, w.attempts);
    }
    for (const next of this.locks.release(w)) this.toReady(next);
    this.wakeUp();
  }

  /** A call failed for good: the circuit breaker counts it, and stops the run when such failures keep coming. */
  callFailed(reason: string): void {
    this.breaker.record(false, reason);
    const trip = this.breaker.tripped();
    if (trip) this.requestStop('abort', trip);
  }

  notAttempted(w: Work): void {
    this.finishWork(w, { status: 'NOT_ATTEMPTED', errorMessage: this.stop?.message ?? 'not sent' });
  }

  itemToResult(r: ItemResult, httpStatus: number): Outcome {
    // A part not applied (a warning) is said on the row's line: the row is not a clean success.
    const errorMessage = r.warning ? [r.warning, r.errorMessage].filter(Boolean).join('; ') : r.errorMessage;
    if (r.warning) this.warned++;
    return { status: r.status, remoteId: r.remoteId, httpStatus, errorCode: r.errorCode, errorMessage, ...(r.warning ? { incomplete: true } : {}) };
  }
}

function joinNotes(...parts: Array<string | undefined>): string | undefined {
  const kept = parts.filter(Boolean);
  return kept.length > 0 ? kept.join('; ') : undefined;
}

/** What runSync hands a RunContext as it is built (see its constructor). */
export interface RunWiring {
  dispatch: (delivery: () => Promise<void>) => void;
  membership: (ctx: RunContext) => MembershipQueue;
  allowance: (ctx: RunContext) => { afterCall(throttled: boolean): void };
}
