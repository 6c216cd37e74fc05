import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { csv, readReport, runInProcess, startSalsaSandbox, tempDir, type TestSandbox } from '../support/helpers.js';

// What the real vendors do, as their own clients and captured answers show it: a status lives on a contact, an
// omitted status is undocumented, bounced addresses are read-only, search answers may carry no total.

let sb: TestSandbox | undefined;
afterEach(async () => {
  await sb?.sandbox.close();
  sb = undefined;
});

type Contact = { type: string; value: string; status?: string };
type Supporter = Record<string, unknown> & { supporterId: string; contacts?: Contact[] };
const all = () => sb!.salsa.supporters() as Supporter[];
const byEmail = (email: string) => all().find((s) => s.contacts?.some((c) => c.type === 'EMAIL' && c.value.toLowerCase() === email));
const status = (email: string, type = 'EMAIL') => byEmail(email)?.contacts?.find((c) => c.type === type)?.status;

describe('email and SMS subscription status', () => {
  it('an opt-out by supporterId with no email is INVALID, saying what the row needs — never a success that did nothing', async () => {
    sb = await startSalsaSandbox();
    sb.salsa.seed!([{ supporterId: '1f4d3ee4-af08-42bb-8ca2-50fc232e7b40', firstName: 'Ann', contacts: [{ type: 'EMAIL', value: 'ann@example.org', status: 'OPT_IN' }] }]);
    const dir = tempDir();
    const file = join(dir, 'optouts.csv');
    writeFileSync(file, csv(['Supporter ID', 'First Name', 'Email Status'], [['1f4d3ee4-af08-42bb-8ca2-50fc232e7b40', 'Ann', 'OPT_OUT']]));
    const res = await runInProcess(['import', file, '--json'], { env: sb.env });
    expect(JSON.parse(res.stdout).counts).toEqual({ INVALID: 1 });
    expect(readReport(join(dir, 'optouts.report.csv'))[0]!.error_message).toMatch(/emailStatus OPT_OUT has nothing to attach to: .*this row has no email\. Add the supporter's email address to the row/);
    expect(status('ann@example.org')).toBe('OPT_IN');
  });

  it('no status in the file: existing supporters keep theirs, created ones are OPT_OUT (not the account default), by a second call that the summary counts', async () => {
    sb = await startSalsaSandbox();
    sb.salsa.seed!([
      { firstName: 'Ann', contacts: [{ type: 'EMAIL', value: 'ann@example.org', status: 'OPT_IN' }] },
      { firstName: 'Cy', contacts: [{ type: 'EMAIL', value: 'cy@example.org', status: 'OPT_OUT' }] },
    ]);
    const dir = tempDir();
    const file = join(dir, 'list.csv');
    writeFileSync(file, csv(['Email', 'First Name', 'Mobile'], [['ann@example.org', 'Ann', ''], ['cy@example.org', 'Cy', ''], ['bo@example.org', 'Bo', '+16175550101']]));
    const res = await runInProcess(['import', file, '--json'], { env: sb.env });
    const summary = JSON.parse(res.stdout);
    expect(summary.counts).toEqual({ UPDATED: 2, ADDED: 1 });
    expect(summary.calls).toBe(2); // one batch, and one second call for the one created
    expect([status('ann@example.org'), status('cy@example.org'), status('bo@example.org'), status('bo@example.org', 'CELL_PHONE')]).toEqual(['OPT_IN', 'OPT_OUT', 'OPT_OUT', 'OPT_OUT']);
    expect(byEmail('bo@example.org')!.contacts!.map((c) => c.type).sort()).toEqual(['CELL_PHONE', 'EMAIL']);
    expect(res.stderr).toMatch(/1 supporter created: a second call was sent for what could not go in the first .*\(email status OPT_OUT where the row has none/);
  });

  it("a row's own status is sent as given; --new-email-status OPT_IN for a sign-up list; SMS opt-in rides on the cell phone", async () => {
    sb = await startSalsaSandbox();
    sb.salsa.seed!([{ firstName: 'Ann', contacts: [{ type: 'EMAIL', value: 'ann@example.org', status: 'OPT_IN' }] }]);
    const dir = tempDir();
    const file = join(dir, 'signup.csv');
    writeFileSync(file, csv(['Email', 'Email Status', 'Cell Phone', 'SMS Opt In'], [['ann@example.org', 'no', '', ''], ['dee@example.org', '', '+16175550102', 'yes'], ['eve@example.org', '', '', '']]));
    const res = await runInProcess(['import', file, '--new-email-status', 'OPT_IN', '--json'], { env: sb.env });
    expect(JSON.parse(res.stdout).exitCode).toBe(0);
    expect([status('ann@example.org'), status('dee@example.org'), status('dee@example.org', 'CELL_PHONE'), status('eve@example.org')]).toEqual(['OPT_OUT', 'OPT_IN', 'OPT_IN', 'OPT_IN']);
    const noCell = join(dir, 'nocell.csv');
    writeFileSync(noCell, csv(['Email', 'SMS Opt In'], [['fay@example.org', 'yes']]));
    await runInProcess(['import', noCell, '--quiet'], { env: sb.env });
    // An SMS opt-in with no number to attach to: the person lands, without it, and the line says so.
    expect(readReport(join(dir, 'nocell.report.csv'))[0]).toMatchObject({ status: 'ADDED', error_message: expect.stringMatching(/^not sent: smsStatus OPT_IN has nothing to attach to: .*no cell phone/) });
  });
});

describe('round trips and paging', () => {
  it('a delete backup re-imports as it is: a HARD_BOUNCE status goes back as OPT_OUT, a date of birth written at midnight east of UTC keeps its day', async () => {
    sb = await startSalsaSandbox();
    sb.salsa.seed!([
      // 27 May 1980 at midnight in Paris, as the vendor's own screens store it.
      { firstName: 'Gil', lastName: 'Roy', dateOfBirth: '1980-05-26T23:00:00.000Z', contacts: [{ type: 'EMAIL', value: 'gil@example.org', status: 'HARD_BOUNCE' }], address: { addressLine1: '1 Rue A', city: 'Paris', country: 'FR' } },
    ]);
    const dir = tempDir();
    const leavers = join(dir, 'leavers.csv');
    writeFileSync(leavers, csv(['Email'], [['gil@example.org']]));
    const del = await runInProcess(['delete', leavers], { env: sb.env });
    expect(del.code).toBe(0);
    expect(all()).toHaveLength(0);
    const backup = /backup of the 1 supporters being deleted: (\S+\.jsonl)/.exec(del.stderr)![1]!;
    expect(JSON.parse(readFileSync(backup, 'utf8'))).toMatchObject({ dateOfBirth: '1980-05-27', emailStatus: 'HARD_BOUNCE' });
    const back = await runInProcess(['import', backup, '-r', join(dir, 'back.report.csv')], { env: sb.env });
    expect(back.code).toBe(0);
    expect(byEmail('gil@example.org')).toMatchObject({ firstName: 'Gil', lastName: 'Roy', dateOfBirth: '1980-05-27T12:00:00.000Z', address: { addressLine1: '1 Rue A', city: 'Paris', country: 'FR' } });
    expect(status('gil@example.org')).toBe('OPT_OUT');
    expect(readReport(join(dir, 'back.report.csv'))[0]).toMatchObject({ status: 'ADDED', error_message: expect.stringMatching(/HARD_BOUNCE cannot be written through the API: sent as OPT_OUT/) });
  });

  it('a lookup pages past the first 20 matches though the answers carry no total', async () => {
    sb = await startSalsaSandbox();
    sb.salsa.seed!(Array.from({ length: 25 }, (_, i) => ({ firstName: `Dup${i}`, contacts: [{ type: 'EMAIL', value: 'shared@example.org' }] })));
    const dir = tempDir();
    const file = join(dir, 'one.csv');
    writeFileSync(file, csv(['Email'], [['shared@example.org']]));
    const res = await runInProcess(['delete', file, '--all-matches', '--dry-run', '--json'], { env: sb.env });
    expect(JSON.parse(res.stdout).counts).toEqual({ DRY_RUN: 1 });
    const ids = readReport(join(dir, 'one.dry-run.report.csv'))[0]!.remote_id.split(' ');
    expect(new Set(ids)).toEqual(new Set(all().map((s) => s.supporterId)));
    expect(ids).toHaveLength(25);
  });
});

describe('Luminate: lookup keys and the site\'s own fields', () => {
  async function luminateSite(seed: Array<Record<string, string>> = []) {
    const { createLuminateEmulator } = await import('../../src/targets/luminate/emulator.js');
    const { startSandbox } = await import('../../src/sandbox/server.js');
    const lum = createLuminateEmulator();
    lum.seed!(seed);
    const sandbox = await startSandbox({ emulators: [lum] });
    return { lum, sandbox, env: lum.environment(sandbox.url) };
  }

  it('an "External ID" column does not become member_id: an existing constituent is matched by email, not duplicated; init proposes it only with a warning', async () => {
    const { lum, sandbox, env } = await luminateSite([{ cons_id: '1001001', 'email.primary_address': 'ann@example.org', 'name.first': 'Ann' }]);
    try {
      const dir = tempDir();
      const file = join(dir, 'crm.csv');
      writeFileSync(file, csv(['Email', 'First Name', 'External ID'], [['ann@example.org', 'Annie', 'CRM-1']]));
      const res = await runInProcess(['import', file, '-t', 'luminate', '--json'], { env });
      expect(JSON.parse(res.stdout).counts).toEqual({ UPDATED: 1 });
      expect(res.stderr).toMatch(/Columns not used: External ID/);
      expect(lum.constituents()).toEqual([expect.objectContaining({ cons_id: '1001001', 'name.first': 'Annie' })]);
      expect(lum.constituents()[0]!.member_id).toBeUndefined();
      const init = await runInProcess(['init', file, '-t', 'luminate', '--yes', '-o', join(dir, 'map.json')]);
      expect(init.stderr).toMatch(/WARNING:\n\s+External ID → member_id: only if these are the site's own member ids: createOrUpdate then looks up by member_id before the email/);
    } finally {
      await sandbox.close();
    }
  });

  it("every createOrUpdate parameter and site field is accepted; gender goes out as the site's choice; a field the site lacks stops the run before sending", async () => {
    const { lum, sandbox, env } = await luminateSite([{ cons_id: '1001001', 'email.primary_address': 'ann@example.org', groups: '2001,2002', interests: '31' }]);
    try {
      const dir = tempDir();
      const file = join(dir, 'more.csv');
      writeFileSync(file, csv(['Email', 'Work', 'Street 3', 'Post', 'Leave', 'Stop Interest', 'Center', 'Sex'], [['ann@example.org', '617-555-0101', 'Floor 2', 'yes', '2001', '31', '7', 'f']]));
      const map = join(dir, 'map.json');
      writeFileSync(map, JSON.stringify({ fields: { primary_email: 'Email', work_phone: 'Work', 'primary_address.street3': 'Street 3', accepts_postal_mail: 'Post', remove_group_ids: 'Leave', remove_interest_ids: 'Stop Interest', add_center_ids: 'Center', gender: 'Sex' } }));
      const res = await runInProcess(['import', file, '-t', 'luminate', '-m', map, '--json'], { env });
      expect(JSON.parse(res.stdout)).toMatchObject({ counts: { UPDATED: 1 }, exitCode: 0 });
      expect(lum.constituents()[0]).toMatchObject({ work_phone: '617-555-0101', 'primary_address.street3': 'Floor 2', accepts_postal_mail: 'true', groups: '2002', interests: '', centers: '7', gender: 'Female' });

      const bad = join(dir, 'bad.json');
      writeFileSync(bad, JSON.stringify({ fields: { primary_email: 'Email', spouse_name: 'Work' } }));
      const refused = await runInProcess(['import', file, '-t', 'luminate', '-m', bad], { env });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/The mapping names fields Luminate Online will not take: spouse_name is not a field this site lets the API account update \(listUserFields\)/);
      const reserved = join(dir, 'reserved.json');
      writeFileSync(reserved, JSON.stringify({ fields: { primary_email: 'Email', api_key: 'Work' } }));
      expect((await runInProcess(['validate', file, '-t', 'luminate', '-m', reserved])).stderr).toMatch(/"api_key" is not a Luminate Online field/);
    } finally {
      await sandbox.close();
    }
  });
});

describe('clearing a field on purpose', () => {
  it('empty cells are skipped by default; --empty clear sends the clearing value, said before the run and on each row, never for a key or a phone', async () => {
    sb = await startSalsaSandbox();
    sb.salsa.seed!([{ firstName: 'Ann', title: 'Dr.', contacts: [{ type: 'EMAIL', value: 'ann@example.org', status: 'OPT_IN' }, { type: 'HOME_PHONE', value: '555-0100' }], address: { addressLine1: '1 Elm Rd', addressLine2: 'Apt 9', city: 'Boston' } }]);
    const dir = tempDir();
    const file = join(dir, 'fix.csv');
    writeFileSync(file, csv(['Email', 'Title', 'Address 1', 'Address 2', 'City', 'Zip', 'Phone'], [['ann@example.org', '', '1 Elm Rd', '', 'Boston', '02108', '']]));
    expect((await runInProcess(['import', file, '--quiet'], { env: sb.env })).code).toBe(0);
    // The empty Title cell is not sent; the row's whole address (street, city, zip, no apartment) replaces the stored one.
    expect(byEmail('ann@example.org')).toMatchObject({ title: 'Dr.', address: { addressLine1: '1 Elm Rd', city: 'Boston', postalCode: '02108' } });
    expect((byEmail('ann@example.org')!.address as Record<string, string>).addressLine2).toBeUndefined();

    const preview = await runInProcess(['import', file, '--empty', 'clear', '--dry-run', '--quiet'], { env: sb.env });
    expect(preview.code).toBe(0);
    expect(readReport(join(dir, 'fix.dry-run.report.csv'))[0]!.error_message).toBe('clears title, addressLine2');
    const res = await runInProcess(['import', file, '--empty', 'clear', '-r', join(dir, 'clear.report.csv')], { env: sb.env });
    expect(res.stderr).toMatch(/Note: --empty clear: an empty cell clears title, addressLine1, addressLine2, city, postalCode; never cleared: email \(it identifies the supporter\); homePhone \(Salsa refuses a contact without a value/);
    const ann = byEmail('ann@example.org')!;
    // Cleared: Engage leaves an empty part out of its answers.
    expect(ann).toMatchObject({ title: '', address: { addressLine1: '1 Elm Rd', city: 'Boston', postalCode: '02108' } });
    expect((ann.address as Record<string, string>).addressLine2).toBeUndefined();
    expect(ann.contacts!.find((c) => c.type === 'HOME_PHONE')!.value).toBe('555-0100');

    const map = join(dir, 'map.json');
    writeFileSync(map, JSON.stringify({ fields: { email: 'Email', homePhone: { column: 'Phone', empty: 'clear' } } }));
    const refused = await runInProcess(['validate', file, '-m', map]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/field "homePhone" cannot have "empty": "clear": Salsa refuses a contact without a value/);
  });

  it('Luminate: a mapping field with "empty": "clear" sends an empty parameter for that field only', async () => {
    const { createLuminateEmulator } = await import('../../src/targets/luminate/emulator.js');
    const { startSandbox } = await import('../../src/sandbox/server.js');
    const lum = createLuminateEmulator();
    lum.seed!([{ cons_id: '1001001', 'email.primary_address': 'ann@example.org', home_phone: '555-0100', 'name.title': 'Dr.' }]);
    const sandbox = await startSandbox({ emulators: [lum] });
    try {
      const dir = tempDir();
      const file = join(dir, 'l.csv');
      writeFileSync(file, csv(['Email', 'Phone', 'Title'], [['ann@example.org', '', '']]));
      const map = join(dir, 'map.json');
      writeFileSync(map, JSON.stringify({ fields: { primary_email: 'Email', home_phone: { column: 'Phone', empty: 'clear' }, 'name.title': 'Title' } }));
      expect((await runInProcess(['import', file, '-t', 'luminate', '-m', map, '--quiet'], { env: lum.environment(sandbox.url) })).code).toBe(0);
      expect(lum.constituents()[0]).toMatchObject({ home_phone: '', 'name.title': 'Dr.' });
    } finally {
      await sandbox.close();
    }
  });
});

describe('typed custom fields', () => {
  it('a declared type converts yes/no, numbers and dates or refuses the row; an undeclared mismatch comes back as a warning: said on the row, counted, exit 1, sent again next night', async () => {
    sb = await startSalsaSandbox();
    const dir = tempDir();
    const file = join(dir, 'board.csv');
    writeFileSync(file, csv(['Email', 'Board?', 'Gifts', 'Since'], [['a@example.org', 'Yes', '3', '2020-01-31'], ['b@example.org', 'N', '1,000', ''], ['c@example.org', 'maybe', '', '']]));
    const map = join(dir, 'map.json');
    writeFileSync(map, JSON.stringify({ fields: { email: 'Email' }, customFields: [{ name: 'Board Member', column: 'Board?', type: 'BOOLEAN' }, { name: 'Donor Level', column: 'Gifts', type: 'NUMBER' }, { name: 'Member Since', column: 'Since', type: 'date' }] }));
    const typed = await runInProcess(['import', file, '-m', map, '--json', '--new-email-status', 'account-default'], { env: sb.env });
    expect(JSON.parse(typed.stdout).counts).toEqual({ ADDED: 3 });
    const custom = (email: string) => Object.fromEntries(((byEmail(email)!.customFieldValues as Array<{ name: string; value: string }>) ?? []).map((c) => [c.name, c.value]));
    expect(custom('a@example.org')).toEqual({ 'Board Member': 'true', 'Donor Level': '3', 'Member Since': '2020-01-31T12:00:00.000Z' });
    // A value its type refuses is not sent; the other values of the row are.
    expect(custom('b@example.org')).toEqual({ 'Board Member': 'false' });
    expect(custom('c@example.org')).toEqual({});
    expect(readReport(join(dir, 'board.report.csv')).slice(1).map((r) => r.error_message)).toEqual([
      'not sent: custom field Donor Level (NUMBER): "1,000" is not a number (digits, a point for decimals, no thousands separators)',
      'not sent: custom field Board Member (BOOLEAN): "maybe" is not yes or no (yes/no, y/n, true/false, 1/0)',
    ]);

    // The same column sent as typed, with no type declared: Salsa writes the supporter, not the value, and says so.
    const plain = join(dir, 'plain.csv');
    writeFileSync(plain, csv(['Email', 'custom:Board Member'], [['d@example.org', 'Yes']]));
    const env = { ...sb.env, SYNC_SUPPORTERS_STATE: join(dir, 'state.db') };
    const warned = await runInProcess(['import', plain, '--json', '--changed-only', '--new-email-status', 'account-default'], { env });
    expect(JSON.parse(warned.stdout)).toMatchObject({ counts: { ADDED: 1 }, exitCode: 1 });
    expect(readReport(join(dir, 'plain.report.csv'))[0]!.error_message).toMatch(/^custom field Board Member was not applied: Value is not a valid BOOLEAN/);
    expect(warned.stderr).toMatch(/1 row was written with a value the remote did not apply/);
    expect(custom('d@example.org')).toEqual({});
    const again = await runInProcess(['import', plain, '--json', '--changed-only', '--new-email-status', 'account-default'], { env });
    expect(JSON.parse(again.stdout).counts).toEqual({ UPDATED: 1 }); // not UNCHANGED: it never fully synced
  });
});

describe('check: a read-only preflight', () => {
  it('Salsa: credentials, limits, the time at the ceiling, and with --sample how many would update or create; a refused token is exit 2', async () => {
    sb = await startSalsaSandbox({ rateLimit: 120, maxBatchSize: 10 });
    sb.salsa.seed!([{ firstName: 'P0', contacts: [{ type: 'EMAIL', value: 'p0@example.org' }] }, { firstName: 'P3', contacts: [{ type: 'EMAIL', value: 'p3@example.org' }] }]);
    const dir = tempDir();
    const file = join(dir, 'big.csv');
    writeFileSync(file, csv(['Email', 'First Name'], Array.from({ length: 1200 }, (_, i) => [`p${i}@example.org`, `P${i}`])));
    const before = sb.salsa.supporters();
    const res = await runInProcess(['check', file, '--sample', '5', '--json'], { env: sb.env });
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out).toMatchObject({ ok: true, rows: 1200, rateLimit: 120, maxBatchSize: 10, estimatedMinutes: 1, sampleLooked: 5, sampleUpdated: 2, sampleCreated: 3 });
    expect(sb.salsa.supporters()).toEqual(before); // nothing written
    // Others use the token (here, a check sampling 60 rows: 7 calls; with the first check's, over 2% of the minute):
    // the sandbox says what is left of its minute, and the estimate paces at that.
    await runInProcess(['check', file, '--sample', '60', '--json'], { env: sb.env });
    const human = await runInProcess(['check', file], { env: sb.env });
    // The result is on stdout: `check file.csv > out.txt` keeps it.
    expect(human.stdout).toMatch(/ok {4}time +1200 rows = 120 calls at 10 a call; at 1[01]\d calls a minute about 1\.\d min/);
    expect(human.stdout).toMatch(/A run would go through\./);
    expect(human.stderr).toBe('');
    const refused = await runInProcess(['check', file, '--json'], { env: { ...sb.env, SALSA_API_TOKEN: 'wrong-token' } });
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stdout).checks).toContainEqual(expect.objectContaining({ check: 'credentials', ok: false, detail: expect.stringMatching(/refused the API token/) }));
    expect(refused.stdout).not.toContain('wrong-token');
    // A file no row of which could be matched: check says so as the run would, naming the column with the emails.
    const odd = join(dir, 'odd.csv');
    writeFileSync(odd, csv(['Contact', 'Referrer'], [['a@example.org', 'b@example.org']]));
    const noKey = await runInProcess(['check', odd], { env: sb.env });
    expect(noKey.code).toBe(2);
    expect(noKey.stdout).toMatch(/FAIL +key column +.*no column maps to email or supporterId.*Column "Contact" holds email addresses/);
  });

  it("Luminate: a good mapping passes against the site's listUserFields; a mapping naming a field the site lacks fails, naming it; a value outside the site's choices is reported", async () => {
    const dir = tempDir();
    const file = join(dir, 'l.csv');
    writeFileSync(file, csv(['Email', 'First Name', 'Sex', 'Spouse'], [['a@example.org', 'A', 'F', 'Bo'], ['b@example.org', 'B', 'Unknown', '']]));
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ fields: { primary_email: 'Email', 'name.first': 'First Name', gender: 'Sex' } }));
    const ok = await runInProcess(['check', file, '-t', 'luminate', '-m', good, '--sandbox', '--json']);
    expect(ok.code).toBe(0);
    const checks = JSON.parse(ok.stdout).checks as Array<{ check: string; ok: boolean; detail: string }>;
    expect(checks.find((c) => c.check === 'mapped fields')).toMatchObject({ ok: true });
    // A gender the site does not have: the row would go without it (as the run does), said with the site's choices.
    expect(checks.find((c) => c.check === 'values')!.detail).toMatch(/1 of the first 2 rows pass every check; 1 would go without a value \(--strict-values: INVALID\): 1 × gender "…" is not one of this site's choices \(Male, Female, Nonbinary, Prefer not to say\)/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ fields: { primary_email: 'Email', 'name.first': 'First Name', spouse_name: 'Spouse' } }));
    const refused = await runInProcess(['check', file, '-t', 'luminate', '-m', bad, '--sandbox']);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toMatch(/FAIL +mapped fields +spouse_name is not a field this site lets the API account update \(listUserFields\)/);
    expect(refused.stdout).toMatch(/A run would not go through/);
  });
});
