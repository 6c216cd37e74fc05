import type { MappedRow, Operation, Prepared } from '../../core/types.js';
import { isEmail, isUuid, normaliseEmail, parseCalendarDate } from '../../mapping/values.js';
import { ADDRESS_FIELDS, CONTACT_FIELDS, SALSA_MAX_LENGTH } from './fields.js';

export interface SalsaSupporter {
  supporterId?: string;
  title?: string;
  firstName?: string;
  middleName?: string;
  lastName?: string;
  suffix?: string;
  dateOfBirth?: string;
  gender?: string;
  externalSystemId?: string;
  address?: Record<string, string>;
  contacts?: Array<{ type: string; value: string; status?: string }>;
  customFieldValues?: Array<{ name?: string; fieldId?: string; value: string }>;
}

const GENDERS: Record<string, string> = { male: 'MALE', m: 'MALE', female: 'FEMALE', f: 'FEMALE' };
const OPT: Record<string, string> = {
  opt_in: 'OPT_IN', optin: 'OPT_IN', 'opt in': 'OPT_IN', yes: 'OPT_IN', y: 'OPT_IN', true: 'OPT_IN', '1': 'OPT_IN', subscribed: 'OPT_IN',
  opt_out: 'OPT_OUT', optout: 'OPT_OUT', 'opt out': 'OPT_OUT', no: 'OPT_OUT', n: 'OPT_OUT', false: 'OPT_OUT', '0': 'OPT_OUT', unsubscribed: 'OPT_OUT',
};
const SIMPLE = ['title', 'firstName', 'middleName', 'lastName', 'suffix', 'externalSystemId'] as const;
// Built once: these run for every row.
const CONTACTS = Object.entries(CONTACT_FIELDS);

/** Which identity a delete row names: supporterId, else email, else external id. */
export function identifySalsa(row: MappedRow): { kind: 'id' | 'email' | 'externalId'; value: string } | { error: string } {
  const f = row.fields;
  const id = (f.supporterId ?? '').trim();
  if (id) return isUuid(id) ? { kind: 'id', value: id } : { error: `supporterId "${id}" is not a Salsa supporter id (a UUID)` };
  const email = (f.email ?? '').trim();
  if (email) return isEmail(email) ? { kind: 'email', value: email } : { error: `email "${email}" is not a valid email address` };
  const ext = (f.externalSystemId ?? '').trim();
  if (ext) return { kind: 'externalId', value: ext };
  return { error: 'the row names no supporter: give a supporterId, an email or an external id' };
}

/**
 * Maps one row to a Salsa supporter and checks it the way the API would, so bad rows never cost a call.
 * Empty cells are left out: an omitted field is left alone by Salsa (API-NOTES.md), never cleared by accident.
 */
export function prepareSalsa(operation: Operation, row: MappedRow): Prepared {
  const f = row.fields;
  const email = f.email ? f.email.trim() : '';
  const supporterId = f.supporterId ? f.supporterId.trim() : '';
  const normalEmail = email ? normaliseEmail(email) : '';
  const key = supporterId || normalEmail;
  const fail = (error: string): Prepared => ({ ok: false, key, error });

  if (operation === 'delete') {
    // One row may name several supporters (an email matching many, with --all-matches): ids separated by spaces.
    const ids = supporterId.split(/\s+/).filter(Boolean);
    if (ids.length === 0) return fail('supporterId is required to delete (this file has no supporterId for the row)');
    const bad = ids.find((id) => !isUuid(id));
    if (bad) return fail(`supporterId "${bad}" is not a Salsa supporter id (a UUID like 1f4d3ee4-af08-42bb-8ca2-50fc232e7b40)`);
    const payload = ids.length === 1 ? { supporterId: ids[0] } : { supporterIds: ids };
    return { ok: true, key: ids.join(' '), lockKeys: ids.map((id) => `id:${id.toLowerCase()}`), payload };
  }
  if (supporterId && !isUuid(supporterId)) return fail(`supporterId "${supporterId}" is not a Salsa supporter id (a UUID like 1f4d3ee4-af08-42bb-8ca2-50fc232e7b40)`);
  if (!supporterId && !email) return fail('email is required (Salsa matches supporters by email; or give a supporterId)');
  if (email && !isEmail(email)) return fail(`email "${email}" is not a valid email address`);

  for (const field in f) {
    const max = SALSA_MAX_LENGTH[field];
    const v = f[field]!;
    if (max !== undefined && v.length > max) return fail(`${field} is ${v.length} characters long; Salsa accepts at most ${max}`);
  }

  const s: SalsaSupporter = {};
  if (supporterId) s.supporterId = supporterId;
  for (const k of SIMPLE) if (f[k]) s[k] = f[k];
  if (f.dateOfBirth) {
    const d = parseCalendarDate(f.dateOfBirth);
    if (!d) return fail(`dateOfBirth "${f.dateOfBirth}" is not a date (use YYYY-MM-DD, or a "date" transform in the mapping)`);
    // Noon UTC: the same calendar day in every time zone from UTC-11 to UTC+11, so the birthday never moves.
    s.dateOfBirth = `${d}T12:00:00.000Z`;
  }
  if (f.gender) {
    const g = GENDERS[f.gender.trim().toLowerCase()];
    if (!g) return fail(`gender "${f.gender}" must be MALE or FEMALE (or M/F); leave it empty otherwise`);
    s.gender = g;
  }
  const address: Record<string, string> = {};
  for (const k of ADDRESS_FIELDS) if (f[k]) address[k] = f[k]!;
  if (Object.keys(address).length > 0) s.address = address;

  let emailStatus: string | undefined;
  if (f.emailStatus) {
    emailStatus = OPT[f.emailStatus.trim().toLowerCase()];
    if (!emailStatus) return fail(`emailStatus "${f.emailStatus}" must be OPT_IN or OPT_OUT (or yes/no)`);
  }
  const contacts: SalsaSupporter['contacts'] = [];
  for (const [field, type] of CONTACTS) {
    const v = f[field];
    if (!v) continue;
    contacts.push(type === 'EMAIL' && emailStatus ? { type, value: v, status: emailStatus } : { type, value: v });
  }
  if (contacts.length > 0) s.contacts = contacts;
  if (row.custom.length > 0) {
    for (const c of row.custom) {
      if (c.value.length > SALSA_MAX_LENGTH.customFieldValue!) return fail(`custom field ${c.name ?? c.fieldId} is longer than ${SALSA_MAX_LENGTH.customFieldValue} characters`);
    }
    s.customFieldValues = row.custom.map((c) => (c.fieldId ? { fieldId: c.fieldId, value: c.value } : { name: c.name, value: c.value }));
  }
  const lockKeys = [];
  if (supporterId) lockKeys.push(`id:${supporterId.toLowerCase()}`);
  if (email) lockKeys.push(`email:${normalEmail}`);
  return { ok: true, key, lockKeys, payload: s };
}
