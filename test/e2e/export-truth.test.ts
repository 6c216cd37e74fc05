import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { usStateCode } from '../../src/targets/salsa/us-states.js';
import { readReport, ROOT, runInProcess, startLuminateSandbox, startSalsaSandbox, tempDir } from '../support/helpers.js';

// Eight exports written the way their systems write them (fixtures/exports), each with a truth file written by a
// person reading every row (test/truth): what each contact should hold in the CRM. Each is imported with no mapping
// file, and the sandbox's final records are compared with the truth — Salsa and Luminate.

interface Truth {
  line: number;
  email: string | null;
  firstName?: string | null;
  lastName?: string | null;
  title?: string | null;
  street1?: string | null;
  street2?: string | null;
  city?: string | null;
  state?: string | null;
  postalCode?: string | null;
  country?: string | null;
  homePhone?: string | null;
  cellPhone?: string | null;
  workPhone?: string | null;
  dateOfBirth?: string | null;
  gender?: string | null;
  consent?: 'opted_in' | 'opted_out' | null;
}

const EXPORTS = ['shopify-customers', 'eventbrite-attendees', 'givebutter-donors', 'civicrm-contacts', 'npsp-contacts', 'hubspot-contacts', 'google-forms-responses', 'excel-fr-semicolon'];
const truthOf = (name: string): Truth[] => readFileSync(join(ROOT, 'test/truth', `${name}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Truth);
const digits = (v: unknown) => String(v ?? '').replace(/\D/g, '');

/** Each person's rows, in file order (a person may be in a file twice: the later row's values win). */
function people(truth: Truth[]): Map<string, Truth[]> {
  const by = new Map<string, Truth[]>();
  for (const t of truth) if (t.email) by.set(t.email.trim().toLowerCase(), [...(by.get(t.email.trim().toLowerCase()) ?? []), t]);
  return by;
}

/**
 * What the person's record must hold: the last non-null value each field was given (an empty cell never erases),
 * and for consent the rules that matter: the last row's opt-out holds; no opt-out is followed by an opt-in it did not
 * say; someone in the file once is opted in only if the file says so.
 */
const ADDRESS = new Set(['street1', 'street2', 'city', 'state', 'postalCode', 'country']);

/**
 * What the CRM holds after the rows, in order. A row whose report line says "address not sent" (an address part the
 * tool cannot place, for a record already stored) leaves the stored address as the earlier row made it.
 */
function expected(rows: Truth[], heldBack: (line: number) => string = () => ''): Record<string, string | null | undefined> {
  const out: Record<string, string | null | undefined> = {};
  for (const [i, t] of rows.entries()) {
    // What the row's own line says was not sent to the record an earlier row wrote: a partial address, a mobile
    // number without an SMS status (Salsa could opt it in).
    const said = i > 0 ? heldBack(t.line) : '';
    const keepAddress = /^address not sent/.test(said);
    const keepCell = /cellPhone not sent/.test(said);
    for (const [k, v] of Object.entries(t)) if (k !== 'consent' && k !== 'line' && !(keepAddress && ADDRESS.has(k)) && !(keepCell && k === 'cellPhone') && (v !== null || !(k in out))) out[k] = v as string | null;
  }
  return out;
}

/**
 * Exports whose consent column only says who opted out (HasOptedOutOfEmail, Do Not Email, Unsubscribed from all
 * email): the truth files read "not opted out" as opted in, the tool as no consent given — a record it creates is
 * opted out unless the run says --new-email-status OPT_IN (test/e2e/consent-and-headers.test.ts).
 */
const OPT_OUT_ONLY = new Set(['civicrm-contacts', 'npsp-contacts', 'hubspot-contacts']);

function checkConsent(name: string, email: string, rows: Truth[], stored: 'in' | 'out' | 'none') {
  const last = rows[rows.length - 1]!;
  if (last.consent === 'opted_out') expect(stored, `${email} opted out (line ${last.line})`).toBe('out');
  if (last.consent !== 'opted_in' && rows.some((r) => r.consent === 'opted_out')) expect(stored, `${email} opted out on some line and is not opted in again`).not.toBe('in');
  if (rows.length === 1 && last.consent === 'opted_in') expect(stored, `${email} (line ${last.line})`).toBe(OPT_OUT_ONLY.has(name) ? 'out' : 'in');
  if (rows.every((r) => !r.consent)) expect(stored, `${email}: the file says nothing of consent`).not.toBe('in');
}


describe.each(['salsa', 'luminate'] as const)('real exports into %s, with no mapping file', (target) => {
  let close: (() => Promise<unknown>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it.each(EXPORTS)('%s: every contact with a valid email lands, each part in its field, consent the right way round', async (name) => {
    const truth = truthOf(name);
    const dir = tempDir();
    const report = join(dir, 'r.report.csv');
    let records: () => Map<string, Record<string, string | undefined>>;
    let env: Record<string, string>;
    if (target === 'salsa') {
      const sb = await startSalsaSandbox();
      close = () => sb.sandbox.close();
      env = sb.env;
      records = () => new Map(sb.salsa.supporters().map((raw) => {
        const s = raw as Record<string, unknown> & { contacts?: Array<{ type: string; value: string; status?: string }>; address?: Record<string, string> };
        const contact = (type: string) => s.contacts?.find((c) => c.type === type);
        const a = s.address ?? {};
        return [contact('EMAIL')!.value.toLowerCase(), {
          firstName: s.firstName as string, lastName: s.lastName as string, title: s.title as string,
          street1: a.addressLine1, street2: a.addressLine2, city: a.city, state: a.state, postalCode: a.postalCode, country: a.country,
          homePhone: contact('HOME_PHONE')?.value, cellPhone: contact('CELL_PHONE')?.value, workPhone: contact('WORK_PHONE')?.value,
          dateOfBirth: (s.dateOfBirth as string | undefined)?.slice(0, 10), gender: (s.gender as string | undefined)?.toLowerCase(),
          consent: contact('EMAIL')?.status === 'OPT_IN' ? 'in' : contact('EMAIL')?.status === 'OPT_OUT' ? 'out' : 'none',
        }];
      }));
    } else {
      const sb = await startLuminateSandbox();
      close = () => sb.sandbox.close();
      env = sb.env;
      // (An empty stored value is no value: a whole address sends its empty parts as "" to clear them.)
      records = () => new Map(sb.lum.constituents().map((all) => Object.fromEntries(Object.entries(all).filter(([, v]) => v !== ''))).map((c) => [String(c['email.primary_address'] ?? c.primary_email).toLowerCase(), {
        firstName: c['name.first'], lastName: c['name.last'], title: c['name.title'],
        street1: c['primary_address.street1'], street2: c['primary_address.street2'], city: c['primary_address.city'], state: c['primary_address.state'],
        postalCode: c['primary_address.zip'], country: c['primary_address.country'], homePhone: c.home_phone, cellPhone: c.mobile_phone,
        dateOfBirth: c.birth_date?.slice(0, 10), gender: c.gender?.toLowerCase(), consent: c['email.accepts_email'] === 'true' ? 'in' : 'out',
      }]));
    }
    const res = await runInProcess(['import', join(ROOT, 'fixtures/exports', `${name}.csv`), '-t', target, '-r', report, '--json', '--quiet'], { env });
    expect(res.code, res.stderr).toBe(1); // every export has rows without a valid email: INVALID, so exit 1

    // Every input row once in the report, in order, at its line; the rows without a valid email INVALID, no other.
    const lines = readReport(report);
    expect(lines.map((l) => Number(l.line))).toEqual(truth.map((t) => t.line));
    for (const [i, t] of truth.entries()) {
      if (!t.email) expect(lines[i]!.status, `line ${t.line}`).toBe('INVALID');
      else expect(['ADDED', 'UPDATED', 'UPSERTED'], `line ${t.line}: ${lines[i]!.error_message}`).toContain(lines[i]!.status);
    }

    const stored = records();
    for (const [email, rows] of people(truth)) {
      const s = stored.get(email);
      expect(s, `${email} (line ${rows[0]!.line}) is in the CRM`).toBeDefined();
      const want = expected(rows, (line) => lines.find((l) => Number(l.line) === line)?.error_message ?? '');
      for (const [field, value] of Object.entries(want)) {
        if (field === 'email' || (target === 'luminate' && field === 'workPhone')) continue;
        const got = s![field];
        const where = `${email} ${field} (line ${rows[rows.length - 1]!.line})`;
        if (value === null || value === undefined) {
          if (rows.length === 1 && !(target === 'luminate' && field === 'gender')) expect(got, where).toBeUndefined();
        } else if (field.endsWith('Phone')) expect(digits(got), where).toBe(digits(value));
        else if (field === 'state') expect([value, usStateCode(value, want.country ?? undefined)], where).toContain(got);
        else expect(got, where).toBe(value.trim());
      }
      checkConsent(name, email, rows, s!.consent as 'in' | 'out' | 'none');
    }
  });
});
