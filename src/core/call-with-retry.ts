import { CircuitBreaker } from './circuit-breaker.js';
import { InterruptedError, RunAbortedError } from './errors.js';
import { realClock, type PacerClock, type RequestPacer } from './pace-requests.js';
import { afterTransientFailure, type RetryPolicy } from './retry-policy.js';
import type { AttemptOutcome } from './types.js';

/** One attempt of a call with a single answer (a lookup, a field list): its value, or what the core should do. */
export type CallOutcome<T> = { kind: 'ok'; value: T } | Exclude<AttemptOutcome, { kind: 'results' }>;

export interface RetryContext {
  pacer: RequestPacer;
  retry: RetryPolicy;
  clock?: PacerClock;
  signal?: AbortSignal;
  /** Shared with the run's other calls when there is one, so that failures everywhere count together. */
  breaker?: CircuitBreaker;
}

/**
 * The retry policy around one call with a single answer: a pacer slot per attempt (the minute budget counts it),
 * backoff with jitter or the remote's Retry-After (refused beyond the policy's cap), the circuit breaker, and the
 * outcomes' classification. An interrupt is InterruptedError (exit 130); credentials refused, RunAbortedError E_AUTH;
 * a call that never succeeds, RunAbortedError E_LOOKUP naming `what` and the last reason. The send loop's batch
 * delivery applies the same policy item by item (run-sync.ts).
 * An attempt that makes more than one request (paging through an answer) awaits `nextCall` before each further one:
 * a pacer slot, counted in `calls` (every request made, pages and failed attempts included).
 */
export async function callWithRetry<T>(ctx: RetryContext, what: string, call: (nextCall: () => Promise<void>) => Promise<CallOutcome<T>>): Promise<{ value: T; attempts: number; calls: number }> {
  const clock = ctx.clock ?? realClock;
  const breaker = ctx.breaker ?? new CircuitBreaker();
  const interrupted = () => new InterruptedError(`interrupted during ${what}`);
  const wait = async (f: () => Promise<void>) => {
    try {
      await f();
    } catch (err) {
      if (ctx.signal?.aborted) throw interrupted();
      throw err;
    }
  };
  let calls = 0;
  const nextCall = async () => {
    await wait(async () => void (await ctx.pacer.acquire(ctx.signal)));
    calls++;
  };
  for (let attempt = 1; ; attempt++) {
    if (ctx.signal?.aborted) throw interrupted();
    let grantedAt = 0;
    await wait(async () => void (grantedAt = await ctx.pacer.acquire(ctx.signal)));
    calls++;
    if (ctx.signal?.aborted) throw interrupted();
    const out = await call(nextCall);
    if (out.kind === 'ok') {
      ctx.pacer.onSuccess();
      breaker.record(true);
      return { value: out.value, attempts: attempt, calls };
    }
    if (out.kind === 'abort') throw new RunAbortedError(out.reason, 'E_AUTH');
    breaker.record(false, out.reason);
    if (out.kind !== 'retry') throw new RunAbortedError(`${what} was refused: ${out.reason}`, 'E_LOOKUP');
    const next = afterTransientFailure(ctx.retry, attempt, out, ctx.pacer, grantedAt);
    if (next.giveUp || breaker.tripped()) throw new RunAbortedError(`${what} failed: ${next.giveUp ? next.why : out.reason}`, 'E_LOOKUP');
    await wait(() => clock.sleep(next.delayMs, ctx.signal));
  }
}
