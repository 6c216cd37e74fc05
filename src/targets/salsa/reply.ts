import { parseRetryAfter } from '../../core/retry-policy.js';
import type { AttemptOutcome, ItemResult, Status } from '../../core/types.js';
import { excerpt, tryJson, type HttpReply } from '../http.js';

/** What Salsa's answers mean (docs/VENDOR-APIS.md): statuses, field errors, warnings, limits. */

export interface SalsaError {
  code?: string | number;
  message?: string;
  details?: string;
  fieldName?: string;
}

const RESULT_STATUS: Record<string, Status> = {
  ADDED: 'ADDED',
  UPDATED: 'UPDATED',
  DELETED: 'DELETED',
  NOT_FOUND: 'NOT_FOUND',
  VALIDATION_ERROR: 'VALIDATION_ERROR',
  SYSTEM_ERROR: 'SYSTEM_ERROR',
  // A segment's members call on a segment that is not a CRM segment (docs/VENDOR-APIS.md "Segments").
  NOT_ALLOWED: 'VALIDATION_ERROR',
};

/** Field errors hang on the object that failed: the supporter, a contact, the address or a custom field. */
export function collectFieldErrors(s: Record<string, unknown>): SalsaError[] {
  const out: SalsaError[] = [];
  const take = (errors: unknown, where: string) => {
    if (!Array.isArray(errors)) return;
    for (const e of errors as SalsaError[]) out.push({ ...e, fieldName: e.fieldName ? `${where}${e.fieldName}` : where.replace(/\.$/, '') || undefined });
  };
  take(s.errors, '');
  if (s.address && typeof s.address === 'object') take((s.address as Record<string, unknown>).errors, 'address.');
  if (Array.isArray(s.contacts)) {
    for (const c of s.contacts as Array<Record<string, unknown>>) take(c.errors, `contacts[${String(c.type ?? '?')}].`);
  }
  if (Array.isArray(s.customFieldValues)) {
    for (const c of s.customFieldValues as Array<Record<string, unknown>>) take(c.errors, `customFieldValues[${String(c.name ?? c.fieldId ?? '?')}].`);
  }
  return out;
}

function describeErrors(errors: SalsaError[]): string {
  return errors
    .map((e) => [e.fieldName ? `${e.fieldName}: ` : '', e.message ?? 'error', e.details ? ` (${e.details})` : ''].join(''))
    .join('; ');
}

export function toItemResult(s: Record<string, unknown>): ItemResult {
  const status = RESULT_STATUS[String(s.result)] ?? 'FAILED';
  const errors = collectFieldErrors(s);
  const result: ItemResult = { status, remoteId: typeof s.supporterId === 'string' ? s.supporterId : undefined };
  if (status === 'FAILED') result.errorMessage = `unexpected result "${String(s.result)}" from Salsa`;
  if (errors.length > 0) {
    result.errorCode = errors[0]!.code !== undefined ? String(errors[0]!.code) : undefined;
    result.errorMessage = describeErrors(errors);
  } else if (s.result === 'NOT_ALLOWED') {
    result.errorCode = 'NOT_ALLOWED';
    result.errorMessage = 'NOT_ALLOWED';
  } else if (status === 'VALIDATION_ERROR') result.errorMessage = 'Salsa refused the supporter without naming a field';
  else if (status === 'NOT_FOUND') result.errorMessage = 'no supporter with this supporterId';
  else if (status === 'SYSTEM_ERROR') result.errorMessage = 'Salsa failed on this supporter (SYSTEM_ERROR)';
  if (status === 'SYSTEM_ERROR') result.retryable = true;
  // A warning on a custom field value: the supporter was written, that value was not (not a clean success).
  const warnings: string[] = [];
  for (const c of (s.customFieldValues as Array<Record<string, unknown>> | undefined) ?? []) {
    for (const w of Array.isArray(c.warnings) ? (c.warnings as SalsaError[]) : []) warnings.push(`custom field ${String(c.name ?? c.fieldId ?? '?')} was not applied: ${w.message ?? 'warning'}${w.details ? ` (${w.details})` : ''}`);
  }
  if (warnings.length > 0 && (status === 'ADDED' || status === 'UPDATED')) result.warning = warnings.join('; ');
  return result;
}

/** Turns one HTTP reply into what the core should do next (docs/VENDOR-APIS.md "Limits" and "Other statuses"). */
export function classifySalsaReply(reply: HttpReply, sent: number): AttemptOutcome {
  const { status, text } = reply;
  const json = tryJson(text) as { payload?: { supporters?: unknown }; errors?: SalsaError[] } | undefined;
  const envelopeErrors = json && Array.isArray(json.errors) && json.errors.length > 0 ? describeErrors(json.errors) : undefined;
  const message = envelopeErrors ?? excerpt(text);
  if (status === 429) {
    const size = /allowed size of:?\s*(\d+)/i.exec(text);
    if (size) return { kind: 'shrink', maxBatchSize: Number(size[1]), reason: message, httpStatus: 429 };
    return { kind: 'retry', reason: `rate limited by Salsa (HTTP 429: ${message})`, httpStatus: 429, rateLimited: true, retryAfterMs: parseRetryAfter(reply.headers['retry-after']) };
  }
  if (status === 401 || status === 403) {
    return { kind: 'abort', httpStatus: status, reason: `Salsa refused the API token (HTTP ${status}${message ? `: ${message}` : ''}). Check SALSA_API_TOKEN and that the token is enabled for the Integration API.` };
  }
  if (status >= 500) {
    // 500 with a JSON body is Salsa's "non-recoverable" answer; gateways' 502/503/504 (often HTML) are transient.
    if (status === 500 && json !== undefined) return { kind: 'reject', reason: `Salsa failed on the request (HTTP 500: ${message})`, httpStatus: 500 };
    return { kind: 'retry', reason: `HTTP ${status} from Salsa${message ? ` (${message})` : ''}`, httpStatus: status, retryAfterMs: parseRetryAfter(reply.headers['retry-after']) };
  }
  if (status >= 400) return { kind: 'reject', reason: `Salsa refused the request (HTTP ${status}: ${message})`, httpStatus: status };
  // The per-minute rate message has been seen inside 200 answers by the vendor's own clients.
  if (/per minute call rate|call rate has been exceeded/i.test(text) && !json?.payload) {
    return { kind: 'retry', reason: `rate limited by Salsa (${excerpt(text)})`, httpStatus: status, rateLimited: true };
  }
  if (json === undefined) return { kind: 'retry', reason: `unreadable answer from Salsa (HTTP ${status}: ${excerpt(text, 60) || 'empty body'})`, httpStatus: status };
  const supporters = json.payload?.supporters;
  if (!Array.isArray(supporters)) {
    if (envelopeErrors) return { kind: 'reject', reason: `Salsa refused the request: ${envelopeErrors}`, httpStatus: status };
    return { kind: 'retry', reason: `answer from Salsa without payload.supporters (HTTP ${status})`, httpStatus: status };
  }
  if (supporters.length !== sent) {
    return { kind: 'retry', reason: `Salsa answered ${supporters.length} supporters for ${sent} sent`, httpStatus: status };
  }
  return { kind: 'results', httpStatus: status, results: supporters.map((s) => toItemResult(s as Record<string, unknown>)) };
}

