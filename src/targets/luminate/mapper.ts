import type { MappedRow, Operation, Prepared } from '../../core/types.js';
import { isEmail, normaliseEmail, parseCalendarDate } from '../../mapping/values.js';
import { CUSTOM_FIELD, LUMINATE_FIELDS, LUMINATE_MAX_LENGTH } from './fields.js';

const KNOWN = new Set(LUMINATE_FIELDS.map((f) => f.name));
const LIMITS = Object.entries(LUMINATE_MAX_LENGTH);
const TRUE = new Set(['true', 't', 'yes', 'y', '1', 'opt_in', 'subscribed']);
const FALSE = new Set(['false', 'f', 'no', 'n', '0', 'opt_out', 'unsubscribed']);

export function isLuminateField(name: string): boolean {
  return KNOWN.has(name) || CUSTOM_FIELD.test(name);
}

function bool(value: string): string | undefined {
  const v = value.trim().toLowerCase();
  return TRUE.has(v) ? 'true' : FALSE.has(v) ? 'false' : undefined;
}

/**
 * Maps one row to the form fields of one createOrUpdate call (API-NOTES.md "createOrUpdate").
 * Lookup order is Luminate's own: cons_id, else member_id, else primary_email.
 */
export function prepareLuminate(operation: Operation, row: MappedRow): Prepared {
  const f = row.fields;
  const consId = (f.cons_id ?? '').trim();
  const memberId = (f.member_id ?? '').trim();
  const email = (f.primary_email ?? '').trim();
  const key = consId || memberId || normaliseEmail(email);
  const fail = (error: string): Prepared => ({ ok: false, key, error });
  if (operation !== 'upsert') return fail('Luminate Online constituents can only be created or updated');
  if (consId && !/^\d+$/.test(consId)) return fail(`cons_id "${consId}" is not a Luminate constituent id (digits only)`);
  if (!consId && !memberId && !email) return fail('primary_email is required to create a constituent (or give cons_id or member_id to update one)');
  if (email && !isEmail(email)) return fail(`primary_email "${email}" is not a valid email address`);
  for (const [field, max] of LIMITS) {
    const v = f[field];
    if (v !== undefined && v.length > max) return fail(`${field} is ${v.length} characters long; Luminate accepts at most ${max}`);
  }
  const form: Record<string, string> = {};
  for (const [name, raw] of Object.entries(f)) {
    const value = raw.trim();
    if (value === '') continue; // an empty cell never clears a stored value
    form[name] = value;
  }
  if (email) form['email.primary_address'] = email;
  if (form.birth_date) {
    const d = parseCalendarDate(form.birth_date);
    if (!d) return fail(`birth_date "${form.birth_date}" is not a date (use YYYY-MM-DD, or a "date" transform in the mapping)`);
    form.birth_date = d;
  }
  for (const b of ['email.accepts_email', 'no_welcome'] as const) {
    if (form[b] === undefined) continue;
    const v = bool(form[b]);
    if (!v) return fail(`${b} "${form[b]}" must be true or false (or yes/no)`);
    form[b] = v;
  }
  for (const ids of ['add_group_ids', 'add_interest_ids'] as const) {
    if (form[ids] === undefined) continue;
    const list = form[ids].split(/[\s,;]+/).filter(Boolean);
    if (!list.every((x) => /^\d+$/.test(x))) return fail(`${ids} "${form[ids]}" must be numeric ids separated by commas`);
    // Pre-defined groups (ids under 1000) cannot be added through the API (seed: add_group_ids).
    if (ids === 'add_group_ids' && list.some((x) => Number(x) < 1000)) return fail(`add_group_ids: groups under 1000 are pre-defined and cannot be assigned through the API`);
    form[ids] = list.join(',');
  }
  const lockKeys: string[] = [];
  if (consId) lockKeys.push(`cons:${consId}`);
  if (memberId) lockKeys.push(`member:${memberId}`);
  if (email) lockKeys.push(`email:${normaliseEmail(email)}`);
  return { ok: true, key, lockKeys, payload: form };
}
