import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { closeAfterEach, csv, readReport, runInProcess, startLuminateSandbox, tempDir } from '../support/helpers.js';

// A plan and an undo are only as right as the tool's reading of what the CRM holds. Luminate's getUser answers
// custom fields as lists by type (a one-item list as one object), empties as {}, dates with a time: read so, and
// what cannot be read is unknown — never taken for "".

const closing = closeAfterEach();

const SEED = [
  { 'email.primary_address': 'ann@example.org', 'name.first': 'Ann', custom_string1: 'Gold', custom_boolean1: 'true', birth_date: '1980-05-27', 'email.accepts_email': 'true' },
  { 'email.primary_address': 'bo@example.org', 'name.first': 'Bo', custom_string1: 'Bronze', 'email.accepts_email': 'false' },
  { 'email.primary_address': 'cy@example.org', 'name.first': 'Cy' },
];
const FILE = [
  ['ann@example.org', 'Annie', 'Silver', 'no', '1980-05-27'],
  ['bo@example.org', 'Bo', 'Silver', 'yes', ''],
  ['cy@example.org', 'Cyrus', 'Silver', '', '1990-01-02'],
];
const HEADER = ['Email', 'First Name', 'custom_string1', 'custom_boolean1', 'Birth Date'];

/** The store as a person compares it: by cons_id, without the interactions counter, "" as absent. */
const storeOf = (lum: { constituents(): Array<Record<string, string>> }) =>
  Object.fromEntries(lum.constituents().map(({ interactions: _, ...c }) => [c.cons_id, Object.fromEntries(Object.entries(c).filter(([, v]) => v !== ''))]));

/** A Luminate site holding SEED, and the file that changes it. */
async function site(options: { unanswered?: string[] } = {}) {
  const { lum, sandbox, env } = await startLuminateSandbox(options);
  closing(sandbox);
  lum.seed!(SEED);
  const dir = tempDir();
  const input = join(dir, 'custom.csv');
  writeFileSync(input, csv(HEADER, FILE));
  return { lum, env, before: storeOf(lum), dir, input };
}

describe('Luminate: getUser read by its documented shapes', () => {
  it('--plan shows custom fields with their old values; the undo of the import leaves the store exactly as before', async () => {
    const { lum, env, before, dir, input } = await site();

    const plan = await runInProcess(['import', input, '-t', 'luminate', '--plan', '-r', join(dir, 'p.plan.jsonl'), '--no-state'], { env });
    expect(plan.code, plan.stderr).toBe(0);
    const lines = readReport(join(dir, 'p.plan.jsonl'));
    expect(lines.map((l) => l.status)).toEqual(['UPDATE', 'UPDATE', 'UPDATE']);
    expect(lines[0]!.error_message).toBe('name.first: "Ann" → "Annie"; custom_string1: "Gold" → "Silver"; custom_boolean1: "true" → "false"');
    expect(lines[1]!.error_message).toBe('custom_string1: "Bronze" → "Silver"; custom_boolean1: "" → "true"');
    expect(lines[2]!.error_message).toBe('name.first: "Cy" → "Cyrus"; custom_string1: "" → "Silver"; birth_date: "" → "1990-01-02"');

    const undoLog = join(dir, 'custom.undo.jsonl');
    const imported = await runInProcess(['import', input, '-t', 'luminate', '--undo-log', undoLog, '-r', join(dir, 'i.csv'), '--no-state'], { env });
    expect(imported.code, imported.stderr).toBe(0);
    expect(lum.constituents().map((c) => c.custom_string1)).toEqual(['Silver', 'Silver', 'Silver']);
    const undone = await runInProcess(['undo', undoLog, '-r', join(dir, 'u.csv'), '--no-state'], { env });
    expect(undone.code, readFileSync(join(dir, "u.csv"), "utf8")).toBe(0);
    expect(storeOf(lum)).toEqual(before);
  });

  it('a cons_id no constituent has: the plan says NOT_FOUND, as the import does, and the undo log does not take it for a creation', async () => {
    const { lum, env, dir } = await site();
    const file = join(dir, 'ids.csv');
    writeFileSync(file, csv(['cons_id', 'Email', 'First Name'], [[lum.constituents()[0]!.cons_id!, 'ann@example.org', 'Annie'], ['9999999', 'ghost@example.org', 'Ghost']]));
    const plan = await runInProcess(['import', file, '-t', 'luminate', '--plan', '-r', join(dir, 'ids.plan.jsonl'), '--no-state'], { env });
    expect(plan.code, plan.stderr).toBe(1);
    expect(readReport(join(dir, 'ids.plan.jsonl')).map((l) => [l.key, l.status])).toEqual([[lum.constituents()[0]!.cons_id, 'UPDATE'], ['9999999', 'NOT_FOUND']]);
    const undoLog = join(dir, 'ids.undo.jsonl');
    const imported = await runInProcess(['import', file, '-t', 'luminate', '--undo-log', undoLog, '-r', join(dir, 'ids.report.csv'), '--no-state'], { env });
    expect(imported.code, imported.stderr).toBe(1);
    expect(readReport(join(dir, 'ids.report.csv')).map((l) => l.status)).toEqual(['UPDATED', 'NOT_FOUND']);
    expect(readFileSync(undoLog, 'utf8')).not.toContain('9999999');
    expect(lum.constituents().some((c) => c['email.primary_address'] === 'ghost@example.org')).toBe(false);
  });

  it('a field the answer leaves out is unknown: the plan says so, --undo-log writes nothing it could not put back', async () => {
    const { lum, env, before, dir, input } = await site({ unanswered: ['custom_string1'] });
    const plan = await runInProcess(['import', input, '-t', 'luminate', '--plan', '-r', join(dir, 'p.plan.jsonl'), '--no-state'], { env });
    expect(readReport(join(dir, 'p.plan.jsonl'))[0]!.error_message).toContain('custom_string1: (unknown: could not be read) → "Silver"');
    expect(plan.code).toBe(0);

    const res = await runInProcess(['import', input, '-t', 'luminate', '--undo-log', join(dir, 'u.jsonl'), '-r', join(dir, 'i.csv'), '--no-state'], { env });
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/the current value of custom_string1 could not be read from Luminate Online, so the undo log could not record it; leave that field out of the mapping, or run without --undo-log/);
    expect(readReport(join(dir, 'i.csv')).map((r) => r.status).every((s) => s === 'FAILED' || s === 'NOT_ATTEMPTED')).toBe(true);
    expect(storeOf(lum)).toEqual(before);
  });
});

describe('check tells the truth, on stdout, with an exit code a script can use', () => {
  it('the read-back check names a field the account does not give back; member_id is looked up as member_id', async () => {
    const { lum, sandbox, env } = await startLuminateSandbox({ unanswered: ['custom_string1'] });
    closing(sandbox);
    lum.seed!([...SEED.slice(0, 2), { ...SEED[2]!, member_id: 'M-77' }]);
    const dir = tempDir();
    const input = join(dir, 'custom.csv');
    writeFileSync(input, csv(HEADER, FILE));
    const res = await runInProcess(['check', input, '-t', 'luminate', '--sample', '3'], { env });
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/WARN +read-back +custom_string1 \(3 of 3\) cannot be read back from the account: --plan would show it as unknown/);
    expect(res.stdout).toMatch(/of the first 3 rows, 3 would update an existing constituent and 0 would create one/);

    const byMember = join(dir, 'members.csv');
    writeFileSync(byMember, csv(['member_id', 'First Name'], [['M-77', 'Cyrus'], ['M-78', 'New']]));
    const map = join(dir, 'm.json');
    writeFileSync(map, JSON.stringify({ fields: { member_id: 'member_id', 'name.first': 'First Name' } }));
    const members = await runInProcess(['check', byMember, '-t', 'luminate', '-m', map, '--sample', '2', '--json'], { env });
    expect(JSON.parse(members.stdout)).toMatchObject({ sampleLooked: 2, sampleUpdated: 1, sampleCreated: 1 });
  });

  it('exit 1 when sampled rows would be INVALID, one tally line per problem; exit 0 only when a run would go through', async () => {
    const { lum, sandbox, env } = await startLuminateSandbox();
    closing(sandbox);
    void lum;
    const dir = tempDir();
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, csv(['Email', 'First Name'], Array.from({ length: 150 }, (_, i) => [i % 2 ? `p${i}@example` : `p${i}@example.org`, `P${i}`])));
    const res = await runInProcess(['check', bad, '-t', 'luminate'], { env });
    expect(res.code).toBe(1);
    const values = res.stdout.split('\n').find((l) => /values/.test(l))!;
    expect(values).toMatch(/WARN +values +75 of the first 150 rows would be INVALID: 75 × primary_email "…" is not a valid email address$/);
    const good = join(dir, 'good.csv');
    writeFileSync(good, csv(['Email', 'First Name'], [['a@example.org', 'A']]));
    expect((await runInProcess(['check', good, '-t', 'luminate'], { env })).code).toBe(0);
  });
});

describe('--trace: what the vendor really answered, with no secret in it', () => {
  it('import, check and undo write every request and answer as JSON lines; no credential appears; the file is the owner\'s only', async () => {
    const { statSync, readFileSync: read } = await import('node:fs');
    const { lum, sandbox, env } = await startLuminateSandbox();
    closing(sandbox);
    lum.seed!(SEED);
    const dir = tempDir();
    const input = join(dir, 'custom.csv');
    writeFileSync(input, csv(HEADER, FILE));
    const trace = join(dir, 'trace.jsonl');
    const undoLog = join(dir, 'u.jsonl');
    const imported = await runInProcess(['import', input, '-t', 'luminate', '--undo-log', undoLog, '-r', join(dir, 'i.csv'), '--no-state', '--trace', trace], { env });
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stderr).toMatch(/trace: .*trace\.jsonl \(\d+ requests and their answers, credentials masked\)/);
    expect((await runInProcess(['check', input, '-t', 'luminate', '--sample', '2', '--trace', trace], { env })).code).toBe(0);
    expect((await runInProcess(['undo', undoLog, '-r', join(dir, 'u.csv'), '--no-state', '--trace', trace], { env })).code).toBe(0);
    const text = read(trace, 'utf8');
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as { method: string; url: string; status: number; ms: number; requestBody: string; responseBody: string });
    // listUserFields, getUser before each write, createOrUpdate, the check's reads, the undo's reads and writes.
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.every((l) => l.method === 'POST' && /\/SRConsAPI$/.test(l.url) && l.status === 200 && typeof l.ms === 'number')).toBe(true);
    expect(lines.some((l) => l.requestBody.includes('method=getUser') && l.responseBody.includes('"custom"'))).toBe(true);
    expect(lines.some((l) => l.requestBody.includes('method=createOrUpdate') && l.requestBody.includes('custom_string1=Silver'))).toBe(true);
    for (const secret of [env.LUMINATE_API_KEY, env.LUMINATE_LOGIN_PASSWORD, env.LUMINATE_LOGIN_NAME]) {
      expect(secret!.length).toBeGreaterThan(3);
      expect(text).not.toContain(secret);
      expect(text).not.toContain(encodeURIComponent(secret!));
    }
    expect(statSync(trace).mode & 0o777).toBe(0o600);
  });

  it('Salsa: the token never appears, neither in headers nor anywhere else', async () => {
    const { startSalsaSandbox } = await import('../support/helpers.js');
    const sb = await startSalsaSandbox();
    closing(sb.sandbox);
    const dir = tempDir();
    const input = join(dir, 's.csv');
    writeFileSync(input, csv(['Email', 'First Name'], [['a@example.org', 'A'], ['b@example.org', 'B']]));
    const trace = join(dir, 'trace.jsonl');
    expect((await runInProcess(['import', input, '-r', join(dir, 'r.csv'), '--trace', trace, '--quiet'], { env: sb.env })).code).toBe(0);
    const text = readFileSync(trace, 'utf8');
    expect(text).not.toContain(sb.token);
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as { method: string; url: string; requestHeaders: Record<string, string> });
    expect(lines.map((l) => `${l.method} ${new URL(l.url).pathname}`)).toEqual(expect.arrayContaining(['GET /api/integration/ext/v1/metrics', 'PUT /api/integration/ext/v1/supporters']));
    expect(lines.every((l) => l.requestHeaders.authToken === '***')).toBe(true);
  });
});
