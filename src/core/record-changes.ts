import type { FieldChange, FoundRecord } from './types.js';
import { normaliseEmail } from './keys.js';

/**
 * What a record holds for a field: its value ("" when empty), or null when the tool could not read it — a shape it
 * does not know, or a field the answer leaves out where the remote answers every field it has (FoundRecord.absent).
 * No record at all holds nothing: "".
 */
export function heldValue(rec: FoundRecord | undefined, field: string): string | null {
  if (!rec) return '';
  if (rec.unknown?.includes(field)) return null;
  const v = rec.backup[field];
  if (v !== undefined) return v;
  return rec.absent === 'unknown' ? null : '';
}

/**
 * What writing `intended` (a payload in flat form) would change in `current` (the stored record; undefined when
 * there is none): the fields whose value differs, in the payload's order. A field the payload empties and the record
 * does not hold is no change; a field whose current value is unknown is a change from unknown (old: null).
 */
export function diffRecord(intended: Record<string, string>, current: FoundRecord | undefined): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const [field, value] of Object.entries(intended)) {
    const old = heldValue(current, field);
    if (old !== value) changes.push({ field, old, new: value });
  }
  return changes;
}

/**
 * `intended` with each field named as the stored record names it, where the two differ only in case (a mapping's
 * custom field "volunteer" is the account's "Volunteer": the remote matches names regardless of case). Without it a
 * diff would see an empty field beside the stored one, and an undo would put back the wrong one.
 */
export function alignFieldNames(intended: Record<string, string>, current: Record<string, string> | undefined): Record<string, string> {
  if (!current) return intended;
  const byLower = new Map(Object.keys(current).map((k) => [k.toLowerCase(), k]));
  const out: Record<string, string> = {};
  for (const [field, value] of Object.entries(intended)) {
    out[field in current ? field : byLower.get(field.toLowerCase()) ?? field] = value;
  }
  return out;
}

/** `firstName: "Ann" → "Anne"; addressLine2: "Apt 3" → ""`, values as JSON strings so any value reads back. */
export function describeChanges(changes: readonly FieldChange[]): string {
  return changes.map((c) => `${c.field}: ${c.old === null ? '(unknown: could not be read)' : JSON.stringify(c.old)} → ${JSON.stringify(c.new)}`).join('; ');
}

/**
 * Which of `expected`'s fields the record no longer holds as expected, said for a person
 * (`firstName is "Annie", expected "Anne"`); empty when it holds all of them.
 */
export function drift(expected: Record<string, string>, current: FoundRecord | undefined): string[] {
  const out: string[] = [];
  for (const [field, value] of Object.entries(expected)) {
    const now = heldValue(current, field);
    if (now === null) out.push(`${field} could not be read back, expected ${JSON.stringify(value)}`);
    else if (now !== value && !(current && sameEmailSpelledOtherwise(current, now, value))) out.push(`${field} is ${JSON.stringify(now)}, expected ${JSON.stringify(value)}`);
  }
  return out;
}

/** The record's email, found spelled in another case than expected: the same address, no change (README "Same person twice"). */
function sameEmailSpelledOtherwise(current: FoundRecord, now: string, expected: string): boolean {
  return current.email !== undefined && now === current.email && normaliseEmail(now) === normaliseEmail(expected);
}
