import { randomUUID } from 'node:crypto';
import type { Emulator, EmulatorReply, EmulatorRequest } from '../../sandbox/emulator-types.js';
import { isEmail, isUuid, normaliseEmail } from '../../mapping/values.js';
import { ADDRESS_FIELDS, METRICS_PATH, SALSA_MAX_LENGTH, SEARCH_PATH, SUPPORTER_PATH } from './fields.js';
import { createSegmentStore } from './segments-emulator.js';

export interface SalsaEmulatorOptions {
  token?: string;
  /** Calls a minute per token (metrics `rateLimit`). */
  rateLimit?: number;
  /**
   * How the limit is counted: over a sliding minute (the default), or in fixed windows this long holding the same
   * share of it (1000: a per-minute limit of 600 enforced as 10 calls in each second), as gateways often do.
   */
  rateWindowMs?: number;
  /**
   * Another integration on the same token (a website form, a nightly sync): its calls at this steady pace count in
   * the same limit, and are refused like anyone's when it is reached. Running for a minute already, unless it
   * starts `startAfterMs` after the emulator.
   */
  sharedWith?: { perMinute: number; startAfterMs?: number };
  maxBatchSize?: number;
  /** Custom fields that exist in this account, by name. */
  customFields?: string[];
  /** Segments (groups) that exist in this account, by name. */
  segments?: string[];
  /** Segments the API cannot manage (not CRM segments): their members calls answer 405 (the built-in sandbox has "All Supporters"). */
  notCrmSegments?: string[];
  now?: () => number;
}

type Obj = Record<string, unknown>;
interface FieldError {
  id: string;
  code: number;
  message: string;
  details?: string;
  fieldName: string;
}

const US_STATES = new Set(
  'AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP AA AE AP'.split(' '),
);
const CONTACT_TYPES = new Set(['EMAIL', 'HOME_PHONE', 'CELL_PHONE', 'WORK_PHONE', 'FACEBOOK_ID', 'TWITTER_ID', 'LINKEDIN_ID']);
const SIMPLE_FIELDS = ['title', 'firstName', 'middleName', 'lastName', 'suffix', 'dateOfBirth', 'gender', 'externalSystemId'];

const fieldError = (code: number, message: string, fieldName: string, details?: string): FieldError => ({ id: randomUUID(), code, message, fieldName, ...(details ? { details } : {}) });
const json = (status: number, body: unknown, headers?: Record<string, string>): EmulatorReply => ({ status, body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });

/**
 * An in-memory Salsa Engage account that answers as docs/VENDOR-APIS.md describes. It is strict on purpose: a lenient
 * emulator would hide the bugs real users hit.
 */
export function createSalsaEmulator(options: SalsaEmulatorOptions = {}): Emulator & { supporters(): Obj[]; segments(): Array<{ segmentId: string; name: string; type: string; members: string[] }>; countedSegmentSearches(): number; otherClient(): { sent: number; refused: number } } {
  const token = options.token ?? 'sandbox-salsa-token';
  const rateLimit = options.rateLimit ?? 300;
  const maxBatchSize = options.maxBatchSize ?? 20;
  const now = options.now ?? Date.now;
  // Custom fields are typed; values travel as strings. A value that does not fit its type is not applied, and the
  // answer hangs a `warnings` entry on that customFieldValue (the supporter itself is still written).
  const customFields = new Map(
    (options.customFields ?? ['Volunteer', 'Favorite Campaign', 'Member Since:DATE', 'Donor Level:NUMBER', 'Board Member:BOOLEAN']).map((spec) => {
      const [n, type] = spec.split(':') as [string, string | undefined];
      return [n.toLowerCase(), { name: n, fieldId: randomUUID(), type: type ?? 'STRING' }];
    }),
  );
  const fits = (type: string, v: unknown) =>
    typeof v === 'string' && (v === '' || type === 'STRING' || (type === 'BOOLEAN' && (v === 'true' || v === 'false')) || (type === 'NUMBER' && /^-?\d+(\.\d+)?$/.test(v)) || (type === 'DATE' && /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{3})?Z)?$/.test(v)));
  const store = new Map<string, Obj>();
  const segments = createSegmentStore({ maxBatchSize, names: options.segments ?? ['Spring Volunteers', 'Donors 2025', 'Volunteer', 'Volunteer Leads'], notCrm: options.notCrmSegments ?? [], supporterExists: (id) => store.has(id) });
  const byEmail = new Map<string, Set<string>>();
  /** Call times of the last minute (the sliding count, and what metrics reports left). */
  const window: number[] = [];
  const rateWindowMs = options.rateWindowMs ?? 60_000;
  const perWindow = Math.max(1, Math.floor((rateLimit * rateWindowMs) / 60_000));
  const recentSecond: number[] = [];
  /** Counts one call at `t` against the limit: false when it is over (the caller is refused). */
  const admit = (t: number): boolean => {
    while (window.length > 0 && window[0]! <= t - 60_000) window.shift();
    if (rateWindowMs < 60_000) {
      // A sliding window of rateWindowMs holding its share of the minute's limit.
      while (recentSecond.length > 0 && recentSecond[0]! <= t - rateWindowMs) recentSecond.shift();
      if (recentSecond.length >= perWindow) return false;
      recentSecond.push(t);
    } else if (window.length >= rateLimit) return false;
    window.push(t);
    return true;
  };
  // The other integration's calls, replayed up to each moment a request arrives (so they compete in order).
  const other = { sent: 0, refused: 0, next: Infinity, every: 0 };
  if (options.sharedWith && options.sharedWith.perMinute > 0) {
    other.every = 60_000 / options.sharedWith.perMinute;
    const t0 = now();
    if (options.sharedWith.startAfterMs !== undefined) other.next = t0 + options.sharedWith.startAfterMs;
    else for (let t = t0 - 60_000 + other.every; t <= t0; t += other.every) window.push(t); // its last minute
    if (options.sharedWith.startAfterMs === undefined) other.next = t0 + other.every;
  }
  const replayOther = (t: number) => {
    for (; other.next <= t; other.next += other.every) {
      other.sent++;
      if (!admit(other.next)) other.refused++;
    }
  };
  const metrics = { totalAPICalls: 0, totalAPICallFailures: 0, supporterAdd: 0, supporterUpdate: 0, supporterDelete: 0, lastAPICall: '' };

  const envelope = (payload: unknown, extra: Obj = {}) => ({ id: randomUUID(), timestamp: new Date(now()).toISOString(), header: { processingTime: 1, serverId: 'sandbox' }, payload, ...extra });
  const errorReply = (status: number, message: string, headers?: Record<string, string>) => {
    metrics.totalAPICallFailures++;
    return json(status, envelope(undefined, { errors: [{ id: randomUUID(), code: status, message }] }), headers);
  };
  const emailOf = (s: Obj) => ((s.contacts as Obj[] | undefined) ?? []).find((c) => c.type === 'EMAIL')?.value as string | undefined;
  const index = (id: string, s: Obj | undefined, add: boolean) => {
    const e = s && emailOf(s);
    if (!e) return;
    const k = normaliseEmail(e);
    if (add) (byEmail.get(k) ?? byEmail.set(k, new Set()).get(k)!).add(id);
    else byEmail.get(k)?.delete(id);
  };

  /** Validates a sent supporter in place, hanging errors where Salsa would; true when it is acceptable. */
  function validate(s: Obj, adding: boolean): boolean {
    let ok = true;
    const err = (target: Obj, e: FieldError) => {
      ((target.errors as FieldError[] | undefined) ?? (target.errors = [])) as FieldError[];
      (target.errors as FieldError[]).push(e);
      ok = false;
    };
    for (const f of SIMPLE_FIELDS) {
      const v = s[f];
      if (v !== undefined && v !== null && typeof v !== 'string') err(s, fieldError(2001, `${f} must be a string`, f));
      const max = SALSA_MAX_LENGTH[f];
      if (typeof v === 'string' && max && v.length > max) err(s, fieldError(2002, `The value exceeds the maximum length of ${max}`, f));
    }
    if (s.gender !== undefined && s.gender !== '' && s.gender !== 'MALE' && s.gender !== 'FEMALE') err(s, fieldError(2003, 'Invalid gender; expected MALE or FEMALE', 'gender'));
    if (typeof s.dateOfBirth === 'string' && s.dateOfBirth !== '') {
      const t = Date.parse(s.dateOfBirth);
      if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(s.dateOfBirth) || Number.isNaN(t)) err(s, fieldError(2004, 'Invalid date; expected ISO-8601 UTC with milliseconds', 'dateOfBirth'));
      else if (t > now()) err(s, fieldError(2005, 'Date of birth is in the future', 'dateOfBirth'));
    }
    if (s.address !== undefined) {
      const a = s.address as Obj;
      if (!a || typeof a !== 'object') err(s, fieldError(2001, 'address must be an object', 'address'));
      else {
        // The seed's line1/line2 are not what the reference and the vendor's clients use.
        for (const k of Object.keys(a)) if (k !== 'errors' && !(ADDRESS_FIELDS as readonly string[]).includes(k)) err(a, fieldError(2006, `Unknown address field ${k}`, k));
        for (const k of ADDRESS_FIELDS) {
          const max = SALSA_MAX_LENGTH[k]!;
          if (typeof a[k] === 'string' && (a[k] as string).length > max) err(a, fieldError(2002, `The value exceeds the maximum length of ${max}`, k));
        }
        const country = typeof a.country === 'string' ? a.country.toUpperCase() : '';
        if ((country === '' || country === 'US' || country === 'USA') && typeof a.state === 'string' && a.state !== '' && !US_STATES.has(a.state.toUpperCase())) {
          err(a, fieldError(2007, 'Invalid state code', 'state', `"${a.state}" is not a US state or territory code`));
        }
      }
    }
    const contacts = (s.contacts as Obj[] | undefined) ?? [];
    if (s.contacts !== undefined && !Array.isArray(s.contacts)) err(s, fieldError(2001, 'contacts must be a list', 'contacts'));
    for (const c of Array.isArray(contacts) ? contacts : []) {
      if (!CONTACT_TYPES.has(String(c.type))) err(c, fieldError(2008, 'Invalid contact type', 'type'));
      if (typeof c.value !== 'string' || c.value === '') err(c, fieldError(2009, 'A contact needs a value', 'value'));
      else if (c.type === 'EMAIL' && !isEmail(c.value)) err(c, fieldError(2008, 'The email provided is not of correct format', 'value', 'Domain contains illegal character'));
      else if (c.type === 'EMAIL' && c.value.length > SALSA_MAX_LENGTH.email!) err(c, fieldError(2002, 'The value exceeds the maximum length', 'value'));
      if (c.status !== undefined && !['OPT_IN', 'OPT_OUT'].includes(String(c.status))) err(c, fieldError(2010, 'Invalid contact status', 'status'));
    }
    if (adding && !contacts.some((c) => c.type === 'EMAIL' && typeof c.value === 'string' && c.value !== '')) {
      err(s, fieldError(2011, 'An EMAIL contact with a valid email address is required', 'contacts'));
    }
    for (const cf of (s.customFieldValues as Obj[] | undefined) ?? []) {
      const known = [...customFields.values()].find((k) => (cf.fieldId ? k.fieldId === cf.fieldId : k.name.toLowerCase() === String(cf.name ?? '').toLowerCase()));
      if (!known) err(cf, fieldError(2012, 'Custom field not found', 'name', `no custom field ${String(cf.name ?? cf.fieldId)} in this account`));
      else if (typeof cf.value === 'string' && cf.value.length > SALSA_MAX_LENGTH.customFieldValue!) err(cf, fieldError(2002, 'The value exceeds the maximum length', 'value'));
    }
    return ok;
  }

  function merge(existing: Obj, s: Obj): Obj {
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
        const known = [...customFields.values()].find((k) => (c.fieldId ? k.fieldId === c.fieldId : k.name.toLowerCase() === String(c.name).toLowerCase()))!;
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
  function upsert(s: Obj): Obj {
    const id = typeof s.supporterId === 'string' ? s.supporterId : undefined;
    if (id !== undefined && !store.has(id)) return { ...s, result: 'NOT_FOUND' };
    if (!validate(s, id === undefined)) return { ...s, result: 'VALIDATION_ERROR' };
    const email = emailOf(s);
    const owners = email ? [...(byEmail.get(normaliseEmail(email)) ?? [])] : [];
    let targetId = id;
    if (targetId === undefined && owners.length > 0) targetId = owners[0];
    if (email && owners.some((o) => o !== targetId)) {
      (s.errors as FieldError[] | undefined) ?? (s.errors = []);
      (s.errors as FieldError[]).push(fieldError(2013, 'The email address belongs to another supporter', 'contacts'));
      return { ...s, result: 'VALIDATION_ERROR' };
    }
    if (targetId !== undefined) {
      const existing = store.get(targetId)!;
      index(targetId, existing, false);
      const next = merge(existing, s);
      next.lastModified = new Date(now()).toISOString();
      store.set(targetId, next);
      index(targetId, next, true);
      metrics.supporterUpdate++;
      return { ...s, supporterId: targetId, result: 'UPDATED' };
    }
    const newId = randomUUID();
    const created = merge({ supporterId: newId, createdDate: new Date(now()).toISOString() }, s);
    store.set(newId, created);
    index(newId, created, true);
    metrics.supporterAdd++;
    return { ...s, supporterId: newId, result: 'ADDED' };
  }

  function remove(sent: Obj): Obj {
    const id = sent.supporterId;
    if (typeof id !== 'string' || !isUuid(id)) return { ...sent, result: 'VALIDATION_ERROR', errors: [fieldError(2014, 'A valid supporterId is required', 'supporterId')] };
    const existing = store.get(id);
    if (!existing) return { supporterId: id, result: 'NOT_FOUND' };
    index(id, existing, false);
    store.delete(id);
    segments.forget(id);
    metrics.supporterDelete++;
    return { supporterId: id, result: 'DELETED' };
  }

  function search(payload: Obj): EmulatorReply {
    const ids = payload.identifiers;
    const type = payload.identifierType;
    if (!Array.isArray(ids) || !['EMAIL_ADDRESS', 'EXTERNAL_ID', 'SUPPORTER_ID'].includes(String(type))) {
      return errorReply(400, 'search needs identifiers and an identifierType of EMAIL_ADDRESS, EXTERNAL_ID or SUPPORTER_ID');
    }
    if (ids.length > maxBatchSize) return errorReply(429, `Requested batch size exceeds the allowed size of: ${maxBatchSize}`);
    const offset = Number(payload.offset ?? 0);
    const count = Math.min(Number(payload.count ?? 20), maxBatchSize);
    const found: Obj[] = [];
    for (const ident of ids as string[]) {
      let matches: Obj[] = [];
      if (type === 'SUPPORTER_ID') matches = store.has(ident) ? [store.get(ident)!] : [];
      else if (type === 'EMAIL_ADDRESS') matches = [...(byEmail.get(normaliseEmail(String(ident))) ?? [])].map((id) => store.get(id)!);
      else matches = [...store.values()].filter((s) => s.externalSystemId === ident);
      for (const m of matches) found.push({ ...structuredClone(m), result: 'FOUND' });
    }
    // Production answers carry count and the supporters, and not always total: the emulator leaves total out, so a
    // client that relies on it stops at the first page here as it would there.
    return json(200, envelope({ count: Math.max(0, Math.min(count, found.length - offset)), offset, supporters: found.slice(offset, offset + count) }));
  }

  return {
    name: 'salsa',
    handles: (path) => path.startsWith('/api/integration/ext/v1/'),
    environment: (baseUrl) => ({ SALSA_API_URL: baseUrl, SALSA_API_TOKEN: token }),
    supporters: () => [...store.values()].map((s) => structuredClone(s)),
    segments: () => segments.list(),
    countedSegmentSearches: () => segments.countedSearches(),
    otherClient: () => ({ sent: other.sent, refused: other.refused }),
    snapshot: () => ({ supporters: [...store.values()], segments: segments.list(), metrics: { ...metrics, rateLimit, maxBatchSize } }),
    seed(records) {
      for (const r of records as Obj[]) {
        const id = typeof r.supporterId === 'string' ? r.supporterId : randomUUID();
        const rec = { ...r, supporterId: id };
        store.set(id, rec);
        index(id, rec, true);
      }
    },
    itemsIn(req: EmulatorRequest): number {
      const j = (req.json ?? undefined) as { payload?: { supporters?: unknown[]; identifiers?: unknown[] } } | undefined;
      return j?.payload?.supporters?.length ?? j?.payload?.identifiers?.length ?? (j?.payload as { supporterIds?: unknown[] } | undefined)?.supporterIds?.length ?? 0;
    },
    // Faults are for data calls; reading the limits is left alone (a run reads them once, before anything else).
    faultable: (path) => !path.endsWith('/metrics'),
    faultReply(kind: string): EmulatorReply | undefined {
      const rate = JSON.stringify({ errors: [{ code: 429, message: 'Call rate has been exceeded' }] });
      if (kind === '429') return { status: 429, headers: { 'content-type': 'application/json', 'retry-after': '1' }, body: rate };
      if (kind === '429-bare') return { status: 429, headers: { 'content-type': 'application/json' }, body: rate };
      // The vendor's own clients see the per-minute message inside an HTTP 200 (docs/VENDOR-APIS.md).
      if (kind === 'ratetext') return { status: 200, headers: { 'content-type': 'text/plain' }, body: 'Your per minute call rate has been exceeded. Please try again later.' };
      return undefined;
    },
    handle(req: EmulatorRequest): EmulatorReply {
      const path = req.path.replace(/\/{2,}/g, '/').replace(/\/$/, '');
      const auth = req.headers.authtoken;
      if (auth !== token) return errorReply(401, 'Invalid or missing authToken');
      const t = now();
      replayOther(t);
      if (!admit(t)) return errorReply(429, 'Call rate has been exceeded');
      metrics.totalAPICalls++;
      metrics.lastAPICall = new Date(t).toISOString();
      if (path === METRICS_PATH && req.method === 'GET') {
        // currentRateLimit: what is left of the minute's calls for this token, whoever made them (assumed: the
        // vendor does not document it; docs/VENDOR-APIS.md).
        return json(200, envelope({ rateLimit, maxBatchSize, currentRateLimit: Math.max(0, rateLimit - window.length), ...metrics }));
      }
      let body = req.json as Obj | undefined;
      if (body === undefined) {
        try {
          body = JSON.parse(req.body) as Obj;
        } catch {
          return errorReply(400, 'The request body is not valid JSON');
        }
      }
      const payload = body?.payload as Obj | undefined;
      const segmentReply = segments.handle(path, req.method, payload, { ok: (p) => json(200, envelope(p)), error: (status, message) => errorReply(status, message) });
      if (segmentReply) return segmentReply;
      if (path === SEARCH_PATH && req.method === 'POST') {
        if (!payload || typeof payload !== 'object') return errorReply(400, 'The request has no payload');
        return search(payload);
      }
      if (path !== SUPPORTER_PATH) return errorReply(404, `No such endpoint: ${req.method} ${path}`);
      if (req.method !== 'PUT' && req.method !== 'DELETE') return errorReply(405, `Method ${req.method} is not allowed here`);
      const supporters = payload?.supporters;
      if (!Array.isArray(supporters)) return errorReply(400, 'payload.supporters must be a list of supporters');
      if (supporters.length > maxBatchSize) return errorReply(429, `Requested batch size exceeds the allowed size of: ${maxBatchSize}`);
      if (supporters.some((s) => !s || typeof s !== 'object' || Array.isArray(s))) return errorReply(400, 'Each item of payload.supporters must be an object');
      const results = (supporters as Obj[]).map((s) => (req.method === 'PUT' ? upsert(s) : remove(s)));
      return json(200, envelope({ supporters: results }));
    },
  };
}
