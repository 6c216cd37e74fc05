import type { SourceRecord, Target } from '../core/types.js';
import { readConsentHeader, readConsentValue, readsAsConsent } from './consent.js';
import { EXPORT_HEADERS } from './export-headers.js';
import { addFallbacks, addressGaps, emailByValues, joinBirthParts, joinHouseNumber, joinStreetLines, joinSurnamePrefix, splitFullName } from './column-plan-joins.js';
import { blockRank, Planner, type Candidate, type ColumnPlan } from './column-planner.js';
import { isAddressRole, type HeaderReading } from './header-words.js';
import { HONORIFIC, looksLikePhone, roleByValues, share } from './value-shapes.js';
import { dateEvidence, isEmail, normaliseHeader } from './values.js';

export type { ColumnPlan, PlannedColumn } from './column-planner.js';

/** Which column of the file gives which field (see PlannedColumn), decided stage by stage. */
export function planColumns(target: Target, columns: readonly string[], sample: readonly SourceRecord[], taken: ReadonlySet<string> = new Set()): ColumnPlan {
  const p = new Planner(target, columns, sample, taken);
  readCandidates(p);
  keepFitting(p);
  placeConsent(p);
  placeAddress(p);
  placePhones(p);
  placeRest(p);
  joinHouseNumber(p);
  joinStreetLines(p);
  joinBirthParts(p);
  splitFullName(p);
  joinSurnamePrefix(p);
  addFallbacks(p);
  emailByValues(p);
  return { columns: p.plan, notes: p.notes, addressGaps: addressGaps(p), unreadConsent: p.unreadConsent };
}

// The plan's first stages: each column's candidate field, then the fields they claim (consent, the address, phones,
// the rest). The later ones, joining columns, are in column-plan-joins.ts.

/** Each column's candidate field: the target's own names and aliases, exports' headers, consent, then header words. */
function readCandidates(planner: Planner): void {
  const { target, plan } = planner;
  const aliases = new Map<string, { field: string; tier: number }>();
  for (const f of target.fields) for (const a of [f.name, ...f.aliases]) if (!aliases.has(normaliseHeader(a))) aliases.set(normaliseHeader(a), { field: f.name, tier: 0 });
  for (const f of target.fields) for (const a of (f.role && EXPORT_HEADERS[f.role]) || []) if (!aliases.has(normaliseHeader(a))) aliases.set(normaliseHeader(a), { field: f.name, tier: 1 });
  const emailStatusField = planner.fieldOf('emailStatus');
  const smsStatusField = planner.fieldOf('smsStatus');
  planner.columns.forEach((column, index) => {
    const reading = planner.readings[index]!;
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
      if (!readsAsConsent(planner.values(column), polarity)) {
        if (!planner.values(column).some((v) => readConsentValue(v, polarity) !== 'unreadable')) return; // "Email Type": Home, Work
        plan[index]!.hint = `looks like consent, but its values (${sampleOf(planner.values(column))}) do not say which way round: not mapped. Map it with a value map if it is consent`;
        planner.unreadConsent.push(column);
        return;
      }
      planner.candidates.push({ column, index, field, tier: known ? 0 : 2, reading, consent: polarity });
      return;
    }
    if (known) {
      const spec = target.fields.find((f) => f.name === known.field);
      // Another system's ids are not this target's own (a Salsa Classic supporter_KEY is no Engage supporterId).
      if (spec?.ownIds && !planner.values(column).every((v) => v.split(/\s+/).every((id) => spec.ownIds!.test(id)))) {
        plan[index]!.hint = `ids of another system, not ${target.displayName}'s own ${known.field}s: not sent (to keep them, map the column to an external id field)`;
        return;
      }
      planner.candidates.push({ column, index, field: known.field, tier: known.tier, reading });
      return;
    }
    const role = reading.role ?? roleByValues(column, planner.values(column));
    if (!role || role === 'label' || role === 'fullName') {
      if (role === 'fullName') plan[index]!.hint = 'a whole name: not split into first and last (map it in a mapping file if it is one of them)';
      return;
    }
    const field = role === 'phone' ? planner.fieldOf('homePhone') : planner.fieldOf(role);
    if (field) planner.candidates.push({ column, index, field, tier: reading.role ? 2 : 3, reading: reading.role ? reading : { ...reading, role } });
  });
}

/** What the values say against what the header says: a "Preferred Email" of "Personal"/"Work" is no email column. */
function keepFitting(planner: Planner): void {
  const fits = (c: Candidate): boolean => {
    const role = planner.roleOf(c.field);
    const v = planner.values(c.column);
    // A column named Email is the email column however bad its first rows; one read from words must show emails.
    if (role === 'email') return c.tier < 2 ? v.length < 5 || share(v, isEmail) >= 0.2 : share(v, isEmail) >= 0.5;
    if (c.reading.role === 'phone' || role === 'homePhone' || role === 'mobilePhone' || role === 'workPhone') return c.tier < 2 || share(v, looksLikePhone) >= 0.5;
    if (role === 'birthDate') return c.tier < 2 || share(v, (x) => dateEvidence(x) !== 'other') >= 0.5;
    // A "Title" of "Program Manager" and "CFO" is a job title, not Mr/Ms/Dr.
    if (role === 'title') return v.length < 3 || share(v, (x) => HONORIFIC.test(x.trim())) >= 0.5;
    return true;
  };
  planner.candidates = planner.candidates.filter((c) => {
    if (fits(c)) return true;
    planner.plan[c.index]!.hint = `named like ${c.field}, but its values (${sampleOf(planner.values(c.column))}) are not: not mapped`;
    return false;
  });
}

/** Every column about the same consent is read together (any opt-out wins), so none is left behind. */
function placeConsent(planner: Planner): void {
  for (const field of [planner.fieldOf('emailStatus'), planner.fieldOf('smsStatus')]) {
    const group = planner.candidates.filter((c) => c.field === field && c.consent);
    if (!field || group.length === 0 || planner.claimed.has(field)) continue;
    for (const c of group) Object.assign(planner.plan[c.index]!, { field, reason: 'consent header', consent: c.consent });
    planner.claimed.add(field);
  }
}

/** The address: one block whole (home, billing, shipping…), chosen by where the sample has streets; never mixed. */
function placeAddress(planner: Planner): void {
  planner.addressCands = planner.candidates.filter((c) => isAddressRole(c.reading.role) || (c.tier < 2 && isAddressRole(planner.roleOf(c.field) as HeaderReading['role'])));
  const blocks = [...new Set(planner.addressCands.map((c) => c.reading.block))];
  const streets = (b: string) => planner.addressCands.filter((c) => c.reading.block === b && planner.roleOf(c.field) === 'street1').reduce((n, c) => n + planner.values(c.column).length, 0);
  const block = (planner.block = blocks.sort((a, b) => streets(b) - streets(a) || blockRank(a) - blockRank(b))[0]);
  for (const c of planner.sorted(planner.addressCands)) {
    if (planner.claimed.has(c.field)) continue;
    if (c.reading.block === block || c.reading.block === '') planner.place(c);
    else planner.plan[c.index]!.hint = `part of the file's ${c.reading.block} address; the ${block || 'main'} address is the one sent`;
  }
}

/**
 * Phones: each kind from a column that says it (its header's words: a plain "Phone" is unqualified whatever alias
 * found it), or row by row from its label column; a plain one is the home phone, or the work phone where the file
 * has a home phone column of its own (Salesforce's Phone is the business phone beside HomePhone).
 */
function placePhones(planner: Planner): void {
  const { plan } = planner;
  planner.phones = planner.candidates.filter((c) => c.reading.role === 'phone' || ['homePhone', 'mobilePhone', 'workPhone'].includes(planner.roleOf(c.field) ?? ''));
  const kindField = { home: planner.fieldOf('homePhone'), mobile: planner.fieldOf('mobilePhone'), work: planner.fieldOf('workPhone') };
  const labels = new Map(planner.columns.map((c, i) => [planner.readings[i]!.role === 'label' ? planner.readings[i]!.stem : '', c] as const).filter(([s]) => s !== ''));
  for (const c of planner.sorted(planner.phones)) {
    const label = labels.get(c.reading.stem);
    if (label && !c.reading.phoneKind) {
      Object.assign(plan[c.index]!, { field: kindField.home, reason: `header words; home, mobile or work by "${label}"`, labelColumn: label });
      continue;
    }
    const kind = c.reading.phoneKind;
    if (kind && kindField[kind] && !planner.claimed.has(kindField[kind]!)) planner.place(c, kindField[kind]);
  }
  const homeQualified = planner.phones.some((c) => c.reading.phoneKind === 'home');
  for (const c of planner.sorted(planner.phones)) {
    if (plan[c.index]!.field || c.reading.phoneKind || c.reading.secondary) continue;
    if (kindField.home && !planner.claimed.has(kindField.home) && !homeQualified) planner.place(c, kindField.home);
    else if (homeQualified && kindField.work && !planner.claimed.has(kindField.work)) {
      planner.place(c, kindField.work);
      planner.notes.push(`"${c.column}" is read as the work phone: the file has a home phone column of its own`);
    }
  }
}

/** Everything else: the first column (by how sure, then a first one before a second) for each field. */
function placeRest(planner: Planner): void {
  for (const c of planner.sorted(planner.candidates)) {
    const p = planner.plan[c.index]!;
    if (p.field || p.hint || planner.addressCands.includes(c) || planner.phones.includes(c) || c.consent) continue;
    if (!planner.claimed.has(c.field)) planner.place(c);
  }
}

const sampleOf = (values: string[]) => [...new Set(values)].slice(0, 3).map((v) => `"${v}"`).join(', ');
