import { readConsentHeader } from './consent.js';
import { isAddressRole, readHeader, type HeaderReading } from './header-words.js';
import { share } from './value-shapes.js';
import { isEmail } from './values.js';
import type { Planner } from './column-planner.js';

// The plan's later stages: fields made of several columns (a street and its house number, a birth date in three,
// a whole name split in two), a second column read where the first is empty, the email column found by its values,
// and the address parts left out.

/** A house number in a column of its own ("Straße" + "Hausnr."): joined to the street, in the file's order. */
export function joinHouseNumber(planner: Planner): void {
  const { plan, columns, readings } = planner;
  const street = plan.find((p) => p.field && planner.roleOf(p.field) === 'street1');
  const number = columns.findIndex((_, i) => readings[i]!.role === 'houseNumber' && planner.inBlock(i));
  if (!street || number < 0) return;
  const streetAt = columns.indexOf(street.column);
  // Its addition ("Toevoeging": A, bis) follows the number.
  const suffix = columns.findIndex((_, i) => readings[i]!.role === 'houseNumberSuffix');
  const numberParts = suffix >= 0 ? [columns[number]!, columns[suffix]!] : [columns[number]!];
  Object.assign(street, { columns: streetAt < number ? [street.column, ...numberParts] : [...numberParts, street.column], separator: ' ' });
  for (const i of [number, ...(suffix >= 0 ? [suffix] : [])]) Object.assign(plan[i]!, { reason: `joined to "${street.column}"`, hint: `part of the house number: joined to ${street.field} from "${street.column}"` });
}

/**
 * More street lines than the target has fields (CiviCRM's "Supplemental Address 2", an "Address line 3"): joined
 * to the second line with ", ", in the file's order, so no part of an address is left behind.
 */
export function joinStreetLines(planner: Planner): void {
  const { plan, columns, readings } = planner;
  // A street line by its words: a second street2 candidate, or a street's own header with a number 2-9
  // ("Dirección 2", "Adresse 3", "Supplemental Address 2").
  const isStreetLine = (c: string, i: number): boolean => {
    if (readings[i]!.role === 'street2') return true;
    const m = /^(.*\D)\s*[2-9]\s*$/.exec(c.trim());
    if (!m) return false;
    const base = readHeader(m[1]!.replace(/[\s_.:-]+$/, ''));
    return base.role === 'street1' || base.role === 'street2' || /\b(address|addr|street|line)\b/.test(headerWordsText(m[1]!));
  };
  const lines = columns.filter((c, i) => !plan[i]!.field && !plan[i]!.reason && planner.inBlock(i) && planner.values(c).length > 0 && isStreetLine(c, i));
  let line2 = plan.find((p) => p.field && planner.roleOf(p.field) === 'street2');
  const street2Field = planner.target.fields.find((f) => f.role === 'street2')?.name;
  if (!line2 && street2Field && !planner.claimed.has(street2Field) && plan.some((p) => p.field && planner.roleOf(p.field) === 'street1') && lines.length > 0) {
    // The street's second line under a numbered header of the street's own: the second line.
    line2 = Object.assign(plan[columns.indexOf(lines.shift()!)]!, { field: street2Field, reason: 'header words: a second street line', hint: undefined });
    planner.claimed.add(street2Field);
  }
  if (!line2 || lines.length === 0) return;
  Object.assign(line2, { columns: [line2.column, ...lines].sort((a, b) => columns.indexOf(a) - columns.indexOf(b)), separator: ', ' });
  for (const c of lines) Object.assign(plan[columns.indexOf(c)]!, { reason: `joined to "${line2.column}"`, hint: `a further street line: joined to ${line2.field} from "${line2.column}"` });
}

/** A date of birth in three columns (Neon's "DOB Year", "DOB Month", "DOB Day"). */
export function joinBirthParts(planner: Planner): void {
  const { plan, columns } = planner;
  const part = (role: string) => columns.findIndex((_, i) => planner.readings[i]!.role === role);
  const [y, m, d] = [part('birthYear'), part('birthMonth'), part('birthDay')];
  const birthField = planner.fieldOf('birthDate');
  if (!birthField || planner.claimed.has(birthField) || y < 0 || m < 0 || d < 0) return;
  Object.assign(plan[y]!, { field: birthField, reason: 'header words: year, month and day columns', columns: [columns[y]!, columns[m]!, columns[d]!], separator: '-', dateFormat: 'YYYY-M-D' });
  for (const i of [m, d]) Object.assign(plan[i]!, { reason: `part of ${birthField}`, hint: `part of ${birthField} with "${columns[y]}"` });
  planner.claimed.add(birthField);
}

/** A whole name ("Full Name", "Your name") where no column gives the first or the last name: split into both. */
export function splitFullName(planner: Planner): void {
  const first = planner.fieldOf('firstName');
  const last = planner.fieldOf('lastName');
  if (!first || !last || planner.claimed.has(first) || planner.claimed.has(last)) return;
  const i = planner.columns.findIndex((_, k) => planner.readings[k]!.role === 'fullName' && !planner.readings[k]!.secondary && !planner.plan[k]!.field);
  if (i < 0) return;
  Object.assign(planner.plan[i]!, { field: first, lastField: last, reason: 'a whole name: split into first and last', hint: undefined });
  planner.claimed.add(first);
  planner.claimed.add(last);
}

/** A surname's particle in a column of its own (Dutch "Tussenvoegsel": van der): joined before the last name. */
export function joinSurnamePrefix(planner: Planner): void {
  const last = planner.plan.find((p) => p.field && planner.roleOf(p.field) === 'lastName' && !p.columns);
  const prefix = planner.columns.findIndex((_, i) => planner.readings[i]!.role === 'surnamePrefix');
  if (!last || prefix < 0) return;
  Object.assign(last, { columns: [planner.columns[prefix]!, last.column], separator: ' ' });
  Object.assign(planner.plan[prefix]!, { reason: `joined to "${last.column}"`, hint: `the surname's particle: joined to ${last.field} from "${last.column}"` });
}

/**
 * A second column for a field already given (Shopify's "Default Address Phone" behind "Phone", NPSP's home email
 * behind "Email"): read where the first one's cell is empty. Never for an address part (blocks stay whole), a
 * consent, an "other"/"alternate" one or one read from values; only ways to reach the person (a second "Title"
 * may be a job title).
 */
export function addFallbacks(planner: Planner): void {
  const { plan } = planner;
  for (const c of planner.sorted(planner.candidates)) {
    const p = plan[c.index]!;
    if ((c.reading.role !== 'phone' && c.reading.role !== 'email') || c.tier === 3) continue;
    // A second email ("Other email", "Secondary Email") is still the person's: read where the first is empty.
    if (p.field || c.consent || (c.reading.secondary && c.reading.role !== 'email') || planner.addressCands.includes(c)) continue;
    const first = plan.find((q, i) => q.field && !q.consent && !q.labelColumn && planner.candidates.some((o) => o.index === i && o.field === c.field && o.reading.role === c.reading.role && (o.reading.phoneKind ?? '') === (c.reading.phoneKind ?? '')));
    if (!first) continue;
    (first.fallback ??= []).push(c.column);
    Object.assign(p, { reason: `read where "${first.column}" is empty`, hint: `read as ${first.field} where "${first.column}" is empty` });
  }
}

/** No email column by name: the one column whose values are emails is (or the one named primary among several). */
export function emailByValues(planner: Planner): void {
  const emailField = planner.fieldOf('email');
  if (!emailField || planner.claimed.has(emailField)) return;
  const holding = planner.columns.filter((c, i) => !planner.plan[i]!.field && planner.values(c).length > 0 && share(planner.values(c), isEmail) >= 0.8);
  const primary = holding.filter((c) => /\b(primary|first|main|preferred|1)\b/.test(headerWordsText(c)));
  const pick = holding.length === 1 ? holding[0] : primary.length === 1 ? primary[0] : undefined;
  if (!pick) return;
  Object.assign(planner.plan[planner.columns.indexOf(pick)]!, { field: emailField, reason: 'values look like email addresses', hint: undefined });
  planner.claimed.add(emailField);
  planner.notes.push(`"${pick}" holds the email addresses: it is read as ${emailField}`);
}

/** Address parts the file has and the plan does not send (when it sends an address): the address is not whole. */
export function addressGaps(planner: Planner): string[] {
  if (!planner.plan.some((p) => p.field && isAddressRole(planner.roleOf(p.field) as HeaderReading['role']))) return [];
  return planner.columns.filter((c, i) => {
    const p = planner.plan[i]!;
    // (A column read as part of another's field — a house number, a fallback, a birth year — has its reason.)
    if (p.field || p.reason || planner.values(c).length === 0) return false;
    const r = planner.readings[i]!;
    // ("Region" alone is not: Mailchimp's REGION is where the subscriber's IP was.)
    const addressy = isAddressRole(r.role) || /\b(state|province|country|county|zip|postal|postcode|apt|suite|unit|line 2|line 3|address 2|address 3|house ?number|hausnr|hausnummer)\b/.test(headerWordsText(c));
    return addressy && planner.inBlock(i) && !readConsentHeader(c);
  });
}

const headerWordsText = (c: string) => readHeader(c).stem + ' ' + c.toLowerCase();
