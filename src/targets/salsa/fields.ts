import type { FieldSpec } from '../../core/types.js';

/**
 * Salsa Engage supporter fields in their flat, mappable form (docs/VENDOR-APIS.md "Supporter fields").
 * Lengths are not published; these are conservative limits checked locally and enforced by the emulator.
 */
export const SALSA_FIELDS: FieldSpec[] = [
  { name: 'supporterId', aliases: ['supporter id', 'salsa id', 'supporter_id', 'supporter key'], role: 'remoteId', ownIds: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i },
  { name: 'email', aliases: ['email', 'e-mail', 'email address', 'email_address', 'e-mail address', 'primary email', 'mail'], role: 'email' },
  { name: 'emailStatus', aliases: ['email status', 'email opt in', 'opt in', 'opt-in', 'subscribed', 'email_status'], role: 'emailStatus' },
  { name: 'smsStatus', aliases: ['sms status', 'sms opt in', 'sms opt-in', 'sms_opt_in', 'mobile_opt_in', 'mobile opt in', 'text opt in', 'can2_sms_status'], role: 'smsStatus' },
  { name: 'title', aliases: ['title', 'salutation', 'prefix', 'honorific'], role: 'title' },
  { name: 'firstName', aliases: ['first name', 'firstname', 'first_name', 'first', 'given name', 'given', 'forename'], role: 'firstName' },
  { name: 'middleName', aliases: ['middle name', 'middlename', 'middle_name', 'middle'], role: 'middleName' },
  { name: 'lastName', aliases: ['last name', 'lastname', 'last_name', 'last', 'surname', 'family name'], role: 'lastName' },
  { name: 'suffix', aliases: ['suffix', 'name suffix'], role: 'suffix' },
  { name: 'dateOfBirth', aliases: ['date of birth', 'dob', 'birth date', 'birthdate', 'birthday', 'date_of_birth'], kind: 'date', role: 'birthDate' },
  { name: 'gender', aliases: ['gender', 'sex'], role: 'gender' },
  { name: 'externalSystemId', aliases: ['external id', 'externalid', 'external_id', 'external system id', 'externalsystemid'], role: 'externalId' },
  { name: 'addressLine1', aliases: ['address 1', 'address1', 'address', 'address line 1', 'street', 'street address', 'street 1', 'street1', 'addr1', 'line1'], role: 'street1' },
  { name: 'addressLine2', aliases: ['address 2', 'address2', 'address line 2', 'street 2', 'street2', 'addr2', 'line2', 'apt', 'suite'], role: 'street2' },
  { name: 'city', aliases: ['city', 'town', 'locality'], role: 'city' },
  { name: 'state', aliases: ['state', 'province', 'state/province', 'state province', 'state code'], role: 'state' },
  { name: 'postalCode', aliases: ['zip', 'zip code', 'zipcode', 'postal code', 'postalcode', 'postcode', 'zip/postal code', 'postal'], role: 'postalCode' },
  { name: 'county', aliases: ['county'], partOf: 'address' },
  { name: 'country', aliases: ['country', 'country code'], role: 'country' },
  { name: 'homePhone', aliases: ['phone', 'home phone', 'homephone', 'telephone', 'phone number', 'home_phone'], role: 'homePhone' },
  { name: 'cellPhone', aliases: ['mobile', 'cell', 'cell phone', 'mobile phone', 'cellphone', 'mobile_phone', 'cell_phone'], role: 'mobilePhone' },
  { name: 'workPhone', aliases: ['work phone', 'workphone', 'business phone', 'work_phone', 'office phone'], role: 'workPhone' },
  { name: 'facebookId', aliases: ['facebook', 'facebook id'] },
  { name: 'twitterId', aliases: ['twitter', 'twitter id', 'twitter handle'] },
  { name: 'linkedinId', aliases: ['linkedin', 'linkedin id'] },
];

export const SALSA_MAX_LENGTH: Record<string, number> = {
  title: 32,
  firstName: 64,
  middleName: 64,
  lastName: 64,
  suffix: 32,
  externalSystemId: 128,
  addressLine1: 128,
  addressLine2: 128,
  city: 64,
  state: 64,
  postalCode: 32,
  county: 64,
  country: 64,
  email: 254,
  homePhone: 32,
  cellPhone: 32,
  workPhone: 32,
  facebookId: 128,
  twitterId: 128,
  linkedinId: 128,
  customFieldValue: 1024,
};

/** Flat field → Salsa contact type. */
export const CONTACT_FIELDS: Record<string, string> = {
  email: 'EMAIL',
  homePhone: 'HOME_PHONE',
  cellPhone: 'CELL_PHONE',
  workPhone: 'WORK_PHONE',
  facebookId: 'FACEBOOK_ID',
  twitterId: 'TWITTER_ID',
  linkedinId: 'LINKEDIN_ID',
};

export const ADDRESS_FIELDS = ['addressLine1', 'addressLine2', 'city', 'state', 'postalCode', 'county', 'country'] as const;

export const SUPPORTER_PATH = '/api/integration/ext/v1/supporters';
export const METRICS_PATH = '/api/integration/ext/v1/metrics';
export const SEARCH_PATH = '/api/integration/ext/v1/supporters/search';
export const SEGMENT_SEARCH_PATH = '/api/integration/ext/v1/segments/search';
export const SEGMENT_MEMBERS_PATH = '/api/integration/ext/v1/segments/members';
export const SEGMENT_MEMBERS_SEARCH_PATH = '/api/integration/ext/v1/segments/members/search';

export const DEFAULT_SALSA_URL = 'https://api.salsalabs.org';
