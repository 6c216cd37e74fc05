import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { csv, readReport, ROOT, runInProcess, startLuminateSandbox, startSalsaSandbox, tempDir } from '../support/helpers.js';

// Consent is read the way round its header says, never inverted — for people already in the CRM too — and the
// tool reads exports it has never seen by what their headers mean.

const EXPORTS = join(ROOT, 'fixtures/exports');
let close: (() => Promise<unknown>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

type Supporter = { contacts?: Array<{ type: string; value: string; status?: string }>; supporterId?: string };
const emailStatus = (all: unknown[], email: string) => (all as Supporter[]).find((s) => s.contacts?.some((c) => c.type === 'EMAIL' && c.value.toLowerCase() === email))?.contacts?.find((c) => c.type === 'EMAIL')?.status;

describe('consent, for people already in the CRM', () => {
  it('Salesforce NPSP: HasOptedOutOfEmail=true opts out a subscribed supporter; =false is not consent: it never re-subscribes anyone, and opts in new ones only when the run says so', async () => {
    const sb = await startSalsaSandbox();
    close = () => sb.sandbox.close();
    const file = join(tempDir(), 'npsp.csv');
    writeFileSync(file, csv(['Id', 'FirstName', 'LastName', 'Email', 'HasOptedOutOfEmail'], [
      ['0031', 'Ann', 'Lee', 'ann@example.org', 'true'],
      ['0032', 'Bo', 'Chen', 'bo@example.org', 'false'],
      ['0033', 'Cy', 'Diaz', 'cy@example.org', 'false'],
      ['0034', 'Di', 'Eng', 'di@example.org', 'true'],
    ]));
    sb.salsa.seed!([
      { firstName: 'Ann', contacts: [{ type: 'EMAIL', value: 'ann@example.org', status: 'OPT_IN' }] },
      { firstName: 'Bo', contacts: [{ type: 'EMAIL', value: 'bo@example.org', status: 'OPT_OUT' }] },
    ]);
    const res = await runInProcess(['import', file, '--json'], { env: sb.env });
    expect(JSON.parse(res.stdout)).toMatchObject({ counts: { UPDATED: 2, ADDED: 2 }, exitCode: 0 });
    const all = sb.salsa.supporters();
    // Ann opted out in Salesforce: out. Bo unsubscribed in Salsa: "not opted out" in Salesforce does not undo that.
    // Cy is new and did not opt out, which is no consent: out (the new-record status). Di is new and opted out: out.
    expect(['ann', 'bo', 'cy', 'di'].map((p) => emailStatus(all, `${p}@example.org`))).toEqual(['OPT_OUT', 'OPT_OUT', 'OPT_OUT', 'OPT_OUT']);
    expect(res.stderr).toContain('HasOptedOutOfEmail is an opt-out column (yes means the person opted out): "true" → the person is OPTED OUT; "false" → not opted out, which is not consent');
    // An organisation that mails everyone Salesforce does not mark says so: new records are opted in, opt-outs stay.
    const next = join(tempDir(), 'npsp2.csv');
    writeFileSync(next, csv(['Email', 'HasOptedOutOfEmail'], [['eve@example.org', 'false'], ['fay@example.org', 'true'], ['bo@example.org', 'false']]));
    expect((await runInProcess(['import', next, '--new-email-status', 'OPT_IN', '--quiet'], { env: sb.env })).code).toBe(0);
    expect(['eve', 'fay', 'bo'].map((p) => emailStatus(sb.salsa.supporters(), `${p}@example.org`))).toEqual(['OPT_IN', 'OPT_OUT', 'OPT_OUT']);
  });

  it('Luminate: an opt-out column sets accepts_email=false, and its "no" never changes an existing constituent', async () => {
    const { lum, sandbox, env } = await startLuminateSandbox();
    close = () => sandbox.close();
    lum.seed!([{ 'email.primary_address': 'bo@example.org', primary_email: 'bo@example.org', 'email.accepts_email': 'false' }, { 'email.primary_address': 'ann@example.org', primary_email: 'ann@example.org', 'email.accepts_email': 'true' }]);
    const file = join(tempDir(), 'hubspot.csv');
    writeFileSync(file, csv(['Email', 'First Name', 'Unsubscribed from all email'], [['ann@example.org', 'Ann', 'true'], ['bo@example.org', 'Bo', 'false'], ['cy@example.org', 'Cy', 'false'], ['dee@example.org', 'Dee', '']]));
    expect((await runInProcess(['import', file, '-t', 'luminate', '--quiet'], { env })).code).toBe(0);
    const by = new Map(lum.constituents().map((c) => [c['email.primary_address'], c['email.accepts_email']]));
    expect([by.get('ann@example.org'), by.get('bo@example.org'), by.get('cy@example.org'), by.get('dee@example.org')]).toEqual(['false', 'false', 'false', 'false']);
  });

  it("a mapping that makes an opt-out column's yes an opt-in is refused before anything is read; without a map the column is read its own way", async () => {
    const sb = await startSalsaSandbox();
    close = () => sb.sandbox.close();
    const dir = tempDir();
    const file = join(dir, 'civi.csv');
    writeFileSync(file, csv(['Email', 'Do Not Email'], [['a@example.org', '1'], ['b@example.org', '0']]));
    const inverted = join(dir, 'old.json');
    writeFileSync(inverted, JSON.stringify({ fields: { email: 'Email', emailStatus: { column: 'Do Not Email', map: { '1': 'OPT_IN', '0': 'OPT_OUT' } } } }));
    const refused = await runInProcess(['import', file, '-m', inverted], { env: sb.env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/"Do Not Email" is an opt-out column \(yes means the person opted out\), but the mapping sends "1" as OPT_IN/);
    expect(sb.salsa.supporters()).toHaveLength(0);
    // The same inversion said with "consent" is refused too.
    const explicit = join(dir, 'explicit.json');
    writeFileSync(explicit, JSON.stringify({ fields: { email: 'Email', emailStatus: { column: 'Do Not Email', consent: 'opt-in' } } }));
    const refusedToo = await runInProcess(['import', file, '-m', explicit], { env: sb.env });
    expect(refusedToo.code).toBe(2);
    expect(refusedToo.stderr).toMatch(/"Do Not Email" is an opt-out column .* reads it as "opt-in": that would opt in the people who opted out/);
    const plain = join(dir, 'plain.json');
    writeFileSync(plain, JSON.stringify({ fields: { email: 'Email', emailStatus: 'Do Not Email' } }));
    expect((await runInProcess(['import', file, '-m', plain, '--quiet'], { env: sb.env })).code).toBe(0);
    expect(emailStatus(sb.salsa.supporters(), 'a@example.org')).toBe('OPT_OUT');
    expect(emailStatus(sb.salsa.supporters(), 'b@example.org')).toBe('OPT_OUT'); // not opted out: no consent, a new record
  });

  it('a consent column whose values do not say which way round is left alone, and said so', async () => {
    const sb = await startSalsaSandbox();
    close = () => sb.sandbox.close();
    const file = join(tempDir(), 'hs.csv');
    writeFileSync(file, csv(['Email', 'Marketing contact status'], [['a@example.org', 'Marketing contact'], ['b@example.org', 'Non-marketing contact']]));
    sb.salsa.seed!([{ contacts: [{ type: 'EMAIL', value: 'a@example.org', status: 'OPT_IN' }] }]);
    const res = await runInProcess(['import', file], { env: sb.env });
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/Columns not used: Marketing contact status/);
    expect(emailStatus(sb.salsa.supporters(), 'a@example.org')).toBe('OPT_IN');
  });
});

describe('negated and foreign consent headers, and a value that cannot be read beside an opt-out', () => {
  it('"Kein Newsletter" = X never re-subscribes anyone; "Newsletter abbestellt" = Ja opts out; an unreadable value in one column does not cancel "Do not email" in another', async () => {
    const sb = await startSalsaSandbox();
    close = () => sb.sandbox.close();
    sb.salsa.seed!([
      { contacts: [{ type: 'EMAIL', value: 'kurt@example.org', status: 'OPT_OUT' }] },
      { contacts: [{ type: 'EMAIL', value: 'lena@example.org', status: 'OPT_IN' }] },
      { contacts: [{ type: 'EMAIL', value: 'mia@example.org', status: 'OPT_IN' }] },
    ]);
    const dir = tempDir();
    const de = join(dir, 'de.csv');
    writeFileSync(de, csv(['E-Mail', 'Kein Newsletter', 'Newsletter abbestellt'], [['kurt@example.org', 'X', ''], ['lena@example.org', '', 'Ja']]));
    const res = await runInProcess(['import', de], { env: sb.env });
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/Kein Newsletter is an opt-out column/);
    const two = join(dir, 'two.csv');
    writeFileSync(two, csv(['Email', 'Email Permission', 'Contact Restrictions'], [['mia@example.org', 'Not asked', 'Do not email']]));
    expect((await runInProcess(['import', two, '--quiet'], { env: sb.env })).code).toBe(0);
    expect(['kurt', 'lena', 'mia'].map((p) => emailStatus(sb.salsa.supporters(), `${p}@example.org`))).toEqual(['OPT_OUT', 'OPT_OUT', 'OPT_OUT']);
  });
});

describe('init proposes what an import without a mapping does', () => {
  it.each(['shopify-customers', 'eventbrite-attendees', 'givebutter-donors', 'civicrm-contacts', 'npsp-contacts', 'hubspot-contacts', 'google-forms-responses', 'excel-fr-semicolon'])('%s', async (name) => {
    const dir = tempDir();
    const input = join(EXPORTS, `${name}.csv`);
    const map = join(dir, 'map.json');
    const init = await runInProcess(['init', input, '--yes', '-o', map]);
    expect(init.code, init.stderr).toBe(0);
    const mapping = JSON.parse(readFileSync(map, 'utf8')) as { fields: Record<string, unknown> };
    expect(mapping.fields.email ?? mapping.fields.primary_email, 'an email column').toBeDefined();
    // The same rows, the same answers, the same reasons, with the written mapping and without any.
    const auto = await runInProcess(['validate', input, '-r', join(dir, 'auto.csv'), '--quiet']);
    const written = await runInProcess(['validate', input, '-m', map, '-r', join(dir, 'mapped.csv'), '--quiet']);
    expect(written.code).toBe(auto.code);
    const rows = (f: string) => readReport(join(dir, f)).map((r) => [r.line, r.status, r.error_message]);
    expect(rows('mapped.csv')).toEqual(rows('auto.csv'));
    // Every consent reading is shown in words before it is written.
    for (const [field, rule] of Object.entries(mapping.fields)) if (field === 'emailStatus' && typeof rule === 'object') expect(init.stderr).toMatch(/Consent \(read the way round each header says; never inverted\):\n {2}.* is an opt-(in|out) column/);
  });
});

describe("another system's ids, tags and what a report keeps", () => {
  it("a Salsa Classic export's supporter_KEY is not an Engage supporterId: rows match by email, and init says why the column is left out", async () => {
    const sb = await startSalsaSandbox();
    close = () => sb.sandbox.close();
    const dir = tempDir();
    const file = join(dir, 'classic.csv');
    writeFileSync(file, csv(['supporter_KEY', 'First_Name', 'Last_Name', 'Email', 'Receive_Email', 'Street', 'City', 'State', 'Zip'], [
      ['40012345', 'Ann', 'Lee', 'ann@example.org', '1', '1 Elm Rd', 'Boston', 'MA', '02108'],
      ['40012346', 'Bo', 'Chen', 'bo@example.org', '-1', '22 Pine St', 'Portland', 'OR', '97201'],
    ]));
    const res = await runInProcess(['import', file, '--json'], { env: sb.env });
    expect(JSON.parse(res.stdout)).toMatchObject({ counts: { ADDED: 2 }, exitCode: 0 });
    expect(res.stderr).toMatch(/Columns not used: supporter_KEY/);
    const init = await runInProcess(['init', file, '--yes', '-o', join(dir, 'm.json')]);
    expect(init.stderr).toMatch(/supporter_KEY: ids of another system, not Salsa Engage's own supporterIds/);
  });

  it("Luminate: a Group(s) column is never sent as group ids by itself", async () => {
    const { lum, sandbox, env } = await startLuminateSandbox();
    close = () => sandbox.close();
    const res = await runInProcess(['import', join(EXPORTS, 'civicrm-contacts.csv'), '-t', 'luminate', '-r', join(tempDir(), 'c.csv'), '--quiet'], { env });
    expect(res.code).toBe(1);
    expect(lum.constituents().length).toBeGreaterThan(40);
    expect(lum.constituents().every((c) => c.groups === undefined)).toBe(true);
  });

  it('--failed from a French Excel file keeps its BOM, semicolons and CRLF; a 5 MB value does not make a 5 MB report line', async () => {
    const sb = await startSalsaSandbox();
    close = () => sb.sandbox.close();
    const dir = tempDir();
    const failed = join(dir, 'a-corriger.csv');
    const res = await runInProcess(['import', join(EXPORTS, 'excel-fr-semicolon.csv'), '-r', join(dir, 'fr.csv'), '--failed', failed, '--quiet'], { env: sb.env });
    expect(res.code).toBe(1);
    const bytes = readFileSync(failed);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.toString('utf8').slice(1);
    expect(text.split('\r\n')[0]).toMatch(/^Civilité;Prénom;Nom;E-mail;.*;sync_error$/);
    const outsideQuotes = text.replace(/"[^"]*"/g, '');
    expect(outsideQuotes.split('\r\n').length).toBeGreaterThan(3);
    expect(outsideQuotes.replace(/\r\n/g, '')).not.toMatch(/\n/);

    const huge = join(dir, 'huge.csv');
    writeFileSync(huge, csv(['Email', 'First Name'], [['x'.repeat(5_000_000), 'Big'], ['ok@example.org', 'Ok']]));
    const big = await runInProcess(['validate', huge, '-r', join(dir, 'huge.report.csv'), '--quiet']);
    expect(big.code).toBe(1);
    expect(statSync(join(dir, 'huge.report.csv')).size).toBeLessThan(20_000);
    const [line] = readReport(join(dir, 'huge.report.csv'));
    expect(line!.error_message).toMatch(/characters cut…\] .*is not a valid email address$/);
  });
});

describe('Luminate keeps each address part a request leaves out: only a whole address goes over a stored one', () => {
  it("a whole address clears the stored line 2 the row leaves empty; a city and zip without a street leave the stored address as it was", async () => {
    const { lum, sandbox, env } = await startLuminateSandbox();
    close = () => sandbox.close();
    const dir = tempDir();
    const stored = (street1: string, city: string, zip: string) => ({ 'primary_address.street1': street1, 'primary_address.street2': 'Apt 4B', 'primary_address.city': city, 'primary_address.state': 'MA', 'primary_address.zip': zip });
    lum.seed!([{ 'email.primary_address': 'alice@example.org', ...stored('1 Elm St', 'Boston', '02108') }, { 'email.primary_address': 'hank@example.org', ...stored('21 Willow St', 'Salem', '01970') }]);
    const file = join(dir, 'signup.csv');
    writeFileSync(file, csv(['Email', 'Address', 'Address line 2', 'City/Town', 'State/Region/Province', 'Zip/Post code'], [
      ['alice@example.org', '500 Beacon St', '', 'Boston', 'MA', '02115'],
      ['hank@example.org', '', '', 'Atlanta', 'GA', '30309'],
      ['ivy@example.org', '', '', 'Denver', 'CO', '80202'],
    ]));
    const res = await runInProcess(['import', file, '-t', 'luminate', '-r', join(dir, 'r.csv'), '--quiet'], { env });
    expect(res.code).toBe(0);
    const byEmail = new Map(lum.constituents().map((c) => [c['email.primary_address'], c]));
    expect(byEmail.get('alice@example.org')).toMatchObject({ 'primary_address.street1': '500 Beacon St', 'primary_address.street2': '', 'primary_address.city': 'Boston', 'primary_address.zip': '02115' });
    expect(byEmail.get('hank@example.org')).toMatchObject(stored('21 Willow St', 'Salem', '01970'));
    // A constituent the run creates has nothing stored to mix with: its partial address arrives.
    expect(byEmail.get('ivy@example.org')).toMatchObject({ 'primary_address.city': 'Denver', 'primary_address.zip': '80202' });
    expect(readReport(join(dir, 'r.csv')).map((r) => [r.key, r.status, r.error_message.split(':')[0]])).toEqual([
      ['alice@example.org', 'UPDATED', ''],
      ['hank@example.org', 'UPDATED', 'address not sent'],
      ['ivy@example.org', 'ADDED', ''],
    ]);
  });
});

describe('an address the file cannot give whole', () => {
  // A UK export's County is a part of the address the tool cannot place: a new street sent over the stored county
  // would make an address nobody lives at, so the stored address stays as it is — on both targets.
  const header = ['Forename', 'Surname', 'Email Address', 'Address Line 1', 'Address Line 2', 'Town', 'County', 'Postcode'];
  const rows = [['James', 'Whitfield', 'james@example.net', '4 Church Lane', 'Flat 3', 'York', 'North Yorkshire', 'YO1 7HH']];

  it('Salsa, which has a county: the row replaces the stored address whole, its county with it', async () => {
    const sb = await startSalsaSandbox();
    close = () => sb.sandbox.close();
    const file = join(tempDir(), 'uk.csv');
    writeFileSync(file, csv(header, rows));
    const stored = { addressLine1: '1 Old Road', addressLine2: 'Flat 2', city: 'Leeds', postalCode: 'LS1 1AA', county: 'West Yorkshire' };
    sb.salsa.seed!([{ firstName: 'James', address: stored, contacts: [{ type: 'EMAIL', value: 'james@example.net', status: 'OPT_IN' }] }]);
    const res = await runInProcess(['import', file, '-r', join(tempDir(), 'r.csv'), '--json'], { env: sb.env });
    const summary = JSON.parse(res.stdout);
    expect(summary).toMatchObject({ counts: { UPDATED: 1 } });
    expect(summary.notes.join('\n')).not.toMatch(/the address is not whole/);
    expect((sb.salsa.supporters()[0] as { address?: unknown }).address).toMatchObject({ addressLine1: '4 Church Lane', addressLine2: 'Flat 3', city: 'York', county: 'North Yorkshire', postalCode: 'YO1 7HH' });
  });

  it('Luminate: the stored address of an existing constituent is left as it was, and the row says "address not sent"', async () => {
    const { lum, sandbox, env } = await startLuminateSandbox();
    close = () => sandbox.close();
    const dir = tempDir();
    const file = join(dir, 'uk.csv');
    writeFileSync(file, csv(header, rows));
    const stored = { 'primary_address.street1': '1 Old Road', 'primary_address.street2': 'Flat 2', 'primary_address.city': 'Leeds', 'primary_address.zip': 'LS1 1AA' };
    lum.seed!([{ 'email.primary_address': 'james@example.net', 'name.first': 'Jim', ...stored }]);
    const check = await runInProcess(['check', file, '-t', 'luminate'], { env });
    expect(check.stdout).toMatch(/not whole: "County" looks like a part of the address but is not mapped, so a row with a value there sends its address only to constituents the run creates/);
    const res = await runInProcess(['import', file, '-t', 'luminate', '-r', join(dir, 'r.csv'), '--json'], { env });
    const summary = JSON.parse(res.stdout);
    expect(summary).toMatchObject({ counts: { UPDATED: 1 } });
    expect(summary.notes.join('\n')).toMatch(/the address is not whole: "County" looks like a part of the address but is not mapped, so a row with a value there sends its address only to constituents the run creates/);
    expect(readReport(join(dir, 'r.csv'))[0]!.error_message).toMatch(/^address not sent/);
    expect(lum.constituents()[0]).toMatchObject({ ...stored, 'name.first': 'James' });
    // A constituent the run creates has nothing stored to erase: its address follows by the new cons_id.
    const next = join(dir, 'uk2.csv');
    writeFileSync(next, csv(header, [['Fiona', 'MacLeod', 'fiona@example.com', '9 Rose Street', '', 'Edinburgh', 'Midlothian', 'EH2 2PR']]));
    const again = await runInProcess(['import', next, '-t', 'luminate', '-r', join(dir, 'r2.csv'), '--json'], { env });
    expect(JSON.parse(again.stdout)).toMatchObject({ counts: { ADDED: 1 } });
    expect(readReport(join(dir, 'r2.csv'))[0]!.error_message).toBe('');
    expect(lum.constituents().find((c) => c['email.primary_address'] === 'fiona@example.com')).toMatchObject({ 'primary_address.street1': '9 Rose Street', 'primary_address.city': 'Edinburgh', 'primary_address.zip': 'EH2 2PR' });
  });
});
