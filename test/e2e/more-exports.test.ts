import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { readReport, ROOT, runInProcess, startSalsaSandbox, tempDir, type TestSandbox } from '../support/helpers.js';

// Exports from a blind trial (written by someone who had not read the tool's header reading), each kept for what
// it taught: consent in a vendor's own words, a house number in its own column, a birth date in three, a job
// title beside a salutation. Judged by the CRM's final records, for people already in it and new ones.

const EXPORTS = join(ROOT, 'fixtures/exports');
let sb: TestSandbox | undefined;
afterEach(async () => {
  await sb?.sandbox.close();
  sb = undefined;
});

type Row = Record<string, string>;
type Supporter = Record<string, unknown> & { contacts?: Array<{ type: string; value: string; status?: string }>; address?: Record<string, string> };
const rowsOf = (name: string, delimiter = ','): Row[] => parse(readFileSync(join(EXPORTS, name)), { columns: true, bom: true, delimiter, relax_column_count: true }) as Row[];
const emailIn = (r: Row, column: string) => r[column]!.trim().toLowerCase();
/** Each person's last row (a later row wins), people with a well-formed email only. */
function people(name: string, column: string, delimiter = ','): Row[] {
  const last = new Map<string, Row>();
  for (const r of rowsOf(name, delimiter)) if (/^[^@\s]+@[^@\s]+\.[a-z]{2,}$/i.test(r[column]!.trim())) last.set(emailIn(r, column), r);
  return [...last.values()];
}

/** Imports a file into a sandbox where these people are already subscribed; returns each person's stored record. */
async function importOver(name: string, existing: string[]): Promise<{ by: (email: string) => Supporter; stderr: string; report: ReturnType<typeof readReport> }> {
  sb = await startSalsaSandbox();
  sb.salsa.seed!(existing.map((value) => ({ firstName: 'Before', contacts: [{ type: 'EMAIL', value, status: 'OPT_IN' }] })));
  const report = join(tempDir(), 'r.report.csv');
  const res = await runInProcess(['import', join(EXPORTS, name), '-r', report], { env: sb.env });
  expect(res.code, res.stderr).toBeLessThan(2);
  const all = sb.salsa.supporters() as Supporter[];
  const by = (email: string) => all.find((s) => s.contacts?.some((c) => c.type === 'EMAIL' && c.value.toLowerCase() === email))!;
  return { by, stderr: res.stderr, report: readReport(report) };
}
const status = (s: Supporter) => s.contacts?.find((c) => c.type === 'EMAIL')?.status;
const phone = (s: Supporter, type: string) => s.contacts?.find((c) => c.type === type)?.value;

describe('consent in the vendor\'s own words opts out people already subscribed', () => {
  it('Salsa Classic: Receive_Email 1 subscribes, 0 and negative codes unsubscribe; supporter_KEY is no supporterId', async () => {
    const rows = people('salsa-classic.csv', 'Email');
    const out = rows.filter((r) => Number(r.Receive_Email) <= 0).map((r) => emailIn(r, 'Email'));
    const inn = rows.filter((r) => r.Receive_Email === '1').map((r) => emailIn(r, 'Email'));
    expect(out.length).toBeGreaterThan(2);
    const { by, stderr } = await importOver('salsa-classic.csv', out);
    for (const e of out) expect(status(by(e)), e).toBe('OPT_OUT');
    for (const e of inn) expect(status(by(e)), e).toBe('OPT_IN');
    expect(stderr).toMatch(/Columns not used: supporter_KEY/);
  });

  it('Bloomerang: a DoNotEmail in "Communication Restrictions" opts out; DoNotMail alone says nothing', async () => {
    const rows = people('bloomerang.csv', 'Primary Email Address');
    const restricted = rows.filter((r) => /DoNotEmail|DoNotSolicit/.test(r['Communication Restrictions']!)).map((r) => emailIn(r, 'Primary Email Address'));
    const mailOnly = rows.filter((r) => r['Communication Restrictions'] === 'DoNotMail').map((r) => emailIn(r, 'Primary Email Address'));
    expect(restricted.length).toBeGreaterThan(0);
    const { by } = await importOver('bloomerang.csv', [...restricted, ...mailOnly]);
    for (const e of restricted) expect(status(by(e)), e).toBe('OPT_OUT');
    for (const e of mailOnly) expect(status(by(e)), e).toBe('OPT_IN');
  });

  it('Constant Contact: "Email permission status" Unsubscribed opts out, Explicit/Implicit opt in; line 2 of the address lands', async () => {
    const rows = people('constant-contact.csv', 'Email address');
    const unsubscribed = rows.filter((r) => r['Email permission status'] === 'Unsubscribed').map((r) => emailIn(r, 'Email address'));
    const { by } = await importOver('constant-contact.csv', unsubscribed);
    for (const e of unsubscribed) expect(status(by(e)), e).toBe('OPT_OUT');
    for (const r of rows.filter((x) => x['Email permission status'] === 'Explicit')) expect(status(by(emailIn(r, 'Email address')))).toBe('OPT_IN');
    const withLine2 = rows.find((r) => r['Street address line 2 - Home'])!;
    expect(by(emailIn(withLine2, 'Email address')).address).toMatchObject({ addressLine1: withLine2['Street address line 1 - Home'], addressLine2: withLine2['Street address line 2 - Home'] });
  });

  it('Mailchimp (2024): "Email Marketing Status" Unsubscribed and Cleaned opt out; REGION is not an address part', async () => {
    const rows = people('mailchimp-2024.csv', 'Email Address');
    const out = rows.filter((r) => /Unsubscribed|Cleaned/.test(r['Email Marketing Status']!)).map((r) => emailIn(r, 'Email Address'));
    const { by, stderr } = await importOver('mailchimp-2024.csv', out);
    for (const e of out) expect(status(by(e)), e).toBe('OPT_OUT');
    expect(stderr).not.toMatch(/"REGION" looks like a part/);
  });
});

describe('fields as people split them', () => {
  it('a German spreadsheet: Straße + Hausnr. make the street, Mobil is the cell phone, Newsletter ja/nein', async () => {
    const rows = people('excel-de-semicolon.csv', 'E-Mail', ';');
    const { by } = await importOver('excel-de-semicolon.csv', []);
    for (const r of rows.slice(0, 5)) {
      const s = by(emailIn(r, 'E-Mail'));
      expect(s.address?.addressLine1).toBe(`${r['Straße']} ${r['Hausnr.']}`.trim());
      if (r.Mobil) expect(phone(s, 'CELL_PHONE')).toBe(r.Mobil);
      expect(status(s)).toBe(r.Newsletter === 'ja' ? 'OPT_IN' : 'OPT_OUT');
    }
  });

  it('Neon CRM: the date of birth from DOB Year/Month/Day, each phone where its "Phone N Type" says', async () => {
    const rows = people('neon-crm.csv', 'Email 1');
    const { by } = await importOver('neon-crm.csv', []);
    const dated = rows.find((r) => r['DOB Year'] && r['DOB Month'] && r['DOB Day'])!;
    expect(String(by(emailIn(dated, 'Email 1')).dateOfBirth).slice(0, 10)).toBe(`${dated['DOB Year']}-${dated['DOB Month']!.padStart(2, '0')}-${dated['DOB Day']!.padStart(2, '0')}`);
    const mobile = rows.find((r) => r['Phone 1 Type'] === 'Mobile' && r['Phone 1 Full Number (F)'])!;
    expect(phone(by(emailIn(mobile, 'Email 1')), 'CELL_PHONE')).toBe(mobile['Phone 1 Full Number (F)']);
  });

  it("Typeform: a question with a placeholder (\"And your surname, {{field:first}}?\") is the last name; Zoho's job Title is not the person's title", async () => {
    const rows = people('typeform-uk.csv', "What's your email address?");
    const { by } = await importOver('typeform-uk.csv', []);
    for (const r of rows.slice(0, 3)) expect(by(emailIn(r, "What's your email address?")).lastName).toBe(r['And your surname, {{field:first}}?']);
    await sb!.sandbox.close();
    const zoho = people('zoho-contacts.csv', 'Email');
    const z = await importOver('zoho-contacts.csv', []);
    for (const r of zoho.filter((x) => x.Salutation).slice(0, 3)) expect(z.by(emailIn(r, 'Email')).title).toBe(r.Salutation);
    const stated = zoho.find((r) => r['Mailing State'])!;
    expect(z.by(emailIn(stated, 'Email')).address?.state).toBe(stated['Mailing State']);
  });
});

describe('a second blind trial: opt-outs in still other words, names and addresses as other systems split them', () => {
  it('Brevo: EMAIL_BLACKLISTED=true opts out even where DOUBLE_OPT-IN says Yes', async () => {
    const rows = people('brevo.csv', 'EMAIL');
    const blacklisted = rows.filter((r) => r.EMAIL_BLACKLISTED === 'true').map((r) => emailIn(r, 'EMAIL'));
    expect(blacklisted.length).toBeGreaterThan(1);
    const { by } = await importOver('brevo.csv', blacklisted);
    for (const e of blacklisted) expect(status(by(e)), e).toBe('OPT_OUT');
    for (const r of rows.filter((x) => x.EMAIL_BLACKLISTED === 'false' && x['DOUBLE_OPT-IN'] === 'Yes')) expect(status(by(emailIn(r, 'EMAIL')))).toBe('OPT_IN');
  });

  it('Dynamics 365: "Do not allow Emails" = Do Not Allow opts out, Allow keeps the stored status; Street 2 lands', async () => {
    const rows = people('dynamics-365.csv', 'Email');
    const refused = rows.filter((r) => r['Do not allow Emails'] === 'Do Not Allow' || r['Do not allow Bulk Emails'] === 'Do Not Allow').map((r) => emailIn(r, 'Email'));
    const allowed = rows.filter((r) => r['Do not allow Emails'] === 'Allow' && r['Do not allow Bulk Emails'] === 'Allow').map((r) => emailIn(r, 'Email'));
    const { by } = await importOver('dynamics-365.csv', [...refused, ...allowed]);
    for (const e of refused) expect(status(by(e)), e).toBe('OPT_OUT');
    for (const e of allowed) expect(status(by(e)), `${e} keeps its stored status`).toBe('OPT_IN');
    const suite = rows.find((r) => r['Address 1: Street 2'])!;
    expect(by(emailIn(suite, 'Email')).address?.addressLine2).toBe(suite['Address 1: Street 2']);
  });

  it('Jotform: "Full Name" gives the first and the last name; "Yes, please!" / "No, thanks" read as yes and no', async () => {
    const rows = people('jotform-fullname.csv', 'E-mail');
    const { by } = await importOver('jotform-fullname.csv', []);
    for (const r of rows.filter((x) => x['Full Name']!.trim())) {
      const s = by(emailIn(r, 'E-mail'));
      // The whole name, less an honorific in front ("Dr. Samuel K. Osei" is Samuel K. and Osei).
      const written = r['Full Name']!.trim().replace(/^(mr|mrs|ms|dr|prof)\.?\s+/i, '');
      // "Lopez, Carmen": last name first.
      const words = (written.includes(',') ? written.split(/,\s*/).reverse().join(' ') : written).split(/\s+/);
      expect(`${s.firstName} ${s.lastName ?? ''}`.trim(), r['Full Name']).toBe(words.join(' '));
      if (words.length > 1) expect(String(s.lastName).endsWith(words[words.length - 1]!), r['Full Name']).toBe(true);
      const answer = r['Would you like to receive our newsletter?']!;
      if (/^yes/i.test(answer)) expect(status(s)).toBe('OPT_IN');
      if (/^no/i.test(answer)) expect(status(s)).toBe('OPT_OUT');
    }
  });

  it('a Dutch spreadsheet: Tussenvoegsel joins the surname, Huisnummer + Toevoeging the street, Nieuwsbrief ja/nee is consent', async () => {
    const rows = people('excel-nl-semicolon.csv', 'E-mailadres', ';');
    const nee = rows.filter((r) => /^nee$/i.test(r.Nieuwsbrief!)).map((r) => emailIn(r, 'E-mailadres'));
    const { by } = await importOver('excel-nl-semicolon.csv', nee);
    for (const e of nee) expect(status(by(e)), e).toBe('OPT_OUT');
    for (const r of rows) {
      const s = by(emailIn(r, 'E-mailadres'));
      expect(s.lastName).toBe([r.Tussenvoegsel, r.Achternaam].filter(Boolean).join(' '));
      if (r.Straat) expect(s.address?.addressLine1).toBe([r.Straat, r.Huisnummer, r.Toevoeging].filter(Boolean).join(' '));
    }
  });

  it('Keela: "Do Not Email" or "No Contact" in Communication Preferences opts out; a Secondary Email stands in for an empty Primary', async () => {
    const rows = people('keela.csv', 'Primary Email');
    const out = rows.filter((r) => /Do Not Email|No Contact/i.test(r['Communication Preferences']!)).map((r) => emailIn(r, 'Primary Email'));
    const { by, report } = await importOver('keela.csv', out);
    for (const e of out) expect(status(by(e)), e).toBe('OPT_OUT');
    const secondaryOnly = rowsOf('keela.csv').find((r) => !r['Primary Email']!.trim() && /@/.test(r['Secondary Email']!))!;
    expect(by(emailIn(secondaryOnly, 'Secondary Email'))).toBeDefined();
    expect(report.filter((l) => l.status === 'INVALID').every((l) => !/email is required/.test(l.error_message) || !l.key)).toBe(true);
  });

  it('WooCommerce: the billing address goes to existing supporters too (the shipping block is another address, not a gap)', async () => {
    const rows = people('woocommerce-orders.csv', 'Email (Billing)');
    const existing = rows.slice(0, 2).map((r) => emailIn(r, 'Email (Billing)'));
    const { by, stderr } = await importOver('woocommerce-orders.csv', existing);
    expect(stderr).not.toMatch(/the address is not whole/);
    for (const r of rows.slice(0, 2)) expect(by(emailIn(r, 'Email (Billing)')).address?.city).toBe(r['City (Billing)']);
  });
});

