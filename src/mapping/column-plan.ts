import type { FieldRole, SourceRecord, Target } from '../core/types.js';
import { readConsentHeader, readConsentValue, readsAsConsent, type ConsentPolarity } from './consent.js';
import { EXPORT_HEADERS } from './export-headers.js';
import { isAddressRole, readHeader, type HeaderReading } from './header-words.js';
import { dateEvidence, isEmail, normaliseHeader, stripSpreadsheetQuote } from './values.js';

/**
 * Which column of a file gives which field, decided once for the whole file from its header and a sample of its
 * rows: the import's automatic matching and `init`'s proposal are this one plan, so what init proposes is what an
 * import without a mapping does.
 */
export interface PlannedColumn {
  column: string;
  field?: string;
  /** Why, in a few words: "header", "header words", "values look like email addresses". */
  reason: string;
  /** A consent column: read its values this way round. */
  consent?: ConsentPolarity;
  /** A phone whose kind (home, mobile, work) is given per row by another column ("Phone 1 - Label"). */
  labelColumn?: string;
  /** Why a column is not mapped, for init and the run's opening lines. */
  hint?: string;
  /** Columns read, in order, when this one's cell is empty ("Default Address Phone" behind "Phone"). */
  fallback?: string[];
  /** The field is made of several columns, joined (a street and its house number; a birth year, month and day). */
  columns?: string[];
  separator?: string;
  /** Their joined value is a date in this format ("YYYY-M-D"). */
  dateFormat?: string;
}

export interface ColumnPlan {
  columns: PlannedColumn[];
  /** Said before the run: choices a person should know of (the email column found by its values, a phone's kind). */
  notes: string[];
  /** Columns that look like parts of the mapped address but are not mapped: the address is not whole. */
  addressGaps: string[];
}

const ADDRESS_BLOCK_ORDER = ['', 'home', 'primary', 'default', 'mailing', 'permanent', 'residential', 'main', 'current', 'personal', 'private', 'postal', 'physical', 'billing', 'shipping', 'delivery', 'work', 'business', 'office', 'other', 'alternate'];
const blockRank = (block: string) => {
  const ranks = block.split(' ').map((w) => ADDRESS_BLOCK_ORDER.indexOf(w)).filter((r) => r >= 0);
  return ranks.length ? Math.max(...ranks) : block === '' ? 0 : ADDRESS_BLOCK_ORDER.length;
};
const share = (values: string[], test: (v: string) => boolean) => (values.length === 0 ? 1 : values.filter(test).length / values.length);

/** A value that is a phone number: 6-15 digits in phone punctuation (not a postcode like 4000-001, an IP, a date). */
export function looksLikePhone(v: string): boolean {
  if (!/^[+(]?\d[\d\s().\-/]*\d(\s*(x|ext\.?)\s*\d+)?$/i.test(v) || /^\d{1,3}(\.\d{1,3}){3}$/.test(v)) return false;
  const digits = v.replace(/\D/g, '').length;
  return digits >= 6 && digits <= 18;
}

interface Candidate {
  column: string;
  index: number;
  field: string;
  /** 0: the target's own name or alias; 1: a well-known export's header; 2: read from the header's words. */
  tier: number;
  reading: HeaderReading;
  consent?: ConsentPolarity;
}

export function planColumns(target: Target, columns: readonly string[], sample: readonly SourceRecord[], taken: ReadonlySet<string> = new Set()): ColumnPlan {
  const fieldOf = (role: string) => target.fields.find((f) => f.role === role)?.name ?? (target.fields.some((f) => f.name === role) ? role : undefined);
  const aliases = new Map<string, { field: string; tier: number }>();
  for (const f of target.fields) for (const a of [f.name, ...f.aliases]) if (!aliases.has(normaliseHeader(a))) aliases.set(normaliseHeader(a), { field: f.name, tier: 0 });
  for (const f of target.fields) for (const a of (f.role && EXPORT_HEADERS[f.role]) || []) if (!aliases.has(normaliseHeader(a))) aliases.set(normaliseHeader(a), { field: f.name, tier: 1 });
  const valuesOf = new Map<string, string[]>();
  const values = (c: string) => {
    let v = valuesOf.get(c);
    if (!v) valuesOf.set(c, (v = sample.map((r) => stripSpreadsheetQuote((r.fields?.[c] ?? '').trim())).filter((x) => x !== '')));
    return v;
  };
  const plan: PlannedColumn[] = columns.map((column) => ({ column, reason: '' }));
  const notes: string[] = [];
  const candidates: Candidate[] = [];
  const emailStatusField = fieldOf('emailStatus');
  const smsStatusField = fieldOf('smsStatus');
  const readings = columns.map((c) => readHeader(c));

  columns.forEach((column, index) => {
    const reading = readings[index]!;
    const known = aliases.get(normaliseHeader(column)) ?? ((target.fields.some((f) => f.name === column) || target.isOwnFieldName?.(column)) && target.isKnownField(column) ? { field: column, tier: 0 } : undefined);
    const consentHeader = readConsentHeader(column);
    // Consent first: "Email Opt Out" names the email, but what it holds is a refusal. A column named as the target's
    // own field ("emailStatus", as the tool's own backups write it) holds the target's own words: read by the target.
    const ownName = known && column === known.field;
    if (!ownName && (consentHeader || (known && (known.field === emailStatusField || known.field === smsStatusField)))) {
      const polarity = consentHeader?.polarity ?? 'status';
      const field = consentHeader ? (consentHeader.channel === 'email' ? emailStatusField : consentHeader.channel === 'sms' ? smsStatusField : undefined) : known!.field;
      if (!field) {
        plan[index]!.hint = `consent to ${consentHeader!.channel === 'sms' ? 'text messages' : consentHeader!.channel === 'phone' ? 'phone calls' : 'post'}: ${target.displayName} has no such field this tool sets`;
        return;
      }
      if (!readsAsConsent(values(column), polarity)) {
        if (!values(column).some((v) => readConsentValue(v, polarity) !== 'unreadable')) return; // "Email Type": Home, Work
        plan[index]!.hint = `looks like consent, but its values (${[...new Set(values(column))].slice(0, 3).map((v) => `"${v}"`).join(', ')}) do not say which way round: not mapped. Map it with a value map if it is consent`;
        return;
      }
      candidates.push({ column, index, field, tier: known ? 0 : 2, reading, consent: polarity });
      return;
    }
    if (known) {
      const spec = target.fields.find((f) => f.name === known.field);
      // Another system's ids are not this target's own (a Salsa Classic supporter_KEY is no Engage supporterId).
      if (spec?.ownIds && !values(column).every((v) => v.split(/\s+/).every((id) => spec.ownIds!.test(id)))) {
        plan[index]!.hint = `ids of another system, not ${target.displayName}'s own ${known.field}s: not sent (to keep them, map the column to an external id field)`;
        return;
      }
      candidates.push({ column, index, field: known.field, tier: known.tier, reading });
      return;
    }
    const role = reading.role ?? roleByValues(column, values(column));
    if (!role || role === 'label' || role === 'fullName') {
      if (role === 'fullName') plan[index]!.hint = 'a whole name: not split into first and last (map it in a mapping file if it is one of them)';
      return;
    }
    const field = role === 'phone' ? fieldOf('homePhone') : fieldOf(role);
    if (field) candidates.push({ column, index, field, tier: reading.role ? 2 : 3, reading: reading.role ? reading : { ...reading, role } });
  });

  // What the values say against what the header says: a "Preferred Email" of "Personal"/"Work" is no email column.
  const fits = (c: Candidate): boolean => {
    const role = target.fields.find((f) => f.name === c.field)?.role as FieldRole | undefined;
    const v = values(c.column);
    // A column named Email is the email column however bad its first rows; one read from words must show emails.
    if (role === 'email') return c.tier < 2 ? v.length < 5 || share(v, isEmail) >= 0.2 : share(v, isEmail) >= 0.5;
    if (c.reading.role === 'phone' || role === 'homePhone' || role === 'mobilePhone' || role === 'workPhone') return c.tier < 2 || share(v, looksLikePhone) >= 0.5;
    if (role === 'birthDate') return c.tier < 2 || share(v, (x) => dateEvidence(x) !== 'other') >= 0.5;
    // A "Title" of "Program Manager" and "CFO" is a job title, not Mr/Ms/Dr.
    if (role === 'title') return v.length < 3 || share(v, (x) => HONORIFIC.test(x.trim())) >= 0.5;
    return true;
  };
  const live = candidates.filter((c) => {
    if (fits(c)) return true;
    plan[c.index]!.hint = `named like ${c.field}, but its values (${[...new Set(values(c.column))].slice(0, 3).map((v) => `"${v}"`).join(', ')}) are not: not mapped`;
    return false;
  });

  const claimed = new Set(taken);
  const place = (c: Candidate, field = c.field, reason = c.tier === 3 ? `values look like ${c.reading.role === 'phone' ? 'phone numbers' : c.reading.role === 'gender' ? 'M/F' : 'postcodes'}` : c.tier === 2 ? 'header words' : 'header') => {
    claimed.add(field);
    Object.assign(plan[c.index]!, { field, reason, consent: c.consent, hint: undefined });
  };
  const order = (a: Candidate, b: Candidate) => Number(a.reading.secondary) - Number(b.reading.secondary) || a.tier - b.tier || blockRank(a.reading.block) - blockRank(b.reading.block) || a.index - b.index;

  // Consent: every column about the same consent is read together (any opt-out wins), so none is left behind.
  for (const field of [emailStatusField, smsStatusField]) {
    const group = live.filter((c) => c.field === field && c.consent);
    if (!field || group.length === 0 || claimed.has(field)) continue;
    for (const c of group) Object.assign(plan[c.index]!, { field, reason: 'consent header', consent: c.consent });
    claimed.add(field);
  }

  // The address: one block whole (home, billing, shipping…), chosen by where the sample has streets; never mixed.
  const addressCands = live.filter((c) => isAddressRole(c.reading.role) || (c.tier < 2 && isAddressRole(target.fields.find((f) => f.name === c.field)?.role as HeaderReading['role'])));
  const blocks = [...new Set(addressCands.map((c) => c.reading.block))];
  const streets = (b: string) => addressCands.filter((c) => c.reading.block === b && target.fields.find((f) => f.name === c.field)?.role === 'street1').reduce((n, c) => n + values(c.column).length, 0);
  const block = blocks.sort((a, b) => streets(b) - streets(a) || blockRank(a) - blockRank(b))[0];
  for (const c of [...addressCands].sort(order)) {
    if (claimed.has(c.field)) continue;
    if (c.reading.block === block || c.reading.block === '') place(c);
    else plan[c.index]!.hint = `part of the file's ${c.reading.block} address; the ${block || 'main'} address is the one sent`;
  }

  // Phones: each kind from a column that says it; a plain "Phone" is the home phone, or the work phone where the
  // file has a home phone column of its own (Salesforce's Phone is the business phone beside HomePhone).
  const phones = live.filter((c) => c.reading.role === 'phone' || ['homePhone', 'mobilePhone', 'workPhone'].includes(target.fields.find((f) => f.name === c.field)?.role ?? ''));
  const kindField = { home: fieldOf('homePhone'), mobile: fieldOf('mobilePhone'), work: fieldOf('workPhone') };
  // The kind is what the header's words say: a plain "Phone" or "Telephone" is unqualified, whatever alias found it.
  const kindOf = (c: Candidate) => c.reading.phoneKind;
  const labels = new Map(columns.map((c, i) => [readings[i]!.role === 'label' ? readings[i]!.stem : '', c] as const).filter(([s]) => s !== ''));
  for (const c of [...phones].sort(order)) {
    const label = labels.get(c.reading.stem);
    if (label && !c.reading.phoneKind) {
      Object.assign(plan[c.index]!, { field: kindField.home, reason: `header words; home, mobile or work by "${label}"`, labelColumn: label });
      continue;
    }
    const kind = kindOf(c);
    if (kind && kindField[kind] && !claimed.has(kindField[kind]!)) place(c, kindField[kind]);
  }
  const homeQualified = phones.some((c) => kindOf(c) === 'home');
  for (const c of [...phones].sort(order)) {
    if (plan[c.index]!.field || kindOf(c) || c.reading.secondary) continue;
    if (kindField.home && !claimed.has(kindField.home) && !homeQualified) place(c, kindField.home);
    else if (homeQualified && kindField.work && !claimed.has(kindField.work)) {
      place(c, kindField.work);
      notes.push(`"${c.column}" is read as the work phone: the file has a home phone column of its own`);
    }
  }

  // Everything else: the first column (by how sure, then a first one before a second) for each field.
  for (const c of [...live].sort(order)) {
    if (plan[c.index]!.field || plan[c.index]!.hint || addressCands.includes(c) || phones.includes(c) || c.consent) continue;
    if (!claimed.has(c.field)) place(c);
  }

  // A house number in a column of its own ("Straße" + "Hausnr."): joined to the street, in the file's order.
  const street = plan.find((p) => p.field && target.fields.find((f) => f.name === p.field)?.role === 'street1');
  const number = columns.findIndex((_, i) => readings[i]!.role === 'houseNumber' && (readings[i]!.block === '' || readings[i]!.block === block));
  if (street && number >= 0) {
    const streetAt = columns.indexOf(street.column);
    Object.assign(street, { columns: streetAt < number ? [street.column, columns[number]!] : [columns[number]!, street.column], separator: ' ' });
    Object.assign(plan[number]!, { reason: `joined to "${street.column}"`, hint: `the house number: joined to ${street.field} from "${street.column}"` });
  }
  // A date of birth in three columns (Neon's "DOB Year", "DOB Month", "DOB Day").
  const part = (role: string) => columns.findIndex((_, i) => readings[i]!.role === role);
  const [y, m, d] = [part('birthYear'), part('birthMonth'), part('birthDay')];
  const birthField = fieldOf('birthDate');
  if (birthField && !claimed.has(birthField) && y >= 0 && m >= 0 && d >= 0) {
    Object.assign(plan[y]!, { field: birthField, reason: 'header words: year, month and day columns', columns: [columns[y]!, columns[m]!, columns[d]!], separator: '-', dateFormat: 'YYYY-M-D' });
    for (const i of [m, d]) Object.assign(plan[i]!, { reason: `part of ${birthField}`, hint: `part of ${birthField} with "${columns[y]}"` });
    claimed.add(birthField);
  }

  // A second column for a field already given (Shopify's "Default Address Phone" behind "Phone", NPSP's home email
  // behind "Email"): read where the first one's cell is empty. Never for an address part (blocks stay whole), a
  // consent, or an "other"/"alternate" one; only ways to reach the person (a second "Title" may be a job title).
  for (const c of [...live].sort(order)) {
    const p = plan[c.index]!;
    if ((c.reading.role !== 'phone' && c.reading.role !== 'email') || c.tier === 3) continue;
    if (p.field || c.consent || c.reading.secondary || addressCands.includes(c)) continue;
    const first = plan.find((q, i) => q.field && !q.consent && !q.labelColumn && live.some((o) => o.index === i && o.field === c.field && o.reading.role === c.reading.role && (o.reading.phoneKind ?? '') === (c.reading.phoneKind ?? '')));
    if (!first) continue;
    (first.fallback ??= []).push(c.column);
    Object.assign(p, { reason: `read where "${first.column}" is empty`, hint: `read as ${first.field} where "${first.column}" is empty` });
  }

  // No email column by name: the one column whose values are emails is (or the one named primary among several).
  const emailField = fieldOf('email');
  if (emailField && !claimed.has(emailField)) {
    const holding = columns.filter((c, i) => !plan[i]!.field && values(c).length > 0 && share(values(c), isEmail) >= 0.8);
    const primary = holding.filter((c) => /\b(primary|first|main|preferred|1)\b/.test(headerWordsText(c)));
    const pick = holding.length === 1 ? holding[0] : primary.length === 1 ? primary[0] : undefined;
    if (pick) {
      Object.assign(plan[columns.indexOf(pick)]!, { field: emailField, reason: 'values look like email addresses', hint: undefined });
      claimed.add(emailField);
      notes.push(`"${pick}" holds the email addresses: it is read as ${emailField}`);
    }
  }

  // Address parts the file has and the plan does not send: the address would not be whole.
  const addressGaps = columns.filter((c, i) => {
    const p = plan[i]!;
    // (A column read as part of another's field — a house number, a fallback, a birth year — has its reason.)
    if (p.field || p.reason || values(c).length === 0) return false;
    const r = readings[i]!;
    // ("Region" alone is not: Mailchimp's REGION is where the subscriber's IP was.)
    const addressy = isAddressRole(r.role) || /\b(state|province|country|county|zip|postal|postcode|apt|suite|unit|line 2|line 3|address 2|address 3|house ?number|hausnr|hausnummer)\b/.test(headerWordsText(c));
    return addressy && (r.block === '' || r.block === block) && !readConsentHeader(c);
  });
  return { columns: plan, notes, addressGaps: plan.some((p) => p.field && isAddressField(target, p.field)) ? addressGaps : [] };
}

const HONORIFIC = /^(mr|mrs|ms|miss|mx|dr|prof|rev|revd|sir|dame|lady|lord|hon|fr|sr|sra|srta|sgt|capt|col|gen|m|mme|mlle|me|herr|frau|dott|ing|mag|dra|don|dona|dhr|mevr|rabbi|imam|pastor|father|sister|judge)\.?( ?(and|&) ?(mr|mrs|ms|dr)\.?)?$|^(professor|doctor|reverend|mister|madame|monsieur|mademoiselle)$/i;

/** Postcodes whose shape is distinctive: US ZIP, Portugal, Canada, the UK, the Netherlands. */
const POSTCODES = [/^\d{5}(-\d{4})?$/, /^\d{4}-\d{3}$/, /^[A-Z]\d[A-Z] ?\d[A-Z]\d$/i, /^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$/i, /^\d{4} ?[A-Z]{2}$/i];

/**
 * A column the header does not name, read by its values: phone numbers written as phone numbers (a + or separated
 * groups, 10+ digits: not an id, an IP or a postcode), distinctive postcodes, M/F. Never for a header about an id,
 * a number, a code or an amount.
 */
function roleByValues(column: string, values: string[]): HeaderReading['role'] {
  if (values.length === 0 || /\b(id|ip|zip|post|code|number|no|nr|key|amount|total|count|year|age|score|sum|qty|quantity)\b|_id$|id$/i.test(column.replace(/[_-]/g, ' '))) return undefined;
  const phoneLike = (v: string) => looksLikePhone(v) && (v.startsWith('+') || v.split(/[\s().-]+/).filter(Boolean).length > 1) && v.replace(/\D/g, '').length >= 10;
  if (share(values, phoneLike) >= 0.8) return 'phone';
  if (share(values, (v) => POSTCODES.some((re) => re.test(v))) >= 0.9) return 'postalCode';
  if (share(values, (v) => ['m', 'f', 'male', 'female'].includes(v.toLowerCase())) === 1) return 'gender';
  return undefined;
}

const headerWordsText = (c: string) => readHeader(c).stem + ' ' + c.toLowerCase();
const isAddressField = (target: Target, field: string) => isAddressRole(target.fields.find((f) => f.name === field)?.role as HeaderReading['role']);
