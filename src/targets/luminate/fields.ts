import type { FieldSpec } from '../../core/types.js';

/**
 * Luminate Online constituent fields as the Server API names them (docs/VENDOR-APIS.md "Field names"; the set varies per
 * site, so `custom_*` names are accepted as they come). `primary_email` is the lookup; the tool also sends it as
 * `email.primary_address` so the record's address is set.
 */
export const LUMINATE_FIELDS: FieldSpec[] = [
  { name: 'cons_id', aliases: ['cons id', 'consid', 'constituent id', 'luminate id', 'convio id'], role: 'remoteId', ownIds: /^\d+$/ },
  // Never matched from an "External ID" column: createOrUpdate looks up by member_id before primary_email, so a
  // member_id the site does not know makes a second constituent or fails with 11/13 instead of matching by email.
  {
    name: 'member_id',
    aliases: ['member id', 'memberid'],
    caution: {
      aliases: ['external id', 'externalid', 'external_id', 'client id'],
      warning: 'only if these are the site\'s own member ids: createOrUpdate then looks up by member_id before the email, so an id the site does not know creates a second constituent or fails (codes 11/13)',
    },
  },
  { name: 'primary_email', aliases: ['email', 'e-mail', 'email address', 'email_address', 'e-mail address', 'primary email', 'email.primary_address', 'mail'], role: 'email' },
  { name: 'email.accepts_email', aliases: ['accepts email', 'email opt in', 'opt in', 'opt-in', 'subscribed', 'email status'], role: 'emailStatus' },
  { name: 'name.title', aliases: ['title', 'salutation', 'prefix'], role: 'title' },
  { name: 'name.first', aliases: ['first name', 'firstname', 'first_name', 'first', 'given name', 'given', 'forename'], role: 'firstName' },
  { name: 'name.middle', aliases: ['middle name', 'middlename', 'middle_name', 'middle'], role: 'middleName' },
  { name: 'name.last', aliases: ['last name', 'lastname', 'last_name', 'last', 'surname', 'family name'], role: 'lastName' },
  { name: 'name.suffix', aliases: ['suffix', 'name suffix'], role: 'suffix' },
  { name: 'primary_address.street1', aliases: ['address 1', 'address1', 'address', 'address line 1', 'street', 'street address', 'street 1', 'street1', 'addr1'], role: 'street1' },
  { name: 'primary_address.street2', aliases: ['address 2', 'address2', 'address line 2', 'street 2', 'street2', 'addr2', 'apt', 'suite'], role: 'street2' },
  { name: 'primary_address.city', aliases: ['city', 'town'], role: 'city' },
  { name: 'primary_address.state', aliases: ['state', 'province', 'state/province'], role: 'state' },
  { name: 'primary_address.zip', aliases: ['zip', 'zip code', 'zipcode', 'postal code', 'postalcode', 'postcode', 'zip/postal code'], role: 'postalCode' },
  { name: 'primary_address.country', aliases: ['country', 'country code'], role: 'country' },
  { name: 'home_phone', aliases: ['phone', 'home phone', 'homephone', 'telephone', 'phone number'], role: 'homePhone' },
  { name: 'mobile_phone', aliases: ['mobile', 'cell', 'cell phone', 'mobile phone', 'cellphone'], role: 'mobilePhone' },
  // Where the site has it (listUserFields says; a column matched to it is left out on a site without it).
  { name: 'work_phone', aliases: ['work phone', 'business phone', 'office phone'], role: 'workPhone' },
  { name: 'birth_date', aliases: ['date of birth', 'dob', 'birth date', 'birthdate', 'birthday'], kind: 'date', role: 'birthDate' },
  { name: 'gender', aliases: ['gender', 'sex'], role: 'gender' },
  { name: 'employment.employer', aliases: ['employer', 'company', 'organization'] },
  { name: 'employment.occupation', aliases: ['occupation', 'job title'] },
  // Never from a "Groups" or "Interests" column: memberships are a change people ask for (README "Segments and groups").
  { name: 'add_group_ids', aliases: ['add group ids'] },
  { name: 'add_interest_ids', aliases: ['add interest ids'] },
  { name: 'no_welcome', aliases: ['no welcome'] },
  { name: 'source', aliases: ['source'] },
  { name: 'sub_source', aliases: ['sub source', 'subsource'] },
];

/** Lengths seen on Luminate sites (docs/VENDOR-APIS.md). */
export const LUMINATE_MAX_LENGTH: Record<string, number> = {
  'name.first': 50,
  'name.last': 50,
  'name.middle': 50,
  'name.title': 50,
  'name.suffix': 50,
  primary_email: 255,
  'primary_address.street1': 128,
  'primary_address.street2': 128,
  'primary_address.city': 64,
  'primary_address.state': 30,
  'primary_address.zip': 40,
  home_phone: 50,
  mobile_phone: 50,
};

export const CUSTOM_FIELD = /^custom_(string|boolean|date|integer)\d+$/;

/** createOrUpdate's own parameters (its grammar, from the method's reference), which are not constituent fields. */
export const METHOD_PARAMS = new Set(['add_center_ids', 'add_center_opt_in_ids', 'add_group_ids', 'add_interest_ids', 'cons_id', 'interaction_body', 'interaction_cat_id', 'interaction_count', 'interaction_subject', 'member_id', 'no_welcome', 'primary_email', 'remove_center_ids', 'remove_center_opt_in_ids', 'remove_group_ids', 'remove_interest_ids', 'suppress_cleaning', 'center_id', 'source', 'sub_source']);
/** Parameters the tool sets itself (credentials, format): never from a file. */
export const RESERVED_PARAMS = new Set(['method', 'v', 'api_key', 'login_name', 'login_password', 'response_format', 'suppress_response_codes', 'auth', 'sso_auth_token', 'redirect', 'success_redirect', 'error_redirect', 'sign_redirects']);
/** Numeric id lists. */
export const ID_LIST_PARAMS = ['add_group_ids', 'remove_group_ids', 'add_interest_ids', 'remove_interest_ids', 'add_center_ids', 'remove_center_ids', 'add_center_opt_in_ids', 'remove_center_opt_in_ids'] as const;
/** A constituent field name as sites name them (name.first, primary_address.street3, work_phone). */
export const FIELD_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;

/** Error codes (docs/VENDOR-APIS.md "Errors"); codes arrive as strings. */
export const CONFIG_CODES: Record<string, string> = {
  '2': 'Luminate refused the API key (code 2). Check LUMINATE_API_KEY against Setup > Site Options > Open API Configuration.',
  '3': 'Luminate refused the login (code 3, authorization failed). Check LUMINATE_LOGIN_NAME and LUMINATE_LOGIN_PASSWORD, and that the account is in the API Administrators security group.',
  '4': "Luminate refused this machine's address (code 4, source IP not allowed). Add this machine's IP under Setup > Site Options > Open API Configuration (IP whitelist).",
  '5': 'Luminate asked for an auth token (code 5): the Server API is being called as a client API. Check that LUMINATE_API_URL ends in /site and the login variables are set.',
  '6': 'Luminate does not know the method (code 6). Check LUMINATE_API_URL: it must point at the site, e.g. https://secure2.convio.net/myorg/site.',
  '14': 'Luminate does not allow createOrUpdate for this API account (code 14). Give the account API Administrator rights.',
};

export const VALIDATION_CODES = new Set(['8', '10', '11', '12', '13', '15', '22', '23', '25', '35']);
