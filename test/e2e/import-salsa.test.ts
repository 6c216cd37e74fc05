import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { csv, tempDir, readReport, ROOT, runCli, runInProcess, startSalsaSandbox, type TestSandbox } from '../support/helpers.js';

const FIXTURE = join(ROOT, 'fixtures/contacts.csv');
const FIXTURE_JSONL = join(ROOT, 'fixtures/contacts.jsonl');

/** What fixtures/contacts.csv was built to contain (scripts/make-fixtures.mjs). */
const INVALID_ROWS = new Set([12, 25, 181]);
/** Rows with an optional value that cannot be used: they land without it, and say so. */
// "Calif." (row 69) is no state Salsa takes: the row goes without it, as with a bad date or gender.
const WITHOUT_VALUE = new Map([[38, 'dateOfBirth'], [53, 'gender'], [69, 'state']]);
const DUPLICATE_ROW = 151; // same email as row 41: the later row wins

function fixtureRows(): Record<string, string>[] {
  return parse(readFileSync(FIXTURE), { columns: true, relax_column_count: true, bom: true }) as Record<string, string>[];
}

let running: TestSandbox | undefined;
afterEach(async () => {
  await running?.sandbox.close();
  running = undefined;
});

function expectFinalState(sb: TestSandbox) {
  const rows = fixtureRows();
  const expected = new Map<string, string>();
  rows.forEach((r, i) => {
    const row = i + 1;
    if (INVALID_ROWS.has(row)) return;
    expected.set(r.Email!.trim().toLowerCase(), r['First Name']!);
  });
  const remote = sb.salsa.supporters();
  const byEmail = new Map(remote.map((s) => [String((s.contacts as Array<{ type: string; value: string }>).find((c) => c.type === 'EMAIL')!.value).trim().toLowerCase(), s]));
  expect(byEmail.size).toBe(expected.size);
  for (const [email, firstName] of expected) expect(byEmail.get(email)?.firstName, email).toBe(firstName);
  return byEmail;
}

describe('import into Salsa, end to end (the real bin against the sandbox)', () => {
  it('with faults injected: every valid row lands with the last values, every row reported once and in order', async () => {
    running = await startSalsaSandbox({ rateLimit: 6000, faults: '503:0.08,504:0.06,429:0.04,429-bare:0.03,reset:0.04,reset-after:0.03,truncated:0.03,ratetext:0.03,seed=11' });
    const dir = tempDir();
    const reportPath = join(dir, 'out.report.csv');
    const res = await runInProcess(['import', FIXTURE, '-r', reportPath, '-c', '3', '--retries', '12'], { env: running.env });
    expect(res.stderr).not.toMatch(/internal error/);
    expect(res.code).toBe(1); // the fixture's bad rows did not succeed

    const report = readReport(reportPath);
    expect(report.map((r) => Number(r.row))).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    const byEmail = expectFinalState(running);
    for (const r of report) {
      const row = Number(r.row);
      if (INVALID_ROWS.has(row)) expect(r.status, `row ${row}`).toBe('INVALID');
      else {
        expect(['ADDED', 'UPDATED'], `row ${row}: ${r.error_message}`).toContain(r.status);
        if (WITHOUT_VALUE.has(row)) expect(r.error_message, `row ${row}`).toMatch(new RegExp(`^not sent: ${WITHOUT_VALUE.get(row)} `));
        expect(r.remote_id).toBe(byEmail.get(r.key)?.supporterId);
        expect(Number(r.attempts)).toBeGreaterThanOrEqual(1);
      }
    }
    expect(report.find((r) => r.row === String(DUPLICATE_ROW))!.status).toBe('UPDATED');
    expect(report.some((r) => Number(r.attempts) > 1)).toBe(true); // the faults were felt and retried

    const stats = running.sandbox.stats;
    expect(Object.values(stats.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(3);
    expect(stats.maxItemsPerRequest).toBeLessThanOrEqual(20);
    expect(stats.maxInFlight).toBeLessThanOrEqual(3);
    const everything = res.stdout + res.stderr + readFileSync(reportPath, 'utf8');
    expect(everything).not.toContain(running.token);
  });

  it('reads the JSONL twin the same way; a bad JSON line is INVALID with its line number', async () => {
    running = await startSalsaSandbox({ rateLimit: 6000 });
    const reportPath = join(tempDir(), 'r.report.jsonl');
    const res = await runInProcess(['import', FIXTURE_JSONL, '-r', reportPath, '--json'], { env: running.env });
    expect(res.code).toBe(1);
    const summary = JSON.parse(res.stdout) as { rows: number; counts: Record<string, number>; exitCode: number; report: string };
    expect(summary).toMatchObject({ rows: 300, exitCode: 1, report: reportPath });
    expect(summary.counts).toEqual({ INVALID: 3, UPDATED: 1, ADDED: 296 });
    const report = readReport(reportPath);
    expect(report).toHaveLength(300);
    expect(report[180]).toMatchObject({ row: 181, line: 181, status: 'INVALID' });
    expect(String(report[180]!.error_message)).toMatch(/not valid JSON/);
    expectFinalState(running);
  });

  it('JSONL keys that first appear deep in the file are matched like those of the first line (import and validate)', async () => {
    // 4,000 lines of ~170 bytes, three 256 KB read chunks: "Mobile" and "Date of Birth" first appear at line 3,001.
    const lines = Array.from({ length: 4000 }, (_, i) => {
      const o: Record<string, string> = { Email: `late${i + 1}@example.org`, 'First Name': `P${i + 1}`, 'Address 1': `${i} ${'Long Street Name '.repeat(6)}` };
      if (i >= 3000) Object.assign(o, { Mobile: `555-01${i}`, 'Date of Birth': i === 3500 ? '1990-02-30' : '1990-02-03' });
      return JSON.stringify(o);
    });
    const file = join(tempDir(), 'late.jsonl');
    writeFileSync(file, lines.join('\n') + '\n');

    const validated = join(tempDir(), 'v.csv');
    const v = await runInProcess(['validate', file, '-r', validated, '--json']);
    expect(JSON.parse(v.stdout).counts).toEqual({ DRY_RUN: 4000 });
    expect(readReport(validated)[3500]).toMatchObject({ row: '3501', status: 'DRY_RUN', error_message: expect.stringContaining('not sent: dateOfBirth "1990-02-30" is not a date') });

    running = await startSalsaSandbox({ rateLimit: 100_000 });
    const res = await runInProcess(['import', file, '-r', join(tempDir(), 'i.csv'), '-c', '8', '--json'], { env: running.env });
    expect(JSON.parse(res.stdout).counts).toEqual({ ADDED: 4000 });
    const byEmail = new Map(running.salsa.supporters().map((s) => [(s.contacts as Array<{ type: string; value: string }>).find((c) => c.type === 'EMAIL')!.value, s]));
    expect(byEmail.get('late3001@example.org')).toMatchObject({ dateOfBirth: '1990-02-03T12:00:00.000Z', contacts: expect.arrayContaining([expect.objectContaining({ type: 'CELL_PHONE', value: '555-013000' })]) });
    expect(byEmail.get('late10@example.org')!.dateOfBirth).toBeUndefined();
  });

  it('paces to the account rate: no 429 at the published 300 calls a minute', async () => {
    running = await startSalsaSandbox({ rateLimit: 300 });
    const dir = tempDir();
    const file = join(dir, 'few.csv');
    writeFileSync(file, csv(['Email', 'First Name'], Array.from({ length: 200 }, (_, i) => [`p${i}@example.org`, `P${i}`])));
    const res = await runInProcess(['import', file, '-c', '8', '--json'], { env: running.env });
    expect(res.code).toBe(0);
    expect(running.sandbox.stats.statuses['429'] ?? 0).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ rows: 200, counts: { ADDED: 200 }, exitCode: 0, rateLimited: 0 });
    expect(existsSync(join(dir, 'few.report.csv'))).toBe(true); // default report path: beside the input
  });

  it('a refused token aborts with exit 3, and the report still lists every row', async () => {
    running = await startSalsaSandbox();
    const reportPath = join(tempDir(), 'r.csv');
    const res = await runInProcess(['import', FIXTURE, '-r', reportPath], { env: { ...running.env, SALSA_API_TOKEN: 'wrong-token-value' } });
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/refused the API token/);
    expect(res.stderr).toMatch(/--resume/);
    const report = readReport(reportPath);
    expect(report).toHaveLength(300);
    expect(new Set(report.map((r) => r.status))).toEqual(new Set(['NOT_ATTEMPTED', 'INVALID']));
    expect(running.salsa.supporters()).toHaveLength(0);
    expect(res.stdout + res.stderr + readFileSync(reportPath, 'utf8')).not.toContain('wrong-token-value');
  });

  it('--sandbox needs no credentials and nothing else (the README command)', async () => {
    const reportPath = join(tempDir(), 'r.csv');
    const res = await runCli(['import', 'fixtures/contacts.csv', '--sandbox', '-r', reportPath]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/ADDED 296 · UPDATED 1 · INVALID 3\n/);
    expect(res.stderr).toMatch(/Columns not used: Notes/);
    // Its own metrics read is not another integration's use of the token.
    expect(res.stderr).not.toMatch(/available now/);
    expect(readReport(reportPath)).toHaveLength(300);
  });

  it('reads stdin with --format', async () => {
    running = await startSalsaSandbox();
    const dir = tempDir();
    const res = await runCli(['import', '-', '--format', 'csv', '--json', '--quiet'], { env: running.env, cwd: dir, stdin: csv(['email'], [['a@example.org'], ['b@example.org']]) });
    expect(res.code).toBe(0);
    expect(res.stderr).toBe('');
    expect(readReport(join(dir, 'sync-report.csv')).map((r) => r.status)).toEqual(['ADDED', 'ADDED']);
  });
});

describe('validate and --dry-run send nothing', () => {
  it('validate checks every row and exits 1 when some are invalid', async () => {
    running = await startSalsaSandbox();
    const reportPath = join(tempDir(), 'v.csv');
    const res = await runInProcess(['validate', FIXTURE, '-r', reportPath, '--json'], { env: running.env });
    expect(res.code).toBe(1);
    expect(JSON.parse(res.stdout).counts).toEqual({ DRY_RUN: 297, INVALID: 3 });
    expect(running.sandbox.stats.requests).toBe(0);
    // The log line names what ran: a validate must not read like an import in a cron log.
    expect(res.stderr).toContain('Validate → Salsa Engage: started');
    expect(res.stderr).not.toContain('Import →');
  });

  it('--dry-run needs no credentials and exits 0 on a clean file', async () => {
    const dir = tempDir();
    const file = join(dir, 'ok.csv');
    writeFileSync(file, csv(['E-mail', 'firstname'], [['x@example.org', 'X']]));
    const res = await runInProcess(['import', file, '--dry-run', '--quiet']);
    expect(res.code).toBe(0);
    expect(readReport(join(dir, 'ok.dry-run.report.csv'))[0]).toMatchObject({ status: 'DRY_RUN', key: 'x@example.org' });
  });
});

describe('exit 2: nothing sent, a message that says what to do', () => {
  const cases: Array<[string, () => { args: string[]; stdin?: string }, RegExp]> = [
    ['missing file', () => ({ args: ['import', 'nope.csv', '--sandbox'] }), /Cannot read input file nope\.csv: no such file/],
    ['empty file', () => { const f = join(tempDir(), 'e.csv'); writeFileSync(f, ''); return { args: ['import', f, '--sandbox'] }; }, /is empty/],
    ['header only', () => { const f = join(tempDir(), 'h.csv'); writeFileSync(f, 'Email,First Name\n'); return { args: ['import', f, '--sandbox'] }; }, /header but no data rows/],
    ['stdin without --format', () => ({ args: ['import', '-', '--sandbox'] }), /needs --format/],
    ['no credentials', () => ({ args: ['import', FIXTURE] }), /Missing SALSA_API_TOKEN.*\.env/],
    ['unknown target', () => ({ args: ['import', FIXTURE, '-t', 'nationbuilder'] }), /Unknown target "nationbuilder"/],
    ['bad number', () => ({ args: ['import', FIXTURE, '-c', 'lots', '--sandbox'] }), /--concurrency must be a whole number/],
    ['unknown option', () => ({ args: ['import', FIXTURE, '--frobnicate'] }), /unknown option/],
  ];
  for (const [name, make, message] of cases) {
    it(name, async () => {
      const { args } = make();
      const res = await runInProcess(args);
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(message);
      expect(res.stderr).not.toMatch(/\n\s+at /); // no stack trace
    });
  }
});

describe('hostile input through the CLI', () => {
  it('reads a latin1 export with --encoding latin1, and names invalid UTF-8 without it', async () => {
    const dir = tempDir();
    const file = join(dir, 'excel.csv');
    writeFileSync(file, Buffer.concat([Buffer.from('Email;First Name\r\njurg@example.org;J'), Buffer.from([0xfc]), Buffer.from('rg\r\n')]));
    const bad = await runInProcess(['validate', file, '--quiet']);
    expect(bad.code).toBe(1);
    expect(readReport(join(dir, 'excel.validate.report.csv'))[0]!.error_message).toMatch(/column "First Name" is not valid UTF-8.*--encoding latin1/);
    // Naming UTF-8 the way people write it changes nothing: the bad byte is still caught, never sent as U+FFFD.
    for (const spelling of ['UTF-8', 'utf-8', 'UTF8']) {
      await runInProcess(['validate', file, '--quiet', '--encoding', spelling, '-r', join(dir, 'spelled.report.csv')]);
      expect(readReport(join(dir, 'spelled.report.csv'))[0]!.error_message, spelling).toMatch(/is not valid UTF-8/);
    }
    const good = await runInProcess(['import', file, '--encoding', 'latin1', '--dry-run', '--quiet', '-r', join(dir, 'ok.report.jsonl')]);
    expect(good.code).toBe(0);
    expect(readReport(join(dir, 'ok.report.jsonl'))[0]).toMatchObject({ status: 'DRY_RUN', key: 'jurg@example.org' });
  });

  it('duplicate headers stop the run with exit 2 before anything is sent', async () => {
    const file = join(tempDir(), 'dup.csv');
    writeFileSync(file, 'Email,Name,EMAIL\na@x.org,A,b@x.org\n');
    const res = await runInProcess(['import', file, '--sandbox']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/dup\.csv, line 1: the header names column "EMAIL" twice \(columns 1 and 3\)/);
  });
});
