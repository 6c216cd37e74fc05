import type { Emulator, EmulatorReply, EmulatorRequest } from '../../sandbox/emulator-types.js';
import { isEmail, normaliseEmail, parseCalendarDate } from '../../mapping/values.js';
import { LUMINATE_MAX_LENGTH } from './fields.js';

export interface LuminateEmulatorOptions {
  apiKey?: string;
  loginName?: string;
  loginPassword?: string;
  /** Source addresses allowed; empty allows any (loopback in practice). */
  allowedIps?: string[];
  /** The site's constituent fields, as listUserFields describes them (default: SITE_FIELDS). */
  fields?: SiteField[];
  /** Fields getUser leaves out of its answer (a site whose read omits what it lets the API write). */
  unanswered?: string[];
}

export interface SiteField {
  name: string;
  label: string;
  valueType: 'TEXT' | 'DATE' | 'BOOLEAN' | 'ENUMERATION' | 'NUMBER';
  maxChars?: number;
  required?: boolean;
  choices?: string[];
  /** In listUserFields access=update (the API account may write it). */
  updatable?: boolean;
}

const text = (name: string, label: string, maxChars?: number): SiteField => ({ name, label, valueType: 'TEXT', maxChars });
/** A typical site: the built-in fields, a few optional ones some sites turn on, and three custom fields. */
export const SITE_FIELDS: SiteField[] = [
  { ...text('cons_id', 'Constituent ID'), updatable: false },
  text('member_id', 'Member ID'),
  text('email.primary_address', 'Email', 255),
  { name: 'email.accepts_email', label: 'Accepts Email', valueType: 'BOOLEAN' },
  text('name.title', 'Title', 50),
  text('name.first', 'First Name', 50),
  text('name.middle', 'Middle Name', 50),
  text('name.last', 'Last Name', 50),
  text('name.suffix', 'Suffix', 50),
  text('primary_address.street1', 'Street 1', 128),
  text('primary_address.street2', 'Street 2', 128),
  text('primary_address.street3', 'Street 3', 128),
  text('primary_address.city', 'City', 64),
  text('primary_address.state', 'State', 30),
  text('primary_address.zip', 'ZIP', 40),
  text('primary_address.country', 'Country', 64),
  text('home_phone', 'Home Phone', 50),
  text('mobile_phone', 'Mobile Phone', 50),
  text('work_phone', 'Work Phone', 50),
  { name: 'accepts_postal_mail', label: 'Accepts Postal Mail', valueType: 'BOOLEAN' },
  { name: 'birth_date', label: 'Birth Date', valueType: 'DATE' },
  { name: 'gender', label: 'Gender', valueType: 'ENUMERATION', choices: ['Male', 'Female', 'Nonbinary', 'Prefer not to say'] },
  text('employment.employer', 'Employer', 100),
  text('employment.occupation', 'Occupation', 100),
  text('custom_string1', 'Volunteer Status', 255),
  text('custom_string2', 'T-Shirt Size', 10),
  { name: 'custom_boolean1', label: 'Board Member', valueType: 'BOOLEAN' },
  { name: 'custom_date1', label: 'First Gift', valueType: 'DATE' },
];

/** createOrUpdate's own parameters (the method's grammar), which are not constituent fields. */
const METHOD_PARAMS = new Set(['add_center_ids', 'add_center_opt_in_ids', 'add_group_ids', 'add_interest_ids', 'cons_id', 'interaction_body', 'interaction_cat_id', 'interaction_count', 'interaction_subject', 'member_id', 'no_welcome', 'primary_email', 'remove_center_ids', 'remove_center_opt_in_ids', 'remove_group_ids', 'remove_interest_ids', 'suppress_cleaning', 'source', 'sub_source']);

type Record_ = Record<string, string>;
const CONTROL = new Set(['method', 'v', 'api_key', 'login_name', 'login_password', 'response_format', 'suppress_response_codes', 'center_id', 'sso_auth_token', 'auth']);

/** The site's constituents, and what its calls need to know of it. */
interface Site {
  store: Map<string, Record_>;
  /** The next cons_id to give; ids are never reused. */
  nextId: number;
  fields: SiteField[];
  fieldByName: Map<string, SiteField>;
  /** Fields getUser leaves out of its answer. */
  unanswered?: string[];
}

/**
 * An in-memory Luminate Online site serving SRConsAPI createOrUpdate as docs/VENDOR-APIS.md describes: POST only,
 * credentials checked, lookup by cons_id, then member_id, then primary_email, string error codes, 403 unless
 * suppress_response_codes=true.
 */
export function createLuminateEmulator(options: LuminateEmulatorOptions = {}): Emulator & { constituents(): Record_[] } {
  const apiKey = options.apiKey ?? 'sandbox-luminate-key';
  const loginName = options.loginName ?? 'sandbox-api-admin';
  const loginPassword = options.loginPassword ?? 'sandbox-luminate-password';
  const siteFields = options.fields ?? SITE_FIELDS;
  const site: Site = { store: new Map(), nextId: 1001001, fields: siteFields, fieldByName: new Map(siteFields.map((f) => [f.name, f])), unanswered: options.unanswered };
  const { store } = site;

  return {
    name: 'luminate',
    handles: (path) => /\/SRConsAPI$/.test(path),
    environment: (baseUrl) => ({
      LUMINATE_API_URL: `${baseUrl}/sandbox-org/site`,
      LUMINATE_API_KEY: apiKey,
      LUMINATE_LOGIN_NAME: loginName,
      LUMINATE_LOGIN_PASSWORD: loginPassword,
    }),
    constituents: () => [...store.values()].map((c) => ({ ...c })),
    snapshot: () => ({ constituents: [...store.values()] }),
    seed(records) {
      for (const r of records as Record_[]) {
        const consId = r.cons_id ?? String(site.nextId++);
        site.nextId = Math.max(site.nextId, Number(consId) + 1); // ids are never reused
        store.set(consId, { ...r, cons_id: consId });
      }
    },
    // One constituent per createOrUpdate call; reads (listUserFields, getUser) carry none.
    itemsIn: (req: EmulatorRequest) => (new URLSearchParams(req.body).get('method') === 'createOrUpdate' ? 1 : 0),
    handle(req: EmulatorRequest): EmulatorReply {
      if (req.method !== 'POST') return { status: 405, headers: { 'content-type': 'text/plain', allow: 'POST' }, body: 'Method Not Allowed' };
      const p = new URLSearchParams(req.body);
      // Server API calls must not carry credentials in the URL; this emulator only reads the body.
      if (p.get('api_key') !== apiKey) return error(p, '2', 'Incorrect API key.');
      if (p.get('login_name') !== loginName || p.get('login_password') !== loginPassword) return error(p, '3', 'Authorization failed.');
      if (!p.get('v')) return error(p, '9', 'Required parameter missing: v');
      const method = p.get('method');
      if (method === 'listUserFields') return listUserFields(site, p);
      if (method === 'getUser') return getUser(site, p);
      if (method !== 'createOrUpdate') return error(p, '6', `No method or invalid method specified: ${method ?? '(none)'}`);
      return createOrUpdate(site, p);
    },
  };
}

/** The constituents whose `field` is `value` (`email`: the primary address, compared as emails are). */
function find(site: Site, field: string, value: string): Record_[] {
  return [...site.store.values()].filter((c) => (field === 'email' ? normaliseEmail(c['email.primary_address'] ?? '') === normaliseEmail(value) : c[field] === value));
}

/** An answer in the format asked (XML unless response_format=json); an error is HTTP 403 unless suppress_response_codes=true. */
function reply(params: URLSearchParams, status: number, body: unknown): EmulatorReply {
  const suppress = params.get('suppress_response_codes') === 'true';
  const isError = !!(body as { errorResponse?: unknown }).errorResponse;
  const httpStatus = isError && !suppress ? 403 : status;
  if (params.get('response_format') !== 'json') {
    const inner = Object.entries(Object.values(body as object)[0] as object).map(([k, v]) => `<${k}>${String(v)}</${k}>`).join('');
    const root = Object.keys(body as object)[0];
    return { status: httpStatus, headers: { 'content-type': 'text/xml' }, body: `<?xml version="1.0" encoding="UTF-8"?><${root} xmlns="http://convio.com/crm/v1.0">${inner}</${root}>` };
  }
  return { status: httpStatus, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

const error = (params: URLSearchParams, code: string, message: string) => reply(params, 200, { errorResponse: { code, message } });

/** createOrUpdate: checks the sent fields, finds the constituent they name, then updates it or creates one. */
function createOrUpdate(site: Site, p: URLSearchParams): EmulatorReply {
  const fields: Record_ = {};
  // A parameter that is neither the method's own nor one of this site's fields is ignored without a word, as a
  // lenient server does: only a client that checks its mapping against listUserFields notices.
  for (const [k, v] of p) if (!CONTROL.has(k) && (METHOD_PARAMS.has(k) || site.fieldByName.has(k))) fields[k] = v;
  const email = fields['email.primary_address'] ?? fields.primary_email;
  const invalid = checkFields(site, fields, email, p);
  if (invalid) return invalid;
  const found = findTarget(site, fields, p);
  if ('refused' in found) return found.refused;
  const { target } = found;
  if (email !== undefined) {
    const owners = find(site, 'email', email).filter((c) => c !== target);
    if (owners.length > 0) return error(p, '13', 'Duplicate email: another constituent already uses this email address.');
  }
  if (target) {
    mergeInto(target, fields);
    return reply(p, 200, { createOrUpdateConsResponse: { message: 'User updated.', cons_id: target.cons_id } });
  }
  if (!email) return error(p, '10', 'Required fields missing: primary_email is required to create a constituent.');
  const consId = String(site.nextId++);
  // New constituents are opted out of email unless accepts_email=true is sent (docs/VENDOR-APIS.md).
  const rec: Record_ = { cons_id: consId, 'email.accepts_email': 'false' };
  mergeInto(rec, fields);
  site.store.set(consId, rec);
  return reply(p, 200, { createOrUpdateConsResponse: { message: 'User created.', cons_id: consId } });
}

/** The error answer for the first sent value the site refuses, or undefined when all are acceptable. */
function checkFields(site: Site, fields: Record_, email: string | undefined, p: URLSearchParams): EmulatorReply | undefined {
  for (const [k, v] of Object.entries(fields)) {
    const f = site.fieldByName.get(k);
    if (f?.valueType === 'ENUMERATION' && v !== '' && !f.choices!.includes(v)) return error(p, '22', `Invalid value for ${k}: ${v} (choices: ${f.choices!.join(', ')}).`);
    if (f?.maxChars && v.length > f.maxChars) return error(p, '23', `Input too long for field ${k} (maximum ${f.maxChars} characters).`);
    if (f?.valueType === 'BOOLEAN' && v !== '' && v !== 'true' && v !== 'false') return error(p, '22', `Invalid value for ${k}: ${v} (true or false).`);
  }
  for (const [k, max] of Object.entries(LUMINATE_MAX_LENGTH)) {
    if ((fields[k] ?? '').length > max) return error(p, '23', `Input too long for field ${k} (maximum ${max} characters).`);
  }
  for (const k of ['name.first', 'name.last', 'name.middle']) if (/[<>{}]/.test(fields[k] ?? '')) return error(p, '35', `Field ${k} contains invalid characters.`);
  if (email !== undefined && !isEmail(email)) return error(p, '22', `Invalid email address: ${email}`);
  if (fields.birth_date !== undefined && fields.birth_date !== '' && !parseCalendarDate(fields.birth_date)) return error(p, '22', `Invalid date for birth_date: ${fields.birth_date}`);
  return undefined;
}

/** The constituent a call names: by cons_id, then member_id, then primary_email (none: a new one), or the error answer. */
function findTarget(site: Site, fields: Record_, p: URLSearchParams): { target: Record_ | undefined } | { refused: EmulatorReply } {
  if (fields.cons_id) {
    const target = site.store.get(fields.cons_id);
    if (!target) return { refused: error(p, '16', `Record not found: no constituent with cons_id ${fields.cons_id}.`) };
    return { target };
  }
  if (fields.member_id && find(site, 'member_id', fields.member_id).length > 0) {
    const m = find(site, 'member_id', fields.member_id);
    if (m.length > 1) return { refused: error(p, '8', 'The request matched more than one constituent.') };
    return { target: m[0] };
  }
  if (fields.primary_email) {
    const m = find(site, 'email', fields.primary_email);
    if (m.length > 1) return { refused: error(p, '8', 'The request matched more than one constituent.') };
    return { target: m[0] };
  }
  return { target: undefined };
}

/** Writes a call's fields into a constituent: its values, its group, interest and center changes, and one interaction. */
function mergeInto(rec: Record_, fields: Record_): void {
  const data: Record_ = {};
  for (const [k, v] of Object.entries(fields)) if (!METHOD_PARAMS.has(k)) data[k] = v;
  if (fields.member_id !== undefined) data.member_id = fields.member_id;
  Object.assign(rec, data);
  changeIds(rec, 'groups', fields.add_group_ids, fields.remove_group_ids);
  changeIds(rec, 'interests', fields.add_interest_ids, fields.remove_interest_ids);
  changeIds(rec, 'centers', fields.add_center_ids, fields.remove_center_ids);
  rec.interactions = String(Number(rec.interactions ?? '0') + 1); // createOrUpdate logs an interaction
}

/** Adds and removes ids (comma-separated) in one of a constituent's id lists. */
function changeIds(rec: Record_, key: string, add?: string, remove?: string): void {
  const now = new Set((rec[key] ?? '').split(',').filter(Boolean));
  for (const id of (add ?? '').split(',').filter(Boolean)) now.add(id);
  for (const id of (remove ?? '').split(',').filter(Boolean)) now.delete(id);
  if (now.size > 0 || rec[key] !== undefined) rec[key] = [...now].join(',');
}

/** listUserFields: the site's fields; with access=update only those the API account may write. JSON as Luminate writes it: strings, and a one-item list as an object. */
function listUserFields(site: Site, p: URLSearchParams): EmulatorReply {
  const update = p.get('access') === 'update';
  const withChoices = p.get('include_choices') === 'true';
  const list = site.fields
    .filter((f) => !update || f.updatable !== false)
    .map((f) => ({
      label: f.label,
      name: f.name,
      valueType: f.valueType,
      required: String(!!f.required),
      ...(f.maxChars ? { maxChars: String(f.maxChars) } : {}),
      ...(withChoices && f.choices ? { choices: { choice: f.choices.length === 1 ? f.choices[0] : f.choices } } : {}),
    }));
  return reply(p, 200, { listConsFieldsResponse: { field: list.length === 1 ? list[0] : list } });
}

/**
 * getUser by cons_id, member_id or primary_email, answered as Luminate answers (docs/VENDOR-APIS.md "getUser"):
 * dotted names nested, values as strings, an empty value as {}, custom fields as lists by type under `custom`
 * (`{string: [{id, content}]}`, a one-item list as a single object), a date with a time part; no groups.
 */
function getUser(site: Site, p: URLSearchParams): EmulatorReply {
  const consId = p.get('cons_id');
  const memberId = p.get('member_id');
  const email = p.get('primary_email');
  const matches = consId ? (site.store.has(consId) ? [site.store.get(consId)!] : []) : memberId ? find(site, 'member_id', memberId) : email ? find(site, 'email', email) : undefined;
  if (matches === undefined) return error(p, '9', 'Required parameter missing: cons_id, member_id or primary_email.');
  if (matches.length === 0) return error(p, '16', 'Record not found.');
  if (matches.length > 1) return error(p, '8', 'The request matched more than one constituent.');
  return reply(p, 200, { getConsResponse: answerOf(site, matches[0]!) });
}

function answerOf(site: Site, rec: Record_): Record<string, unknown> {
  const nested: Record<string, unknown> = { cons_id: rec.cons_id };
  const custom: Record<string, Array<{ id: string; content: unknown }>> = {};
  for (const f of site.fields) {
    if (f.name === 'cons_id' || site.unanswered?.includes(f.name)) continue;
    const v = rec[f.name] ?? '';
    const kind = /^custom_(string|boolean|date|integer)\d+$/.exec(f.name)?.[1];
    if (kind) {
      (custom[kind === 'integer' ? 'number' : kind] ??= []).push({ id: f.name, content: v === '' ? {} : v });
      continue;
    }
    const parts = f.name.split('.');
    let at = nested;
    for (const part of parts.slice(0, -1)) at = (at[part] ??= {}) as Record<string, unknown>;
    at[parts[parts.length - 1]!] = v === '' ? {} : f.valueType === 'DATE' ? `${v}-00:00` : v;
  }
  // Luminate's JSON: a one-item list is a single object.
  nested.custom = Object.fromEntries(Object.entries(custom).map(([k, list]) => [k, list.length === 1 ? list[0] : list]));
  return nested;
}
