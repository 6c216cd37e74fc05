import { normalisePhone, parseCalendarDate, titleCase } from './values.js';

/** A transform as written in a mapping file: a name, or an object with one key. */
export type TransformSpec = string | { date: string };

export type Transform = (value: string) => { value: string } | { error: string };

/** Words that belong to the surname that follows them: "van der Meer", "de la Cruz", "bin Laden". */
const PARTICLES = new Set(['van', 'von', 'der', 'den', 'de', 'del', 'della', 'di', 'da', 'du', 'la', 'le', 'dos', 'das', 'ter', 'ten', 'bin', 'al', 'el', 'st', 'st.']);
const HONORIFICS = /^(mr|mrs|ms|miss|mx|dr|prof|rev|sir|dame)\.?$/i;
const SUFFIXES = /^(jr|sr|ii|iii|iv|phd|md|esq)\.?$/i;

/**
 * A whole name split as a person would: "Lee, Ann" is Ann Lee; "Ann van der Meer" is Ann and van der Meer; "Dr. Ann
 * Lee Jr." is Ann and Lee Jr.; a single word is a first name.
 */
export function splitName(value: string): { first: string; last: string } {
  const t = value.trim().replace(/\s+/g, ' ');
  if (t === '') return { first: '', last: '' };
  const comma = t.indexOf(',');
  if (comma > 0 && !SUFFIXES.test(t.slice(comma + 1).trim())) return { first: t.slice(comma + 1).trim(), last: t.slice(0, comma).trim() };
  const w = t.split(' ');
  if (w.length > 1 && HONORIFICS.test(w[0]!)) w.shift();
  if (w.length === 1) return { first: w[0]!, last: '' };
  let i = w.length - 1;
  if (i > 1 && SUFFIXES.test(w[i]!)) i--;
  while (i > 1 && PARTICLES.has(w[i - 1]!.toLowerCase())) i--;
  return { first: w.slice(0, i).join(' '), last: w.slice(i).join(' ') };
}

const SIMPLE: Record<string, (v: string) => string> = {
  'first-name': (v) => splitName(v).first,
  'last-name': (v) => splitName(v).last,
  trim: (v) => v.trim(),
  lowercase: (v) => v.toLowerCase(),
  uppercase: (v) => v.toUpperCase(),
  titlecase: titleCase,
  phone: normalisePhone,
  digits: (v) => v.replace(/\D/g, ''),
};

export const TRANSFORM_NAMES = [...Object.keys(SIMPLE), 'address', '{"date": "<format>"}'];

/** Compiles one transform, or returns why it is not one. */
export function compileTransform(spec: TransformSpec): Transform | string {
  if (typeof spec === 'string') {
    const fn = SIMPLE[spec.toLowerCase()];
    if (!fn) return `unknown transform "${spec}" (known: ${TRANSFORM_NAMES.join(', ')})`;
    return (v) => ({ value: fn(v) });
  }
  if (spec && typeof spec === 'object' && 'date' in spec && typeof spec.date === 'string') {
    const format = spec.date;
    if (!/YYYY|YY/.test(format) || !/M/.test(format) || !/D/.test(format)) {
      return `date format "${format}" needs year, month and day tokens (e.g. "DD/MM/YYYY")`;
    }
    return (v) => {
      if (v.trim() === '') return { value: '' };
      const iso = parseCalendarDate(v, format);
      return iso ? { value: iso } : { error: `"${v}" is not a date in the format ${format}` };
    };
  }
  return `unknown transform ${JSON.stringify(spec)} (known: ${TRANSFORM_NAMES.join(', ')})`;
}
