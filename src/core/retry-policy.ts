/**
 * The one place that says how often and how long to retry (docs/ARCHITECTURE.md).
 * Which outcomes are transient is the target's call (it classifies each attempt); how to wait is this module's.
 */
export interface RetryPolicy {
  /** Attempts per request including the first. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not honoured as is: the row fails and `--resume` picks it up later. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 6,
  // A first retry 0.25-0.5 s after a gateway error or a reset, doubling to 4-8 s by the sixth attempt: quick enough
  // that scattered errors cost little (bench case 7), slow enough for an outage, which the circuit breaker ends.
  baseDelayMs: 500,
  maxDelayMs: 60_000,
  maxRetryAfterMs: 5 * 60_000,
};

/**
 * Delay before attempt `attempt + 1` (attempt is 1-based, the one that just failed): exponential backoff with
 * "equal jitter" (half fixed, half random) so that parallel workers spread out, or the server's Retry-After.
 */
export function retryDelayMs(policy: RetryPolicy, attempt: number, retryAfterMs?: number, random = Math.random): number {
  if (retryAfterMs !== undefined && retryAfterMs >= 0) return Math.min(retryAfterMs, policy.maxRetryAfterMs);
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/**
 * What to do after an attempt the target classified as transient ('retry'), for every kind of call (a batch of
 * upserts or deletes, a lookup): wait `delayMs` and try again, or give up — after the last attempt, or when the
 * remote asks to wait longer than the policy's cap (the row fails; `--resume` picks it up later). A rate-limit
 * answer also slows the pacer by the same wait; a gateway's 502/503/504 gives its pacer slot back (it never reached
 * the remote's own count of calls).
 */
export function afterTransientFailure(
  policy: RetryPolicy,
  attempt: number,
  outcome: { reason: string; retryAfterMs?: number; rateLimited?: boolean; httpStatus?: number },
  pacer: { onRateLimited(retryAfterMs?: number, grantedAt?: number): void; refund(grantedAt: number): void },
  grantedAt?: number,
): { giveUp: false; delayMs: number } | { giveUp: true; why: string } {
  const delayMs = retryDelayMs(policy, attempt, outcome.retryAfterMs);
  // The pacer decides how long everyone pauses (Retry-After, else as short as the evidence allows).
  if (outcome.rateLimited) pacer.onRateLimited(outcome.retryAfterMs, grantedAt);
  const tooLong = outcome.retryAfterMs !== undefined && outcome.retryAfterMs > policy.maxRetryAfterMs;
  if (attempt < policy.maxAttempts && !tooLong) {
    // A gateway's 502/503/504 never reached the remote's own count of calls: its slot is given back.
    const gateway = outcome.httpStatus === 502 || outcome.httpStatus === 503 || outcome.httpStatus === 504;
    if (gateway && grantedAt !== undefined) pacer.refund(grantedAt);
    return { giveUp: false, delayMs };
  }
  return { giveUp: true, why: `${outcome.reason} (gave up after ${attempt} attempt${attempt === 1 ? '' : 's'}${tooLong ? '; the remote asked to wait longer than this run waits' : ''})` };
}

/** Parses an HTTP Retry-After header: seconds, or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v) * 1000);
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
