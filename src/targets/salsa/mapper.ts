import type { MappedRow, Operation, Prepared, PrepareOptions } from '../../core/types.js';
import { isEmail, isUuid, normaliseDate, normaliseEmail, parseCalendarDate } from '../../mapping/values.js';
import { ADDRESS_FIELDS, CONTACT_FIELDS, SALSA_MAX_LENGTH } from './fields.js';
import { addressRule } from '../../mapping/address-rule.js';
import { CLEARABLE_SIMPLE, salsaAddress, salsaContacts, supporterFields, withNewStatuses, type SalsaSupporter } from './supporter.js';
import { notAUsState } from './us-states.js';

export type { SalsaSupporter } from './supporter.js';

const SALSA_ADDRESS = { street1: 'addressLine1', city: 'city', state: 'state', postalCode: 'postalCode', all: ADDRESS_FIELDS };

const GENDERS: Record<string, string> = { male: 'MALE', m: 'MALE', female: 'FEMALE', f: 'FEMALE' };
const OPT: Record<string, string> = {
  opt_in: 'OPT_IN', optin: 'OPT_IN', 'opt in': 'OPT_IN', yes: 'OPT_IN', y: 'OPT_IN', true: 'OPT_IN', '1': 'OPT_IN', subscribed: 'OPT_IN',
  opt_out: 'OPT_OUT', optout: 'OPT_OUT', 'opt out': 'OPT_OUT', no: 'OPT_OUT', n: 'OPT_OUT', false: 'OPT_OUT', '0': 'OPT_OUT', unsubscribed: 'OPT_OUT',
  // Seen on reads (a delete backup carries it), never accepted on writes: the address bounced, so it is not mailed.
  hard_bounce: 'OPT_OUT',
};
const BOUNCED = 'emailStatus HARD_BOUNCE cannot be written through the API: sent as OPT_OUT, so the bounced address is not mailed';
// Built once: these run for every row.
const MAX_LENGTH = new Map(Object.entries(SALSA_MAX_LENGTH));
const NO_LOCKS: string[] = [];

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

/** A row that cannot be sent, and why. */
type Failure = Extract<Prepared, { ok: false }>;

/** `field`: the error is about that one optional value, so the row may go without it. */
const failure = (key: string, error: string, field?: string): Failure => ({ ok: false, key, error, field });

/** Whether a step's answer is the row's failure (a step answers its value, or a Failure). */
const isFailure = (x: unknown): x is Failure => typeof x === 'object' && x !== null && (x as Failure).ok === false;

/**
 * Maps one row to a Salsa supporter and checks it the way the API would, so bad rows never cost a call.
 * Empty cells are left out: an omitted field is left alone by Salsa (docs/VENDOR-APIS.md), never cleared by accident.
 */
export function prepareSalsa(operation: Operation, row: MappedRow, options?: PrepareOptions): Prepared {
  const f = row.fields;
  const email = f.email ? f.email.trim() : '';
  const supporterId = f.supporterId ? f.supporterId.trim() : '';
  const normalEmail = email ? normaliseEmail(email) : '';
  const key = supporterId || normalEmail;
  if (operation === 'delete') return prepareDelete(supporterId, key);
  const wrong = checkKey(supporterId, email, key) ?? checkLengths(f, key) ?? checkState(f, key);
  if (wrong) return wrong;
  const birthDay = birthDayOf(f, key);
  if (isFailure(birthDay)) return birthDay;
  const gender = genderOf(f, key);
  if (isFailure(gender)) return gender;
  const emailStatus = emailStatusOf(f, email, key);
  if (isFailure(emailStatus)) return emailStatus;
  const smsStatus = smsStatusOf(f, key);
  if (isFailure(smsStatus)) return smsStatus;
  const custom = typedCustom(row.custom, key);
  if (isFailure(custom)) return custom;
  const statusNote = emailStatus && f.emailStatus!.trim().toLowerCase() === 'hard_bounce' ? BOUNCED : undefined;
  // Fields the person asked to clear (their cells are empty): sent as "", Salsa's clearing value.
  const cleared = row.clear && row.clear.length > 0 ? new Set(row.clear) : undefined;
  // Salsa keeps each part of a stored address that a request leaves out: only a whole address goes over a stored one.
  const address = addressRule(row, SALSA_ADDRESS, options?.replacePartial);
  const addressNote = address.heldBack === 'unplaced' ? ADDRESS_PART_UNMAPPED : address.heldBack ? ADDRESS_LEFT_OUT : undefined;
  // A mobile number without an SMS status is not sent to an existing supporter: Salsa may opt a new mobile contact in
  // when no status comes with it (the emulator does), and a status the file does not give must not be invented.
  // It goes to a supporter the run creates, by the second call, opted out of SMS.
  const holdCell = !!f.cellPhone && !smsStatus;
  const heldBackNote = holdCell ? (addressNote ? `${addressNote}; ${MOBILE_LEFT_OUT}` : MOBILE_LEFT_OUT) : addressNote;
  if (options?.checkOnly) return { ok: true, key, lockKeys: NO_LOCKS, payload: undefined, note: statusNote, heldBackNote };
  const s = supporterFields(f, supporterId, birthDay, gender, cleared);
  let afterCreate: SalsaSupporter | undefined;
  if (address.any) {
    const a = salsaAddress(f, cleared, address.clear);
    if (address.send) s.address = a;
    else afterCreate = { address: a };
  }
  const contacts = salsaContacts(f, emailStatus, smsStatus);
  const first = holdCell ? contacts.filter((c) => c.type !== 'CELL_PHONE') : contacts;
  if (first.length > 0) s.contacts = first;
  // A status the row does not give is never sent to an existing supporter (it keeps its own). What a new one gets
  // is not documented (perhaps the account's default, perhaps opted in), so a supporter this run creates gets it
  // explicitly, by the second call: --new-email-status (OPT_OUT unless told), and SMS always OPT_OUT.
  const newEmail = options?.newEmailStatus ?? 'OPT_OUT';
  if ((newEmail !== 'account-default' && email && !emailStatus) || holdCell) (afterCreate ??= {}).contacts = withNewStatuses(contacts, newEmail);
  if (custom.length > 0) s.customFieldValues = custom.map((c) => (c.fieldId ? { fieldId: c.fieldId, value: c.value } : { name: c.name, value: c.value }));
  const lockKeys = supporterId ? [`id:${supporterId.toLowerCase()}`] : [];
  if (email) lockKeys.push(`email:${normalEmail}`);
  return { ok: true, key, lockKeys, payload: s, note: statusNote, afterCreate, heldBackNote };
}

/** A delete names supporters by id only. */
function prepareDelete(supporterId: string, key: string): Prepared {
  // One row may name several supporters (an email matching many, with --all-matches): ids separated by spaces.
  const ids = supporterId.split(/\s+/).filter(Boolean);
  if (ids.length === 0) return failure(key, 'supporterId is required to delete (this file has no supporterId for the row)');
  const bad = ids.find((id) => !isUuid(id));
  if (bad) return failure(key, `supporterId "${bad}" is not a Salsa supporter id (a UUID like 1f4d3ee4-af08-42bb-8ca2-50fc232e7b40)`);
  const payload = ids.length === 1 ? { supporterId: ids[0] } : { supporterIds: ids };
  return { ok: true, key: ids.join(' '), lockKeys: ids.map((id) => `id:${id.toLowerCase()}`), payload };
}

/** The row names its supporter: a supporterId that is one, or a valid email. */
function checkKey(supporterId: string, email: string, key: string): Failure | undefined {
  if (supporterId && !isUuid(supporterId)) return failure(key, `supporterId "${supporterId}" is not a Salsa supporter id (a UUID like 1f4d3ee4-af08-42bb-8ca2-50fc232e7b40)`);
  if (!supporterId && !email) return failure(key, 'email is required (Salsa matches supporters by email; or give a supporterId)');
  if (email && !isEmail(email)) return failure(key, `email "${email}" is not a valid email address`);
  return undefined;
}

/** No field longer than Salsa takes. */
function checkLengths(f: Record<string, string>, key: string): Failure | undefined {
  for (const field in f) {
    const max = MAX_LENGTH.get(field);
    if (max !== undefined && f[field]!.length > max) return failure(key, `${field} is ${f[field]!.length} characters long; Salsa accepts at most ${max}`, field === 'email' ? undefined : field);
  }
  return undefined;
}

/** A state Salsa would refuse costs the row that value (said on its line), not the whole supporter. */
function checkState(f: Record<string, string>, key: string): Failure | undefined {
  if (!f.state || !notAUsState(f.state, f.country)) return undefined;
  return failure(key, `state "${f.state}" is not a US state (a USPS code such as NC, or a state's name), which Salsa requires of an address in the US or in no country; give the country column, or map the state from another column`, 'state');
}

/** The row's date of birth as YYYY-MM-DD. */
function birthDayOf(f: Record<string, string>, key: string): string | undefined | Failure {
  if (!f.dateOfBirth) return undefined;
  const birthDay = parseCalendarDate(f.dateOfBirth);
  if (!birthDay) return failure(key, `dateOfBirth "${f.dateOfBirth}" is not a date (use YYYY-MM-DD, or a "date" transform in the mapping)`, 'dateOfBirth');
  return birthDay;
}

/** The row's gender in Salsa's words (MALE, FEMALE). */
function genderOf(f: Record<string, string>, key: string): string | undefined | Failure {
  if (!f.gender) return undefined;
  const gender = GENDERS[f.gender.trim().toLowerCase()];
  if (!gender) return failure(key, `gender "${f.gender}" is not one Salsa stores (MALE or FEMALE, or M/F)`, 'gender');
  return gender;
}

/** The row's email status in Salsa's words (a hard bounce as OPT_OUT). */
function emailStatusOf(f: Record<string, string>, email: string, key: string): string | undefined | Failure {
  if (!f.emailStatus) return undefined;
  const emailStatus = OPT[f.emailStatus.trim().toLowerCase()];
  if (!emailStatus) return failure(key, `emailStatus "${f.emailStatus}" must be OPT_IN or OPT_OUT (or yes/no)`, 'emailStatus');
  // Salsa keeps the status on the EMAIL contact, and a contact without its value is no contact: the status
  // would be dropped while the row read as a success.
  if (!email) return failure(key, `emailStatus ${emailStatus} has nothing to attach to: Salsa keeps it on the supporter's email contact, and this row has no email. Add the supporter's email address to the row`);
  return emailStatus;
}

/** The row's SMS status in Salsa's words. */
function smsStatusOf(f: Record<string, string>, key: string): string | undefined | Failure {
  if (!f.smsStatus) return undefined;
  const smsStatus = OPT[f.smsStatus.trim().toLowerCase()];
  if (!smsStatus) return failure(key, `smsStatus "${f.smsStatus}" must be OPT_IN or OPT_OUT (or yes/no)`, 'smsStatus');
  // An SMS opt-out without a number opts nothing out: not sent, nothing to say. An opt-in without one is said.
  if (!f.cellPhone && smsStatus === 'OPT_OUT') return undefined;
  if (!f.cellPhone) return failure(key, `smsStatus ${smsStatus} has nothing to attach to: Salsa keeps it on the cell phone contact, and this row has no cell phone`, 'smsStatus');
  return smsStatus;
}

/** The row's custom values as their types travel (a new list only when one changes). */
function typedCustom(given: MappedRow['custom'], key: string): MappedRow['custom'] | Failure {
  let custom = given;
  for (let i = 0; i < custom.length; i++) {
    const c = custom[i]!;
    if (c.value.length > SALSA_MAX_LENGTH.customFieldValue!) return failure(key, `custom field ${c.name ?? c.fieldId} is longer than ${SALSA_MAX_LENGTH.customFieldValue} characters`, `custom ${c.name ?? c.fieldId}`);
    if (c.type && c.value !== '') {
      const v = typedCustomValue(c.value, c.type);
      if (typeof v !== 'string') return failure(key, `custom field ${c.name ?? c.fieldId} (${c.type}): ${v.error}`, `custom ${c.name ?? c.fieldId}`);
      if (v !== c.value) {
        if (custom === given) custom = [...custom];
        custom[i] = { ...c, value: v };
      }
    }
  }
  return custom;
}

const YES = new Set(['true', 't', 'yes', 'y', '1', 'x']);
const NO = new Set(['false', 'f', 'no', 'n', '0']);

/**
 * A custom field value as its type travels (values are strings: "true"/"false", a plain number, a date as an
 * ISO instant at noon UTC like dateOfBirth), or why it is not one. Never guessed: "1,000" and 05/03/1975 are refused.
 */
export function typedCustomValue(value: string, type: string): string | { error: string } {
  const v = value.trim();
  if (type === 'BOOLEAN') {
    const low = v.toLowerCase();
    return YES.has(low) ? 'true' : NO.has(low) ? 'false' : { error: `"${v}" is not yes or no (yes/no, y/n, true/false, 1/0)` };
  }
  if (type === 'NUMBER') return /^-?\d+(\.\d+)?$/.test(v) ? v : { error: `"${v}" is not a number (digits, a point for decimals, no thousands separators)` };
  if (type === 'DATE') {
    const d = normaliseDate(v, undefined);
    if ('error' in d) return d;
    const day = parseCalendarDate(d.value);
    return day ? `${day}T12:00:00.000Z` : { error: `"${v}" is not a date (YYYY-MM-DD, or a "date" transform in the mapping)` };
  }
  return v;
}


/** What an empty cell may clear in Salsa: plain fields and address parts are sent as "" (Salsa's clearing value). */
export function canClearSalsa(field: string): true | string {
  if (CLEARABLE_SIMPLE.has(field) || (ADDRESS_FIELDS as readonly string[]).includes(field)) return true;
  if (field === 'supporterId' || field === 'email') return 'it identifies the supporter';
  if (field === 'emailStatus' || field === 'smsStatus') return 'a subscription status is changed with OPT_IN or OPT_OUT, not cleared';
  if (field in CONTACT_FIELDS) return 'Salsa refuses a contact without a value, and removing a phone or social contact is not documented for its API';
  return 'it is not a Salsa field that can be cleared';
}

export const ADDRESS_PART_UNMAPPED = 'address not sent: the row has a part of it in a column that is not mapped (see the note before the run), and Salsa keeps the parts of a stored address a request leaves out; it is sent only to a supporter the run creates (--address replace sends it anyway)';
export const MOBILE_LEFT_OUT = 'cellPhone not sent: the row gives no SMS status, and Salsa may opt a mobile number sent without one in to text messages; it is sent only to a supporter the run creates, opted out of SMS (map an SMS status column to send it to everyone)';
export const ADDRESS_LEFT_OUT = 'address not sent: not a whole address (a street and a city, with a state or zip column), and Salsa keeps the parts of a stored address a request leaves out, so it would mix with the stored one; it is sent only to a supporter the run creates (--address replace sends it anyway)';

/** Said before the run: what becomes of addresses given the columns the file maps. */
export function describeSalsaMapping(mapped: ReadonlySet<string>, options: PrepareOptions): string[] {
  const parts = ADDRESS_FIELDS.filter((f) => mapped.has(f));
  if (parts.length === 0) return [];
  if (options.replacePartial) return [`addresses: --address replace: every row's address parts are sent, and replace the stored address whole (parts the row lacks are erased)`];
  if (!mapped.has('addressLine1') || !mapped.has('city') || (!mapped.has('state') && !mapped.has('postalCode'))) {
    const lacking = ['addressLine1', 'city'].filter((p) => !mapped.has(p)).concat(!mapped.has('state') && !mapped.has('postalCode') ? ['state or postalCode'] : []);
    return [`addresses go only to supporters this run creates: the file maps ${parts.join(', ')} but no ${lacking.join(', ')}, and Salsa keeps the parts of a stored address a request leaves out, so sending them to existing supporters would mix them with what they have there. To replace addresses anyway: --address replace`];
  }
  return ['an address replaces the stored one whole: a row with a street and a city sends its address, the parts it leaves empty as "" so they are cleared; a partial one (no street or no city) goes only to a supporter this run creates; --address replace sends it to every supporter'];
}

/**
 * The row that puts these fields of a supporter back as they were (by supporterId): an address whole (Salsa replaces
 * it whole), a status with its contact, an empty field cleared where Salsa allows; what it does not, named.
 */
export function restoreSalsa(remoteId: string, before: Record<string, string>, fields: string[]): MappedRow {
  const row: MappedRow = { fields: { supporterId: remoteId }, custom: [], clear: [], notes: [] };
  const wanted = new Set(fields);
  if (ADDRESS_FIELDS.some((f) => wanted.has(f))) for (const f of ADDRESS_FIELDS) wanted.add(f);
  if (wanted.has('emailStatus') && before.email) wanted.add('email');
  if (wanted.has('smsStatus') && before.cellPhone) wanted.add('cellPhone');
  for (const f of wanted) {
    const old = before[f] ?? '';
    if (f.startsWith('custom:')) row.custom.push({ name: f.slice('custom:'.length), value: old });
    else if (old !== '') row.fields[f] = old;
    else {
      const can = canClearSalsa(f);
      if (can === true) row.clear!.push(f);
      else (row.dropped ??= []).push({ field: f, reason: `${f} cannot be emptied through Salsa's API (${can}): it keeps the value the import gave it` });
    }
  }
  return row;
}
