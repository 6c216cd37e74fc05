import type { FoundRecord, IdentityKind, LookupOutcome } from '../../core/types.js';
import { normaliseEmail } from '../../mapping/values.js';
import type { HttpReply } from '../http.js';
import { classifySalsaReply } from './client.js';
import { ADDRESS_FIELDS, CONTACT_FIELDS } from './fields.js';

type Obj = Record<string, unknown>;

const IDENTIFIER_TYPE: Record<IdentityKind, string> = { id: 'SUPPORTER_ID', email: 'EMAIL_ADDRESS', externalId: 'EXTERNAL_ID' };
const FIELD_OF_CONTACT = Object.fromEntries(Object.entries(CONTACT_FIELDS).map(([f, t]) => [t, f]));
const SIMPLE = ['title', 'firstName', 'middleName', 'lastName', 'suffix', 'gender', 'externalSystemId'];

export function emailOf(s: Obj): string | undefined {
  return ((s.contacts as Obj[] | undefined) ?? []).find((c) => c.type === 'EMAIL')?.value as string | undefined;
}

/** A found supporter in the flat form `import` reads back: field names as the Salsa mapping uses them. */
export function toBackup(s: Obj): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of SIMPLE) if (typeof s[f] === 'string' && s[f]) out[f] = s[f] as string;
  if (typeof s.dateOfBirth === 'string' && s.dateOfBirth) out.dateOfBirth = s.dateOfBirth.slice(0, 10);
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
 * POST …/supporters/search for one kind of identifier, paging until `total` is read (API-NOTES.md).
 * One email may return more than one supporter: every match is kept.
 */
export async function searchSupporters(post: (body: string) => Promise<{ ok: true; reply: HttpReply } | { ok: false; reason: string }>, kind: IdentityKind, values: string[], pageSize: number): Promise<LookupOutcome> {
  const records = new Map<string, FoundRecord[]>(values.map((v) => [v, []]));
  const keyOf = (v: string) => (kind === 'email' ? normaliseEmail(v) : v);
  const index = new Map(values.map((v) => [keyOf(v), v]));
  for (let offset = 0; ; ) {
    const r = await post(JSON.stringify({ payload: { identifiers: values, identifierType: IDENTIFIER_TYPE[kind], offset, count: pageSize } }));
    if (!r.ok) return { kind: 'retry', reason: r.reason };
    const json = JSON.parse(r.reply.text.startsWith('{') ? r.reply.text : '{}') as { payload?: { total?: number; count?: number; supporters?: Obj[] } };
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
    if (page.length === 0 || offset >= (json.payload?.total ?? 0)) break;
  }
  return { kind: 'found', records };
}
