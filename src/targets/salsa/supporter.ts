import { ADDRESS_FIELDS, CONTACT_FIELDS } from './fields.js';
import { usStateCode } from './us-states.js';

// The supporter object a checked row becomes (mapper.ts checks the row, then builds it with these).

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
  address?: Partial<Record<(typeof ADDRESS_FIELDS)[number], string>>;
  contacts?: Array<{ type: string; value: string; status?: string }>;
  customFieldValues?: Array<{ name?: string; fieldId?: string; value: string }>;
}

// Built once: these run for every row.
const CONTACTS = Object.entries(CONTACT_FIELDS);
/** The supporter's own fields an empty cell may clear (sent as "", Salsa's clearing value). */
export const CLEARABLE_SIMPLE = new Set(['title', 'firstName', 'middleName', 'lastName', 'suffix', 'dateOfBirth', 'gender', 'externalSystemId']);

/**
 * The supporter's own fields: only those the row gives, named one by one in a fixed order (no loop over field
 * names): JSON.stringify, which runs twice per row when sending (the hash, the request), is twice as slow on
 * objects holding undefined.
 */
export function supporterFields(f: Record<string, string>, supporterId: string, birthDay: string | undefined, gender: string | undefined, cleared: Set<string> | undefined): SalsaSupporter {
  const s: SalsaSupporter = {};
  if (supporterId) s.supporterId = supporterId;
  if (f.title) s.title = f.title;
  if (f.firstName) s.firstName = f.firstName;
  if (f.middleName) s.middleName = f.middleName;
  if (f.lastName) s.lastName = f.lastName;
  if (f.suffix) s.suffix = f.suffix;
  // Noon UTC: the same calendar day in every time zone from UTC-11 to UTC+11, so the birthday never moves.
  if (birthDay) s.dateOfBirth = `${birthDay}T12:00:00.000Z`;
  if (gender) s.gender = gender;
  if (f.externalSystemId) s.externalSystemId = f.externalSystemId;
  if (cleared) for (const field of cleared) if (CLEARABLE_SIMPLE.has(field)) (s as Record<string, string>)[field] = '';
  return s;
}

/** The address parts the row gives, and those sent as "" (asked to clear, or cleared so a whole address replaces the stored one). */
export function salsaAddress(f: Record<string, string>, cleared: Set<string> | undefined, clear: readonly string[]): NonNullable<SalsaSupporter['address']> {
  const a: NonNullable<SalsaSupporter['address']> = {};
  if (f.addressLine1) a.addressLine1 = f.addressLine1;
  if (f.addressLine2) a.addressLine2 = f.addressLine2;
  if (f.city) a.city = f.city;
  if (f.state) a.state = usStateCode(f.state, f.country) ?? f.state;
  if (f.postalCode) a.postalCode = f.postalCode;
  if (f.county) a.county = f.county;
  if (f.country) a.country = f.country;
  if (cleared) for (const part of ADDRESS_FIELDS) if (cleared.has(part)) a[part] = '';
  // A whole address replaces the stored one (a part the file does not mention at all is left as it is).
  for (const part of clear) a[part as (typeof ADDRESS_FIELDS)[number]] = '';
  return a;
}

/** The row's contacts (email, phones, social ids), the email and cell phone with their statuses where it gives them. */
export function salsaContacts(f: Record<string, string>, emailStatus: string | undefined, smsStatus: string | undefined): NonNullable<SalsaSupporter['contacts']> {
  const contacts: NonNullable<SalsaSupporter['contacts']> = [];
  for (let i = 0; i < CONTACTS.length; i++) {
    const [field, type] = CONTACTS[i]!;
    const v = f[field];
    const status = type === 'EMAIL' ? emailStatus : type === 'CELL_PHONE' ? smsStatus : undefined;
    if (v) contacts.push(status ? { type, value: v, status } : { type, value: v });
  }
  return contacts;
}

/** The contacts of a supporter the run creates, each email and cell phone without a status given one. */
export function withNewStatuses(contacts: NonNullable<SalsaSupporter['contacts']>, newEmail: string): NonNullable<SalsaSupporter['contacts']> {
  // Every contact again, not only the ones given a status: however Salsa treats a list of contacts, the second
  // call leaves the same ones.
  return contacts.map((c) => (c.status ? c : c.type === 'EMAIL' ? (newEmail === 'account-default' ? c : { ...c, status: newEmail }) : c.type === 'CELL_PHONE' ? { ...c, status: 'OPT_OUT' } : c));
}
