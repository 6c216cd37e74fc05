import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { csv, readReport, ROOT, runCli, runInProcess, startSalsaSandbox, tempDir, type TestSandbox } from '../support/helpers.js';

// Real exports into the sandbox, judged by what the CRM holds afterwards: nothing the file did not mention is
// erased, every column lands where it means, and no date is read the wrong way round.

let sb: TestSandbox | undefined;
afterEach(async () => {
  await sb?.sandbox.close();
  sb = undefined;
});

const EXPORTS = join(ROOT, 'fixtures/exports');
type Supporter = Record<string, unknown> & { contacts?: Array<{ type: string; value: string }>; address?: Record<string, string> };
const byEmail = (t: TestSandbox) =>
  new Map((t.salsa.supporters() as Supporter[]).map((s) => [s.contacts?.find((c) => c.type === 'EMAIL')?.value.toLowerCase(), s]));
const FULL = { addressLine1: '1 Elm Rd', addressLine2: 'Unit 5', city: 'Boston', state: 'MA', postalCode: '02108', country: 'US' };

describe('a partly mapped address never wipes the stored one', () => {
  it('ActionNetwork (zip only): existing supporters keep their whole address, a new one gets its zip, and the report and summary say so', async () => {
    sb = await startSalsaSandbox();
    sb.salsa.seed!([
      { firstName: 'Ann', contacts: [{ type: 'EMAIL', value: 'ann.lee@example.org' }], address: { ...FULL } },
      { firstName: 'Bo', contacts: [{ type: 'EMAIL', value: 'bo.chen@example.org' }], address: { ...FULL, addressLine1: '22 Pine St', city: 'Portland' } },
    ]);
    const dir = tempDir();
    const res = await runInProcess(['import', join(EXPORTS, 'actionnetwork.csv'), '-r', join(dir, 'an.report.csv')], { env: sb.env });
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/Note: an address replaces the stored one whole: .* a partial one \(no street or no city\) goes only to a supporter this run creates/);
    expect(res.stderr).toMatch(/2 rows: address not sent: not a whole address/);
    const after = byEmail(sb);
    expect(after.get('ann.lee@example.org')!.address).toEqual(FULL);
    expect(after.get('bo.chen@example.org')!.address).toEqual({ ...FULL, addressLine1: '22 Pine St', city: 'Portland' });
    expect(after.get('eve.fox@example.org')!.address).toEqual({ postalCode: '10001' });
    expect(readReport(join(dir, 'an.report.csv')).map((r) => [r.key, r.status, r.error_message.slice(0, 17)])).toEqual([
      ['ann.lee@example.org', 'UPDATED', 'address not sent:'],
      ['bo.chen@example.org', 'UPDATED', 'address not sent:'],
      ['eve.fox@example.org', 'ADDED', ''],
    ]);
    // Replacing is a choice a person makes, and then it does what it says.
    expect((await runInProcess(['import', join(EXPORTS, 'actionnetwork.csv'), '--address', 'replace', '--quiet', '-r', join(dir, 'an2.report.csv')], { env: sb.env })).code).toBe(0);
    expect(byEmail(sb).get('ann.lee@example.org')!.address).toEqual({ postalCode: '02108' });
  });

  it("Mailchimp's combined Address is split into its parts; REGION (where the IP was) and a year-less Birthday are not sent", async () => {
    sb = await startSalsaSandbox();
    const dir = tempDir();
    const res = await runInProcess(['import', join(EXPORTS, 'mailchimp.csv'), '-r', join(dir, 'mc.report.csv'), '--json'], { env: sb.env });
    expect(JSON.parse(res.stdout)).toMatchObject({ rows: 4, counts: { ADDED: 3, INVALID: 1 }, exitCode: 1 });
    const s = byEmail(sb);
    expect(s.get('ann.lee@example.org')).toMatchObject({ firstName: 'Ann', lastName: 'Lee', address: { addressLine1: '1 Elm Rd', city: 'Boston', state: 'MA', postalCode: '02108', country: 'US' } });
    expect(s.get('bo.chen@example.org')!.address).toEqual({ addressLine1: '22 Pine St', addressLine2: 'Apt 3', city: 'Portland', state: 'OR', postalCode: '97201', country: 'US' });
    expect(s.get('ann.lee@example.org')!.dateOfBirth).toBeUndefined();
    expect(res.stderr).toMatch(/"Birthday" has no years .* not sent as dateOfBirth/);
    expect(readReport(join(dir, 'mc.report.csv'))[3]).toMatchObject({ line: '5', status: 'INVALID', error_message: 'email "not-an-email" is not a valid email address' });
  });
});

describe('dates are read by their column, never guessed row by row', () => {
  const dobFile = (dir: string, dates: string[]) => {
    const file = join(dir, 'dob.csv');
    writeFileSync(file, csv(['Email', 'First Name', 'DOB'], dates.map((d, i) => [`p${i}@example.org`, `P${i}`, d])));
    return file;
  };

  it('a day-first column: 05/03/1975 is 5 March because 31/12/1980 in the same column settles it', async () => {
    sb = await startSalsaSandbox();
    const file = dobFile(tempDir(), ['05/03/1975', '31/12/1980', '1990-01-02', '12/31/1980']);
    const report = join(tempDir(), 'dob.report.csv');
    const res = await runInProcess(['import', file, '--json', '-r', report], { env: sb.env });
    // 12/31/1980 cannot be day-first: that person lands without a date of birth, and the line says why.
    expect(JSON.parse(res.stdout).counts).toEqual({ ADDED: 4 });
    const dob = (e: string) => String(byEmail(sb!).get(e)!.dateOfBirth).slice(0, 10);
    expect([dob('p0@example.org'), dob('p1@example.org'), dob('p2@example.org')]).toEqual(['1975-03-05', '1980-12-31', '1990-01-02']);
    expect(byEmail(sb).get('p3@example.org')!.dateOfBirth).toBeUndefined();
    expect(readReport(report)[3]!.error_message).toBe(`not sent: dateOfBirth (from "DOB"): "12/31/1980" is not a date in this column's day/month/year order (other rows settle it)`);
    expect(res.stderr).toMatch(/rows that went without a value that could not be used: dateOfBirth 1 .*--strict-values/);
    // --strict-values: such a row is INVALID, as before.
    const strict = await runInProcess(['import', file, '--json', '--strict-values', '-r', join(tempDir(), 'strict.report.csv')], { env: sb.env });
    expect(JSON.parse(strict.stdout).counts).toEqual({ UPDATED: 3, INVALID: 1 });
    expect(res.stderr).toMatch(/dates in "DOB" are read day-first .* "31\/12\/1980" \(line 3\)/);
  });

  it('a column that reads both ways is refused before anything is sent, with the fix; --date-order settles it', async () => {
    sb = await startSalsaSandbox();
    const file = dobFile(tempDir(), ['05/03/1975', '01/02/1980']);
    const refused = await runInProcess(['import', file], { env: sb.env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/every date in column "DOB" can be read day-first or month-first \(e\.g\. "05\/03\/1975" on line 2\).*--date-order dmy/);
    expect(sb.salsa.supporters()).toHaveLength(0);
    expect((await runInProcess(['import', file, '--date-order', 'mdy', '--quiet'], { env: sb.env })).code).toBe(0);
    expect(String(byEmail(sb).get('p0@example.org')!.dateOfBirth).slice(0, 10)).toBe('1975-05-03');
  });

  it('stdin cannot be surveyed: an ambiguous date before the column is settled is not sent (the line says how to settle it), later ones follow the settled order', async () => {
    sb = await startSalsaSandbox();
    const dir = tempDir();
    const text = csv(['Email', 'DOB'], [['a@example.org', '05/03/1975'], ['b@example.org', '31/12/1980'], ['c@example.org', '04/02/1990']]);
    const res = await runCli(['import', '-', '--format', 'csv', '-r', join(dir, 'in.report.csv'), '--json'], { env: sb.env, stdin: text, cwd: dir });
    // Never guessed: the first row goes without its date of birth, and its line says how to settle the order.
    expect(JSON.parse(res.stdout).counts).toEqual({ ADDED: 3 });
    expect(byEmail(sb).get('a@example.org')!.dateOfBirth).toBeUndefined();
    expect(readReport(join(dir, 'in.report.csv'))[0]!.error_message).toMatch(/^not sent: dateOfBirth .*"05\/03\/1975" can be read day-first or month-first, and this column's order is not settled; say which with --date-order/);
    expect(String(byEmail(sb).get('c@example.org')!.dateOfBirth).slice(0, 10)).toBe('1990-02-04');
  });
});

describe('common exports map out of the box', () => {
  it('Google Contacts, Outlook, NationBuilder and EveryAction: emails, names, phones and addresses land in their fields', async () => {
    for (const name of ['google-contacts', 'outlook', 'nationbuilder', 'everyaction']) {
      sb = await startSalsaSandbox();
      const dir = tempDir();
      const res = await runInProcess(['import', join(EXPORTS, `${name}.csv`), '-r', join(dir, 'r.report.csv'), '--json'], { env: sb.env });
      const ann = byEmail(sb).get('ann.lee@example.org');
      expect(ann, name).toMatchObject({ firstName: 'Ann', lastName: 'Lee', address: { addressLine1: '1 Elm Rd', city: 'Boston', state: 'MA', postalCode: '02108' } });
      expect(ann!.contacts!.some((c) => c.type === 'HOME_PHONE' || c.type === 'CELL_PHONE'), name).toBe(true);
      expect(byEmail(sb).get('bo.chen@example.org'), name).toMatchObject({ firstName: 'Bo', lastName: 'Chen' });
      const report = readReport(join(dir, 'r.report.csv'));
      expect(report.filter((r) => r.status === 'ADDED').length, name).toBe(2);
      if (name === 'google-contacts') {
        // Bo's birthday has no year: the row goes, without it; Cy has no email: INVALID, said plainly.
        expect(report.map((r) => [r.status, r.error_message])).toEqual([
          ['ADDED', ''],
          ['ADDED', 'dateOfBirth: a date without a year was not sent'],
          ['INVALID', 'email is required (Salsa matches supporters by email; or give a supporterId)'],
        ]);
        expect(ann).toMatchObject({ title: 'Dr.', dateOfBirth: '1980-12-31T12:00:00.000Z' });
      }
      if (name === 'outlook') expect(byEmail(sb).get('bo.chen@example.org')!.dateOfBirth).toBeUndefined(); // 0/0/00 is Outlook's "none"
      expect(JSON.parse(res.stdout).exitCode, name).toBe(name === 'google-contacts' ? 1 : 0);
      await sb.sandbox.close();
      sb = undefined;
    }
  });

  it('an Excel latin1 file with German headers, semicolons, CRLF and day-first dotted dates lands whole with --encoding latin1', async () => {
    sb = await startSalsaSandbox();
    const dir = tempDir();
    const res = await runInProcess(['import', join(EXPORTS, 'excel-latin1.csv'), '--encoding', 'latin1', '-r', join(dir, 'x.report.csv'), '--json'], { env: sb.env });
    expect(JSON.parse(res.stdout)).toMatchObject({ counts: { ADDED: 2, INVALID: 1 }, exitCode: 1 });
    expect(byEmail(sb).get('jurgen.muller@example.org')).toMatchObject({ firstName: 'Jürgen', lastName: 'Müller', dateOfBirth: '1975-03-05T12:00:00.000Z', address: { addressLine1: 'Königstraße 5', postalCode: '70173', city: 'Stuttgart', country: 'DE' } });
    expect(byEmail(sb).get('zoe.dupont@example.org')).toMatchObject({ firstName: 'Zoë', dateOfBirth: '1980-12-31T12:00:00.000Z' });
  });

  it('the one column whose values are emails is the email column, said before the run', async () => {
    sb = await startSalsaSandbox();
    const file = join(tempDir(), 'odd.csv');
    writeFileSync(file, csv(['Contact', 'Name'], [['ann@example.org', 'Ann'], ['bo@example.org', 'Bo']]));
    const res = await runInProcess(['import', file], { env: sb.env });
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('Note: "Contact" holds the email addresses: it is read as email');
    expect([...byEmail(sb).keys()].sort()).toEqual(['ann@example.org', 'bo@example.org']);
  });

  it('a file with no email column, and two columns of emails neither named primary, stops before anything is sent, naming one', async () => {
    sb = await startSalsaSandbox();
    const dir = tempDir();
    const file = join(dir, 'odd.csv');
    writeFileSync(file, csv(['Contact', 'Referrer', 'Name'], [['ann@example.org', 'zed@example.org', 'Ann'], ['bo@example.org', 'zed@example.org', 'Bo']]));
    const res = await runInProcess(['import', file], { env: sb.env });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/no column maps to email or supporterId, so .* every row would be INVALID\. Column "Contact" holds email addresses: map it .*\{"fields": \{"email": "Contact"\}\}/);
    expect(sb.salsa.supporters()).toHaveLength(0);
  });
});

describe('init does not take postcodes, IP addresses or ids for phones', () => {
  it('proposes phones only for phone numbers, a Portuguese postcode as the postal code, and a Mailchimp address split', async () => {
    const dir = tempDir();
    const file = join(dir, 'mixed.csv');
    writeFileSync(
      file,
      csv(
        ['Email', 'Codigo', 'Last IP', 'Member Number', 'Contact', 'Address'],
        [
          ['a@example.org', '4000-001', '203.0.113.5', '123456789', '+351 912 345 678', '1 Elm Rd  Boston  MA 02108 US'],
          ['b@example.org', '1100-053', '198.51.100.7', '987654321', '+1 (617) 555-0101', '22 Pine St  Portland  OR  97201  US'],
        ],
      ),
    );
    const out = join(dir, 'map.json');
    expect((await runInProcess(['init', file, '--yes', '-o', out])).code).toBe(0);
    const fields = JSON.parse(readFileSync(out, 'utf8')).fields as Record<string, unknown>;
    expect(fields.homePhone).toBe('Contact');
    expect(fields.postalCode).toBe('Codigo');
    expect(Object.values(fields).filter((v) => JSON.stringify(v).match(/Last IP|Member Number/))).toEqual([]);
    expect(fields.addressLine1).toEqual({ column: 'Address', transform: 'address' });
  });
});

describe('init and a tags column', () => {
  it('Mailchimp TAGS and NationBuilder tag_list: said to be segments (with the mapping line to add), never mapped on its own', async () => {
    const dir = tempDir();
    for (const [name, column] of [['mailchimp', 'TAGS'], ['nationbuilder', 'tag_list']] as const) {
      const out = join(dir, `${name}.json`);
      const res = await runInProcess(['init', join(EXPORTS, `${name}.csv`), '--yes', '-o', out]);
      expect(res.code).toBe(0);
      expect(res.stderr).toContain(`${column}: tags: to put each row into the segments it names, add "segments": {"column": "${column}", "separator": ","} under "fields"`);
      expect(res.stderr).not.toMatch(new RegExp(`${column}: not a standard field`));
      // Memberships are a choice: the written mapping does not make them.
      expect(readFileSync(out, 'utf8')).not.toContain(column);
    }
  });
});

