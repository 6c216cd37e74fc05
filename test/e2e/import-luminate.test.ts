import { readFileSync, writeFileSync as writeFile } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import type { Emulator, EmulatorRequest } from '../../src/sandbox/emulator-types.js';
import { createLuminateEmulator } from '../../src/targets/luminate/emulator.js';
import { csv, tempDir, readReport, ROOT, runInProcess } from '../support/helpers.js';

const FIXTURE = join(ROOT, 'fixtures/contacts.csv');
const PASSWORD = `pw-${Math.random().toString(36).slice(2)}-SECRET`;
const API_KEY = `key-${Math.random().toString(36).slice(2)}-SECRET`;

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

/** A Luminate site that also records where each credential arrived. */
async function site(faults?: string) {
  const lum = createLuminateEmulator({ apiKey: API_KEY, loginPassword: PASSWORD });
  const seen: EmulatorRequest[] = [];
  const spy: Emulator = { ...lum, handle: (req) => (seen.push(req), lum.handle(req)) };
  sandbox = await startSandbox({ emulators: [spy], faults });
  const env = lum.environment(sandbox.url);
  return { lum, seen, env };
}

describe('import into Luminate Online (the real bin against the sandbox)', () => {
  it('with 503s injected: every valid row is a constituent with the last values; each row reported once with its cons_id or error code', async () => {
    const { lum, seen, env } = await site('503:0.2,504:0.05,reset:0.05,seed=5');
    const reportPath = join(tempDir(), 'lum.report.csv');
    const res = await runInProcess(['import', FIXTURE, '-t', 'luminate', '-r', reportPath, '--retries', '12', '-c', '4'], { env });
    expect(res.stderr).not.toMatch(/internal error/);
    expect(res.code).toBe(1);
    const report = readReport(reportPath);
    expect(report.map((r) => Number(r.row))).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));

    const rows = parse(readFileSync(FIXTURE), { columns: true, relax_column_count: true }) as Record<string, string>[];
    const constituents = lum.constituents();
    // Matched by email: an "External ID" column is not taken for member_id (it would change Luminate's lookup).
    expect(constituents.every((c) => c.member_id === undefined)).toBe(true);
    const byEmail = new Map(constituents.map((c) => [c['email.primary_address']!.toLowerCase(), c]));
    const expected = new Map<string, Record<string, string>>();
    report.forEach((r, i) => {
      const input = rows[i]!;
      if (r.status === 'ADDED' || r.status === 'UPDATED') {
        expect(r.remote_id).toMatch(/^\d+$/);
        expect(byEmail.get(input.Email!.trim().toLowerCase())?.cons_id).toBe(r.remote_id);
        expected.set(input.Email!.trim().toLowerCase(), input);
      }
    });
    // Which rows fail is known from the fixture: 3 refused locally (row 25 has no email, only an external id); row
    // 53's gender "Unknown" is not one of the site's choices (read from listUserFields), and row 38's date of birth is
    // not a date: those two land without that value, and their lines say so.
    expect(report.filter((r) => r.status === 'INVALID').map((r) => r.row)).toEqual(['12', '25', '181']);
    expect(report[24]!.error_message).toMatch(/primary_email is required to create a constituent/);
    expect(report[52]!.error_message).toBe('not sent: gender "Unknown" is not one of this site\'s choices (Male, Female, Nonbinary, Prefer not to say)');
    expect(report[37]!.error_message).toMatch(/^not sent: birth_date/);
    expect(byEmail.get(rows[52]!.Email!.trim().toLowerCase())!.gender).toBeUndefined();
    expect(constituents.filter((c) => c.gender).every((c) => c.gender === 'Male' || c.gender === 'Female')).toBe(true);
    expect(report.filter((r) => r.status === 'VALIDATION_ERROR')).toEqual([]);
    expect(report[150]).toMatchObject({ status: 'UPDATED', remote_id: report[40]!.remote_id }); // row 151 repeats row 41
    expect(constituents).toHaveLength(expected.size);
    for (const [email, input] of expected) {
      expect(byEmail.get(email)!['name.first']).toBe(input['First Name']);
    }
    expect(report.some((r) => Number(r.attempts) > 1)).toBe(true);
    expect(sandbox!.stats.faults['503']).toBeGreaterThan(10);

    // The password and key travel only in POST bodies: never in a URL, a header, the output or the report.
    for (const req of seen) {
      expect(req.method).toBe('POST');
      expect(req.query).toBe('');
      expect(JSON.stringify(req.headers)).not.toContain(PASSWORD);
      expect(new URLSearchParams(req.body).get('login_password')).toBe(PASSWORD);
    }
    const everything = res.stdout + res.stderr + readFileSync(reportPath, 'utf8');
    expect(everything).not.toContain(PASSWORD);
    expect(everything).not.toContain(API_KEY);
  });

  it('a wrong password ends the run with exit 3, a message saying what to fix, and a full report', async () => {
    const { lum, env } = await site();
    const reportPath = join(tempDir(), 'r.csv');
    const res = await runInProcess(['import', FIXTURE, '-t', 'luminate', '-r', reportPath], { env: { ...env, LUMINATE_LOGIN_PASSWORD: 'not-the-password' } });
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/ABORTED: Luminate refused the login \(code 3/);
    expect(res.stderr).toMatch(/API Administrators/);
    const report = readReport(reportPath);
    expect(report).toHaveLength(300);
    expect(new Set(report.map((r) => r.status))).toEqual(new Set(['NOT_ATTEMPTED', 'INVALID']));
    expect(lum.constituents()).toHaveLength(0);
    expect(res.stdout + res.stderr + readFileSync(reportPath, 'utf8')).not.toContain('not-the-password');
  });

  it('updates by cons_id, reports an unknown cons_id as NOT_FOUND, and sends opt-in as email.accepts_email', async () => {
    const { lum, env } = await site();
    lum.seed!([{ cons_id: '2000001', 'email.primary_address': 'old@example.org', 'name.first': 'Old' }]);
    const dir = tempDir();
    const file = join(dir, 'c.csv');
    writeFile(file, csv(['Cons ID', 'Email', 'First Name', 'Opt In'], [['2000001', 'new@example.org', 'New', 'yes'], ['9999999', '', 'Ghost', ''], ['', 'fresh@example.org', 'Fresh', 'Y']]));
    const res = await runInProcess(['import', file, '-t', 'luminate', '--json'], { env });
    expect(res.code).toBe(1);
    expect(readReport(join(dir, 'c.report.csv')).map((r) => [r.key, r.status, r.remote_id, r.error_code])).toEqual([
      ['2000001', 'UPDATED', '2000001', ''],
      ['9999999', 'NOT_FOUND', '', '16'],
      ['fresh@example.org', 'ADDED', '2000002', ''],
    ]);
    const byId = new Map(lum.constituents().map((c) => [c.cons_id, c]));
    expect(byId.get('2000001')).toMatchObject({ 'name.first': 'New', 'email.primary_address': 'new@example.org', 'email.accepts_email': 'true' });
    expect(byId.get('2000002')).toMatchObject({ 'name.first': 'Fresh', 'email.accepts_email': 'true' });
  });

  it('checks Luminate lengths locally, naming the field', async () => {
    const dir = tempDir();
    const file = join(dir, 'long.csv');
    writeFile(file, csv(['Email', 'First Name', 'State'], [['a@example.org', 'x'.repeat(51), 'OR'], ['b@example.org', 'B', 'y'.repeat(31)]]));
    // A value too long for its field is not cut: the row goes without it (or, --strict-values, is INVALID).
    const res = await runInProcess(['validate', file, '-t', 'luminate', '--quiet']);
    expect(res.code).toBe(0);
    expect(readReport(join(dir, 'long.validate.report.csv')).map((r) => r.error_message)).toEqual([
      // (A state alone is not a whole address: not sent over a stored one.)
      'not sent: name.first is 51 characters long; Luminate accepts at most 50; address not sent: not a whole address (a street and a city, with a state or zip column), and Luminate keeps the parts of a stored address a request leaves out, so it would mix with the stored one; it is sent only to a constituent the run creates (--address replace sends it anyway)',
      expect.stringMatching(/^not sent: primary_address.state is 31 characters long; Luminate accepts at most 30/),
    ]);
    const strict = await runInProcess(['validate', file, '-t', 'luminate', '--quiet', '--strict-values', '-r', join(dir, 'strict.csv')]);
    expect(strict.code).toBe(1);
    expect(readReport(join(dir, 'strict.csv')).map((r) => r.status)).toEqual(['INVALID', 'INVALID']);
  });

  it('missing credentials and delete are exit 2 with a message that names what to do', async () => {
    const missing = await runInProcess(['import', FIXTURE, '-t', 'luminate'], { env: { LUMINATE_API_URL: 'https://secure2.convio.net/org/site' } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/Missing LUMINATE_API_KEY, LUMINATE_LOGIN_NAME, LUMINATE_LOGIN_PASSWORD/);
    const del = await runInProcess(['delete', FIXTURE, '-t', 'luminate', '--sandbox']);
    expect(del.code).toBe(2);
    expect(del.stderr).toMatch(/has no delete method.*SOAP API/);
    const plain = await runInProcess(['import', FIXTURE, '-t', 'luminate'], { env: { LUMINATE_API_URL: 'http://secure2.convio.net/org/site', LUMINATE_API_KEY: 'k', LUMINATE_LOGIN_NAME: 'n', LUMINATE_LOGIN_PASSWORD: 'p' } });
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/plain http:\/\/ to secure2\.convio\.net; use https/);
  });
});


describe("a date field of the site's own", () => {
  it('custom_date1 takes a year-first date; "2022-13-01" and "03/10/2023" go without it, each row saying why', async () => {
    const { lum, env } = await site();
    const dir = tempDir();
    const file = join(dir, 'gifts.csv');
    writeFile(file, csv(['Email', 'custom_date1'], [['a@example.org', '2022-05-01'], ['b@example.org', '2022-13-01'], ['c@example.org', '03/10/2023']]));
    const res = await runInProcess(['import', file, '-t', 'luminate', '-r', join(dir, 'r.csv'), '--quiet'], { env });
    expect(res.code).toBe(0);
    expect(readReport(join(dir, 'r.csv')).map((r) => [r.key, r.status, r.error_message.replace(/ \(.*/, '')])).toEqual([
      ['a@example.org', 'ADDED', ''],
      ['b@example.org', 'ADDED', 'not sent: custom_date1 "2022-13-01" is not a date in YYYY-MM-DD form'],
      ['c@example.org', 'ADDED', 'not sent: custom_date1 "03/10/2023" is not a date in YYYY-MM-DD form'],
    ]);
    expect(Object.fromEntries(lum.constituents().map((c) => [c['email.primary_address'], c.custom_date1 ?? '']))).toEqual({ 'a@example.org': '2022-05-01', 'b@example.org': '', 'c@example.org': '' });
  });
});
