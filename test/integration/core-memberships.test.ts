import { afterEach, describe, expect, it } from 'vitest';
import { connectSalsa } from '../../src/targets/salsa/client.js';
import { createSalsaEmulator } from '../../src/targets/salsa/emulator.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import type { Membership, TargetSession } from '../../src/core/types.js';
import { runRows } from '../support/run-core.js';

// The membership stage against the Salsa emulator: batching per segment, a stop while changes wait, one row's keys
// held until its changes are done.

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function setup(opts: { maxBatchSize?: number } = {}) {
  const salsa = createSalsaEmulator({ token: 't0ken', maxBatchSize: opts.maxBatchSize, rateLimit: 100_000, segments: ['A', 'B'] });
  sandbox = await startSandbox({ emulators: [salsa] });
  const session = await connectSalsa({ env: { SALSA_API_TOKEN: 't0ken', SALSA_API_URL: sandbox.url }, timeoutMs: 5000, concurrency: 4 });
  const [a, b] = salsa.segments();
  const add = (s: { segmentId: string; name: string }): Membership => ({ change: 'add', group: { id: s.segmentId, label: s.name } });
  return { salsa, session, memberships: [add(a!), add(b!)] };
}

const people = (n: number) => Array.from({ length: n }, (_, i) => [`p${i}@example.org`, `First${i}`]);

describe('group changes of written records', () => {
  it('go maxBatchSize supporters a call per segment, and every row is in every segment', async () => {
    const { salsa, session, memberships } = await setup({ maxBatchSize: 5 });
    const sizes: number[] = [];
    const spy: TargetSession = { ...session, sendMembership: (c, g, ids) => (sizes.push(ids.length), session.sendMembership!(c, g, ids)) };
    const { result, report } = await runRows(['Email', 'First Name'], people(23), { session: spy, batchSize: 5, memberships });
    expect(result.exitCode).toBe(0);
    expect(salsa.segments().map((s) => s.members.length)).toEqual([23, 23]);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(5);
    // Full calls while rows stream, partial ones only at the end: 23 = 4 × 5 + 3 per segment.
    expect(sizes.filter((n) => n < 5)).toEqual([3, 3]);
    expect(result.membershipCalls).toBe(10);
    expect(result.memberships).toEqual({ added: 46 });
    expect(report.rows.every((r) => r.errorMessage === 'segments: added to "A", "B"')).toBe(true);
  });

  it('a stop (Ctrl-C) while changes wait: those rows are FAILED with MEMBERSHIP and their ids, journaled as written', async () => {
    const { salsa, session, memberships } = await setup();
    const interrupt = new AbortController();
    // Ctrl-C as the first supporters call answers: written supporters, their segment changes not sent.
    const spy: TargetSession = { ...session, send: async (op, p) => { const r = await session.send(op, p); interrupt.abort(); return r; } };
    const { result, report } = await runRows(['Email', 'First Name'], people(30), { session: spy, memberships, signal: interrupt.signal, concurrency: 1 });
    expect(result.exitCode).toBe(130);
    const written = report.rows.filter((r) => r.status === 'FAILED');
    expect(written).toHaveLength(20);
    for (const r of written) {
      expect(r.errorCode).toBe('MEMBERSHIP');
      expect(r.remoteId).toMatch(/^[\w-]{36}$/);
      expect(r.errorMessage).toMatch(/^ADDED, but 2 of its 2 segment changes failed .*segments: failed "A" \(not sent: interrupted/);
    }
    expect(report.rows.filter((r) => r.status === 'NOT_ATTEMPTED')).toHaveLength(10);
    // Each written row was journaled as written before anything else happened to it.
    expect(report.journaled.filter((r) => r.errorMessage === 'ADDED; its segment changes are not sent yet')).toHaveLength(20);
    expect(salsa.segments().map((s) => s.members.length)).toEqual([0, 0]);
  });

  it('the same supporter twice: the second row waits for the first one\'s segment changes (keys held until then)', async () => {
    const { salsa, session } = await setup();
    const [a] = salsa.segments();
    const order: string[] = [];
    const spy: TargetSession = {
      ...session,
      send: (op, p) => (order.push('supporters'), session.send(op, p)),
      sendMembership: (c, g, ids) => (order.push(`${c} ${ids.length}`), session.sendMembership!(c, g, ids)),
    };
    const rows = [['same@example.org', 'One', 'A'], ['same@example.org', 'Two', '']];
    const { createRowMapper } = await import('../../src/mapping/mapper.js');
    const { parseMapping } = await import('../../src/mapping/mapping-file.js');
    const { salsaTarget } = await import('../../src/targets/salsa/index.js');
    const spec = parseMapping({ fields: { segments: 'Tags' } }, '', 'map.json', salsaTarget);
    const { directoryOf } = await import('../../src/core/memberships.js');
    const { result } = await runRows(['Email', 'First Name', 'Tags'], rows, { session: spy, mapper: createRowMapper(salsaTarget, spec, 'test.csv'), groupDirectory: directoryOf([{ id: a!.segmentId, label: 'A' }], { one: 'segment', many: 'segments' }) });
    expect(result.exitCode).toBe(0);
    expect(order).toEqual(['supporters', 'add 1', 'supporters']);
    expect(salsa.supporters()[0]!.firstName).toBe('Two');
  });
});
