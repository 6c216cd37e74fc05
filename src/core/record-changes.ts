import type { FieldChange } from './types.js';

/**
 * What writing `intended` (a payload in flat form) would change in `current` (the stored record, flat; undefined
 * when there is none): the fields whose value differs, in the payload's order. A field the payload empties and the
 * record does not hold is no change.
 */
export function diffRecord(intended: Record<string, string>, current: Record<string, string> | undefined): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const [field, value] of Object.entries(intended)) {
    const old = current?.[field] ?? '';
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
  return changes.map((c) => `${c.field}: ${JSON.stringify(c.old)} → ${JSON.stringify(c.new)}`).join('; ');
}

/**
 * Which of `expected`'s fields the record no longer holds as expected, said for a person
 * (`firstName is "Annie", expected "Anne"`); empty when it holds all of them.
 */
export function drift(expected: Record<string, string>, current: Record<string, string> | undefined): string[] {
  const out: string[] = [];
  for (const [field, value] of Object.entries(expected)) {
    const now = current?.[field] ?? '';
    if (now !== value) out.push(`${field} is ${JSON.stringify(now)}, expected ${JSON.stringify(value)}`);
  }
  return out;
}
