import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { csv, tempDir, readReport, runInProcess, startSalsaSandbox, type TestSandbox } from '../support/helpers.js';

let running: TestSandbox | undefined;
afterEach(async () => {
  await running?.sandbox.close();
  running = undefined;
});

const emailOf = (s: Record<string, unknown>) => (s.contacts as Array<{ type: string; value: string }>).find((c) => c.type === 'EMAIL')!.value;

/** An account with 30 supporters, two of whom share an email (search returns both). */
async function account() {
  running = await startSalsaSandbox({ rateLimit: 100_000 });
  const dir = tempDir();
  const people = join(dir, 'people.csv');
  writeFileSync(people, csv(['Email', 'First Name', 'Last Name', 'External ID', 'City', 'custom:Volunteer'], Array.from({ length: 30 }, (_, i) => [`p${i}@example.org`, `First${i}`, `Last${i}`, `EXT-${i}`, 'Austin', i % 2 ? 'yes' : ''])));
  expect((await runInProcess(['import', people, '--quiet'], { env: running.env })).code).toBe(0);
  running.salsa.seed!([
    { firstName: 'Twin', lastName: 'A', contacts: [{ type: 'EMAIL', value: 'twin@example.org', status: 'OPT_IN' }] },
    { firstName: 'Twin', lastName: 'B', contacts: [{ type: 'EMAIL', value: 'twin@example.org', status: 'OPT_IN' }] },
  ]);
  const byEmail = new Map(running.salsa.supporters().map((s) => [emailOf(s), s]));
  return { dir, byEmail, env: running.env };
}

describe('delete from Salsa (the real bin against the sandbox)', () => {
  it('mixed ids, emails (one ambiguous, one unknown) and external ids: exactly the intended supporters go, the backup brings them back', async () => {
    const { dir, byEmail, env } = await account();
    const file = join(dir, 'leavers.csv');
    const idOf = (e: string) => String(byEmail.get(e)!.supporterId);
    writeFileSync(file, csv(['supporterId', 'Email', 'External ID'], [
      [idOf('p1@example.org'), '', ''],
      ['', 'P2@Example.org', ''],
      ['', 'twin@example.org', ''],
      ['', 'nobody@example.org', ''],
      ['', '', 'EXT-3'],
      ['', '', 'EXT-404'],
      ['00000000-af08-42bb-8ca2-50fc232e7b40', '', ''],
      ['', 'not an email', ''],
    ]));
    const res = await runInProcess(['delete', file, '--json'], { env });
    expect(res.code).toBe(1);
    const report = readReport(join(dir, 'leavers.report.csv'));
    expect(report.map((r) => [r.row, r.status])).toEqual([
      ['1', 'DELETED'], ['2', 'DELETED'], ['3', 'VALIDATION_ERROR'], ['4', 'NOT_FOUND'], ['5', 'DELETED'], ['6', 'NOT_FOUND'], ['7', 'NOT_FOUND'], ['8', 'INVALID'],
    ]);
    expect(report[0]).toMatchObject({ remote_id: idOf('p1@example.org'), error_message: expect.stringContaining('First1 Last1 <p1@example.org>') });
    expect(report[2]!.error_message).toMatch(/matches 2 supporters .*--all-matches/);
    expect(running!.salsa.supporters()).toHaveLength(29); // 32 - p1, p2, p3; both twins kept
    const left = new Set(running!.salsa.supporters().map(emailOf));
    for (const gone of ['p1@example.org', 'p2@example.org', 'p3@example.org']) expect(left.has(gone)).toBe(false);
    expect(running!.salsa.supporters().filter((s) => emailOf(s) === 'twin@example.org')).toHaveLength(2);

    // The backup, named in the summary, re-imports the three with their fields.
    const backup = /backup of the 3 supporters being deleted: (\S+\.jsonl)/.exec(res.stderr)![1]!;
    const lines = readFileSync(backup, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.email).sort()).toEqual(['p1@example.org', 'p2@example.org', 'p3@example.org']);
    expect(lines.find((l) => l.email === 'p1@example.org')).toMatchObject({ firstName: 'First1', lastName: 'Last1', city: 'Austin', externalSystemId: 'EXT-1', 'custom:Volunteer': 'yes' });
    const back = await runInProcess(['import', backup, '--json'], { env });
    expect(JSON.parse(back.stdout)).toMatchObject({ counts: { ADDED: 3 }, exitCode: 0 });
    const restored = running!.salsa.supporters().find((s) => emailOf(s) === 'p1@example.org')!;
    expect(restored).toMatchObject({ firstName: 'First1', lastName: 'Last1', externalSystemId: 'EXT-1', address: { city: 'Austin' } });
    expect(restored.customFieldValues).toEqual([expect.objectContaining({ name: 'Volunteer', value: 'yes' })]);
  });

  it('--all-matches deletes every supporter an ambiguous email names', async () => {
    const { dir, env } = await account();
    const file = join(dir, 'twins.csv');
    writeFileSync(file, csv(['Email'], [['twin@example.org']]));
    const res = await runInProcess(['delete', file, '--all-matches', '--json'], { env });
    expect(res.code).toBe(0);
    const [row] = readReport(join(dir, 'twins.report.csv'));
    expect(row).toMatchObject({ status: 'DELETED', error_message: expect.stringMatching(/Twin A .*; Twin B /) });
    expect(row!.remote_id.split(' ')).toHaveLength(2);
    expect(running!.salsa.supporters().some((s) => emailOf(s) === 'twin@example.org')).toBe(false);
  });

  it('--dry-run lists who would go and deletes nothing', async () => {
    const { dir, env } = await account();
    const file = join(dir, 'some.csv');
    writeFileSync(file, csv(['Email'], [['p5@example.org'], ['p6@example.org']]));
    const res = await runInProcess(['delete', file, '--dry-run', '--json'], { env });
    expect(res.code).toBe(0);
    expect(readReport(join(dir, 'some.dry-run.report.csv')).map((r) => [r.status, r.error_message])).toEqual([
      ['DRY_RUN', expect.stringMatching(/^First5 Last5 <p5@example\.org> \(/)],
      ['DRY_RUN', expect.stringMatching(/^First6 Last6 <p6@example\.org> \(/)],
    ]);
    expect(running!.salsa.supporters()).toHaveLength(32);
    expect(running!.sandbox.stats.statuses['200']).toBeGreaterThan(0);
    expect(readdirSync(dir).some((f) => f.includes('.deleted-'))).toBe(false); // no backup for a preview
  });

  it('the cap stops a too-large run before any DELETE, and says how to raise it', async () => {
    const { dir, env } = await account();
    const file = join(dir, 'many.csv');
    writeFileSync(file, csv(['Email'], Array.from({ length: 12 }, (_, i) => [`p${i}@example.org`])));
    const requestsBefore = running!.sandbox.stats.requests;
    const refused = await runInProcess(['delete', file, '--max-deletes', '10'], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/Refusing to delete 12 supporters: that is more than --max-deletes 10\. .*--max-deletes 12 \(or --yes\)\. Nothing was deleted\./);
    expect(running!.salsa.supporters()).toHaveLength(32);
    // Only lookups (metrics and search) were sent.
    expect(running!.sandbox.stats.requests - requestsBefore).toBeLessThanOrEqual(2);
    const raised = await runInProcess(['delete', file, '--max-deletes', '12', '--json'], { env });
    expect(JSON.parse(raised.stdout).counts).toEqual({ DELETED: 12 });
    expect(running!.salsa.supporters()).toHaveLength(20);
  });

  it('Luminate has no delete: exit 2 with the reason', async () => {
    const res = await runInProcess(['delete', join(tempDir(), 'x.csv'), '-t', 'luminate']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/Constituent API \(SRConsAPI\) has no delete method/);
  });
});

describe('delete under faults', () => {
  it('a DELETE whose answer was lost is reported DELETED when the retry finds the supporter gone', async () => {
    const { dir, env } = await account();
    await running!.sandbox.close();
    // Same account, now behind a sandbox that loses the answer of the first DELETE.
    const { startSandbox } = await import('../../src/sandbox/server.js');
    const sb = await startSandbox({ emulators: [running!.salsa], faults: 'reset-after*1,only=DELETE' });
    running = { ...running!, sandbox: sb, env: { ...env, SALSA_API_URL: sb.url } };
    const file = join(dir, 'two.csv');
    writeFileSync(file, csv(['Email'], [['p7@example.org'], ['p8@example.org']]));
    const res = await runInProcess(['delete', file, '--json'], { env: running.env });
    expect(res.code).toBe(0);
    expect(readReport(join(dir, 'two.report.csv')).map((r) => [r.status, r.attempts])).toEqual([
      ['DELETED', '2'],
      ['DELETED', '2'],
    ]);
    expect(running.salsa.supporters()).toHaveLength(30);
  });
});
