import { UsageError, InternalError } from '../../core/errors.js';
import { parseRetryAfter } from '../../core/retry-policy.js';
import type { FoundRecord, AttemptOutcome, ConnectOptions, IdentityKind, ItemResult, LookupOutcome, Operation, RemoteField, TargetSession } from '../../core/types.js';
import { checkEndpoint, createHttp, excerpt, tryJson, type HttpReply } from '../http.js';
import { CONFIG_CODES, VALIDATION_CODES } from './fields.js';

/** Luminate's JSON turns a one-item list into an object; take either form. */
export function one<T>(value: T | T[] | undefined): T | undefined {
  return Array.isArray(value) ? value[0] : value;
}

const text = (v: unknown) => (v === undefined || v === null ? undefined : String(one(v as unknown[])));

/** Turns one SRConsAPI reply into what the core should do next (docs/VENDOR-APIS.md "Errors"). */
export function classifyLuminateReply(reply: HttpReply): AttemptOutcome {
  const { status } = reply;
  const json = tryJson(reply.text) as Record<string, Record<string, unknown> | Record<string, unknown>[]> | undefined;
  const error = one(json?.errorResponse);
  if (error) {
    const code = text(error.code) ?? '';
    const message = text(error.message) ?? 'no message';
    if (CONFIG_CODES[code]) return { kind: 'abort', httpStatus: status, errorCode: code, reason: `${CONFIG_CODES[code]} (Luminate said: ${message})` };
    if (code === '1') return { kind: 'results', httpStatus: status, results: [{ status: 'SYSTEM_ERROR', errorCode: code, errorMessage: `Luminate was unable to process the request (code 1: ${message})`, retryable: true }] };
    if (code === '16') return { kind: 'results', httpStatus: status, results: [{ status: 'NOT_FOUND', errorCode: code, errorMessage: `no constituent with this cons_id (code 16: ${message})` }] };
    const result: ItemResult = { status: 'VALIDATION_ERROR', errorCode: code, errorMessage: `code ${code}: ${message}` };
    if (!VALIDATION_CODES.has(code)) result.errorMessage += ' (an error code this tool does not know)';
    return { kind: 'results', httpStatus: status, results: [result] };
  }
  if (status === 429) return { kind: 'retry', reason: `rate limited by Luminate (HTTP 429)`, httpStatus: 429, rateLimited: true, retryAfterMs: parseRetryAfter(reply.headers['retry-after']) };
  if (status >= 500) return { kind: 'retry', reason: `HTTP ${status} from Luminate${excerpt(reply.text) ? ` (${excerpt(reply.text)})` : ''}`, httpStatus: status, retryAfterMs: parseRetryAfter(reply.headers['retry-after']) };
  if (status === 401 || status === 403) return { kind: 'abort', httpStatus: status, reason: `Luminate refused the request (HTTP ${status}: ${excerpt(reply.text) || 'no body'}). Check the LUMINATE_* settings.` };
  if (status >= 400) return { kind: 'reject', httpStatus: status, reason: `Luminate refused the request (HTTP ${status}: ${excerpt(reply.text) || 'no body'})` };
  const ok = one(json?.createOrUpdateConsResponse);
  if (!ok) return { kind: 'retry', httpStatus: status, reason: `unreadable answer from Luminate (HTTP ${status}: ${excerpt(reply.text, 60) || 'empty body'})` };
  const message = text(ok.message) ?? '';
  const consId = text(ok.cons_id);
  // Only "User updated." is documented; a create message is recognised by its words, anything else is UPSERTED.
  const result: ItemResult = /^user updated\.?$/i.test(message.trim())
    ? { status: 'UPDATED', remoteId: consId }
    : /creat|added|new (user|constituent)/i.test(message)
      ? { status: 'ADDED', remoteId: consId }
      : { status: 'UPSERTED', remoteId: consId, errorMessage: message ? `Luminate said: ${message}` : undefined };
  return { kind: 'results', httpStatus: status, results: [result] };
}

/**
 * getUser's answer read as dotted names, the form createOrUpdate's parameters use (name.first, primary_address.city),
 * by its documented shapes: an empty value is `{}` or null (read as ""), custom fields come as lists by type under
 * `custom` (`{string: [{id: "custom_string1", content: "Gold"}]}`; a one-item list as a single object), a date may
 * carry a time part. What has a shape this reading does not know is `unknown`, never "": a field the answer leaves
 * out is unknown too (FoundRecord.absent), so a plan or an undo never takes it for empty.
 */
export function readConstituent(rec: Record<string, unknown>): { values: Record<string, string>; unknown: string[] } {
  const values: Record<string, string> = {};
  const unknown: string[] = [];
  const scalar = (v: unknown): string | undefined =>
    v === null || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0) ? '' : typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
  const walk = (obj: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(obj)) {
      const name = prefix ? `${prefix}.${k}` : k;
      if (!prefix && k === 'custom') {
        readCustom(v);
        continue;
      }
      const s = scalar(v);
      if (s !== undefined) values[name] = /(^|\.)birth_date$|_date\d*$/.test(name) ? dayOf(s) : s;
      else if (v && typeof v === 'object' && !Array.isArray(v)) walk(v as Record<string, unknown>, name);
      else unknown.push(name);
    }
  };
  const readCustom = (custom: unknown) => {
    if (custom === null || custom === undefined || scalar(custom) === '') return;
    if (typeof custom !== 'object' || Array.isArray(custom)) return void unknown.push('custom');
    for (const [type, list] of Object.entries(custom as Record<string, unknown>)) {
      if (scalar(list) === '') continue;
      for (const item of Array.isArray(list) ? list : [list]) {
        const id = item && typeof item === 'object' ? scalar((item as Record<string, unknown>).id) : undefined;
        if (!id) {
          unknown.push(`custom.${type}`);
          continue;
        }
        const content = scalar((item as Record<string, unknown>).content);
        if (content === undefined) unknown.push(id);
        else values[id] = type === 'date' ? dayOf(content) : content;
      }
    }
  };
  walk(rec, '');
  return { values, unknown };
}

/** "1980-05-27-05:00", "1980-05-27T00:00:00" → 1980-05-27: the day a stored date stands for. */
function dayOf(v: string): string {
  return /^\d{4}-\d{2}-\d{2}/.test(v) ? v.slice(0, 10) : v;
}

/** Where a session sends its calls, and the parameters every call carries (the credentials among them). */
interface Connection {
  http: ReturnType<typeof createHttp>;
  endpoint: URL;
  common: Record<string, string>;
}

/** What one read request comes to: its JSON, Luminate's own error code, or a reason to try again. */
type ReadResult = { kind: 'json'; json: Record<string, unknown> } | { kind: 'error'; code: string; message: string } | { kind: 'retry'; reason: string; httpStatus?: number; rateLimited?: boolean };

/** Connects to one Luminate site: one createOrUpdate call per row, credentials only in the POST body. */
export async function connectLuminate(options: ConnectOptions): Promise<TargetSession> {
  const raw = options.env.LUMINATE_API_URL ?? '';
  if (!raw) throw new UsageError('LUMINATE_API_URL is not set (e.g. https://secure2.convio.net/myorg/site).', 'E_CONFIG');
  const site = checkEndpoint(raw, 'LUMINATE_API_URL');
  const endpoint = new URL(`${site.pathname.replace(/\/+$/, '').replace(/\/SRConsAPI$/i, '')}/SRConsAPI`, site);
  const http = createHttp(options.concurrency, options.timeoutMs, options.trace);
  const common = {
    v: '1.0',
    response_format: 'json',
    api_key: options.env.LUMINATE_API_KEY ?? '',
    login_name: options.env.LUMINATE_LOGIN_NAME ?? '',
    login_password: options.env.LUMINATE_LOGIN_PASSWORD ?? '',
  };
  const c: Connection = { http, endpoint, common };
  return {
    // No rate limit is documented: keep concurrency small (docs/VENDOR-APIS.md); --rate paces when asked.
    limits: { maxBatchSize: 1, defaultConcurrency: 4 },
    send: (operation, payloads) => sendCreateOrUpdate(c, operation, payloads),
    describeFields: () => describeFields(c),
    lookup: (kind, values, signal, nextCall) => lookup(c, kind, values, signal, nextCall),
    close: () => http.close(),
  };
}

/** One createOrUpdate call for one row. */
async function sendCreateOrUpdate(c: Connection, operation: Operation, payloads: unknown[]): Promise<AttemptOutcome> {
  if (operation !== 'upsert' || payloads.length !== 1) throw new InternalError('Luminate sends one createOrUpdate per call');
  const body = new URLSearchParams({ method: 'createOrUpdate', ...c.common, ...(payloads[0] as Record<string, string>) }).toString();
  const r = await c.http.send(c.endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body });
  if (!r.ok) return { kind: 'retry', reason: r.reason };
  return classifyLuminateReply(r.reply);
}

/** One attempt at listUserFields (access=update, with choices): the caller retries it through the run's pacer. */
async function describeFields(c: Connection): Promise<{ kind: 'ok'; value: RemoteField[] } | Exclude<AttemptOutcome, { kind: 'results' }>> {
  const r = await read(c, 'listUserFields', { method: 'listUserFields', access: 'update', include_choices: 'true' });
  if (r.kind === 'error') return { kind: 'reject', reason: CONFIG_CODES[r.code] ?? `Luminate answered code ${r.code}: ${r.message}`, errorCode: r.code };
  if (r.kind !== 'json') return r;
  const raw = (r.json.listConsFieldsResponse as Record<string, unknown> | undefined)?.field;
  if (!raw) return { kind: 'reject', reason: 'listUserFields answered without a field list' };
  const fields = (Array.isArray(raw) ? raw : [raw]) as Array<Record<string, unknown>>;
  return {
    kind: 'ok',
    value: fields.map((f) => {
      const choices = (f.choices as { choice?: string | string[] } | undefined)?.choice;
      return {
        name: String(f.name),
        label: text(f.label),
        valueType: text(f.valueType),
        maxChars: f.maxChars !== undefined && Number(f.maxChars) > 0 ? Number(f.maxChars) : undefined,
        required: text(f.required) === 'true',
        choices: choices === undefined ? undefined : (Array.isArray(choices) ? choices : [choices]).map(String),
      };
    }),
  };
}

/** One getUser per identity (Luminate reads one constituent a call): found, not found (code 16), or what to do. */
async function lookup(c: Connection, kind: IdentityKind, values: string[], signal?: AbortSignal, nextCall?: () => Promise<void>): Promise<LookupOutcome> {
  const records = new Map<string, FoundRecord[]>();
  for (const [i, value] of values.entries()) {
    if (i > 0) await nextCall?.();
    const param = kind === 'id' ? 'cons_id' : kind === 'externalId' ? 'member_id' : 'primary_email';
    const r = await read(c, 'getUser', { method: 'getUser', [param]: value }, signal);
    if (r.kind === 'error') {
      if (r.code === '16') {
        records.set(value, []);
        continue;
      }
      if (CONFIG_CODES[r.code]) return { kind: 'abort', reason: CONFIG_CODES[r.code]!, errorCode: r.code };
      return { kind: 'reject', reason: `Luminate answered getUser with code ${r.code}: ${r.message}`, errorCode: r.code };
    }
    if (r.kind !== 'json') return r;
    const rec = r.json.getConsResponse as Record<string, unknown> | undefined;
    if (!rec) return { kind: 'retry', reason: 'unreadable getUser answer from Luminate (no getConsResponse)' };
    const { values: backup, unknown } = readConstituent(rec);
    const consId = backup.cons_id ?? '';
    delete backup.cons_id;
    const name = [backup['name.first'], backup['name.last']].filter(Boolean).join(' ');
    records.set(value, [{ remoteId: consId, label: [name || '(no name)', backup['email.primary_address'] ? `<${backup['email.primary_address']}>` : ''].filter(Boolean).join(' '), backup, unknown, absent: 'unknown', email: backup['email.primary_address'] || undefined }]);
  }
  return { kind: 'found', records };
}

/**
 * One read request (listUserFields, getUser), credentials in the body: its JSON, Luminate's own error code, or
 * what to do next (a reset, 429, 5xx or code 1 is worth retrying; an unreadable answer too).
 */
async function read(c: Connection, what: string, params: Record<string, string>, signal?: AbortSignal): Promise<ReadResult> {
  const body = new URLSearchParams({ ...params, ...c.common }).toString();
  const r = await c.http.send(c.endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body, signal });
  if (!r.ok) return { kind: 'retry', reason: r.reason };
  const { status } = r.reply;
  if (status === 429 || status >= 500) return { kind: 'retry', reason: `HTTP ${status} from Luminate (${what})`, httpStatus: status, rateLimited: status === 429 };
  const json = tryJson(r.reply.text) as Record<string, unknown> | undefined;
  const err = one(json?.errorResponse as Record<string, unknown> | undefined) as Record<string, unknown> | undefined;
  if (err) {
    const code = text(err.code) ?? '';
    const message = text(err.message) ?? '';
    if (code === '1') return { kind: 'retry', reason: `Luminate failed on ${what} (code 1: ${message})` };
    return { kind: 'error', code, message };
  }
  if (!json || status !== 200) return { kind: 'retry', reason: `unreadable ${what} answer from Luminate (HTTP ${status}: ${excerpt(r.reply.text, 60) || 'empty body'})`, httpStatus: status };
  return { kind: 'json', json };
}
