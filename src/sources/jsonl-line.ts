/*
 * One JSONL line read into a record: parsed, nested objects flattened to dotted names, values checked.
 */

/** Receives a record's fields one by one. */
export interface FieldSink {
  field(name: string, value: string): void;
}

/** Objects nested deeper than this are not flattened: the row is INVALID (a line 50,000 levels deep overflowed the stack). */
export const MAX_JSONL_DEPTH = 32;
export const TOO_DEEP = `nests objects more than ${MAX_JSONL_DEPTH} levels deep; a contact is flat (or one level: "address": {"city": …})`;

/**
 * Flattens nested objects to dotted names ("address.city"), the form mappings and auto-match use. Returns true when
 * it stopped at MAX_JSONL_DEPTH (what is deeper is not given to the sink).
 */
export function flattenInto(value: Record<string, unknown>, prefix: string, sink: FieldSink, depth = 1): boolean {
  let tooDeep = false;
  for (const k in value) {
    const v = value[k];
    const name = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') sink.field(name, v);
    else if (v === null || v === undefined) sink.field(name, '');
    else if (Array.isArray(v)) sink.field(name, v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(','));
    else if (typeof v === 'object') {
      if (depth >= MAX_JSONL_DEPTH) return true;
      tooDeep = flattenInto(v as Record<string, unknown>, name, sink, depth + 1) || tooDeep;
      if (tooDeep) return true;
    } else sink.field(name, String(v));
  }
  return tooDeep;
}

class FieldsObject implements FieldSink {
  readonly fields: Record<string, string> = {};
  field(name: string, value: string) {
    this.fields[name] = value;
  }
}

/** A record's fields as one object (a repeated dotted name keeps its last value), or undefined when too deep. */
export function flatten(value: Record<string, unknown>): Record<string, string> | undefined {
  const sink = new FieldsObject();
  return flattenInto(value, '', sink) ? undefined : sink.fields;
}

/** Valid UTF-8 is checked on the bytes; only NUL can still hide in a value (as \u0000). */
export function nulProblem(text: string, fields: Record<string, string>): string | undefined {
  if (!text.includes('\\u0000')) return undefined;
  for (const k in fields) if (fields[k]!.includes('\u0000')) return `field "${k}" contains a NUL byte (binary data?)`;
  return undefined;
}

export const NOT_UTF8 = 'is not valid UTF-8 (if the file came from Excel, re-run with --encoding latin1)';

/** Parses one decoded JSONL line (no line end) into a record, or the reason it cannot be used. */
export function parseJsonlText(text: string): { fields?: Record<string, string>; error?: string } {
  const value = parseJsonlObject(text);
  return typeof value === 'string' ? { error: value } : fieldsOf(value, text);
}

/** A parsed line's fields, or why they cannot be used. */
export function fieldsOf(value: Record<string, unknown>, text: string): { fields: Record<string, string> } | { error: string } {
  const fields = flatten(value);
  if (!fields) return { error: TOO_DEEP };
  const nul = nulProblem(text, fields);
  return nul ? { error: nul } : { fields };
}

/** The line's object, or why it is not one. */
export function parseJsonlObject(text: string): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return `is not valid JSON (${(err as Error).message}); each line must be one JSON object`;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    return `is ${kind}, not a JSON object; each line must be one object like {"email": "…"}`;
  }
  return value as Record<string, unknown>;
}

/** Only spaces and tabs (a blank line, skipped). */
export function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}
