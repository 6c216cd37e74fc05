import type { FieldRole, SourceRecord, Target } from '../core/types.js';
import { readConsentHeader, readConsentValue, readsAsConsent, type ConsentPolarity } from './consent.js';
import { EXPORT_HEADERS } from './export-headers.js';
import { isAddressRole, readHeader, type HeaderReading } from './header-words.js';
import { HONORIFIC, looksLikePhone, roleByValues, share } from './value-shapes.js';
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
  /** A whole name: split into `field` (the first name) and `lastField` (the last name). */
  lastField?: string;
}

export interface ColumnPlan {
  columns: PlannedColumn[];
  /** Said before the run: choices a person should know of (the email column found by its values, a phone's kind). */
  notes: string[];
  /** Columns that look like parts of the mapped address but are not mapped: the address is not whole. */
  addressGaps: string[];
  /** Columns that look like consent but do not say which way round: not read, so no status comes from them. */
  unreadConsent: string[];
}

const ADDRESS_BLOCK_ORDER = ['', 'home', 'primary', 'default', 'mailing', 'permanent', 'residential', 'main', 'current', 'personal', 'private', 'postal', 'physical', 'billing', 'shipping', 'delivery', 'work', 'business', 'office', 'other', 'alternate'];
const blockRank = (block: string) => {
  const ranks = block.split(' ').map((w) => ADDRESS_BLOCK_ORDER.indexOf(w)).filter((r) => r >= 0);
  return ranks.length ? Math.max(...ranks) : block === '' ? 0 : ADDRESS_BLOCK_ORDER.length;
};


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
  const p = new Planner(target, columns, sample, taken);
  p.readCandidates();
  p.keepFitting();
  p.placeConsent();
  p.placeAddress();
  p.placePhones();
  p.placeRest();
  p.joinHouseNumber();
  p.joinStreetLines();
  p.joinBirthParts();
  p.splitFullName();
  p.joinSurnamePrefix();
  p.addFallbacks();
  p.emailByValues();
  return { columns: p.plan, notes: p.notes, addressGaps: p.addressGaps(), unreadConsent: p.unreadConsent };
}

/** The plan as it is made, stage by stage: which candidate each column is, and which field each one claimed. */
class Planner {
  readonly plan: PlannedColumn[];
  readonly notes: string[] = [];
  private readonly readings: HeaderReading[];
  private readonly claimed: Set<string>;
  private candidates: Candidate[] = [];
  private addressCands: Candidate[] = [];
  private phones: Candidate[] = [];
  /** Columns that look like consent but whose values could not be read: said before the run, WARN in check. */
  readonly unreadConsent: string[] = [];
  /** The address block sent ("" when the headers name none). */
  private block: string | undefined;
  private readonly valuesOf = new Map<string, string[]>();

  constructor(private readonly target: Target, private readonly columns: readonly string[], private readonly sample: readonly SourceRecord[], taken: ReadonlySet<string>) {
    this.plan = columns.map((column) => ({ column, reason: '' }));
    this.readings = columns.map((c) => readHeader(c));
    this.claimed = new Set(taken);
  }

  /** The target's field for a role (or the field of that name, "county"). */
  private fieldOf(role: string): string | undefined {
    return this.target.fields.find((f) => f.role === role)?.name ?? (this.target.fields.some((f) => f.name === role) ? role : undefined);
  }

  private roleOf(field: string): FieldRole | undefined {
    return this.target.fields.find((f) => f.name === field)?.role;
  }

  /** The column is of the address block sent, or of none. */
  private inBlock(i: number): boolean {
    const block = this.readings[i]!.block;
    return block === '' || block === this.block;
  }

  /** A column's non-empty sample values (Excel's apostrophe dropped). */
  private values(c: string): string[] {
    let v = this.valuesOf.get(c);
    if (!v) this.valuesOf.set(c, (v = this.sample.map((r) => stripSpreadsheetQuote((r.fields?.[c] ?? '').trim())).filter((x) => x !== '')));
    return v;
  }

  private place(c: Candidate, field = c.field, reason = c.tier === 3 ? `values look like ${c.reading.role === 'phone' ? 'phone numbers' : c.reading.role === 'gender' ? 'M/F' : 'postcodes'}` : c.tier === 2 ? 'header words' : 'header'): void {
    this.claimed.add(field);
    Object.assign(this.plan[c.index]!, { field, reason, consent: c.consent, hint: undefined });
  }

  /** Candidates in the order they claim a field: a first one before a second, the surer reading, the likelier block. */
  private sorted(list: Candidate[]): Candidate[] {
    return [...list].sort((a, b) => Number(a.reading.secondary) - Number(b.reading.secondary) || a.tier - b.tier || blockRank(a.reading.block) - blockRank(b.reading.block) || a.index - b.index);
  }

  /** Each column's candidate field: the target's own names and aliases, exports' headers, consent, then header words. */
  readCandidates(): void {
    const { target, plan } = this;
    const aliases = new Map<string, { field: string; tier: number }>();
    for (const f of target.fields) for (const a of [f.name, ...f.aliases]) if (!aliases.has(normaliseHeader(a))) aliases.set(normaliseHeader(a), { field: f.name, tier: 0 });
    for (const f of target.fields) for (const a of (f.role && EXPORT_HEADERS[f.role]) || []) if (!aliases.has(normaliseHeader(a))) aliases.set(normaliseHeader(a), { field: f.name, tier: 1 });
    const emailStatusField = this.fieldOf('emailStatus');
    const smsStatusField = this.fieldOf('smsStatus');
    this.columns.forEach((column, index) => {
      const reading = this.readings[index]!;
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
        if (!readsAsConsent(this.values(column), polarity)) {
          if (!this.values(column).some((v) => readConsentValue(v, polarity) !== 'unreadable')) return; // "Email Type": Home, Work
          plan[index]!.hint = `looks like consent, but its values (${sampleOf(this.values(column))}) do not say which way round: not mapped. Map it with a value map if it is consent`;
          this.unreadConsent.push(column);
          return;
        }
        this.candidates.push({ column, index, field, tier: known ? 0 : 2, reading, consent: polarity });
        return;
      }
      if (known) {
        const spec = target.fields.find((f) => f.name === known.field);
        // Another system's ids are not this target's own (a Salsa Classic supporter_KEY is no Engage supporterId).
        if (spec?.ownIds && !this.values(column).every((v) => v.split(/\s+/).every((id) => spec.ownIds!.test(id)))) {
          plan[index]!.hint = `ids of another system, not ${target.displayName}'s own ${known.field}s: not sent (to keep them, map the column to an external id field)`;
          return;
        }
        this.candidates.push({ column, index, field: known.field, tier: known.tier, reading });
        return;
      }
      const role = reading.role ?? roleByValues(column, this.values(column));
      if (!role || role === 'label' || role === 'fullName') {
        if (role === 'fullName') plan[index]!.hint = 'a whole name: not split into first and last (map it in a mapping file if it is one of them)';
        return;
      }
      const field = role === 'phone' ? this.fieldOf('homePhone') : this.fieldOf(role);
      if (field) this.candidates.push({ column, index, field, tier: reading.role ? 2 : 3, reading: reading.role ? reading : { ...reading, role } });
    });
  }

  /** What the values say against what the header says: a "Preferred Email" of "Personal"/"Work" is no email column. */
  keepFitting(): void {
    const fits = (c: Candidate): boolean => {
      const role = this.roleOf(c.field);
      const v = this.values(c.column);
      // A column named Email is the email column however bad its first rows; one read from words must show emails.
      if (role === 'email') return c.tier < 2 ? v.length < 5 || share(v, isEmail) >= 0.2 : share(v, isEmail) >= 0.5;
      if (c.reading.role === 'phone' || role === 'homePhone' || role === 'mobilePhone' || role === 'workPhone') return c.tier < 2 || share(v, looksLikePhone) >= 0.5;
      if (role === 'birthDate') return c.tier < 2 || share(v, (x) => dateEvidence(x) !== 'other') >= 0.5;
      // A "Title" of "Program Manager" and "CFO" is a job title, not Mr/Ms/Dr.
      if (role === 'title') return v.length < 3 || share(v, (x) => HONORIFIC.test(x.trim())) >= 0.5;
      return true;
    };
    this.candidates = this.candidates.filter((c) => {
      if (fits(c)) return true;
      this.plan[c.index]!.hint = `named like ${c.field}, but its values (${sampleOf(this.values(c.column))}) are not: not mapped`;
      return false;
    });
  }

  /** Every column about the same consent is read together (any opt-out wins), so none is left behind. */
  placeConsent(): void {
    for (const field of [this.fieldOf('emailStatus'), this.fieldOf('smsStatus')]) {
      const group = this.candidates.filter((c) => c.field === field && c.consent);
      if (!field || group.length === 0 || this.claimed.has(field)) continue;
      for (const c of group) Object.assign(this.plan[c.index]!, { field, reason: 'consent header', consent: c.consent });
      this.claimed.add(field);
    }
  }

  /** The address: one block whole (home, billing, shipping…), chosen by where the sample has streets; never mixed. */
  placeAddress(): void {
    this.addressCands = this.candidates.filter((c) => isAddressRole(c.reading.role) || (c.tier < 2 && isAddressRole(this.roleOf(c.field) as HeaderReading['role'])));
    const blocks = [...new Set(this.addressCands.map((c) => c.reading.block))];
    const streets = (b: string) => this.addressCands.filter((c) => c.reading.block === b && this.roleOf(c.field) === 'street1').reduce((n, c) => n + this.values(c.column).length, 0);
    const block = (this.block = blocks.sort((a, b) => streets(b) - streets(a) || blockRank(a) - blockRank(b))[0]);
    for (const c of this.sorted(this.addressCands)) {
      if (this.claimed.has(c.field)) continue;
      if (c.reading.block === block || c.reading.block === '') this.place(c);
      else this.plan[c.index]!.hint = `part of the file's ${c.reading.block} address; the ${block || 'main'} address is the one sent`;
    }
  }

  /**
   * Phones: each kind from a column that says it (its header's words: a plain "Phone" is unqualified whatever alias
   * found it), or row by row from its label column; a plain one is the home phone, or the work phone where the file
   * has a home phone column of its own (Salesforce's Phone is the business phone beside HomePhone).
   */
  placePhones(): void {
    const { plan } = this;
    this.phones = this.candidates.filter((c) => c.reading.role === 'phone' || ['homePhone', 'mobilePhone', 'workPhone'].includes(this.roleOf(c.field) ?? ''));
    const kindField = { home: this.fieldOf('homePhone'), mobile: this.fieldOf('mobilePhone'), work: this.fieldOf('workPhone') };
    const labels = new Map(this.columns.map((c, i) => [this.readings[i]!.role === 'label' ? this.readings[i]!.stem : '', c] as const).filter(([s]) => s !== ''));
    for (const c of this.sorted(this.phones)) {
      const label = labels.get(c.reading.stem);
      if (label && !c.reading.phoneKind) {
        Object.assign(plan[c.index]!, { field: kindField.home, reason: `header words; home, mobile or work by "${label}"`, labelColumn: label });
        continue;
      }
      const kind = c.reading.phoneKind;
      if (kind && kindField[kind] && !this.claimed.has(kindField[kind]!)) this.place(c, kindField[kind]);
    }
    const homeQualified = this.phones.some((c) => c.reading.phoneKind === 'home');
    for (const c of this.sorted(this.phones)) {
      if (plan[c.index]!.field || c.reading.phoneKind || c.reading.secondary) continue;
      if (kindField.home && !this.claimed.has(kindField.home) && !homeQualified) this.place(c, kindField.home);
      else if (homeQualified && kindField.work && !this.claimed.has(kindField.work)) {
        this.place(c, kindField.work);
        this.notes.push(`"${c.column}" is read as the work phone: the file has a home phone column of its own`);
      }
    }
  }

  /** Everything else: the first column (by how sure, then a first one before a second) for each field. */
  placeRest(): void {
    for (const c of this.sorted(this.candidates)) {
      const p = this.plan[c.index]!;
      if (p.field || p.hint || this.addressCands.includes(c) || this.phones.includes(c) || c.consent) continue;
      if (!this.claimed.has(c.field)) this.place(c);
    }
  }

  /** A house number in a column of its own ("Straße" + "Hausnr."): joined to the street, in the file's order. */
  joinHouseNumber(): void {
    const { plan, columns, readings } = this;
    const street = plan.find((p) => p.field && this.roleOf(p.field) === 'street1');
    const number = columns.findIndex((_, i) => readings[i]!.role === 'houseNumber' && this.inBlock(i));
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
  joinStreetLines(): void {
    const { plan, columns, readings } = this;
    // A street line by its words: a second street2 candidate, or a street's own header with a number 2-9
    // ("Dirección 2", "Adresse 3", "Supplemental Address 2").
    const isStreetLine = (c: string, i: number): boolean => {
      if (readings[i]!.role === 'street2') return true;
      const m = /^(.*\D)\s*[2-9]\s*$/.exec(c.trim());
      if (!m) return false;
      const base = readHeader(m[1]!.replace(/[\s_.:-]+$/, ''));
      return base.role === 'street1' || base.role === 'street2' || /\b(address|addr|street|line)\b/.test(headerWordsText(m[1]!));
    };
    const lines = columns.filter((c, i) => !plan[i]!.field && !plan[i]!.reason && this.inBlock(i) && this.values(c).length > 0 && isStreetLine(c, i));
    let line2 = plan.find((p) => p.field && this.roleOf(p.field) === 'street2');
    const street2Field = this.target.fields.find((f) => f.role === 'street2')?.name;
    if (!line2 && street2Field && !this.claimed.has(street2Field) && plan.some((p) => p.field && this.roleOf(p.field) === 'street1') && lines.length > 0) {
      // The street's second line under a numbered header of the street's own: the second line.
      line2 = Object.assign(plan[columns.indexOf(lines.shift()!)]!, { field: street2Field, reason: 'header words: a second street line', hint: undefined });
      this.claimed.add(street2Field);
    }
    if (!line2 || lines.length === 0) return;
    Object.assign(line2, { columns: [line2.column, ...lines].sort((a, b) => columns.indexOf(a) - columns.indexOf(b)), separator: ', ' });
    for (const c of lines) Object.assign(plan[columns.indexOf(c)]!, { reason: `joined to "${line2.column}"`, hint: `a further street line: joined to ${line2.field} from "${line2.column}"` });
  }

  /** A date of birth in three columns (Neon's "DOB Year", "DOB Month", "DOB Day"). */
  joinBirthParts(): void {
    const { plan, columns } = this;
    const part = (role: string) => columns.findIndex((_, i) => this.readings[i]!.role === role);
    const [y, m, d] = [part('birthYear'), part('birthMonth'), part('birthDay')];
    const birthField = this.fieldOf('birthDate');
    if (!birthField || this.claimed.has(birthField) || y < 0 || m < 0 || d < 0) return;
    Object.assign(plan[y]!, { field: birthField, reason: 'header words: year, month and day columns', columns: [columns[y]!, columns[m]!, columns[d]!], separator: '-', dateFormat: 'YYYY-M-D' });
    for (const i of [m, d]) Object.assign(plan[i]!, { reason: `part of ${birthField}`, hint: `part of ${birthField} with "${columns[y]}"` });
    this.claimed.add(birthField);
  }

  /** A whole name ("Full Name", "Your name") where no column gives the first or the last name: split into both. */
  splitFullName(): void {
    const first = this.fieldOf('firstName');
    const last = this.fieldOf('lastName');
    if (!first || !last || this.claimed.has(first) || this.claimed.has(last)) return;
    const i = this.columns.findIndex((_, k) => this.readings[k]!.role === 'fullName' && !this.readings[k]!.secondary && !this.plan[k]!.field);
    if (i < 0) return;
    Object.assign(this.plan[i]!, { field: first, lastField: last, reason: 'a whole name: split into first and last', hint: undefined });
    this.claimed.add(first);
    this.claimed.add(last);
  }

  /** A surname's particle in a column of its own (Dutch "Tussenvoegsel": van der): joined before the last name. */
  joinSurnamePrefix(): void {
    const last = this.plan.find((p) => p.field && this.roleOf(p.field) === 'lastName' && !p.columns);
    const prefix = this.columns.findIndex((_, i) => this.readings[i]!.role === 'surnamePrefix');
    if (!last || prefix < 0) return;
    Object.assign(last, { columns: [this.columns[prefix]!, last.column], separator: ' ' });
    Object.assign(this.plan[prefix]!, { reason: `joined to "${last.column}"`, hint: `the surname's particle: joined to ${last.field} from "${last.column}"` });
  }

  /**
   * A second column for a field already given (Shopify's "Default Address Phone" behind "Phone", NPSP's home email
   * behind "Email"): read where the first one's cell is empty. Never for an address part (blocks stay whole), a
   * consent, an "other"/"alternate" one or one read from values; only ways to reach the person (a second "Title"
   * may be a job title).
   */
  addFallbacks(): void {
    const { plan } = this;
    for (const c of this.sorted(this.candidates)) {
      const p = plan[c.index]!;
      if ((c.reading.role !== 'phone' && c.reading.role !== 'email') || c.tier === 3) continue;
      // A second email ("Other email", "Secondary Email") is still the person's: read where the first is empty.
      if (p.field || c.consent || (c.reading.secondary && c.reading.role !== 'email') || this.addressCands.includes(c)) continue;
      const first = plan.find((q, i) => q.field && !q.consent && !q.labelColumn && this.candidates.some((o) => o.index === i && o.field === c.field && o.reading.role === c.reading.role && (o.reading.phoneKind ?? '') === (c.reading.phoneKind ?? '')));
      if (!first) continue;
      (first.fallback ??= []).push(c.column);
      Object.assign(p, { reason: `read where "${first.column}" is empty`, hint: `read as ${first.field} where "${first.column}" is empty` });
    }
  }

  /** No email column by name: the one column whose values are emails is (or the one named primary among several). */
  emailByValues(): void {
    const emailField = this.fieldOf('email');
    if (!emailField || this.claimed.has(emailField)) return;
    const holding = this.columns.filter((c, i) => !this.plan[i]!.field && this.values(c).length > 0 && share(this.values(c), isEmail) >= 0.8);
    const primary = holding.filter((c) => /\b(primary|first|main|preferred|1)\b/.test(headerWordsText(c)));
    const pick = holding.length === 1 ? holding[0] : primary.length === 1 ? primary[0] : undefined;
    if (!pick) return;
    Object.assign(this.plan[this.columns.indexOf(pick)]!, { field: emailField, reason: 'values look like email addresses', hint: undefined });
    this.claimed.add(emailField);
    this.notes.push(`"${pick}" holds the email addresses: it is read as ${emailField}`);
  }

  /** Address parts the file has and the plan does not send (when it sends an address): the address is not whole. */
  addressGaps(): string[] {
    if (!this.plan.some((p) => p.field && isAddressRole(this.roleOf(p.field) as HeaderReading['role']))) return [];
    return this.columns.filter((c, i) => {
      const p = this.plan[i]!;
      // (A column read as part of another's field — a house number, a fallback, a birth year — has its reason.)
      if (p.field || p.reason || this.values(c).length === 0) return false;
      const r = this.readings[i]!;
      // ("Region" alone is not: Mailchimp's REGION is where the subscriber's IP was.)
      const addressy = isAddressRole(r.role) || /\b(state|province|country|county|zip|postal|postcode|apt|suite|unit|line 2|line 3|address 2|address 3|house ?number|hausnr|hausnummer)\b/.test(headerWordsText(c));
      return addressy && this.inBlock(i) && !readConsentHeader(c);
    });
  }
}

const sampleOf = (values: string[]) => [...new Set(values)].slice(0, 3).map((v) => `"${v}"`).join(', ');




const headerWordsText = (c: string) => readHeader(c).stem + ' ' + c.toLowerCase();
