import type { FoundRecord, IdentityKind, LookupOutcome } from '../../core/types.js';
import { normaliseEmail } from '../../mapping/values.js';
import { tryJson, type HttpReply } from '../http.js';
import { classifySalsaReply } from './reply.js';
import { ADDRESS_FIELDS, CONTACT_FIELDS } from './fields.js';

type Obj = Record<string, unknown>;

const IDENTIFIER_TYPE: Record<IdentityKind, string> = { id: 'SUPPORTER_ID', email: 'EMAIL_ADDRESS', externalId: 'EXTERNAL_ID' };
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
  const nearest = t % day === day / 2 ? t : Math.floor((t + day / 2) / day) * day;
  return new Date(nearest).toISOString().slice(0, 10);
}

/** A found supporter in the flat form `import` reads back: field names as the Salsa mapping uses them. */
export function toBackup(s: Obj): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of SIMPLE) if (typeof s[f] === 'string' && s[f]) out[f] = s[f] as string;
  if (typeof s.dateOfBirth === 'string' && s.dateOfBirth) out.dateOfBirth = calendarDayOf(s.dateOfBirth);
  const a = (s.address ?? {}) as Obj;
  for (const f of ADDRESS_FIELDS) if (typeof a[f] === 'string' && a[f]) out[f] = a[f] as string;
  for (const c of (s.contacts as Obj[] | undefined) ?? []) {
    const field = FIELD_OF_CONTACT[String(c.type)];
    if (field && typeof c.value === 'string') out[field] = c.value;
    if (c.type === 'EMAIL' && typeof c.status === 'string') out.emailStatus = c.status;
  }
  for (const cf of (s.customFieldValues as Obj[] | undefined) ?? []) if (cf.name && cf.value !== undefined) out[`custom:${String(cf.name)}`] = String(cf.value);
  // Kept for reference; a re-import matches by email and gets a new supporterId.
  out.deletedSupporterId = String(s.supporterId);
  return out;
}

function label(s: Obj): string {
  const name = [s.firstName, s.lastName].filter((x) => typeof x === 'string' && x).join(' ');
  const email = emailOf(s);
  return [name || '(no name)', email ? `<${email}>` : ''].filter(Boolean).join(' ');
}

/**
 * POST …/supporters/search for one kind of identifier, paging until a short page.
 * One email may return more than one supporter: every match is kept.
 */
export async function searchSupporters(post: (body: string) => Promise<{ ok: true; reply: HttpReply } | { ok: false; reason: string }>, kind: IdentityKind, values: string[], pageSize: number): Promise<LookupOutcome> {
  const records = new Map<string, FoundRecord[]>(values.map((v) => [v, []]));
  const keyOf = (v: string) => (kind === 'email' ? normaliseEmail(v) : v);
  const index = new Map(values.map((v) => [keyOf(v), v]));
  for (let offset = 0; ; ) {
    const r = await post(JSON.stringify({ payload: { identifiers: values, identifierType: IDENTIFIER_TYPE[kind], offset, count: pageSize } }));
    if (!r.ok) return { kind: 'retry', reason: r.reason };
    // A truncated or HTML answer is not JSON: classified below like any other reply, never thrown.
    const json = (tryJson(r.reply.text) ?? {}) as { payload?: { total?: number; count?: number; supporters?: Obj[] } };
    const page = json.payload?.supporters;
    if (r.reply.status !== 200 || !Array.isArray(page)) {
      const classified = classifySalsaReply(r.reply, 0);
      if (classified.kind === 'results') return { kind: 'retry', reason: `unexpected search answer (HTTP ${r.reply.status})`, httpStatus: r.reply.status };
      return classified;
    }
    for (const s of page) {
      if (s.result !== undefined && s.result !== 'FOUND') continue;
      const matched = kind === 'id' ? String(s.supporterId) : kind === 'email' ? normaliseEmail(emailOf(s) ?? '') : String(s.externalSystemId ?? '');
      const asked = index.get(matched);
      if (asked === undefined) continue;
      const list = records.get(asked)!;
      if (!list.some((x) => x.remoteId === s.supporterId)) list.push({ remoteId: String(s.supporterId), label: label(s), backup: toBackup(s) });
    }
    offset += page.length;
    // Page until a page comes back shorter than asked for: production answers do not always carry `total` (when one
    // does, it saves the last, empty page).
    const total = json.payload?.total;
    if (page.length < pageSize || (typeof total === 'number' && offset >= total)) break;
  }
  return { kind: 'found', records };
}
