import { describe, expect, it } from 'vitest';
import { RequestPacer, type PacerClock } from '../../src/core/pace-requests.js';
import { DEFAULT_RETRY_POLICY, parseRetryAfter, retryDelayMs } from '../../src/core/retry-policy.js';

/** A clock that only moves when someone sleeps: pacing is checked without waiting. */
function fakeClock(): PacerClock & { t: number } {
  const c = { t: 0, now: () => c.t, sleep: async (ms: number) => void (c.t += Math.max(0, ms)) };
  return c;
}

/** The most of these (ascending) times that fall in any 60-second window. */
function mostInAMinute(times: number[]): number {
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= 60_000) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('retry policy', () => {
  it('backs off exponentially with jitter, capped, and honours Retry-After', () => {
    const p = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 1000, maxDelayMs: 8000 };
    expect(retryDelayMs(p, 1, undefined, () => 0)).toBe(500);
    expect(retryDelayMs(p, 1, undefined, () => 1)).toBe(1000);
    expect(retryDelayMs(p, 3, undefined, () => 1)).toBe(4000);
    expect(retryDelayMs(p, 10, undefined, () => 1)).toBe(8000);
    expect(retryDelayMs(p, 1, 2500)).toBe(2500);
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('request pacer', () => {
  it('never grants more than the rate in any 60-second window, and stays close to it', async () => {
    const clock = fakeClock();
    const pacer = new RequestPacer(300, clock);
    const grants: number[] = [];
    for (let i = 0; i < 1500; i++) {
      await pacer.acquire();
      grants.push(clock.t);
    }
    expect(mostInAMinute(grants)).toBeLessThanOrEqual(300);
    const perMinute = ((grants.length - 1) / (grants.at(-1)! - grants[0]!)) * 60_000;
    expect(perMinute).toBeGreaterThan(0.97 * 300);
  });

  it('calls the remote never counted (a gateway 503) give their room back for good, not just until the minute comes round', async () => {
    // One call in ten is answered 503 by a gateway: the remote's minute holds only the other nine. Over three
    // minutes the counted calls should run at the limit, the 503s on top, and no window hold more than the limit.
    const clock = fakeClock();
    const pacer = new RequestPacer(600, clock);
    const counted: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const at = await pacer.acquire();
      if (i % 10 === 9) pacer.refund(at);
      else counted.push(at);
    }
    expect(mostInAMinute(counted)).toBeLessThanOrEqual(600);
    const countedPerMinute = ((counted.length - 1) / (counted.at(-1)! - counted[0]!)) * 60_000;
    expect(countedPerMinute).toBeGreaterThan(0.97 * 600);
  });

  it('after a 429: pauses everyone, settles just under the rate it happened at, probes up slowly, never straight back', async () => {
    const clock = fakeClock();
    const pacer = new RequestPacer(600, clock);
    let granted = 0;
    for (let i = 0; i < 50; i++) granted = await pacer.acquire();
    pacer.onRateLimited(undefined, granted);
    const before = clock.t;
    await pacer.acquire();
    expect(clock.t - before).toBeGreaterThanOrEqual(200); // no Retry-After: a short pause (0.2 s at least)
    expect(pacer.currentRate()).toBeCloseTo(582, 6); // 3% under the rate of the 429
    // Successes do not bring it straight back: 1% of the allowance every 5 s without a throttle.
    for (let i = 0; i < 100; i++) pacer.onSuccess();
    expect(pacer.currentRate()).toBeCloseTo(582, 6); // 3% under the rate of the 429
    clock.t += 5_000; // 5 s without a throttle
    pacer.onSuccess();
    expect(pacer.currentRate()).toBeCloseTo(588, 6); // up by 1% of the 600 allowance
  });

  it('429s for calls already in flight when the pace was lowered do not lower it again; a second episode pauses longer', async () => {
    const clock = fakeClock();
    const pacer = new RequestPacer(600, clock);
    const inFlight: number[] = [];
    for (let i = 0; i < 8; i++) inFlight.push(await pacer.acquire());
    pacer.onRateLimited(undefined, inFlight[0]);
    for (const g of inFlight.slice(1)) pacer.onRateLimited(undefined, g);
    expect(pacer.currentRate()).toBeCloseTo(582, 6); // 3% under the rate of the 429
    expect(pacer.stats).toMatchObject({ rateLimited: 8, throttles: 1 });
    const next = await pacer.acquire();
    pacer.onRateLimited(undefined, next); // granted after the cut: new evidence
    expect(pacer.stats.throttles).toBe(2);
    const t = clock.t;
    await pacer.acquire();
    expect(clock.t - t).toBeGreaterThanOrEqual(400); // the pause doubled
  });

  it('a caller already waiting for its slot when a 429 arrives waits out the pause and takes a new slot', async () => {
    let t = 0;
    const sleepers: Array<() => void> = [];
    const clock: PacerClock = { now: () => t, sleep: (ms) => new Promise<void>((r) => sleepers.push(() => ((t += ms), r()))) };
    const pacer = new RequestPacer(600, clock);
    await Promise.race([pacer.acquire(), Promise.resolve()]); // the first slot is now
    const waiting = pacer.acquire(); // sleeps toward its slot 100 ms on
    await new Promise((r) => setImmediate(r));
    pacer.onRateLimited(3000);
    sleepers.shift()!(); // its first sleep ends (t = 100): a throttle happened meanwhile
    await new Promise((r) => setImmediate(r));
    sleepers.shift()?.(); // it sleeps again, to the end of the pause
    const grantedAt = await waiting;
    expect(grantedAt).toBeGreaterThanOrEqual(3000);
  });
});

describe('pacer allowance (a token shared with other integrations)', () => {
  it('starts at what the remote says is left, keeps a margin for the others, and does not climb back to the ceiling', async () => {
    const clock = fakeClock();
    const pacer = new RequestPacer(1200, clock, 720);
    expect(pacer.currentRate()).toBeCloseTo(684, 6); // 95% of what is left: a margin for the others
    for (let i = 0; i < 200; i++) {
      await pacer.acquire();
      pacer.onSuccess();
    }
    expect(pacer.currentRate()).toBeCloseTo(684, 6); // 95% of what is left: a margin for the others
    // The other integration stopped: the next read says the whole token is ours again.
    pacer.setAllowance(1200);
    expect(pacer.currentRate()).toBe(1200);
    // It started again, heavier: lower at once.
    pacer.setAllowance(400);
    expect(pacer.currentRate()).toBeCloseTo(380, 6);
    expect(pacer.grantsInLastMinute()).toBeGreaterThan(0);
  });
});

describe('pacer with a huge reported limit', () => {
  it('stays small in memory and still paces (an account reporting 10^9 calls a minute)', async () => {
    const clock = fakeClock();
    const pacer = new RequestPacer(1e9, clock);
    for (let i = 0; i < 1000; i++) await pacer.acquire();
    expect(clock.t).toBeLessThan(1); // 1000 calls at 10^9 a minute take well under a millisecond
  });
});

describe('one retry policy for single-answer calls (lookups, field lists)', () => {
  it("gives a gateway 503's pacer slot back, as batches do, but not a 429's, and stops at the policy's last attempt", async () => {
    const { callWithRetry } = await import('../../src/core/call-with-retry.js');
    const clock = fakeClock();
    const pacer = new RequestPacer(600, clock);
    const refunded: number[] = [];
    const refund = pacer.refund.bind(pacer);
    pacer.refund = (at: number) => {
      refunded.push(at);
      refund(at);
    };
    const answers = [
      { kind: 'retry' as const, reason: 'HTTP 503', httpStatus: 503 },
      { kind: 'retry' as const, reason: 'HTTP 429', httpStatus: 429, rateLimited: true, retryAfterMs: 10 },
      { kind: 'retry' as const, reason: 'HTTP 504', httpStatus: 504 },
      { kind: 'ok' as const, value: 'the record' },
    ];
    let i = 0;
    const got = await callWithRetry({ pacer, retry: { ...DEFAULT_RETRY_POLICY, baseDelayMs: 1 }, clock }, 'a lookup', async () => answers[i++]!);
    expect(got).toMatchObject({ value: 'the record', attempts: 4, calls: 4 });
    expect(refunded).toHaveLength(2); // the 503 and the 504, not the 429

    const always503 = () => Promise.resolve({ kind: 'retry' as const, reason: 'HTTP 503', httpStatus: 503 });
    await expect(callWithRetry({ pacer, retry: { ...DEFAULT_RETRY_POLICY, baseDelayMs: 1, maxAttempts: 3 }, clock }, 'a lookup', always503)).rejects.toThrow('a lookup failed: HTTP 503 (gave up after 3 attempts)');
  });
});
