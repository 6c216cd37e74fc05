import { randomUUID } from 'node:crypto';
import type { EmulatorReply } from '../../sandbox/emulator-types.js';
import { isUuid, normaliseEmail } from '../../mapping/values.js';
import type { Replies } from './segments-emulator.js';
import { fieldError, SIMPLE_FIELDS, validate, type CustomField, type FieldError, type Obj } from './emulator-validate.js';

/** The emulated account's counts, as its metrics call answers them. */
export interface EmulatorMetrics {
  totalAPICalls: number;
  totalAPICallFailures: number;
  supporterAdd: number;
  supporterUpdate: number;
  supporterDelete: number;
  lastAPICall: string;
}

/** The emulated account's supporters, and what writing and finding them needs. */
export interface SupporterStore {
  supporters: Map<string, Obj>;
  /** Supporter ids by normalised email. */
  byEmail: Map<string, Set<string>>;
  customFields: Map<string, CustomField>;
  /** A deleted supporter's segment memberships go with it. */
  segments: { forget(supporterId: string): void };
  metrics: EmulatorMetrics;
  maxBatchSize: number;
  now: () => number;
}

/** The account's custom fields by lower-case name, from specs like "Donor Level:NUMBER" (no type: STRING). */
export function customFieldsOf(specs: string[]): Map<string, CustomField> {
  return new Map(
    specs.map((spec) => {
      const [n, type] = spec.split(':') as [string, string | undefined];
      return [n.toLowerCase(), { name: n, fieldId: randomUUID(), type: type ?? 'STRING' }];
    }),
  );
}

const fits = (type: string, v: unknown) =>
  typeof v === 'string' && (v === '' || type === 'STRING' || (type === 'BOOLEAN' && (v === 'true' || v === 'false')) || (type === 'NUMBER' && /^-?\d+(\.\d+)?$/.test(v)) || (type === 'DATE' && /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{3})?Z)?$/.test(v)));

const emailOf = (s: Obj) => ((s.contacts as Obj[] | undefined) ?? []).find((c) => c.type === 'EMAIL')?.value as string | undefined;

/** Adds a supporter's email to the email index, or takes it out. */
function index(store: SupporterStore, id: string, s: Obj | undefined, add: boolean) {
  const e = s && emailOf(s);
  if (!e) return;
  const k = normaliseEmail(e);
  if (add) (store.byEmail.get(k) ?? store.byEmail.set(k, new Set()).get(k)!).add(id);
  else store.byEmail.get(k)?.delete(id);
}

/** Puts records in place as they are (an id is given to those without one). */
export function seedSupporters(store: SupporterStore, records: Obj[]): void {
  for (const r of records) {
    const id = typeof r.supporterId === 'string' ? r.supporterId : randomUUID();
    const rec = { ...r, supporterId: id };
    store.supporters.set(id, rec);
    index(store, id, rec, true);
  }
}

/** A stored supporter with a sent one's changes applied (the stored one is left as it was). */
function merge(store: SupporterStore, existing: Obj, s: Obj): Obj {
  const next: Obj = { ...existing };
  for (const f of SIMPLE_FIELDS) if (s[f] !== undefined) next[f] = s[f];
  // Inside a sent address, a part sent as "" (or null) is cleared and a part left out is kept, as Engage does (its
  // help: every sent field is updated "including nulls, empty strings"; the vendor's Go client had to stop omitting
  // empty parts to clear them). Engage leaves empty fields out of its answers: a cleared part is removed.
  if (s.address !== undefined) {
    const address: Obj = { ...((existing.address as Obj | undefined) ?? {}) };
    for (const [k, v] of Object.entries(s.address as Obj)) {
      if (k === 'errors') continue;
      if (v === '' || v === null) delete address[k];
      else address[k] = v;
    }
    next.address = address;
  }
  if (s.contacts !== undefined) {
    const byType = new Map(((existing.contacts as Obj[] | undefined) ?? []).map((c) => [c.type, c]));
    // A contact sent without a status keeps the stored one; a new contact without one gets the account's default,
    // which is undocumented: the emulator takes the worst case, OPT_IN, so a client that leaves new supporters'
    // status to it is caught opting people in.
    for (const c of s.contacts as Obj[]) byType.set(c.type, { type: c.type, value: c.value, status: c.status ?? byType.get(c.type)?.status ?? 'OPT_IN' });
    next.contacts = [...byType.values()];
  }
  if (s.customFieldValues !== undefined) {
    const byName = new Map(((existing.customFieldValues as Obj[] | undefined) ?? []).map((c) => [String(c.name).toLowerCase(), c]));
    for (const c of s.customFieldValues as Obj[]) {
      const known = [...store.customFields.values()].find((k) => (c.fieldId ? k.fieldId === c.fieldId : k.name.toLowerCase() === String(c.name).toLowerCase()))!;
      if (!fits(known.type, c.value)) {
        c.warnings = [{ id: randomUUID(), code: 3001, message: `Value is not a valid ${known.type}`, details: `"${String(c.value)}" was not applied to ${known.name}` }];
        continue;
      }
      byName.set(known.name.toLowerCase(), { fieldId: known.fieldId, name: known.name, value: c.value, type: known.type });
    }
    next.customFieldValues = [...byName.values()];
  }
  return next;
}

/** `sent` is this request's own parsed JSON: errors are hung on it and it is echoed back. */
function upsert(store: SupporterStore, s: Obj): Obj {
  const { supporters, now, metrics } = store;
  const id = typeof s.supporterId === 'string' ? s.supporterId : undefined;
  if (id !== undefined && !supporters.has(id)) return { ...s, result: 'NOT_FOUND' };
  if (!validate(s, id === undefined, store.customFields, now)) return { ...s, result: 'VALIDATION_ERROR' };
  const email = emailOf(s);
  const owners = email ? [...(store.byEmail.get(normaliseEmail(email)) ?? [])] : [];
  let targetId = id;
  if (targetId === undefined && owners.length > 0) targetId = owners[0];
  if (email && owners.some((o) => o !== targetId)) {
    (s.errors as FieldError[] | undefined) ?? (s.errors = []);
    (s.errors as FieldError[]).push(fieldError(2013, 'The email address belongs to another supporter', 'contacts'));
    return { ...s, result: 'VALIDATION_ERROR' };
  }
  if (targetId !== undefined) {
    const existing = supporters.get(targetId)!;
    index(store, targetId, existing, false);
    const next = merge(store, existing, s);
    next.lastModified = new Date(now()).toISOString();
    supporters.set(targetId, next);
    index(store, targetId, next, true);
    metrics.supporterUpdate++;
    return { ...s, supporterId: targetId, result: 'UPDATED' };
  }
  const newId = randomUUID();
  const at = new Date(now()).toISOString();
  const created = merge(store, { supporterId: newId, createdDate: at, lastModified: at }, s);
  supporters.set(newId, created);
  index(store, newId, created, true);
  metrics.supporterAdd++;
  return { ...s, supporterId: newId, result: 'ADDED' };
}

/** Deletes the supporter a sent item names by its supporterId. */
function remove(store: SupporterStore, sent: Obj): Obj {
  const id = sent.supporterId;
  if (typeof id !== 'string' || !isUuid(id)) return { ...sent, result: 'VALIDATION_ERROR', errors: [fieldError(2014, 'A valid supporterId is required', 'supporterId')] };
  const existing = store.supporters.get(id);
  if (!existing) return { supporterId: id, result: 'NOT_FOUND' };
  index(store, id, existing, false);
  store.supporters.delete(id);
  store.segments.forget(id);
  store.metrics.supporterDelete++;
  return { supporterId: id, result: 'DELETED' };
}

/** PUT (upsert) or DELETE on the supporters path: a batch of supporters, each answered with its result. */
export function writeSupporters(store: SupporterStore, method: string, payload: Obj | undefined, r: Replies): EmulatorReply {
  if (method !== 'PUT' && method !== 'DELETE') return r.error(405, `Method ${method} is not allowed here`);
  const supporters = payload?.supporters;
  if (!Array.isArray(supporters)) return r.error(400, 'payload.supporters must be a list of supporters');
  if (supporters.length > store.maxBatchSize) return r.error(429, `Requested batch size exceeds the allowed size of: ${store.maxBatchSize}`);
  if (supporters.some((s) => !s || typeof s !== 'object' || Array.isArray(s))) return r.error(400, 'Each item of payload.supporters must be an object');
  const results = (supporters as Obj[]).map((s) => (method === 'PUT' ? upsert(store, s) : remove(store, s)));
  return r.ok({ supporters: results });
}

/** The supporters search: by email, external id or supporter id, a page of the matches. */
export function searchSupporters(store: SupporterStore, payload: Obj, r: Replies): EmulatorReply {
  const { supporters, maxBatchSize } = store;
  const ids = payload.identifiers;
  const type = payload.identifierType;
  if (!Array.isArray(ids) || !['EMAIL_ADDRESS', 'EXTERNAL_ID', 'SUPPORTER_ID'].includes(String(type))) {
    return r.error(400, 'search needs identifiers and an identifierType of EMAIL_ADDRESS, EXTERNAL_ID or SUPPORTER_ID');
  }
  if (ids.length > maxBatchSize) return r.error(429, `Requested batch size exceeds the allowed size of: ${maxBatchSize}`);
  const offset = Number(payload.offset ?? 0);
  const count = Math.min(Number(payload.count ?? 20), maxBatchSize);
  const found: Obj[] = [];
  for (const ident of ids as string[]) {
    let matches: Obj[] = [];
    if (type === 'SUPPORTER_ID') matches = supporters.has(ident) ? [supporters.get(ident)!] : [];
    else if (type === 'EMAIL_ADDRESS') matches = [...(store.byEmail.get(normaliseEmail(String(ident))) ?? [])].map((id) => supporters.get(id)!);
    else matches = [...supporters.values()].filter((s) => s.externalSystemId === ident);
    for (const m of matches) found.push({ ...structuredClone(m), result: 'FOUND' });
  }
  // Production answers carry count and the supporters, and not always total: the emulator leaves total out, so a
  // client that relies on it stops at the first page here as it would there.
  return r.ok({ count: Math.max(0, Math.min(count, found.length - offset)), offset, supporters: found.slice(offset, offset + count) });
}
