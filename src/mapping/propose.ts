import type { SourceRecord, Target } from '../core/types.js';
import { isEmail, normaliseHeader, parseCalendarDate } from './values.js';

export interface Proposal {
  column: string;
  field?: string;
  /** Why: "header" (a well-known name) or what the values look like. */
  reason: string;
  samples: string[];
  rule?: Record<string, unknown>;
  hint?: string;
}

const YES_NO = new Set(['y', 'n', 'yes', 'no', 'true', 'false', '1', '0', 't', 'f']);

/** Field names per target for what values can reveal; targets name these differently. */
const ROLE: Record<string, Record<string, string>> = {
  salsa: { email: 'email', phone: 'homePhone', mobile: 'cellPhone', zip: 'postalCode', birth: 'dateOfBirth', optIn: 'emailStatus', gender: 'gender' },
  luminate: { email: 'primary_email', phone: 'home_phone', mobile: 'mobile_phone', zip: 'primary_address.zip', birth: 'birth_date', optIn: 'email.accepts_email', gender: 'gender' },
};

function share(values: string[], test: (v: string) => boolean): number {
  return values.length === 0 ? 0 : values.filter(test).length / values.length;
}

/** Day-first when some first part is over 12 (31/12/1980), else month-first. */
function dateFormatOf(values: string[]): string | undefined {
  const m = values.map((v) => /^(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})$/.exec(v.trim()));
  if (m.some((x) => !x)) return values.every((v) => parseCalendarDate(v)) ? '' : undefined;
  const sep = m[0]![2];
  const year = m[0]![4]!.length === 4 ? 'YYYY' : 'YY';
  const dayFirst = m.some((x) => Number(x![1]) > 12);
  return dayFirst ? `DD${sep}MM${sep}${year}` : `MM${sep}DD${sep}${year}`;
}

/**
 * Proposes a mapping for a file: well-known headers first, then what the sample values look like (emails, phones,
 * dates, zip codes, yes/no, M/F). Columns it cannot place are returned with a hint.
 */
export function proposeMapping(target: Target, columns: readonly string[], sample: SourceRecord[]): Proposal[] {
  const alias = new Map<string, string>();
  for (const f of target.fields) for (const a of [f.name, ...f.aliases]) if (!alias.has(normaliseHeader(a))) alias.set(normaliseHeader(a), f.name);
  const role = ROLE[target.name] ?? ROLE.salsa!;
  const taken = new Set<string>();
  const out: Proposal[] = [];
  for (const column of columns) {
    const values = sample.map((r) => (r.fields?.[column] ?? '').trim()).filter((v) => v !== '');
    const samples = [...new Set(values)].slice(0, 3);
    const h = normaliseHeader(column);
    const byHeader = alias.get(h) ?? (target.isKnownField(column) ? column : undefined);
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
      }
      if (byHeader === role.optIn && values.length > 0 && share(lower, (v) => YES_NO.has(v)) === 1) {
        p.rule = target.name === 'salsa' ? { map: { y: 'OPT_IN', yes: 'OPT_IN', true: 'OPT_IN', '1': 'OPT_IN', n: 'OPT_OUT', no: 'OPT_OUT', false: 'OPT_OUT', '0': 'OPT_OUT' } } : undefined;
      }
    } else if (values.length === 0) {
      p.hint = 'empty in the sample';
    } else if (share(values, isEmail) >= 0.8) {
      if (!claim(role.email!, 'values look like email addresses')) p.hint = 'email addresses, but the email field is already mapped';
    } else if (share(values, (v) => /^[+(]?\d[\d\s().-]{6,}$/.test(v) && v.replace(/\D/g, '').length >= 7) >= 0.8) {
      const field = /mob|cell/.test(h) ? role.mobile! : role.phone!;
      if (!claim(field, 'values look like phone numbers', { transform: ['phone'] })) p.hint = 'phone numbers (map them to another phone field if they are)';
    } else if (share(values, (v) => /^\d{5}(-\d{4})?$/.test(v)) >= 0.9) {
      if (!claim(role.zip!, 'values look like ZIP codes')) p.hint = 'ZIP codes';
    } else if (dateFormatOf(values) !== undefined) {
      const fmt = dateFormatOf(values)!;
      if (/birth|dob|born/.test(h) && claim(role.birth!, 'values look like dates', fmt ? { transform: [{ date: fmt }] } : undefined)) {
        // claimed
      } else p.hint = `dates${fmt ? ` (${fmt})` : ''}: if this is a custom field, map it with a "date" transform`;
    } else if (share(lower, (v) => ['m', 'f', 'male', 'female'].includes(v)) === 1) {
      claim(role.gender!, 'values look like M/F', { map: { m: 'MALE', male: 'MALE', f: 'FEMALE', female: 'FEMALE' } });
    } else if (share(lower, (v) => YES_NO.has(v)) === 1) {
      if (/opt|subscri|newsletter|email/.test(h) && claim(role.optIn!, 'yes/no values', target.name === 'salsa' ? { map: { y: 'OPT_IN', yes: 'OPT_IN', true: 'OPT_IN', '1': 'OPT_IN', n: 'OPT_OUT', no: 'OPT_OUT', false: 'OPT_OUT', '0': 'OPT_OUT' } } : undefined)) {
        // claimed
      } else p.hint = 'yes/no values: a custom boolean field?';
    }
    if (!p.field && !p.hint) {
      p.hint = target.isKnownField('customFieldValues')
        ? `not a standard field: to send it, add {"name": "<Salsa custom field>", "column": "${column}"} under "customFields"`
        : 'not a standard field: to send it, map it to a custom_string<N> field of your site';
    }
    if (!p.field && p.hint && !p.hint.startsWith('not a standard') && target.isKnownField('customFieldValues')) p.hint += `; a Salsa custom field goes under "customFields"`;
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
