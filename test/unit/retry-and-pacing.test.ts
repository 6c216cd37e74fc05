import { describe, expect, it } from 'vitest';
import { RequestPacer, type PacerClock } from '../../src/core/pace-requests.js';
import { DEFAULT_RETRY_POLICY, parseRetryAfter, retryDelayMs } from '../../src/core/retry-policy.js';
import { classifySalsaReply } from '../../src/targets/salsa/reply.js';

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

describe('Salsa replies', () => {
  const reply = (status: number, body: string, headers: Record<string, string> = {}) => classifySalsaReply({ status, headers, text: body }, 2);
  it('tells batch-size 429s from rate 429s', () => {
    expect(reply(429, '{"errors":[{"message":"Requested batch size exceeds the allowed size of: 10"}]}')).toMatchObject({ kind: 'shrink', maxBatchSize: 10 });
    expect(reply(429, '{"errors":[{"message":"Call rate has been exceeded"}]}', { 'retry-after': '2' })).toMatchObject({ kind: 'retry', rateLimited: true, retryAfterMs: 2000 });
    expect(reply(200, 'Your per minute call rate has been exceeded')).toMatchObject({ kind: 'retry', rateLimited: true });
  });
  it('retries gateway errors and HTML, rejects 400 and JSON 500s, aborts on 401', () => {
    expect(reply(504, '<html><h1>504 Gateway Time-out</h1></html>')).toMatchObject({ kind: 'retry', reason: expect.stringMatching(/HTTP 504.*Gateway Time-out/) });
    expect(reply(500, '<html>oops</html>')).toMatchObject({ kind: 'retry' });
    expect(reply(500, '{"errors":[{"message":"boom"}]}')).toMatchObject({ kind: 'reject', httpStatus: 500 });
    expect(reply(400, '{"errors":[{"message":"payload missing"}]}')).toMatchObject({ kind: 'reject', reason: expect.stringMatching(/payload missing/) });
    expect(reply(401, '')).toMatchObject({ kind: 'abort' });
    expect(reply(200, '{"payload":{"supp')).toMatchObject({ kind: 'retry', reason: expect.stringMatching(/unreadable/) });
  });
  it('collects field errors from the supporter, contacts, address and custom fields', () => {
    const out = classifySalsaReply(
      {
        status: 200,
        headers: {},
        text: JSON.stringify({
          payload: {
            supporters: [
              { result: 'VALIDATION_ERROR', contacts: [{ type: 'EMAIL', value: 'x', errors: [{ code: 2008, message: 'The email provided is not of correct format', fieldName: 'value' }] }], address: { errors: [{ code: 7, message: 'Invalid state code', fieldName: 'state' }] } },
              { result: 'VALIDATION_ERROR', customFieldValues: [{ name: 'Vol', errors: [{ code: 9, message: 'Custom field not found', fieldName: 'name' }] }], errors: [{ code: 3, message: 'Invalid gender', fieldName: 'gender' }] },
              { result: 'SYSTEM_ERROR' },
            ],
          },
        }),
      },
      3,
    );
    expect(out).toMatchObject({
      kind: 'results',
      results: [
        { status: 'VALIDATION_ERROR', errorCode: '7', errorMessage: 'address.state: Invalid state code; contacts[EMAIL].value: The email provided is not of correct format' },
        { status: 'VALIDATION_ERROR', errorCode: '3', errorMessage: 'gender: Invalid gender; customFieldValues[Vol].name: Custom field not found' },
        { status: 'SYSTEM_ERROR', retryable: true },
      ],
    });
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
