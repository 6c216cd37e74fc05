import { afterEach, describe, expect, it } from 'vitest';
import { connectSalsa } from '../../src/targets/salsa/client.js';
import { createSalsaEmulator } from '../../src/targets/salsa/emulator.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import type { Emulator } from '../../src/sandbox/emulator-types.js';
import { runRows, watch } from '../support/run-core.js';
import { RequestPacer } from '../../src/core/pace-requests.js';

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function setup(opts: { faults?: string; maxBatchSize?: number; rateLimit?: number; wrap?: (e: Emulator) => Emulator; slowMs?: number; timeoutMs?: number; rateWindowMs?: number; sharedWith?: { perMinute: number } } = {}) {
  const salsa = createSalsaEmulator({ token: 't0ken-for-tests', maxBatchSize: opts.maxBatchSize, rateLimit: opts.rateLimit ?? 100_000, rateWindowMs: opts.rateWindowMs, sharedWith: opts.sharedWith });
  sandbox = await startSandbox({ emulators: [opts.wrap ? opts.wrap(salsa) : salsa], faults: opts.faults, slowMs: opts.slowMs });
  const session = await connectSalsa({ env: { SALSA_API_TOKEN: 't0ken-for-tests', SALSA_API_URL: sandbox.url }, timeoutMs: opts.timeoutMs ?? 5000, concurrency: 4 });
  return { salsa, session };
}

const people = (n: number, prefix = 'p') => Array.from({ length: n }, (_, i) => [`${prefix}${i}@example.org`, `First${i}`]);

describe('core + Salsa emulator', () => {
  it('same email in many rows: never in one request or in flight together, and the last row wins', async () => {
    const { salsa, session } = await setup();
    const w = watch(session);
    const rows: string[][] = [];
    for (let i = 0; i < 200; i++) rows.push(i % 10 === 0 ? ['dup@example.org', `Version${i}`] : [`u${i}@example.org`, `U${i}`]);
    const { result, report } = await runRows(['Email', 'First Name'], rows, { session: w.session, batchSize: 7, concurrency: 4 });
    expect(result.exitCode).toBe(0);
    expect(w.seen.overlaps).toEqual([]);
    for (const b of w.seen.batches) {
      const emails = (b as Array<{ contacts: Array<{ value: string }> }>).map((s) => s.contacts[0]!.value);
      expect(new Set(emails).size).toBe(emails.length);
    }
    expect(w.seen.maxInFlight).toBeLessThanOrEqual(4);
    const dup = salsa.supporters().filter((s) => (s.contacts as Array<{ value: string }>)[0]!.value === 'dup@example.org');
    expect(dup).toHaveLength(1);
    expect(dup[0]!.firstName).toBe('Version190');
    expect(report.rows.map((r) => r.row)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(report.rows.filter((r) => r.key === 'dup@example.org').map((r) => r.status)).toEqual(['ADDED', ...Array(19).fill('UPDATED')]);
  });

  it('a 429 "batch size exceeds" shrinks the batch instead of waiting', async () => {
    const { salsa, session } = await setup({ maxBatchSize: 5 });
    const w = watch(session);
    const { result, report } = await runRows(['Email', 'First Name'], people(40), { session: w.session, batchSize: 20, concurrency: 1 });
    expect(result.exitCode).toBe(0);
    expect(result.rateLimited).toBe(0);
    expect(report.rows.every((r) => r.status === 'ADDED' && r.attempts === 1)).toBe(true);
    expect(w.seen.batches.filter((b) => b.length > 5)).toHaveLength(1); // only the first, refused, request
    expect(salsa.supporters()).toHaveLength(40);
  });

  it('a request refused as a whole is split until the poisoned row stands alone', async () => {
    const wrap = (e: Emulator): Emulator => ({
      ...e,
      handle(req) {
        if (req.body.includes('poison@example.org')) return { status: 400, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"code":400,"message":"Malformed supporter payload"}]}' };
        return e.handle(req);
      },
    });
    const { salsa, session } = await setup({ wrap });
    const rows = people(30);
    rows[17] = ['poison@example.org', 'Bad'];
    const { result, report } = await runRows(['Email', 'First Name'], rows, { session, batchSize: 20 });
    expect(result.exitCode).toBe(1);
    const bad = report.rows.filter((r) => r.status !== 'ADDED');
    expect(bad).toEqual([expect.objectContaining({ row: 18, status: 'VALIDATION_ERROR', httpStatus: 400, errorMessage: expect.stringMatching(/Malformed supporter payload/) })]);
    expect(salsa.supporters()).toHaveLength(29);
  });

  it('retries a supporter that came back SYSTEM_ERROR, alone', async () => {
    let failures = 2;
    const wrap = (e: Emulator): Emulator => ({
      ...e,
      handle(req) {
        const reply = e.handle(req);
        if (failures > 0 && req.body.includes('p3@example.org')) {
          failures--;
          const body = JSON.parse(reply.body);
          for (const s of body.payload.supporters) if (s.contacts?.[0]?.value === 'p3@example.org') s.result = 'SYSTEM_ERROR';
          return { ...reply, body: JSON.stringify(body) };
        }
        return reply;
      },
    });
    const { session } = await setup({ wrap });
    const w = watch(session);
    const { result, report } = await runRows(['Email', 'First Name'], people(10), { session: w.session });
    expect(result.exitCode).toBe(0);
    expect(report.rows[3]).toMatchObject({ status: 'UPDATED', attempts: 3 }); // added by the first try, reported by the third
    expect(w.seen.batches.slice(1).map((b) => b.length)).toEqual([1, 1]);
  });

  it('retries timeouts, resets and 5xx until an answer comes', async () => {
    const { salsa, session } = await setup({ faults: 'slow*1,reset*1,503*1,504*1,truncated*1', slowMs: 800, timeoutMs: 300 });
    const { result, report } = await runRows(['Email', 'First Name'], people(5), { session, batchSize: 5, concurrency: 1 });
    expect(result.exitCode).toBe(0);
    expect(report.rows[0]!.attempts).toBe(6);
    expect(salsa.supporters()).toHaveLength(5);
  });

  it('gives up after the retries with FAILED, and stops the run when failures are all it gets (exit 3)', async () => {
    const { salsa, session } = await setup({ faults: '503:1' });
    const { result, report } = await runRows(['Email', 'First Name'], people(400), { session, batchSize: 5, concurrency: 2, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 1000 } });
    expect(result.exitCode).toBe(3);
    expect(result.abortReason).toMatch(/requests failed even after retries.*HTTP 503/);
    expect(report.rows).toHaveLength(400);
    const failed = report.rows.filter((r) => r.status === 'FAILED');
    expect(failed.length).toBeGreaterThanOrEqual(50);
    expect(failed.length).toBeLessThan(100);
    expect(failed[0]).toMatchObject({ attempts: 2, httpStatus: 503, errorMessage: expect.stringMatching(/HTTP 503.*gave up after 2 attempts/) });
    expect(report.rows.filter((r) => r.status === 'NOT_ATTEMPTED').length).toBe(400 - failed.length);
    expect(salsa.supporters()).toHaveLength(0);
  });

  it('an interrupt finishes what is in flight and reports the rest NOT_ATTEMPTED', async () => {
    const { salsa, session } = await setup({ rateLimit: 100_000 });
    const controller = new AbortController();
    let sent = 0;
    const counting = { ...session, limits: session.limits, close: () => session.close(), send: async (op: 'upsert' | 'delete', p: unknown[]) => {
      if (++sent === 3) controller.abort();
      return session.send(op, p);
    } };
    const { result, report } = await runRows(['Email', 'First Name'], people(500), { session: counting, batchSize: 10, concurrency: 2, signal: controller.signal });
    expect(result.exitCode).toBe(130);
    expect(report.rows).toHaveLength(500);
    const added = report.rows.filter((r) => r.status === 'ADDED').length;
    expect(added).toBe(salsa.supporters().length);
    expect(added).toBeGreaterThanOrEqual(30);
    expect(added).toBeLessThanOrEqual(40);
    expect(report.rows.filter((r) => r.status === 'NOT_ATTEMPTED')).toHaveLength(500 - added);
  });

  it('a token another integration is using: paces to what it leaves, so neither is refused (limit counted per second)', async () => {
    // 6,000 calls a minute enforced as 100 in any second; a website form on the same token makes 40 of them.
    // Sending at the published limit would be refused within a second, and would crowd the form out.
    const { salsa, session } = await setup({ rateLimit: 6000, rateWindowMs: 1000, sharedWith: { perMinute: 2400 }, maxBatchSize: 20 });
    expect(session.notes?.join('\n')).toMatch(/Salsa reports 3599 of 6000 calls a minute available now \(another integration may be using the token\)/);
    // Composed as a run composes it: the pace starts at what metrics said is left, the connect's own call counted.
    const pacer = new RequestPacer(session.limits.ratePerMinute, undefined, session.limits.startRatePerMinute);
    pacer.noteCall();
    const { result, report } = await runRows(['Email', 'First Name'], people(3000), { session, pacer, batchSize: 20, concurrency: 4 });
    expect(report.rows.filter((r) => r.status === 'ADDED')).toHaveLength(3000);
    expect(salsa.supporters()).toHaveLength(3000);
    expect(salsa.otherClient().sent).toBeGreaterThan(0);
    expect(salsa.otherClient().refused).toBe(0);
    expect(result.rateLimited).toBeLessThanOrEqual(3);
  });

  it('a lookup whose answer runs to a second page takes that call from the pace and counts it', async () => {
    // Two supporters share each of these emails, so a search for a batch's emails fills its page and pages on.
    const { salsa, session } = await setup({ rateLimit: 600, maxBatchSize: 5 });
    salsa.seed!(people(40).flatMap(([email]) => [1, 2].map((n) => ({ firstName: `Twin${n}`, contacts: [{ type: 'EMAIL', value: email, status: 'OPT_IN' }] }))));
    const pacer = new RequestPacer(session.limits.ratePerMinute, undefined, session.limits.startRatePerMinute);
    const { result, report } = await runRows(['Email', 'First Name'], people(40), { session, pacer, mode: 'plan', batchSize: session.limits.lookupBatchSize });
    expect(report.rows).toHaveLength(40);
    expect(report.rows.every((r) => r.status === 'UPDATE')).toBe(true);
    const searches = sandbox!.stats.calls['POST /api/integration/ext/v1/supporters/search']!;
    expect(searches).toBeGreaterThan(10); // 4 emails a call, 8 supporters: two pages or more each
    expect(result.calls).toBe(searches);
    expect(pacer.stats.granted).toBe(searches);
  });

  it('many calls waiting at once (retries, pacer slots) are not taken for a listener leak: no warning on stderr', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const { session } = await setup({ faults: '503:0.3,seed=3', rateLimit: 6000 });
      const { result } = await runRows(['Email', 'First Name'], people(2000), { session, concurrency: 8, batchSize: 5, retry: { maxAttempts: 12, baseDelayMs: 20, maxDelayMs: 40, maxRetryAfterMs: 1000 } });
      expect(result.exitCode).toBe(0);
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
  });
});

