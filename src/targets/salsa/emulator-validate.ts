import { randomUUID } from 'node:crypto';
import { isEmail } from '../../mapping/values.js';
import { ADDRESS_FIELDS, SALSA_MAX_LENGTH } from './fields.js';

export type Obj = Record<string, unknown>;

export interface FieldError {
  id: string;
  code: number;
  message: string;
  details?: string;
  fieldName: string;
}

/** A custom field of the emulated account: its values travel as strings and must fit its type. */
export interface CustomField {
  name: string;
  fieldId: string;
  type: string;
}

const US_STATES = new Set(
  'AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP AA AE AP'.split(' '),
);
const CONTACT_TYPES = new Set(['EMAIL', 'HOME_PHONE', 'CELL_PHONE', 'WORK_PHONE', 'FACEBOOK_ID', 'TWITTER_ID', 'LINKEDIN_ID']);
export const SIMPLE_FIELDS = ['title', 'firstName', 'middleName', 'lastName', 'suffix', 'dateOfBirth', 'gender', 'externalSystemId'];

export const fieldError = (code: number, message: string, fieldName: string, details?: string): FieldError => ({ id: randomUUID(), code, message, fieldName, ...(details ? { details } : {}) });

/** Validates a sent supporter in place, hanging errors where Salsa would; true when it is acceptable. */
export function validate(s: Obj, adding: boolean, customFields: Map<string, CustomField>, now: () => number): boolean {
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
