import type { FieldRole } from '../core/types.js';

/**
 * A column header read as words, by what they mean rather than by a list of spellings: the decorations exports put
 * around a field (billing, shipping, home, default address, donor, customer, "your", a question's wording, a
 * trailing 1) are set aside, and what remains is matched to a role. "Default Address Province Code", "Home Zip",
 * "What is your email address?", "MailingStreet" and "Phone number (mobile)" read as state, zip, email, street and
 * a mobile phone.
 */

/** A header as lower-case words without accents: "HasOptedOutOfEmail" → has opted out of email; "E-mail" → email. */
export function headerWords(header: string): string[] {
  const words = header
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/^[a-z0-9]+__/i, '') // a Salesforce package's namespace (npe01__HomeEmail__c)
    .replace(/__c$/i, '') // and its custom-field suffix
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/([A-Za-z])(\d)/g, '$1 $2')
    .replace(/(\d)([A-Za-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    // "e-mail", "e mail" → email
    if (words[i] === 'e' && (words[i + 1] === 'mail' || words[i + 1] === 'mails')) {
      out.push('email');
      i++;
    } else out.push(words[i] === 'emails' ? 'email' : words[i]!);
  }
  return out;
}

export type AddressRole = 'street1' | 'street2' | 'city' | 'state' | 'postalCode' | 'country' | 'county';
export type PhoneKind = 'home' | 'work' | 'mobile';

/** What a header says a column is. */
export interface HeaderReading {
  /** The field's role; 'phone' before its kind is settled; 'fullName' a whole name; 'label' names another column's kind. */
  role?: FieldRole | 'county' | 'phone' | 'fullName' | 'label' | 'houseNumber' | 'houseNumberSuffix' | 'surnamePrefix' | 'birthYear' | 'birthMonth' | 'birthDay';
  /** A phone's kind from the header's own words (Home Phone, Phone - Mobile), when it says. */
  phoneKind?: PhoneKind;
  /** The address block a part belongs to ("" when the header names none): billing, shipping, home, mailing… */
  block: string;
  /** A second or other one ("Email 2", "Alternate Email", "Other Phone"): used only when no first one exists. */
  secondary: boolean;
  /** The header's words that name the field, without its decorations ("phone 1", "email"): pairs a value with its label. */
  stem: string;
}

// Phrases, each matched as whole words (accents removed). The longest phrase at a position wins.
const PHRASES: Array<[HeaderReading['role'], string[]]> = [
  ['email', ['email', 'email address', 'email addr', 'courriel', 'correo electronico', 'correo', 'adresse email', 'email adresse', 'emailadresse', 'direccion de correo', 'direccion de email', 'endereco de email', 'mailadres', 'mail address', 'mail adresse']],
  ['firstName', ['first name', 'firstname', 'first', 'given name', 'given', 'forename', 'prenom', 'vorname', 'nombre', 'voornaam', 'primeiro nome', 'fname', 'nome proprio']],
  ['lastName', ['last name', 'lastname', 'last', 'surname', 'family name', 'nom', 'nom de famille', 'nachname', 'familienname', 'apellido', 'apellidos', 'sobrenome', 'apelido', 'achternaam', 'lname']],
  ['middleName', ['middle name', 'middle', 'middle initial', 'mi', 'additional name', 'second name']],
  ['title', ['title', 'salutation', 'prefix', 'name prefix', 'honorific', 'civilite', 'anrede', 'aanhef', 'tratamiento', 'titre', 'titel', 'form of address']],
  ['surnamePrefix', ['tussenvoegsel', 'tussenvoegsels', 'voorvoegsel', 'surname prefix', 'last name prefix', 'name particle']],
  ['houseNumberSuffix', ['toevoeging', 'huisnummer toevoeging', 'huisnummertoevoeging', 'house number addition', 'house number suffix', 'hausnummerzusatz']],
  ['suffix', ['suffix', 'name suffix']],
  ['fullName', ['name', 'full name', 'fullname', 'display name', 'nom complet', 'nombre completo', 'nome completo', 'naam', 'volledige naam']],
  ['street1', ['street', 'street address', 'address', 'address 1', 'address line 1', 'address line', 'line 1', 'street 1', 'street line 1', 'addr', 'addr 1', 'street and number', 'adresse', 'adresse 1', 'ligne 1', 'strasse', 'direccion', 'morada', 'straat', 'rue', 'endereco', 'street1', 'address1']],
  ['street2', ['address 2', 'address line 2', 'line 2', 'street 2', 'street line 2', 'addr 2', 'apt', 'apartment', 'suite', 'unit', 'apt suite', 'apartment suite', 'supplemental address', 'supplemental address 1', 'extended address', 'address complement', 'complement', 'complement d adresse', 'complement adresse', 'adresse 2', 'ligne 2', 'adresszusatz', 'address2', 'street2']],
  ['city', ['city', 'town', 'locality', 'suburb', 'ville', 'ort', 'stadt', 'ciudad', 'cidade', 'localidade', 'plaats', 'woonplaats', 'city town', 'town city', 'commune', 'municipality', 'localite']],
  ['state', ['state', 'province', 'state province', 'province state', 'state region', 'province code', 'state code', 'state abbreviated', 'bundesland', 'provincia', 'estado', 'province region', 'region', 'stateprov', 'state prov', 'provstate', 'state or province', 'state province region']],
  ['postalCode', ['zip', 'zip code', 'zipcode', 'postal code', 'postalcode', 'postcode', 'post code', 'zip postal code', 'postal zip code', 'zip postal', 'postal', 'zip 5', 'plz', 'postleitzahl', 'code postal', 'codigo postal', 'cep', 'eircode', 'postcode zip']],
  ['country', ['country', 'country code', 'country region', 'country name', 'pays', 'land', 'pais', 'country iso']],
  ['county', ['county']],
  ['phone', ['phone', 'phone number', 'telephone', 'telephone number', 'tel', 'phone no', 'telefon', 'telefone', 'telefono', 'telefoon', 'numero de telephone', 'numero de telefono', 'phone 1 value', 'mobile', 'mobile number', 'cell', 'cellphone', 'cell number', 'handy', 'portable', 'movil', 'celular', 'mobiel', 'telemovel', 'mob', 'mobil', 'mobiltelefon', 'landline']],
  ['houseNumber', ['house number', 'house no', 'house nr', 'street number', 'hausnr', 'hausnummer', 'huisnummer', 'numero de rue', 'building number']],
  ['birthYear', ['birth year', 'year of birth', 'dob year', 'birthday year', 'geburtsjahr']],
  ['birthMonth', ['birth month', 'dob month', 'birthday month', 'month of birth']],
  ['birthDay', ['dob day', 'birthday day', 'day of birth']],
  ['birthDate', ['birth date', 'birthdate', 'date of birth', 'dob', 'birthday', 'born at', 'born', 'born on', 'birth', 'geburtsdatum', 'geburtstag', 'date de naissance', 'naissance', 'fecha de nacimiento', 'nacimiento', 'data de nascimento', 'geboortedatum']],
  ['gender', ['gender', 'sex', 'gender identity', 'geschlecht', 'sexe', 'sexo', 'genero', 'geslacht']],
  ['externalId', ['external id', 'external system id', 'externalid']],
];

const PHRASE_INDEX = new Map<string, HeaderReading['role']>();
for (const [role, list] of PHRASES) for (const p of list) PHRASE_INDEX.set(p, role);
const MAX_PHRASE = Math.max(...[...PHRASE_INDEX.keys()].map((p) => p.split(' ').length));

/** Words that say where an address or phone is: kept apart as the block, never part of the field's name. */
const BLOCKS = new Set(['billing', 'shipping', 'mailing', 'home', 'primary', 'default', 'permanent', 'residential', 'postal', 'work', 'business', 'office', 'other', 'alternate', 'alternative', 'secondary', 'current', 'main', 'private', 'personal', 'delivery', 'physical']);
const MOBILE = new Set(['mobile', 'mob', 'mobil', 'mobiltelefon', 'natel', 'cell', 'cellular', 'cellphone', 'portable', 'movil', 'celular', 'handy', 'mobiel', 'telemovel', 'sms', 'text', 'gsm']);
const WORK = new Set(['work', 'business', 'office', 'company', 'bureau', 'travail', 'professionnel', 'trabajo', 'arbeit', 'dienstlich', 'geschaftlich', 'beruflich', 'daytime', 'werk', 'zakelijk']);
const HOME = new Set(['home', 'private', 'personal', 'domicile', 'maison', 'casa', 'privat', 'evening', 'residence', 'landline', 'fixe', 'fixed', 'fijo', 'fisso', 'festnetz', 'vast']);
const SECONDARY = new Set(['other', 'alternate', 'alternative', 'secondary', 'additional', 'backup', 'second']);

/** Decorations and question words: set aside when reading what a header names. */
const NOISE = new Set([
  'your', 'you', 'my', 'our', 'the', 'a', 'an', 'of', 'what', 's', 'is', 'please', 'enter', 'provide', 'give', 'us', 'best', 'to', 'reach',
  'at', 'can', 'we', 'which', 'value', 'donor', 'customer', 'client', 'contact', 'attendee', 'purchaser', 'buyer', 'user', 'individual',
  'member', 'supporter', 'constituent', 'person', 'registrant', 'participant', 'guest', 'subscriber', 'preferred', 'votre', 'vos', 'ton',
  'tu', 'su', 'tu', 'ihre', 'ihr', 'dein', 'deine', 'de', 'du', 'la', 'le', 'des', 'el', 'del', 'da', 'do', 'van', 'het', 'uw', 'je',
  'number', 'no', 'nr', 'num', 'numero', 'full', 'here', 'this', 'for', 'on', 'in', 'and', 'or', 'if', 'any', 'only', 'us', 'e', 'g',
]);

/**
 * Words that make a header about something other than the person's own field: "Company Name", "Account Name",
 * "Order Date", "Contact ID", "Spouse First Name", "Emergency Contact Phone". A header holding one is not matched.
 */
const ELSEWHERE = new Set([
  'company', 'organization', 'organisation', 'org', 'account', 'employer', 'event', 'ticket', 'order', 'product', 'item', 'payment',
  'transaction', 'campaign', 'fund', 'donation', 'gift', 'amount', 'total', 'spent', 'tax', 'note', 'notes', 'comment', 'comments',
  'tag', 'tags', 'group', 'groups', 'list', 'lists', 'source', 'owner', 'created', 'updated', 'modified', 'date', 'time', 'timestamp',
  'ip', 'latitude', 'longitude', 'lat', 'lng', 'gmt', 'rating', 'stage', 'status', 'type', 'id', 'key', 'uuid', 'guid', 'spouse',
  'partner', 'parent', 'guardian', 'emergency', 'child', 'children', 'kid', 'referrer', 'referral', 'friend', 'manager', 'assistant',
  'recipient', 'honoree', 'tribute', 'memorial', 'honor', 'honour', 'job', 'occupation', 'department', 'fax', 'pager', 'url',
  'website', 'web', 'twitter', 'facebook', 'linkedin', 'instagram', 'count', 'score', 'quantity', 'price', 'discount', 'language',
  'currency', 'region', 'code', 'line', 'format', 'formatted', 'label', 'verified', 'valid', 'bounced', 'hold', 'opt', 'subscription',
  'po', 'box', 'geo', 'age', 'nickname', 'phonetic', 'file', 'as', 'photo', 'relationship', 'household', 'class', 'year',
]);
/** ELSEWHERE words a phrase may still contain or be qualified by: "Postal Code", "Country Code", "State/Region", "Address Line 2". */
const PART_WORDS = new Set(['code', 'region', 'line', 'date']);

const ADDRESS_ROLES = new Set<HeaderReading['role']>(['street1', 'street2', 'city', 'state', 'postalCode', 'country', 'county']);

/** Reads one header; `role` is undefined for a header that names no person's field (or more than one). */
export function readHeader(header: string): HeaderReading {
  // Words in parentheses qualify ("Phone number (mobile)") but do not name: "Email (we will never share it)". A form's
  // placeholders ("And your surname, {{field:first}}?") are not words of the question.
  header = header.replace(/\{\{[^}]*\}\}/g, ' ');
  const outside = header.replace(/\([^)]*\)|\[[^\]]*\]/g, ' ');
  const all = headerWords(header);
  const words = headerWords(outside.trim() ? outside : header);
  const label = words[words.length - 1] === 'label' || (words[words.length - 1] === 'type' && words.some((w) => w === 'phone' || w === 'email'));

  const phoneKind = all.some((w) => MOBILE.has(w)) ? 'mobile' : all.some((w) => WORK.has(w)) ? 'work' : all.some((w) => HOME.has(w)) ? 'home' : undefined;
  const found: Array<{ role: NonNullable<HeaderReading['role']>; phrase: string; end: number }> = [];
  const rest: string[] = [];
  for (let i = 0; i < words.length; ) {
    let hit: string | undefined;
    for (let n = Math.min(MAX_PHRASE, words.length - i); n >= 1 && !hit; n--) {
      const p = words.slice(i, i + n).join(' ');
      if (PHRASE_INDEX.has(p)) hit = p;
    }
    if (hit) {
      i += hit.split(' ').length;
      found.push({ role: PHRASE_INDEX.get(hit)!, phrase: hit, end: i });
    } else rest.push(words[i++]!);
  }
  // The block is what the words around the field's own name say ("Postal Code" is no postal address's code), in
  // parentheses too: WooCommerce's "City (Billing)" and "City (Shipping)" are two blocks.
  const inParens = all.filter((w) => !words.includes(w));
  const block = [...rest, ...inParens].filter((w) => BLOCKS.has(w)).join(' ');
  // A second one: "Other Phone", "Alternate Email", or a number right after the field's own words ("E-mail 2
  // Address", "Phone 2"), not one inside a prefix (ActionNetwork's can2_phone) nor a line of an address (Address 2).
  const secondary = all.some((w) => SECONDARY.has(w)) || words.some((w, i) => /^[2-9]$/.test(w) && found.some((f) => f.end === i) && !ADDRESS_NUMBERED(words));
  const stem = words.filter((w) => !NOISE.has(w) && !BLOCKS.has(w) && w !== 'label' && w !== 'type' && w !== 'value').join(' ');
  const reading: HeaderReading = { block, secondary, stem, phoneKind };
  if (label) return { ...reading, role: found.length > 0 ? 'label' : undefined };
  // Anything left that is not a decoration: a header about something else, or one this reading does not know.
  const isPhone = found.some((f) => f.role === 'phone');
  const leftover = rest.filter((w) => !NOISE.has(w) && !BLOCKS.has(w) && !/^\d+$/.test(w) && !(isPhone && (MOBILE.has(w) || WORK.has(w) || HOME.has(w))));
  const blockedBy = leftover.find((w) => ELSEWHERE.has(w) && !(PART_WORDS.has(w) && found.some((f) => ADDRESS_ROLES.has(f.role) || f.role === 'birthDate')));
  if (blockedBy || leftover.some((w) => !PART_WORDS.has(w)) || found.length === 0) {
    return reading;
  }
  let roles = [...new Set(found.map((f) => f.role))];
  // "Default Address Address1", "Address 1 - City", "Home Address Zip": the bare "address" is the block's name.
  if (roles.length > 1 && roles.includes('street1')) {
    const container = found.filter((f) => f.role === 'street1' && /^(street address|street|address|adresse|addr)( \d)?$/.test(f.phrase));
    if (container.length === found.filter((f) => f.role === 'street1').length) roles = roles.filter((r) => r !== 'street1');
  }
  // "Phone Number (mobile)", "Mobile Phone": the kind is in the words; "First Name" beside "Name" is the first name.
  if (roles.length > 1 && roles.includes('phone') && roles.every((r) => r === 'phone')) roles = ['phone'];
  if (roles.length > 1 && roles.includes('fullName')) roles = roles.filter((r) => r !== 'fullName');
  if (roles.length !== 1) return reading;
  const role = roles[0]!;
  // "Region" alone (Mailchimp: where the subscriber's IP was) is no state; "State/Region", "Address 1 - Region" are.
  if (role === 'state' && found.every((f) => f.phrase === 'region' || f.role !== 'state') && block === '' && found.length === 1) return reading;
  // "Address 2" / "Street 2" name a line, not a second address.
  return { ...reading, role, secondary: ADDRESS_ROLES.has(role) ? all.some((w) => SECONDARY.has(w)) : reading.secondary };
}

function ADDRESS_NUMBERED(words: string[]): boolean {
  return words.some((w, i) => /^[2-9]$/.test(w) && ['address', 'line', 'street', 'addr', 'adresse', 'ligne'].includes(words[i - 1] ?? ''));
}

/** Which phone a label names ("Mobile", "Work", "Home", "Other"): home unless it says mobile or work. */
export function phoneKindOfLabel(label: string): PhoneKind {
  const words = headerWords(label);
  return words.some((w) => MOBILE.has(w)) ? 'mobile' : words.some((w) => WORK.has(w)) ? 'work' : 'home';
}

export const isAddressRole = (role: HeaderReading['role']): role is AddressRole => ADDRESS_ROLES.has(role);
