import type { HeaderReading } from './header-words.js';

/** What a column's values look like: shapes that confirm a header's reading, or name a column the header does not. */

export const share = (values: string[], test: (v: string) => boolean) => (values.length === 0 ? 1 : values.filter(test).length / values.length);

/** A value that is a phone number: 6-15 digits in phone punctuation (not a postcode like 4000-001, an IP, a date). */
export function looksLikePhone(v: string): boolean {
  if (!/^[+(]?\d[\d\s().\-/]*\d(\s*(x|ext\.?)\s*\d+)?$/i.test(v) || /^\d{1,3}(\.\d{1,3}){3}$/.test(v)) return false;
  const digits = v.replace(/\D/g, '').length;
  return digits >= 6 && digits <= 18;
}

/** Honorifics, as a title column holds them (Mr, Mrs, Dr, Mme, Herr…): a "Title" of job titles is not one. */
export const HONORIFIC = /^(mr|mrs|ms|miss|mx|dr|prof|rev|revd|sir|dame|lady|lord|hon|fr|sr|sra|srta|sgt|capt|col|gen|m|mme|mlle|me|herr|frau|dott|ing|mag|dra|don|dona|dhr|mevr|rabbi|imam|pastor|father|sister|judge)\.?( ?(and|&) ?(mr|mrs|ms|dr)\.?)?$|^(professor|doctor|reverend|mister|madame|monsieur|mademoiselle)$/i;

/** Postcodes whose shape is distinctive: US ZIP, Portugal, Canada, the UK, the Netherlands. */
export const POSTCODES = [/^\d{5}(-\d{4})?$/, /^\d{4}-\d{3}$/, /^[A-Z]\d[A-Z] ?\d[A-Z]\d$/i, /^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$/i, /^\d{4} ?[A-Z]{2}$/i];

/**
 * A column the header does not name, read by its values: phone numbers written as phone numbers (a + or separated
 * groups, 10+ digits: not an id, an IP or a postcode), distinctive postcodes, M/F. Never for a header about an id,
 * a number, a code or an amount.
 */
export function roleByValues(column: string, values: string[]): HeaderReading['role'] {
  if (values.length === 0 || /\b(id|ip|zip|post|code|number|no|nr|key|amount|total|count|year|age|score|sum|qty|quantity)\b|_id$|id$/i.test(column.replace(/[_-]/g, ' '))) return undefined;
  const phoneLike = (v: string) => looksLikePhone(v) && (v.startsWith('+') || v.split(/[\s().-]+/).filter(Boolean).length > 1) && v.replace(/\D/g, '').length >= 10;
  if (share(values, phoneLike) >= 0.8) return 'phone';
  if (share(values, (v) => POSTCODES.some((re) => re.test(v))) >= 0.9) return 'postalCode';
  if (share(values, (v) => ['m', 'f', 'male', 'female'].includes(v.toLowerCase())) === 1) return 'gender';
  return undefined;
}
