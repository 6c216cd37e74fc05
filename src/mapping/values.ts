/** Value checks and normalisations shared by every target. */

// Pragmatic address check: one @, a dot in the domain, no spaces or control characters.
const EMAIL = /^[^\s@"<>(),;:\\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isEmail(value: string): boolean {
  return value.length <= 254 && EMAIL.test(value) && !value.includes('..');
}

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export { normaliseEmail } from '../core/keys.js';

/** Header and alias comparison: case- and punctuation-insensitive. */
export function normaliseHeader(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9]/g, '');
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isValidYmd(y: number, m: number, d: number): boolean {
  if (!(y >= 1000 && y <= 9999 && m >= 1 && m <= 12 && d >= 1)) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return d <= (m === 2 && leap ? 29 : DAYS[m - 1]!);
}

/** The decimal number in v[from, to), or -1 if any of those characters is not a digit. */
function num(v: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = v.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/**
 * Parses a calendar date to `YYYY-MM-DD` without any timezone arithmetic, so a birth date never moves by a day.
 * With `format` (tokens YYYY, YY, MM, M, DD, D and any separators) the value must follow it; without, ISO dates
 * (also with a time part) and US-style M/D/YYYY are accepted.
 */
export function parseCalendarDate(value: string, format?: string): string | undefined {
  const v = value.trim();
  if (format) {
    const order: string[] = [];
    const pattern = format.replace(/YYYY|YY|MM|M|DD|D|[.*+?^${}()|[\]\\]/g, (tok) => {
      if (tok === 'YYYY') return order.push('Y'), '(\\d{4})';
      if (tok === 'YY') return order.push('y'), '(\\d{2})';
      if (tok === 'MM' || tok === 'M') return order.push('M'), '(\\d{1,2})';
      if (tok === 'DD' || tok === 'D') return order.push('D'), '(\\d{1,2})';
      return `\\${tok}`;
    });
    const m = new RegExp(`^${pattern}$`).exec(v);
    if (!m) return undefined;
    let y = 0;
    let mo = 0;
    let d = 0;
    order.forEach((t, i) => {
      const n = Number(m[i + 1]);
      if (t === 'Y') y = n;
      else if (t === 'y') y = n + (n > 30 ? 1900 : 2000);
      else if (t === 'M') mo = n;
      else d = n;
    });
    return isValidYmd(y, mo, d) ? `${y}-${pad(mo)}-${pad(d)}` : undefined;
  }
  // Fast path for the usual YYYY-MM-DD: no regex, no allocation beyond the result.
  if (v.length === 10 && v.charCodeAt(4) === 45 && v.charCodeAt(7) === 45) {
    const y = num(v, 0, 4);
    const mo = num(v, 5, 7);
    const d = num(v, 8, 10);
    if (y >= 0 && mo >= 0 && d >= 0) return isValidYmd(y, mo, d) ? v : undefined;
  }
  let m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.exec(v);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    return isValidYmd(y, mo, d) ? `${m[1]}-${m[2]}-${m[3]}` : undefined;
  }
  m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(v);
  if (m) {
    const [mo, d, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
    return isValidYmd(y, mo, d) ? `${y}-${pad(mo)}-${pad(d)}` : undefined;
  }
  return undefined;
}

export type DateOrder = 'dmy' | 'mdy';

/**
 * What a date cell says about its column's day/month order: 'iso' reads one way whatever the order (ISO, a month
 * written as a word), 'same' reads the same both ways (05/05/1975, 04.04.1953), 'dmy'/'mdy' only one way.
 */
export type DateEvidence = 'iso' | 'same' | 'dmy' | 'mdy' | 'ambiguous' | 'yearless' | 'other';

const NUMERIC_DATE = /^(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})$/;
const YEARLESS = /^(?:--)?(\d{1,2})[/.-](\d{1,2})$/;
/** A time after a date, as spreadsheets and CRMs add it ("6/23/1954 0:00", "23.06.1954 00:00:00"). */
const TRAILING_TIME = /[ T]+\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*([AP]\.?M\.?)?\s*(Z|[+-]\d{2}:?\d{2}|[A-Z]{3,4})?$/i;

/**
 * Two-digit years as a birth date means them: in the past. With the current year 2026, 00–26 are 2000–2026 and
 * 27–99 are 1927–1999 (the pivot is said in the README).
 */
export function fullYear(yy: number, now = new Date()): number {
  const current = now.getUTCFullYear() % 100;
  return yy <= current ? 2000 + yy : 1900 + yy;
}

// Month names in English and the languages whose headers are read (German, French, Spanish, Portuguese, Dutch).
const MONTH_NAMES: Array<[number, string[]]> = [
  [1, ['january', 'jan', 'januar', 'janvier', 'janv', 'enero', 'ene', 'janeiro', 'januari', 'jän', 'jaen']],
  [2, ['february', 'feb', 'februar', 'fevrier', 'fev', 'febrero', 'fevereiro', 'februari']],
  [3, ['march', 'mar', 'marz', 'maerz', 'mars', 'marzo', 'marco', 'maart', 'mrt']],
  [4, ['april', 'apr', 'avril', 'avr', 'abril', 'abr']],
  [5, ['may', 'mai', 'mayo', 'maio', 'mei']],
  [6, ['june', 'jun', 'juni', 'juin', 'junio', 'junho']],
  [7, ['july', 'jul', 'juli', 'juillet', 'juil', 'julio', 'julho']],
  [8, ['august', 'aug', 'aout', 'agosto', 'ago', 'augustus']],
  [9, ['september', 'sep', 'sept', 'septembre', 'septiembre', 'setembro', 'set']],
  [10, ['october', 'oct', 'oktober', 'octobre', 'octubre', 'outubro', 'out', 'okt']],
  [11, ['november', 'nov', 'novembre', 'noviembre', 'novembro']],
  [12, ['december', 'dec', 'dezember', 'decembre', 'diciembre', 'dic', 'dezembro', 'dez']],
];
const MONTHS = new Map<string, number>();
for (const [n, names] of MONTH_NAMES) for (const name of names) MONTHS.set(name, n);
const FILLER = new Set(['de', 'of', 'the', 'del', 'der', 'le', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday', 'mon', 'tue', 'tues', 'wed', 'thu', 'thur', 'thurs', 'fri', 'sat', 'sun']);

/** "June 23, 1954", "23 juin 1954", "23-Jun-54", "23. Juni 1954": a date whose month is a word, as YYYY-MM-DD. */
function namedMonthDate(v: string): string | undefined {
  if (!/[a-z]/i.test(v)) return undefined;
  const tokens = v.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().split(/[\s,./-]+/).filter((t) => t && !FILLER.has(t));
  if (tokens.length !== 3) return undefined;
  const m = tokens.findIndex((t) => MONTHS.has(t));
  if (m < 0) return undefined;
  const nums = tokens.filter((_, i) => i !== m).map((t) => /^(\d{1,4})(st|nd|rd|th|er|e|o|a)?$/.exec(t)?.[1]);
  if (nums.some((n) => n === undefined)) return undefined;
  const [a, b] = nums as [string, string];
  // The year is the four-digit number, or the one that follows (23-Jun-54, June 23 54).
  const [dayText, yearText] = a.length === 4 ? [b, a] : b.length === 4 ? [a, b] : m === 1 ? [a, b] : m === 0 ? [a, b] : [a, b];
  if (dayText.length > 2) return undefined;
  const y = yearText.length === 4 ? Number(yearText) : yearText.length === 2 ? fullYear(Number(yearText)) : NaN;
  const mo = MONTHS.get(tokens[m]!)!;
  const d = Number(dayText);
  return isValidYmd(y, mo, d) ? `${y}-${pad(mo)}-${pad(d)}` : undefined;
}

/** A date that reads one way whatever the column's order (ISO, year first, a month written as a word), as YYYY-MM-DD. */
function unambiguousDate(v: string): string | undefined {
  const iso = parseCalendarDate(v);
  if (iso && !/^\d{1,2}\//.test(v)) return iso;
  const ymd = /^(\d{4})[/.](\d{1,2})[/.](\d{1,2})$/.exec(v.replace(TRAILING_TIME, ''));
  if (ymd) {
    const [y, mo, d] = [Number(ymd[1]), Number(ymd[2]), Number(ymd[3])];
    return isValidYmd(y, mo, d) ? `${y}-${pad(mo)}-${pad(d)}` : undefined;
  }
  return namedMonthDate(v);
}

/** How one value can be read: only day-first, only month-first, either, the same both ways, or not as D/M/Y at all. */
export function dateEvidence(value: string): DateEvidence {
  const v = value.trim().replace(TRAILING_TIME, '');
  if (unambiguousDate(value.trim()) !== undefined || unambiguousDate(v) !== undefined) return 'iso';
  const m = NUMERIC_DATE.exec(v);
  if (!m) return YEARLESS.test(v) ? 'yearless' : 'other';
  const [a, b] = [Number(m[1]), Number(m[3])];
  const y = m[4]!.length === 2 ? fullYear(Number(m[4])) : Number(m[4]);
  const asDmy = isValidYmd(y, b, a);
  const asMdy = isValidYmd(y, a, b);
  if (asDmy && asMdy) return a === b ? 'same' : 'ambiguous';
  return asDmy ? 'dmy' : asMdy ? 'mdy' : 'other';
}

/**
 * A date cell as YYYY-MM-DD, read in its column's order. Without an order (not settled yet), only a value that
 * reads one way is accepted; an ambiguous one is refused, never guessed.
 */
export function normaliseDate(value: string, order: DateOrder | undefined): { value: string; evidence: DateEvidence; note?: string } | { error: string } {
  // The usual YYYY-MM-DD first, without a regex: this runs for every row of a file with a birth date column.
  if (value.length === 10 && value.charCodeAt(4) === 45 && value.charCodeAt(7) === 45) {
    const iso = parseCalendarDate(value);
    if (iso) return { value: iso, evidence: 'iso' };
  }
  const v = value.trim();
  // Outlook writes 0/0/00 for "no birthday"; others 0000-00-00.
  if (/^0+[/.-]0+[/.-]0+$/.test(v)) return { value: '', evidence: 'other' };
  const evidence = dateEvidence(v);
  if (evidence === 'iso') return { value: unambiguousDate(v) ?? unambiguousDate(v.replace(TRAILING_TIME, '')) ?? v, evidence };
  // A birthday without its year (Google's --11-02, Mailchimp's 11/02): not a date of birth; the rest of the row goes.
  if (evidence === 'yearless') return { value: '', evidence, note: 'a date without a year was not sent' };
  if (evidence === 'other') return { value: v, evidence }; // the target says why it is not a date
  if (!order) {
    if (evidence === 'ambiguous') return { error: `"${v}" can be read day-first or month-first, and this column's order is not settled; say which with --date-order dmy|mdy (or a "date" transform in the mapping)` };
    order = evidence === 'same' ? 'dmy' : evidence;
  }
  const m = NUMERIC_DATE.exec(v.replace(TRAILING_TIME, ''))!;
  const [a, b] = [Number(m[1]), Number(m[3])];
  const y = m[4]!.length === 2 ? fullYear(Number(m[4])) : Number(m[4]);
  const [mo, d] = order === 'dmy' ? [b, a] : [a, b];
  if (!isValidYmd(y, mo, d)) return { error: `"${v}" is not a date in this column's ${order === 'dmy' ? 'day/month/year' : 'month/day/year'} order (other rows settle it)` };
  return { value: `${y}-${pad(mo)}-${pad(d)}`, evidence };
}

/** A cell saved with Excel's text marker: '+61298765432, '02108 (the apostrophe is not part of the value). */
export function stripSpreadsheetQuote(value: string): string {
  return value.charCodeAt(0) === 39 && /^'[+=@\d(-]/.test(value) ? value.slice(1) : value;
}

export function titleCase(value: string): string {
  return value.toLowerCase().replace(/(^|[\s\-'])(\p{L})/gu, (_, sep: string, ch: string) => sep + ch.toUpperCase());
}

/** Keeps a leading + and the digits; leaves extensions and letters out. */
export function normalisePhone(value: string): string {
  const trimmed = value.trim();
  const plus = trimmed.startsWith('+') ? '+' : '';
  return plus + trimmed.replace(/\D/g, '');
}

export type AddressPart = 'street1' | 'street2' | 'city' | 'state' | 'postalCode' | 'country';

/**
 * A whole address in one cell, as Mailchimp exports its address field: street, [street 2], city, state, zip,
 * [country], joined by two spaces (an empty part leaves four), sometimes with "MA 02108 US" run together at the end.
 * Undefined for a value that is not in that form (a plain street stays a street).
 */
export function splitWholeAddress(value: string): Partial<Record<AddressPart, string>> | undefined {
  const v = value.trim();
  if (!/\S {2,}\S/.test(v)) return undefined;
  const parts = v.split(/ {2}/).map((p) => p.trim());
  if (parts.length < 2) return undefined;
  const last = parts[parts.length - 1]!;
  const tokens = last.split(/ +/);
  if (tokens.length > 1 && /\d/.test(last)) {
    // "MA 02108 US": state, zip, country in one part.
    let z = tokens.length - 1;
    while (z >= 0 && !/\d/.test(tokens[z]!)) z--;
    const after = tokens.slice(z + 1);
    if (after.length <= 1 && after.every((t) => /^[A-Za-z]{2,3}$/.test(t))) parts.splice(parts.length - 1, 1, tokens.slice(0, z).join(' '), tokens[z]!, ...after);
  }
  const out: Partial<Record<AddressPart, string>> = {};
  const end = [...parts];
  if (end.length >= 4 && /^[A-Za-z]{2,3}$/.test(end[end.length - 1]!) && /\d/.test(end[end.length - 2]!)) out.country = end.pop()!;
  if (end.length >= 3 && /\d/.test(end[end.length - 1]!) && end[end.length - 1]!.length <= 10) out.postalCode = end.pop()!;
  if (end.length < 3) return undefined;
  out.state = end.pop()!;
  out.city = end.pop()!;
  out.street1 = end.shift()!;
  const rest = end.filter((p) => p !== '');
  if (rest.length > 0) out.street2 = rest.join(', ');
  if (!out.street1 || !out.city) return undefined;
  for (const k of Object.keys(out) as AddressPart[]) if (out[k] === '') delete out[k];
  return out;
}
