import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, closeAfterEach, csv, readReport, runInProcess, startLuminateSandbox, startSalsaSandbox, tempDir, type TestSandbox } from '../support/helpers.js';

// An event sign-up list imported into an established CRM, where the file may only fill what is empty (phone,
// address), never touch a name the CRM has, and replace a last name only when the row is newer than the record.

const closing = closeAfterEach();

const SEED_HEADER = ['Email', 'First Name', 'Last Name', 'Phone', 'Street', 'City', 'State', 'Zip'];
const EXISTING = [
  ['ann@example.org', 'Ann', 'Lee', '503-555-0100', '1 Elm Rd', 'Boston', 'MA', '02101'],
  ['bo@example.org', 'Bo', 'Chen', '', '', '', '', ''],
  ['cy@example.org', 'Cy', 'Diaz', '503-555-0300', '3 Oak St', 'Austin', 'TX', '73301'],
];
const HEADER = [...SEED_HEADER, 'Updated At'];
const OLD = '2001-01-01T00:00:00Z';
const NEW = '2099-01-01 00:00';
const SIGNUPS = [
  ['ann@example.org', 'Annie', 'Lee-Smith', '503-555-9999', '9 New St', 'Cambridge', 'MA', '02139', OLD],
  ['bo@example.org', 'Bob', 'Brown', '503-555-0200', '2 Pine St', 'Portland', 'OR', '97201', NEW],
  ['cy@example.org', 'Cyrus', 'Dias', '503-555-0300', '3 Oak St', 'Austin', 'TX', '73301', NEW],
  ['dee@example.org', 'Dee', 'Evans', '503-555-0400', '4 Bay Rd', 'Miami', 'FL', '33101', OLD],
];

type Flat = Record<string, string>;

/** Every Salsa supporter as a person reads it, by email. */
function salsaPeople(sb: TestSandbox): Map<string, Flat> {
  const out = new Map<string, Flat>();
  for (const s of sb.salsa.supporters() as Array<Record<string, unknown>>) {
    const contacts = (s.contacts as Array<{ type: string; value: string }>) ?? [];
    const a = (s.address as Record<string, string>) ?? {};
    const email = contacts.find((c) => c.type === 'EMAIL')!.value;
    out.set(email, { first: String(s.firstName ?? ''), last: String(s.lastName ?? ''), phone: contacts.find((c) => c.type === 'HOME_PHONE')?.value ?? '', address: [a.addressLine1, a.city, a.state, a.postalCode].filter(Boolean).join(', ') });
  }
  return out;
}

async function salsaWithPeople() {
  const sb = await startSalsaSandbox({ rateLimit: 100_000 });
  closing(sb.sandbox);
  const dir = tempDir();
  writeFileSync(join(dir, 'crm.csv'), csv(SEED_HEADER, EXISTING));
  expect((await runInProcess(['import', join(dir, 'crm.csv'), '--no-state', '--quiet'], { env: sb.env })).code).toBe(0);
  return { sb, dir };
}

const SALSA_MAPPING = {
  fields: {
    homePhone: { column: 'Phone', update: 'if-empty' },
    addressLine1: { column: 'Street', update: 'if-empty' },
    firstName: { column: 'First Name', update: 'never' },
    lastName: { column: 'Last Name', update: 'if-newer', newer: { column: 'Updated At' } },
  },
};

describe('update policies: fill only what is empty, never overwrite, let the newer value win', () => {
  it('Salsa: --plan shows what each record keeps; the import leaves exactly what each policy allows; undo puts it back', async () => {
    const { sb, dir } = await salsaWithPeople();
    const before = salsaPeople(sb);
    const input = join(dir, 'signups.csv');
    writeFileSync(input, csv(HEADER, SIGNUPS));
    const map = join(dir, 'map.json');
    writeFileSync(map, JSON.stringify(SALSA_MAPPING));
    const writesBefore = sb.sandbox.stats.calls['PUT /api/integration/ext/v1/supporters'];

    const planned = await runInProcess(['import', input, '-m', map, '--plan', '--no-state'], { env: sb.env });
    expect(planned.code).toBe(0);
    expect(sb.sandbox.stats.calls['PUT /api/integration/ext/v1/supporters']).toBe(writesBefore); // a plan writes nothing
    const plan = readReport(join(dir, 'signups.plan.jsonl'));
    expect(plan.map((p) => [p.key, p.status])).toEqual([
      ['ann@example.org', 'NO_CHANGE'],
      ['bo@example.org', 'UPDATE'],
      ['cy@example.org', 'UPDATE'],
      ['dee@example.org', 'CREATE'],
    ]);
    expect(plan[0]!.error_message).toContain('kept: firstName (never: "Ann" in the CRM), lastName (if-newer: the record changed ');
    expect(plan[0]!.error_message).toMatch(/lastName \(if-newer: the record changed \S+, the row 2001-01-01T00:00:00.000Z; "Lee" in the CRM\)/);
    expect(plan[0]!.error_message).toContain('homePhone (if-empty: "503-555-0100" in the CRM)');
    expect(plan[0]!.error_message).toContain('address (if-empty: "1 Elm Rd, Boston, MA, 02101" in the CRM)');
    expect(plan[1]!.error_message).toContain('lastName: "Chen" → "Brown"');
    expect(plan[1]!.error_message).toContain('homePhone: "" → "503-555-0200"');
    expect(plan[1]!.error_message).not.toContain('firstName: "Bo"');
    expect(planned.stderr).toMatch(/update policy: homePhone, address filled only where the record has none; firstName set only on records this run creates; lastName replaced only by a row newer than the record \(by "Updated At"\)/);
    expect(planned.stderr).toMatch(/records would keep what they hold \(the update policy\), rows per field: firstName 3, lastName 1, address 1, homePhone 1/);

    const imported = await runInProcess(['import', input, '-m', map, '--undo-log', '--no-state', '--json'], { env: sb.env });
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout).kept).toEqual({ firstName: 3, lastName: 1, homePhone: 1, address: 1 });
    const report = readReport(join(dir, 'signups.report.csv'));
    expect(report.map((r) => [r.key, r.status])).toEqual([
      ['ann@example.org', 'UNCHANGED'],
      ['bo@example.org', 'UPDATED'],
      ['cy@example.org', 'UPDATED'],
      ['dee@example.org', 'ADDED'],
    ]);
    expect(report[0]!.error_message).toMatch(/^kept: firstName .*; nothing else to send$/);
    expect(report[1]!.error_message).toBe('kept: firstName (never: "Bo" in the CRM)');
    const after = salsaPeople(sb);
    expect(after.get('ann@example.org')).toEqual(before.get('ann@example.org'));
    expect(after.get('bo@example.org')).toEqual({ first: 'Bo', last: 'Brown', phone: '503-555-0200', address: '2 Pine St, Portland, OR, 97201' });
    expect(after.get('cy@example.org')).toEqual({ first: 'Cy', last: 'Dias', phone: '503-555-0300', address: '3 Oak St, Austin, TX, 73301' });
    expect(after.get('dee@example.org')).toEqual({ first: 'Dee', last: 'Evans', phone: '503-555-0400', address: '4 Bay Rd, Miami, FL, 33101' });

    // The preview says what the undo cannot put back, as the undo will.
    expect((await runInProcess(['undo', join(dir, 'signups.undo.jsonl'), '--no-state', '--quiet', '--dry-run'], { env: sb.env })).code).toBe(0);
    const preview = readReport(join(dir, 'signups.undo.dry-run.report.csv'));
    expect(preview[0]!.error_message).toMatch(/; puts back lastName, addressLine1, city, state, postalCode; homePhone cannot be emptied through Salsa's API/);
    const undone = await runInProcess(['undo', join(dir, 'signups.undo.jsonl'), '--no-state', '--quiet'], { env: sb.env });
    // Exactly what the import changed is put back — but a phone filled where there was none cannot be emptied
    // through Salsa's API: that row says so, and the undo exits 1.
    const undoReport = readReport(join(dir, 'signups.undo.report.csv'));
    expect(undoReport.map((r) => [r.key, r.status])).toEqual([['bo@example.org', 'UPDATED'], ['cy@example.org', 'UPDATED'], ['dee@example.org', 'DELETED']]);
    expect(undoReport[0]!.error_message).toMatch(/^puts back lastName, addressLine1, city, state, postalCode; homePhone cannot be emptied through Salsa's API/);
    expect(undone.code).toBe(1);
    expect(salsaPeople(sb)).toEqual(new Map([...before].map(([email, p]) => [email, email === 'bo@example.org' ? { ...p, phone: '503-555-0200' } : p])));
  });

  it('--update if-empty for the whole run reads each record once a batch; consent keeps its own rule, said before the run', async () => {
    const { sb, dir } = await salsaWithPeople();
    const input = join(dir, 'signups.csv');
    writeFileSync(input, csv([...SEED_HEADER, 'Email Opt In'], SIGNUPS.map((r) => [...r.slice(0, 8), 'yes'])));
    const searches = () => sb.sandbox.stats.calls['POST /api/integration/ext/v1/supporters/search'] ?? 0;
    const searched = searches();
    const res = await runInProcess(['import', input, '--update', 'if-empty', '--no-state'], { env: sb.env });
    expect(res.code).toBe(0);
    expect(searches() - searched).toBe(1); // one read for the batch of four
    expect(res.stderr).toMatch(/emailStatus: consent is sent as the file says; a run-wide update policy does not apply to it/);
    const after = salsaPeople(sb);
    expect(after.get('ann@example.org')).toEqual({ first: 'Ann', last: 'Lee', phone: '503-555-0100', address: '1 Elm Rd, Boston, MA, 02101' });
    expect(after.get('bo@example.org')).toEqual({ first: 'Bo', last: 'Chen', phone: '503-555-0200', address: '2 Pine St, Portland, OR, 97201' });
    const statuses = new Map((sb.salsa.supporters() as Array<{ contacts: Array<{ type: string; value: string; status?: string }> }>).map((s) => [s.contacts.find((c) => c.type === 'EMAIL')!.value, s.contacts.find((c) => c.type === 'EMAIL')!.status]));
    expect(statuses.get('ann@example.org')).toBe('OPT_IN');

    // An all-"always" run reads nothing first.
    const plain = await runInProcess(['import', input, '--no-state', '--quiet', '-r', join(dir, 'plain.csv')], { env: sb.env });
    expect(plain.code).toBe(0);
    expect(searches() - searched).toBe(1);

    // A reviewed plan already applied its policy: --update with --apply-plan is refused.
    const both = await runInProcess(['import', input, '--apply-plan', join(dir, 'x.plan.jsonl'), '--update', 'never', '--no-state'], { env: sb.env });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/the policy goes with --plan\): drop --update here/);

    // if-newer without a column is refused before anything is read.
    const refused = await runInProcess(['import', input, '--update', 'if-newer', '--no-state', '-r', join(dir, 'r.csv')], { env: sb.env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--update is "if-newer", but no column says when each row last changed: name it with --newer-column/);
  });

  it('Luminate: the same file through getUser; with no modification time from Luminate, if-newer keeps what the record has', async () => {
    const { lum, sandbox, env } = await startLuminateSandbox();
    closing(sandbox);
    lum.seed!([
      { cons_id: '1001', 'email.primary_address': 'ann@example.org', 'name.first': 'Ann', 'name.last': 'Lee', home_phone: '503-555-0100', 'primary_address.street1': '1 Elm Rd', 'primary_address.city': 'Boston', 'primary_address.state': 'MA', 'primary_address.zip': '02101' },
      { cons_id: '1002', 'email.primary_address': 'bo@example.org', 'name.first': 'Bo', 'name.last': 'Chen' },
    ]);
    const dir = tempDir();
    const input = join(dir, 'signups.csv');
    writeFileSync(input, csv(HEADER, SIGNUPS.slice(0, 2).concat([SIGNUPS[3]!])));
    const map = join(dir, 'map.json');
    writeFileSync(map, JSON.stringify({ fields: { home_phone: { column: 'Phone', update: 'if-empty' }, 'primary_address.street1': { column: 'Street', update: 'if-empty' }, 'name.first': { column: 'First Name', update: 'never' }, 'name.last': { column: 'Last Name', update: 'if-newer', newer: { column: 'Updated At' } } } }));
    const res = await runInProcess(['import', input, '-t', 'luminate', '-m', map, '--no-state'], { env });
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/Luminate Online gives no modification time for a record: if-newer fields are filled where the record has none, and kept where it has one/);
    const report = readReport(join(dir, 'signups.report.csv'));
    expect(report.map((r) => r.status)).toEqual(['UNCHANGED', 'UPDATED', 'ADDED']);
    expect(report[1]!.error_message).toContain('name.last (if-newer: Luminate Online gives no modification time for the record, so a newer value cannot be told; "Chen" in the CRM)');
    const by = new Map(lum.constituents().map((c) => [c['email.primary_address'], c]));
    expect(by.get('ann@example.org')).toMatchObject({ 'name.first': 'Ann', 'name.last': 'Lee', home_phone: '503-555-0100', 'primary_address.street1': '1 Elm Rd', 'primary_address.city': 'Boston' });
    expect(by.get('bo@example.org')).toMatchObject({ 'name.first': 'Bo', 'name.last': 'Chen', home_phone: '503-555-0200', 'primary_address.street1': '2 Pine St', 'primary_address.city': 'Portland', 'primary_address.zip': '97201' });
    expect(by.get('dee@example.org')).toMatchObject({ 'name.first': 'Dee', 'name.last': 'Evans', home_phone: '503-555-0400' });
  });

  it('kill -9 mid-run, then --resume: the records hold exactly what the policy allows, every row reported once', async () => {
    const sb = await startSalsaSandbox({ rateLimit: 100_000, latencyMs: 20 });
    closing(sb.sandbox);
    const dir = tempDir();
    const n = 1200;
    // Every other person has a phone in the CRM; the file brings a new phone for everyone.
    writeFileSync(join(dir, 'crm.csv'), csv(['Email', 'Phone'], Array.from({ length: n }, (_, i) => [`p${i}@example.org`, i % 2 === 0 ? `503-555-${String(i).padStart(4, '0')}` : ''])));
    expect((await runInProcess(['import', join(dir, 'crm.csv'), '--no-state', '--quiet'], { env: sb.env })).code).toBe(0);
    const input = join(dir, 'signups.csv');
    const report = join(dir, 'signups.report.csv');
    writeFileSync(input, csv(['Email', 'Phone'], Array.from({ length: n }, (_, i) => [`p${i}@example.org`, `971-555-${String(i).padStart(4, '0')}`])));
    const env = { ...sb.env, SYNC_SUPPORTERS_STATE: join(dir, 'state.db') };
    const killed = await new Promise<NodeJS.Signals | null>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'import', input, '--update', 'if-empty', '-c', '4', '--quiet'], { env: { PATH: process.env.PATH ?? '', SYNC_SUPPORTERS_RETRY_BASE_MS: '5', ...env }, stdio: 'ignore' });
      const poll = setInterval(() => {
        if (existsSync(report) && statSync(report).size > 8_000) {
          clearInterval(poll);
          child.kill('SIGKILL');
        }
      }, 5);
      child.on('close', (_code, signal) => resolve(signal));
    });
    expect(killed).toBe('SIGKILL');
    expect(readReport(report).length).toBeLessThan(n);

    const resumed = await runInProcess(['import', input, '--update', 'if-empty', '-c', '4', '--resume', '--json'], { env });
    expect(resumed.code).toBe(0);
    const rows = readReport(report);
    expect(rows.map((r) => Number(r.row))).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(new Set(rows.map((r) => r.status))).toEqual(new Set(['UNCHANGED', 'UPDATED']));
    const phones = new Map((sb.salsa.supporters() as Array<{ contacts: Array<{ type: string; value: string }> }>).map((s) => [s.contacts.find((c) => c.type === 'EMAIL')!.value, s.contacts.find((c) => c.type === 'HOME_PHONE')?.value]));
    expect(phones.size).toBe(n);
    for (let i = 0; i < n; i++) expect(phones.get(`p${i}@example.org`)).toBe(i % 2 === 0 ? `503-555-${String(i).padStart(4, '0')}` : `971-555-${String(i).padStart(4, '0')}`);
  });

  it('init offers the policy: --update if-newer finds the file\'s "Updated At" column and writes both into the mapping', async () => {
    const { sb, dir } = await salsaWithPeople();
    const input = join(dir, 'signups.csv');
    writeFileSync(input, csv(HEADER, SIGNUPS));
    const map = join(dir, 'mapping.json');
    const init = await runInProcess(['init', input, '--yes', '--update', 'if-newer', '-o', map]);
    expect(init.code).toBe(0);
    expect(init.stderr).toContain('Existing records: update if-newer');
    const written = JSON.parse(readFileSync(map, 'utf8'));
    expect(written).toMatchObject({ update: 'if-newer', newer: { column: 'Updated At' } });
    const res = await runInProcess(['import', input, '-m', map, '--no-state', '--quiet'], { env: sb.env });
    expect(res.code).toBe(0);
    const after = salsaPeople(sb);
    expect(after.get('ann@example.org')).toMatchObject({ first: 'Ann', last: 'Lee', phone: '503-555-0100' }); // its row is older
    expect(after.get('bo@example.org')).toMatchObject({ first: 'Bob', last: 'Brown', phone: '503-555-0200' }); // newer: every field
  });

  it('a key is never kept: an email differing only in case still finds its record, and its unsubscribe goes through under --update never', async () => {
    const { sb, dir } = await salsaWithPeople();
    writeFileSync(join(dir, 'optin.csv'), csv(['Email', 'Email Status'], [['ann@example.org', 'OPT_IN']]));
    expect((await runInProcess(['import', join(dir, 'optin.csv'), '--no-state', '--quiet'], { env: sb.env })).code).toBe(0);
    const input = join(dir, 'mailchimp.csv');
    writeFileSync(input, csv(['Email Address', 'First Name', 'Email Status'], [['ANN@Example.org', 'Annie', 'OPT_OUT']]));
    const res = await runInProcess(['import', input, '--update', 'never', '--no-state', '--quiet'], { env: sb.env });
    expect(res.code).toBe(0);
    const report = readReport(join(dir, 'mailchimp.report.csv'));
    // The record keeps its spelling of the key too: a case-only difference is no change (and no policy's to keep).
    expect(report[0]).toMatchObject({ status: 'UPDATED', error_message: `the email keeps its record's spelling ann@example.org (this row spells it ANN@Example.org); kept: firstName (never: "Ann" in the CRM)` });
    const ann = (sb.salsa.supporters() as Array<{ firstName: string; contacts: Array<{ type: string; value: string; status?: string }> }>).find((p) => p.contacts.some((c) => c.type === 'EMAIL' && c.value.toLowerCase() === 'ann@example.org'))!;
    expect(ann.firstName).toBe('Ann');
    expect(ann.contacts.find((c) => c.type === 'EMAIL')).toMatchObject({ value: 'ann@example.org', status: 'OPT_OUT' });
  });

  it('if-newer settles a timestamp column\'s day/month order from its own values, once, as date columns are', async () => {
    const { sb, dir } = await salsaWithPeople();
    const input = join(dir, 'form.csv');
    // "03/12/2099" reads both ways alone; "25/12/2001" further down says the column is day-first.
    writeFileSync(input, csv(['Email', 'Last Name', 'Updated At'], [['bo@example.org', 'Brown', '03/12/2099 10:00'], ['dee@example.org', 'Evans', '25/12/2001 09:00']]));
    const res = await runInProcess(['import', input, '--update', 'if-newer', '--newer-column', 'Updated At', '--no-state', '--quiet'], { env: sb.env });
    expect(res.code).toBe(0);
    expect(readReport(join(dir, 'form.report.csv')).map((r) => r.status)).toEqual(['UPDATED', 'ADDED']);
    expect(salsaPeople(sb).get('bo@example.org')!.last).toBe('Brown');

    // The first value that reads one way settles the column: a later value written the other way is not a date then,
    // and its row keeps what the record holds, said on its line and in a warning.
    const mixed = join(dir, 'mixed.csv');
    writeFileSync(mixed, csv(['Email', 'Last Name', 'Updated At'], [['bo@example.org', 'Brownie', '25/12/2099'], ['cy@example.org', 'Dias', '12/25/2099']]));
    const second = await runInProcess(['import', mixed, '--update', 'if-newer', '--newer-column', 'Updated At', '--no-state'], { env: sb.env });
    expect(second.code).toBe(0);
    expect(readReport(join(dir, 'mixed.report.csv')).map((r) => r.status)).toEqual(['UPDATED', 'UNCHANGED']);
    expect(second.stderr).toMatch(/warning: 1 row gave no timestamp this tool could read for if-newer/);
    expect(salsaPeople(sb).get('cy@example.org')!.last).toBe('Diaz');
  });

  it('Luminate: the key under its record name (email.primary_address) is never said to be kept', async () => {
    const { lum, sandbox, env } = await startLuminateSandbox();
    closing(sandbox);
    lum.seed!([{ cons_id: '1001', 'email.primary_address': 'ann@example.org', 'name.first': 'Ann', home_phone: '503-555-0100' }]);
    const dir = tempDir();
    const input = join(dir, 'signups.csv');
    writeFileSync(input, csv(['Email', 'First Name', 'Phone'], [['Ann@Example.org', 'Annie', '503-555-9999']]));
    const res = await runInProcess(['import', input, '-t', 'luminate', '--update', 'if-empty', '--no-state', '--json'], { env });
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout).kept).toEqual({ 'name.first': 1, home_phone: 1 });
    const line = readReport(join(dir, 'signups.report.csv'))[0]!;
    expect(line.error_message).not.toMatch(/kept: [^;]*email/);
    expect(line.error_message).toContain("the email keeps its record's spelling ann@example.org (this row spells it Ann@Example.org)");
    expect(lum.constituents()[0]).toMatchObject({ 'email.primary_address': 'ann@example.org', 'name.first': 'Ann', home_phone: '503-555-0100' });
  });
});
