import { describe, expect, it } from 'vitest';
import { RequestPacer, type PacerClock } from '../../src/core/pace-requests.js';
import { DEFAULT_RETRY_POLICY, parseRetryAfter, retryDelayMs } from '../../src/core/retry-policy.js';

/** A clock that only moves when someone sleeps: pacing is checked without waiting. */
function fakeClock(): PacerClock & { t: number } {
  const c = { t: 0, now: () => c.t, sleep: async (ms: number) => void (c.t += Math.max(0, ms)) };
  return c;
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
    let worst = 0;
    for (let i = 0, j = 0; i < grants.length; i++) {
      while (grants[i]! - grants[j]! >= 60_000) j++;
      worst = Math.max(worst, i - j + 1);
    }
    expect(worst).toBeLessThanOrEqual(300);
    const perMinute = ((grants.length - 1) / (grants.at(-1)! - grants[0]!)) * 60_000;
    expect(perMinute).toBeGreaterThan(0.97 * 300);
  });

  it('pauses on a 429, slows down, then recovers', async () => {
    const clock = fakeClock();
    const pacer = new RequestPacer(600, clock);
    await pacer.acquire();
    pacer.onRateLimited(2000);
    const before = clock.t;
    await pacer.acquire();
    expect(clock.t - before).toBeGreaterThanOrEqual(2000);
    expect(pacer.currentRate()).toBeLessThan(600);
    for (let i = 0; i < 100; i++) pacer.onSuccess();
    expect(pacer.currentRate()).toBe(600);
  });
});

describe('pacer start rate', () => {
  it('starts at the remote current allowance and recovers to the ceiling', async () => {
    const clock = fakeClock();
    const pacer = new RequestPacer(300, clock, 150);
    expect(pacer.currentRate()).toBe(150);
    for (let i = 0; i < 30; i++) {
      await pacer.acquire();
      pacer.onSuccess();
    }
    expect(pacer.currentRate()).toBe(300);
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
