import type { FieldRole, SourceRecord, Target } from '../core/types.js';
import { headerIndex } from './mapper.js';
import { isEmail, normaliseHeader, parseCalendarDate, splitWholeAddress } from './values.js';

export interface Proposal {
  column: string;
  field?: string;
  /** Why: "header" (a well-known name) or what the values look like. */
  reason: string;
  samples: string[];
  rule?: Record<string, unknown>;
  hint?: string;
  /** Said loudly by init: a proposal that changes how records are matched. */
  warning?: string;
}

const YES_NO = new Set(['y', 'n', 'yes', 'no', 'true', 'false', '1', '0', 't', 'f']);


/** Postcodes whose shape is distinctive: Portugal, Canada, the UK, the Netherlands. */
const POSTCODES = [/^\d{4}-\d{3}$/, /^[A-Z]\d[A-Z] ?\d[A-Z]\d$/i, /^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$/i, /^\d{4} ?[A-Z]{2}$/i];

/**
 * A value that is a phone number, not a postcode (4000-001), an IP address or an id that happens to be digits: 7-15
 * digits in phone punctuation; without a phone-like header, it needs a + or separated groups and 10+ digits.
 */
function looksLikePhone(v: string, headerSaysPhone: boolean): boolean {
  if (!/^[+(]?\d[\d\s().-]*\d$/.test(v) || /^\d{1,3}(\.\d{1,3}){3}$/.test(v)) return false;
  const digits = v.replace(/\D/g, '').length;
  if (digits < 7 || digits > 15) return false;
  if (headerSaysPhone) return true;
  if (v.startsWith('+')) return digits >= 8;
  return v.split(/[\s().-]+/).filter(Boolean).length > 1 && digits >= 10;
}

/** A yes/no column's value map into the target's own opt-in words, when it has them (init writes it). */
function optInMap(target: Target): Record<string, unknown> | undefined {
  const v = target.optInValues;
  return v ? { map: { y: v.yes, yes: v.yes, true: v.yes, '1': v.yes, n: v.no, no: v.no, false: v.no, '0': v.no } } : undefined;
}

function share(values: string[], test: (v: string) => boolean): number {
  return values.length === 0 ? 0 : values.filter(test).length / values.length;
}

/**
 * The column's date format: day-first when some first part is over 12 (31/12/1980), month-first when some second
 * part is; undefined (no proposal) when the values contradict each other or every one reads both ways — a guess
 * there would store 5 March as May 3. '' when the values are dates the tool reads as they are (ISO).
 */
function dateFormatOf(values: string[]): string | undefined {
  const m = values.map((v) => /^(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})$/.exec(v.trim()));
  if (m.some((x) => !x)) return values.every((v) => parseCalendarDate(v) && !/^\d{1,2}\//.test(v.trim())) ? '' : undefined;
  const sep = m[0]![2];
  const year = m[0]![4]!.length === 4 ? 'YYYY' : 'YY';
  const dayFirst = m.some((x) => Number(x![1]) > 12);
  const monthFirst = m.some((x) => Number(x![3]) > 12);
  if (dayFirst === monthFirst) return undefined;
  return dayFirst ? `DD${sep}MM${sep}${year}` : `MM${sep}DD${sep}${year}`;
}

/** Headers of a column that lists tags or groups (Mailchimp's TAGS, NationBuilder's tag_list, "Groups", "Segments"). */
const TAG_HEADERS = /^(tags?|taglist|tagnames|groups?|groupnames|segments?|segmentnames|lists?|labels?|interests?)$/;

/**
 * What init says of a tags column: how to map it to the target's groups. Never mapped by itself: memberships are
 * a change people ask for. Salsa resolves names; Luminate only ids, so a column of names cannot go there as it is.
 */
function tagsHint(target: Target, column: string, values: string[]): string {
  const noun = target.groups!.noun;
  const separator = [';', '|', ','].find((sep) => values.some((v) => v.includes(sep))) ?? ',';
  const line = `"segments": {"column": "${column}", "separator": "${separator}"} under "fields"`;
  const names = values.flatMap((v) => v.split(separator).map((x) => x.trim())).filter(Boolean);
  if (target.groups!.offline && names.some((n) => !/^((group|interest):)?\d+$/.test(n))) {
    return `tags by name: ${target.displayName}'s API names ${noun.many} only by id, so this column cannot be sent as it is; a column of ids would go as ${line}`;
  }
  return `tags: to put each row into the ${noun.many} it names, add ${line} (not mapped by itself: it changes memberships; \`check <file> -m <mapping>\` says which names the account lacks)`;
}

/**
 * Proposes a mapping for a file: well-known headers first, then what the sample values look like (emails, phones,
 * dates, zip codes, yes/no, M/F). Columns it cannot place are returned with a hint.
 */
export function proposeMapping(target: Target, columns: readonly string[], sample: SourceRecord[]): Proposal[] {
  const alias = headerIndex(target);
  // The target's field for each role: what values can reveal (emails, phones…) is proposed by meaning.
  const byRole = (r: FieldRole) => target.fields.find((f) => f.role === r)?.name;
  const role = { email: byRole('email'), phone: byRole('homePhone'), mobile: byRole('mobilePhone'), zip: byRole('postalCode'), birth: byRole('birthDate'), optIn: byRole('emailStatus'), gender: byRole('gender') };
  const taken = new Set<string>();
  const out: Proposal[] = [];
  for (const column of columns) {
    const values = sample.map((r) => (r.fields?.[column] ?? '').trim()).filter((v) => v !== '');
    const samples = [...new Set(values)].slice(0, 3);
    const h = normaliseHeader(column);
    const byHeader = alias.get(h) ?? (target.isKnownField(column) ? column : undefined);
    const cautious = byHeader ? undefined : target.fields.find((f) => f.caution?.aliases.some((a) => normaliseHeader(a) === h));
    const p: Proposal = { column, reason: '', samples };
    const claim = (field: string, reason: string, rule?: Record<string, unknown>) => {
      if (taken.has(field)) return false;
      taken.add(field);
      Object.assign(p, { field, reason, rule });
      return true;
    };
    const lower = values.map((v) => v.toLowerCase());
    if (byHeader && claim(byHeader, 'header')) {
      // A well-known header; refine how its values are read.
      if (byHeader === role.birth) {
        const fmt = dateFormatOf(values);
        if (fmt) p.rule = { transform: [{ date: fmt }] };
        else if (fmt === undefined && values.length > 0) p.reason = 'header; day/month order not told by the sample: set it (--date-order, or a "date" transform)';
      }
      if (h === 'address' && values.length > 0 && share(values, (v) => splitWholeAddress(v) !== undefined) >= 0.5) {
        p.rule = { transform: 'address' };
        p.reason = 'header; a whole address per cell (street, city, state, zip, country): split into its fields';
      }
      if (byHeader === role.optIn && values.length > 0 && share(lower, (v) => YES_NO.has(v)) === 1) {
        p.rule = optInMap(target);
      }
    } else if (cautious && claim(cautious.name, `header — CAUTION: ${cautious.caution!.warning}`)) {
      p.warning = `${column} → ${cautious.name}: ${cautious.caution!.warning}. Remove it from the mapping if not.`;
    } else if (values.length === 0) {
      p.hint = 'empty in the sample';
    } else if (share(values, isEmail) >= 0.8) {
      if (!claim(role.email!, 'values look like email addresses')) p.hint = 'email addresses, but the email field is already mapped';
    } else if (!/\b(id|ip|zip|post|code|number|no)\b|_id$|id$/i.test(column.replace(/[_-]/g, ' ')) && share(values, (v) => looksLikePhone(v, /phone|tel|mob|cell|fax/.test(h))) >= 0.8) {
      const field = /mob|cell/.test(h) ? role.mobile! : role.phone!;
      if (!claim(field, 'values look like phone numbers', { transform: ['phone'] })) p.hint = 'phone numbers (map them to another phone field if they are)';
    } else if (share(values, (v) => /^\d{5}(-\d{4})?$/.test(v)) >= 0.9) {
      if (!claim(role.zip!, 'values look like ZIP codes')) p.hint = 'ZIP codes';
    } else if (share(values, (v) => POSTCODES.some((re) => re.test(v))) >= 0.9) {
      if (!claim(role.zip!, 'values look like postcodes')) p.hint = 'postcodes';
    } else if (dateFormatOf(values) !== undefined) {
      const fmt = dateFormatOf(values)!;
      if (/birth|dob|born/.test(h) && claim(role.birth!, 'values look like dates', fmt ? { transform: [{ date: fmt }] } : undefined)) {
        // claimed
      } else p.hint = `dates${fmt ? ` (${fmt})` : ''}: if this is a custom field, map it with a "date" transform`;
    } else if (share(lower, (v) => ['m', 'f', 'male', 'female'].includes(v)) === 1) {
      claim(role.gender!, 'values look like M/F', { map: { m: 'MALE', male: 'MALE', f: 'FEMALE', female: 'FEMALE' } });
    } else if (share(lower, (v) => YES_NO.has(v)) === 1) {
      if (/opt|subscri|newsletter|email/.test(h) && claim(role.optIn!, 'yes/no values', optInMap(target))) {
        // claimed
      } else p.hint = 'yes/no values: a custom boolean field?';
    }
    const tags = !p.field && target.groups && TAG_HEADERS.test(h) && values.length > 0 ? tagsHint(target, column, values) : undefined;
    if (tags) p.hint = tags;
    else if (!p.field && !p.hint) {
      p.hint = target.customFieldList
        ? `not a standard field: to send it, add {"name": "<${target.displayName} custom field>", "column": "${column}"} under "customFields"`
        : 'not a standard field: to send it, map it to a custom_string<N> field of your site';
    }
    if (!p.field && p.hint && !tags && !p.hint.startsWith('not a standard') && target.customFieldList) p.hint += `; a ${target.displayName} custom field goes under "customFields"`;
    out.push(p);
  }
  return out;
}

/** The mapping file for a proposal (autoMatch off: the file says everything). */
export function mappingFromProposal(target: Target, proposals: Proposal[]): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const p of proposals) if (p.field) fields[p.field] = p.rule ? { column: p.column, ...p.rule } : p.column;
  return { target: target.name, fields, autoMatch: false };
}
