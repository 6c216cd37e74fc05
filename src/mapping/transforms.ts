import { normalisePhone, parseCalendarDate, titleCase } from './values.js';

/** A transform as written in a mapping file: a name, or an object with one key. */
export type TransformSpec = string | { date: string };

export type Transform = (value: string) => { value: string } | { error: string };

const SIMPLE: Record<string, (v: string) => string> = {
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
