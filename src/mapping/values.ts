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

export function normaliseEmail(value: string): string {
  return value.trim().toLowerCase();
}

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

export function titleCase(value: string): string {
  return value.toLowerCase().replace(/(^|[\s\-'])(\p{L})/gu, (_, sep: string, ch: string) => sep + ch.toUpperCase());
}

/** Keeps a leading + and the digits; leaves extensions and letters out. */
export function normalisePhone(value: string): string {
  const trimmed = value.trim();
  const plus = trimmed.startsWith('+') ? '+' : '';
  return plus + trimmed.replace(/\D/g, '');
}
