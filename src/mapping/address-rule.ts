import type { MappedRow } from '../core/types.js';

/** A target's address fields by role, and all of them. */
export interface AddressFields {
  street1: string;
  city: string;
  state: string;
  postalCode: string;
  all: readonly string[];
}

/** What a row may do with its address, where the remote keeps each part of a stored address a request leaves out. */
export interface AddressRule {
  /** The row gives some part of an address (or clears one). */
  any: boolean;
  /** Sent over a stored address: whole, or --address replace. */
  send: boolean;
  /** Not sent over a stored one, and why: not whole (no street or city), or a part in a column with no place. */
  heldBack?: 'partial' | 'unplaced';
  /** Parts sent as "" so the sent address replaces the stored one whole (a mover's old "Apt 3"). */
  clear: string[];
}

/**
 * Whole: the row gives a street and a city, the file has a column for the state or the zip (a mapped column is in
 * the row, empty or not), and no part of it sits in a column with no place. Only a whole address goes over a stored
 * one — else a new zip under the old street would be an address nobody lives at — and then each part the file has a
 * column for and the row leaves empty is cleared; --address replace sends any address, clearing every part it lacks.
 */
export function addressRule(row: MappedRow, parts: AddressFields, replacePartial = false): AddressRule {
  const f = row.fields;
  const given = (part: string) => !!f[part] || !!row.clear?.includes(part);
  const any = parts.all.some(given);
  if (!any) return { any, send: false, clear: [] };
  const whole = given(parts.street1) && given(parts.city) && (parts.state in f || parts.postalCode in f) && !row.addressIncomplete;
  const send = whole || replacePartial;
  const clear = replacePartial ? parts.all.filter((p) => !given(p)) : whole ? parts.all.filter((p) => !given(p) && p in f) : [];
  return { any, send, heldBack: send ? undefined : row.addressIncomplete ? 'unplaced' : 'partial', clear };
}
