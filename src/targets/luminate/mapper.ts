import type { GroupDirectory, MappedRow, Operation, Prepared, PrepareOptions, RemoteField } from '../../core/types.js';
import { addressRule } from '../../mapping/address-rule.js';
import { isEmail, normaliseEmail, parseCalendarDate } from '../../mapping/values.js';
import { CUSTOM_FIELD, FIELD_NAME, ID_LIST_PARAMS, LUMINATE_FIELDS, LUMINATE_MAX_LENGTH, METHOD_PARAMS, RESERVED_PARAMS } from './fields.js';

const LUMINATE_ADDRESS = { street1: 'primary_address.street1', city: 'primary_address.city', state: 'primary_address.state', postalCode: 'primary_address.zip', all: LUMINATE_FIELDS.map((f) => f.name).filter((n) => n.startsWith('primary_address.')) };

const KNOWN = new Set(LUMINATE_FIELDS.map((f) => f.name));
const LIMITS = Object.entries(LUMINATE_MAX_LENGTH);
const TRUE = new Set(['true', 't', 'yes', 'y', '1', 'opt_in', 'subscribed']);
const FALSE = new Set(['false', 'f', 'no', 'n', '0', 'opt_out', 'unsubscribed']);

/**
 * Any parameter of createOrUpdate's grammar: its own parameters, and constituent fields, whose set varies per site
 * (work_phone, primary_address.street3, accepts_postal_mail…): any field-shaped name, checked against the site's
 * listUserFields when it can be read. Never a parameter the tool sets itself (credentials, format).
 */
export function isLuminateField(name: string): boolean {
  if (RESERVED_PARAMS.has(name)) return false;
  return KNOWN.has(name) || METHOD_PARAMS.has(name) || CUSTOM_FIELD.test(name) || FIELD_NAME.test(name);
}

/** The groups Luminate's dotted field names start with (name., email., primary_address., employment.). */
const FIELD_GROUPS = new Set([...KNOWN].filter((n) => n.includes('.')).map((n) => n.split('.')[0]!));

/**
 * A header written as a site field: a custom field (custom_string1), a dotted name in one of Luminate's groups
 * (primary_address.street3). A dotted path from another system's JSON (contact.email, contact.address.city) is
 * not one: it is read by its words, as for any target.
 */
export function isOwnLuminateName(header: string): boolean {
  return !RESERVED_PARAMS.has(header) && (CUSTOM_FIELD.test(header) || (FIELD_NAME.test(header) && header.includes('.') && FIELD_GROUPS.has(header.split('.')[0]!)));
}

/** Mapped fields the site does not have, or will not let the API account update (from listUserFields access=update). */
export function checkLuminateFields(mapped: ReadonlySet<string>, remote: ReadonlyMap<string, RemoteField>): string[] {
  const problems: string[] = [];
  const names = [...remote.keys()];
  for (const field of mapped) {
    if (METHOD_PARAMS.has(field)) continue;
    if (remote.has(field)) continue;
    const close = names.filter((n) => n.split('.').pop() === field.split('.').pop() || n.startsWith(field.split('.')[0]!)).slice(0, 4);
    problems.push(`${field} is not a field this site lets the API account update (listUserFields)${close.length ? `; close: ${close.join(', ')}` : ''}`);
  }
  return problems;
}

/** What an empty cell may clear in Luminate: any site field but the lookup keys and the method's own parameters. */
export function canClearLuminate(field: string): true | string {
  if (field === 'cons_id' || field === 'member_id' || field === 'primary_email') return 'it is how Luminate finds the constituent';
  if (METHOD_PARAMS.has(field)) return 'it is an instruction of createOrUpdate, not a stored field';
  return true;
}

/** A value for an ENUMERATION field as one of the site's choices (case-insensitive, or the choice's initial: F → Female). */
function choiceOf(value: string, choices: string[]): string | undefined {
  const v = value.trim().toLowerCase();
  const exact = choices.find((c) => c.toLowerCase() === v);
  if (exact) return exact;
  const initial = v.length === 1 ? choices.filter((c) => c.toLowerCase().startsWith(v)) : [];
  return initial.length === 1 ? initial[0] : undefined;
}

function bool(value: string): string | undefined {
  const v = value.trim().toLowerCase();
  return TRUE.has(v) ? 'true' : FALSE.has(v) ? 'false' : undefined;
}

/** A row that cannot be sent, and why. */
type Failure = Extract<Prepared, { ok: false }>;

/** `field`: the one optional value at fault, so the row may go without it (never a lookup key). */
const failure = (key: string, error: string, field?: string): Failure => ({ ok: false, key, error, field: field === 'primary_email' || field === 'cons_id' || field === 'member_id' ? undefined : field });

const ADDRESS_PART_UNMAPPED = 'address not sent: the row has a part of it in a column that is not mapped (see the note before the run), and Luminate keeps the parts of a stored address a request leaves out; it is sent only to a constituent the run creates (--address replace sends it anyway)';
const ADDRESS_LEFT_OUT = 'address not sent: not a whole address (a street and a city, with a state or zip column), and Luminate keeps the parts of a stored address a request leaves out, so it would mix with the stored one; it is sent only to a constituent the run creates (--address replace sends it anyway)';

/**
 * Maps one row to the form fields of one createOrUpdate call (docs/VENDOR-APIS.md "createOrUpdate").
 * Lookup order is Luminate's own: cons_id, else member_id, else primary_email.
 */
export function prepareLuminate(operation: Operation, row: MappedRow, options?: PrepareOptions): Prepared {
  const f = row.fields;
  const consId = (f.cons_id ?? '').trim();
  const memberId = (f.member_id ?? '').trim();
  const email = (f.primary_email ?? '').trim();
  const key = consId || memberId || normaliseEmail(email);
  if (operation !== 'upsert') return failure(key, 'Luminate Online constituents can only be created or updated');
  const site = options?.remoteFields;
  const wrong = checkKey(consId, memberId, email, key) ?? checkLengths(f, site, key);
  if (wrong) return wrong;
  const form: Record<string, string> = {};
  for (const [name, raw] of Object.entries(f)) {
    const value = raw.trim();
    if (value === '') continue; // an empty cell never clears a stored value
    form[name] = value;
  }
  if (email) form['email.primary_address'] = email;
  // Luminate keeps each part of a stored address a request leaves out: only a whole address goes over a stored one
  // (its empty parts cleared), else a new zip under the stored street would be an address nobody lives at. When the
  // answer says the row created the constituent, there is nothing to erase: the address follows by the new cons_id.
  const address = addressRule(row, LUMINATE_ADDRESS, options?.replacePartial);
  let heldBackNote: string | undefined;
  let afterCreate: Record<string, string> | undefined;
  if (address.heldBack) {
    afterCreate = {};
    for (const k of LUMINATE_ADDRESS.all) if (form[k] !== undefined) (afterCreate[k] = form[k]!), delete form[k];
    heldBackNote = address.heldBack === 'unplaced' ? ADDRESS_PART_UNMAPPED : ADDRESS_LEFT_OUT;
  } else for (const k of address.clear) form[k] = '';
  // Fields the person asked to clear go as empty parameters (assumed to clear: Luminate documents no other way).
  for (const field of row.clear ?? []) form[field] = '';
  const bad = readDatesAndChoices(form, site, key) ?? readBooleans(form, site, key) ?? readGroupIds(form, row, key);
  if (bad) return bad;
  const lockKeys: string[] = [];
  if (consId) lockKeys.push(`cons:${consId}`);
  if (memberId) lockKeys.push(`member:${memberId}`);
  if (email) lockKeys.push(`email:${normaliseEmail(email)}`);
  return { ok: true, key, lockKeys, payload: form, afterCreate, heldBackNote };
}

/** The row names its constituent: a cons_id that is one, a member_id, or a valid email. */
function checkKey(consId: string, memberId: string, email: string, key: string): Failure | undefined {
  if (consId && !/^\d+$/.test(consId)) return failure(key, `cons_id "${consId}" is not a Luminate constituent id (digits only)`);
  if (!consId && !memberId && !email) return failure(key, 'primary_email is required to create a constituent (or give cons_id or member_id to update one)');
  if (email && !isEmail(email)) return failure(key, `primary_email "${email}" is not a valid email address`);
  return undefined;
}

/** No field longer than Luminate takes, or than the site's own field list says. */
function checkLengths(f: Record<string, string>, site: ReadonlyMap<string, RemoteField> | undefined, key: string): Failure | undefined {
  for (const [field, max] of LIMITS) {
    const v = f[field];
    const limit = site?.get(field)?.maxChars ?? max;
    if (v !== undefined && v.length > limit) return failure(key, `${field} is ${v.length} characters long; Luminate accepts at most ${limit}`, field);
  }
  if (site) {
    for (const field in f) {
      const d = site.get(field);
      const v = f[field]!.trim();
      if (!d || v === '') continue;
      if (d.maxChars && v.length > d.maxChars) return failure(key, `${field} is ${v.length} characters long; this site accepts at most ${d.maxChars}`, field);
    }
  }
  return undefined;
}

/** birth_date, the site's own date fields and its enumerations, rewritten in the form as Luminate takes them. */
function readDatesAndChoices(form: Record<string, string>, site: ReadonlyMap<string, RemoteField> | undefined, key: string): Failure | undefined {
  if (form.birth_date) {
    const d = parseCalendarDate(form.birth_date);
    if (!d) return failure(key, `birth_date "${form.birth_date}" is not a date (use YYYY-MM-DD, or a "date" transform in the mapping)`, 'birth_date');
    form.birth_date = d;
  }
  // An enumeration goes out as one of the site's own choices (gender "F" → "Female"), never as typed. A date field
  // of the site's own (custom_date1) takes a year-first date only: "03/10/2023" could be either day first, and a row
  // is never the place to guess (a "date" transform in a mapping reads the whole column one way).
  if (site) {
    for (const field of Object.keys(form)) {
      const d = site.get(field);
      if (d?.valueType === 'DATE' && field !== 'birth_date' && form[field] !== '') {
        const iso = /^\d{4}-/.test(form[field]!) ? parseCalendarDate(form[field]!) : undefined;
        if (!iso) return failure(key, `${field} "${form[field]}" is not a date in YYYY-MM-DD form (for other forms, a "date" transform in a --map file reads the whole column one way)`, field);
        form[field] = iso;
        continue;
      }
      if (d?.valueType !== 'ENUMERATION' || !d.choices?.length || form[field] === '') continue;
      const choice = choiceOf(form[field]!, d.choices);
      if (!choice) return failure(key, `${field} "${form[field]}" is not one of this site's choices (${d.choices.join(', ')})`, field);
      form[field] = choice;
    }
  }
  return undefined;
}

/** Yes/no fields (the method's own, and the site's BOOLEAN ones), rewritten in the form as "true" or "false". */
function readBooleans(form: Record<string, string>, site: ReadonlyMap<string, RemoteField> | undefined, key: string): Failure | undefined {
  const booleans = new Set(['email.accepts_email', 'no_welcome', 'suppress_cleaning', 'accepts_postal_mail']);
  if (site) for (const [name, d] of site) if (d.valueType === 'BOOLEAN') booleans.add(name);
  for (const b of booleans) {
    if (form[b] === undefined || form[b] === '') continue;
    const v = bool(form[b]);
    if (!v) return failure(key, `${b} "${form[b]}" must be true or false (or yes/no)`, b);
    form[b] = v;
  }
  return undefined;
}

/** The row's group changes added to the form, and every list of ids in it written as numeric ids separated by commas. */
function readGroupIds(form: Record<string, string>, row: MappedRow, key: string): Failure | undefined {
  // Group changes (--segment, a "segments" field) travel in the row's own call: add_group_ids, remove_interest_ids…
  for (const m of row.memberships ?? []) {
    const param = `${m.change}_${m.group.kind === 'interest' ? 'interest' : 'group'}_ids`;
    form[param] = form[param] ? `${form[param]},${m.group.id}` : m.group.id;
  }
  for (const ids of ID_LIST_PARAMS) {
    if (form[ids] === undefined) continue;
    const list = form[ids].split(/[\s,;]+/).filter(Boolean);
    if (!list.every((x) => /^\d+$/.test(x))) return failure(key, `${ids} "${form[ids]}" must be numeric ids separated by commas`);
    // Pre-defined groups (ids under 1000) cannot be added through the API (seed: add_group_ids).
    if (ids === 'add_group_ids' && list.some((x) => Number(x) < 1000)) return failure(key, `add_group_ids: groups under 1000 are pre-defined and cannot be assigned through the API`);
    form[ids] = list.join(',');
  }
  return undefined;
}

/**
 * Luminate's groups and interests as a person names them: "1234" or "group:1234" (a group id), "interest:55". Its
 * Constituent API has no call that finds a group by name, so names are refused with what to write instead.
 */
export const luminateGroups: GroupDirectory = {
  resolve(ref) {
    const m = /^(?:(group|interest)s?\s*[:#]?\s*)?(\d+)$/i.exec(ref.trim());
    if (!m) return { error: `"${ref}" is not a group id: Luminate's API cannot find a group by name, so give its id (1234, group:1234) or an interest's (interest:55)` };
    const kind = (m[1] ?? 'group').toLowerCase();
    return { group: { id: m[2]!, label: `${kind} ${m[2]}`, kind } };
  },
};

/** What a createOrUpdate's parameters leave in the constituent, flat: its fields, not the method's own parameters. */
export function flattenLuminate(payload: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(payload as Record<string, string>)) if (!METHOD_PARAMS.has(k) && k !== 'cons_id') out[k] = v;
  return out;
}

/** The parameters that put these fields of a constituent back (by cons_id); an empty one is sent empty (clears). */
export function restoreLuminate(remoteId: string, before: Record<string, string>, fields: string[]): MappedRow {
  const row: MappedRow = { fields: { cons_id: remoteId }, custom: [], clear: [], notes: [] };
  for (const f of fields) {
    const old = before[f] ?? '';
    const can = canClearLuminate(f);
    if (old !== '') row.fields[f] = old;
    else if (can === true) row.clear!.push(f);
    else (row.dropped ??= []).push({ field: f, reason: `${f} cannot be emptied through the API (${can}): it keeps the value the import gave it` });
  }
  return row;
}

/** Which constituent a row names, in Luminate's own lookup order: cons_id, else member_id, else primary_email. */
export function identifyLuminate(row: MappedRow): { kind: 'id' | 'email' | 'externalId'; value: string } | { error: string } {
  const f = row.fields;
  const consId = (f.cons_id ?? '').trim();
  if (consId) return /^\d+$/.test(consId) ? { kind: 'id', value: consId } : { error: `cons_id "${consId}" is not a Luminate constituent id (digits only)` };
  const memberId = (f.member_id ?? '').trim();
  if (memberId) return { kind: 'externalId', value: memberId };
  const email = (f.primary_email ?? '').trim();
  if (email) return { kind: 'email', value: email };
  return { error: 'the row names no constituent: give a cons_id, a member_id or a primary_email' };
}
