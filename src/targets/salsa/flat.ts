import { ADDRESS_FIELDS, CONTACT_FIELDS } from './fields.js';

/** Supporters in the flat form mappings use: read back from searches, made of payloads (no HTTP here: start-up). */

type Obj = Record<string, unknown>;

const FIELD_OF_CONTACT = Object.fromEntries(Object.entries(CONTACT_FIELDS).map(([f, t]) => [t, f]));
const SIMPLE = ['title', 'firstName', 'middleName', 'lastName', 'suffix', 'gender', 'externalSystemId'];

export function emailOf(s: Obj): string | undefined {
  return ((s.contacts as Obj[] | undefined) ?? []).find((c) => c.type === 'EMAIL')?.value as string | undefined;
}

/**
 * The calendar day a stored date of birth stands for. Salsa keeps an instant: this tool writes noon UTC, and the
 * vendor's own screens write local midnight, which east of UTC falls on the previous UTC day (27 May in Paris is
 * 1980-05-26T23:00:00.000Z): cutting the text at 10 characters gave a day early. Noon UTC is the day itself; any
 * other instant is taken to the nearest midnight (right for every offset from UTC-11:59 to UTC+12).
 */
export function calendarDayOf(stored: string): string {
  const t = Date.parse(stored);
  if (Number.isNaN(t) || stored.length <= 10) return stored.slice(0, 10);
  const day = 86_400_000;
  // (t % day is negative before 1970: measured from the day's start, noon is day / 2 on either side of 1970.)
  const nearest = ((t % day) + day) % day === day / 2 ? t - day / 2 : Math.floor((t + day / 2) / day) * day;
  return new Date(nearest).toISOString().slice(0, 10);
}

/**
 * A supporter object in the flat form mappings use (firstName, addressLine1, email, emailStatus, custom:<Name>…).
 * A stored record gives the fields it holds; a payload (`asPayload`) gives what writing it leaves: the fields it sets,
 * "" for those it sends empty (Salsa clears a part sent as ""; one left out is kept).
 */
export function flatSupporter(s: Obj, asPayload = false): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (field: string, v: unknown) => {
    if (typeof v === 'string' && (v !== '' || asPayload)) out[field] = v;
  };
  for (const f of SIMPLE) put(f, s[f]);
  if (typeof s.dateOfBirth === 'string') put('dateOfBirth', s.dateOfBirth ? calendarDayOf(s.dateOfBirth) : '');
  const a = s.address as Obj | undefined;
  // A payload's address leaves what it sends, "" for a part it clears; a part it leaves out is kept, so not listed.
  if (a && typeof a === 'object') for (const f of ADDRESS_FIELDS) put(f, a[f]);
  for (const c of (s.contacts as Obj[] | undefined) ?? []) {
    const field = FIELD_OF_CONTACT[String(c.type)];
    if (field) put(field, c.value);
    if (c.type === 'EMAIL') put('emailStatus', c.status);
    if (c.type === 'CELL_PHONE') put('smsStatus', c.status);
  }
  for (const cf of (s.customFieldValues as Obj[] | undefined) ?? []) {
    const name = cf.name ?? (asPayload ? cf.fieldId : undefined);
    if (name && cf.value !== undefined) put(`custom:${String(name)}`, String(cf.value));
  }
  return out;
}

/** A found supporter in the flat form `import` reads back: field names as the Salsa mapping uses them. */
export function toBackup(s: Obj): Record<string, string> {
  const out = flatSupporter(s);
  // SMS consent is kept on the record but not re-imported from a backup (the mapping field needs a cell phone).
  delete out.smsStatus;
  // Kept for reference; a re-import matches by email and gets a new supporterId.
  out.deletedSupporterId = String(s.supporterId);
  return out;
}

