import type { Emulator, EmulatorReply, EmulatorRequest } from '../../sandbox/emulator-types.js';
import { isEmail, normaliseEmail, parseCalendarDate } from '../../mapping/values.js';
import { LUMINATE_MAX_LENGTH } from './fields.js';

export interface LuminateEmulatorOptions {
  apiKey?: string;
  loginName?: string;
  loginPassword?: string;
  /** Source addresses allowed; empty allows any (loopback in practice). */
  allowedIps?: string[];
}

type Record_ = Record<string, string>;
const CONTROL = new Set(['method', 'v', 'api_key', 'login_name', 'login_password', 'response_format', 'suppress_response_codes', 'center_id', 'sso_auth_token', 'auth']);

/**
 * An in-memory Luminate Online site serving SRConsAPI createOrUpdate as API-NOTES.md describes: POST only,
 * credentials checked, lookup by cons_id, then member_id, then primary_email, string error codes, 403 unless
 * suppress_response_codes=true.
 */
export function createLuminateEmulator(options: LuminateEmulatorOptions = {}): Emulator & { constituents(): Record_[] } {
  const apiKey = options.apiKey ?? 'sandbox-luminate-key';
  const loginName = options.loginName ?? 'sandbox-api-admin';
  const loginPassword = options.loginPassword ?? 'sandbox-luminate-password';
  const store = new Map<string, Record_>();
  let nextId = 1001001;

  const find = (field: string, value: string) => [...store.values()].filter((c) => (field === 'email' ? normaliseEmail(c['email.primary_address'] ?? '') === normaliseEmail(value) : c[field] === value));

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

  function createOrUpdate(p: URLSearchParams): EmulatorReply {
    const fields: Record_ = {};
    for (const [k, v] of p) if (!CONTROL.has(k)) fields[k] = v;
    for (const [k, max] of Object.entries(LUMINATE_MAX_LENGTH)) {
      if ((fields[k] ?? '').length > max) return error(p, '23', `Input too long for field ${k} (maximum ${max} characters).`);
    }
    for (const k of ['name.first', 'name.last', 'name.middle']) if (/[<>{}]/.test(fields[k] ?? '')) return error(p, '35', `Field ${k} contains invalid characters.`);
    const email = fields['email.primary_address'] ?? fields.primary_email;
    if (email !== undefined && !isEmail(email)) return error(p, '22', `Invalid email address: ${email}`);
    if (fields.birth_date !== undefined && !parseCalendarDate(fields.birth_date)) return error(p, '22', `Invalid date for birth_date: ${fields.birth_date}`);

    let target: Record_ | undefined;
    if (fields.cons_id) {
      target = store.get(fields.cons_id);
      if (!target) return error(p, '16', `Record not found: no constituent with cons_id ${fields.cons_id}.`);
    } else if (fields.member_id && find('member_id', fields.member_id).length > 0) {
      const m = find('member_id', fields.member_id);
      if (m.length > 1) return error(p, '8', 'The request matched more than one constituent.');
      target = m[0];
    } else if (fields.primary_email) {
      const m = find('email', fields.primary_email);
      if (m.length > 1) return error(p, '8', 'The request matched more than one constituent.');
      target = m[0];
    }
    if (email !== undefined) {
      const owners = find('email', email).filter((c) => c !== target);
      if (owners.length > 0) return error(p, '13', 'Duplicate email: another constituent already uses this email address.');
    }
    const { primary_email: _lookup, cons_id: _id, add_group_ids: groups, add_interest_ids: interests, no_welcome: _nw, ...data } = fields;
    const merge = (rec: Record_) => {
      Object.assign(rec, data);
      if (groups) rec.groups = [...new Set([...(rec.groups ?? '').split(',').filter(Boolean), ...groups.split(',')])].join(',');
      if (interests) rec.interests = [...new Set([...(rec.interests ?? '').split(',').filter(Boolean), ...interests.split(',')])].join(',');
      rec.interactions = String(Number(rec.interactions ?? '0') + 1); // createOrUpdate logs an interaction
    };
    if (target) {
      merge(target);
      return reply(p, 200, { createOrUpdateConsResponse: { message: 'User updated.', cons_id: target.cons_id } });
    }
    if (!email) return error(p, '10', 'Required fields missing: primary_email is required to create a constituent.');
    const consId = String(nextId++);
    // New constituents are opted out of email unless accepts_email=true is sent (API-NOTES.md).
    const rec: Record_ = { cons_id: consId, 'email.accepts_email': 'false' };
    merge(rec);
    store.set(consId, rec);
    return reply(p, 200, { createOrUpdateConsResponse: { message: 'User created.', cons_id: consId } });
  }

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
        const consId = r.cons_id ?? String(nextId++);
        nextId = Math.max(nextId, Number(consId) + 1); // ids are never reused
        store.set(consId, { ...r, cons_id: consId });
      }
    },
    handle(req: EmulatorRequest): EmulatorReply {
      if (req.method !== 'POST') return { status: 405, headers: { 'content-type': 'text/plain', allow: 'POST' }, body: 'Method Not Allowed' };
      const p = new URLSearchParams(req.body);
      // Server API calls must not carry credentials in the URL; this emulator only reads the body.
      if (p.get('api_key') !== apiKey) return error(p, '2', 'Incorrect API key.');
      if (p.get('login_name') !== loginName || p.get('login_password') !== loginPassword) return error(p, '3', 'Authorization failed.');
      if (!p.get('v')) return error(p, '9', 'Required parameter missing: v');
      const method = p.get('method');
      if (method !== 'createOrUpdate') return error(p, '6', `No method or invalid method specified: ${method ?? '(none)'}`);
      return createOrUpdate(p);
    },
  };
}
