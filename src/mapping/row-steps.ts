import type { MappedRow } from '../core/types.js';
import { GROUP_FIELDS, type FieldRule } from './mapping-file.js';
import { phoneKindOfLabel, type PhoneKind } from './header-words.js';
import { splitWholeAddress, stripSpreadsheetQuote, type AddressPart } from './values.js';

// Steps of mapping one row that need nothing of the mapper but what they are given (mapper.ts runs them).

/** The rule's value as a plain string, or why it cannot be used: no wrapper object per field and row. */
export function applyRule(rule: Omit<FieldRule, 'field'>, fields: Record<string, string>): string | { error: string } {
  let value: string;
  if (rule.columns.length === 1) {
    value = stripSpreadsheetQuote((fields[rule.columns[0]!] ?? '').trim());
    for (let i = 0; value === '' && rule.fallback && i < rule.fallback.length; i++) value = stripSpreadsheetQuote((fields[rule.fallback[i]!] ?? '').trim());
  } else {
    const parts: string[] = [];
    for (const c of rule.columns) {
      const v = stripSpreadsheetQuote((fields[c] ?? '').trim());
      if (v !== '') parts.push(v);
    }
    value = parts.join(rule.separator);
  }
  for (const t of rule.transforms) {
    const r = t(value);
    if ('error' in r) return r;
    value = r.value;
  }
  if (rule.valueMap && value !== '') {
    const mapped = rule.valueMap.get(value.toLowerCase());
    if (mapped === undefined) {
      return { error: `"${value}" is not one of the mapped values (${[...rule.valueMap.keys()].join(', ')})` };
    }
    value = mapped;
  }
  if (value === '' && rule.defaultValue !== undefined) value = rule.defaultValue;
  return value;
}

/** "Phone 1 - Value" beside "Phone 1 - Label": the label says which phone it is; a column of its own wins. */
export function placeLabelledPhones(labelled: ReadonlyArray<[FieldRule, string]>, fields: Record<string, string>, phoneFields: Record<PhoneKind, string | undefined>, out: MappedRow): void {
  for (const [rule, v] of labelled) {
    const field = phoneFields[phoneKindOfLabel(fields[rule.labelColumn!] ?? '')] ?? rule.field;
    if (!out.fields[field]) out.fields[field] = v;
  }
}

/** A street written on two lines (Salesforce's MailingStreet): the second line is line 2 unless a column gives it. */
export function splitStreetLines(out: MappedRow, street1: string, street2: string | undefined): void {
  const [first, ...more] = out.fields[street1]!.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  out.fields[street1] = first ?? '';
  if (street2 && !out.fields[street2] && more.length > 0) out.fields[street2] = more.join(', ');
  else if (more.length > 0) out.fields[street1] = [first, ...more].join(', ');
}

/** Addresses written whole in one column: their parts fill the address fields that no column of their own gives. */
export function fillFromWholeAddress(whole: readonly string[], partFields: Partial<Record<AddressPart, string>>, out: MappedRow): void {
  for (const v of whole) {
    const parts = splitWholeAddress(v);
    if (!parts) continue;
    for (const [part, value] of Object.entries(parts) as Array<[AddressPart, string]>) {
      const field = partFields[part];
      if (field && (part === 'street1' || !out.fields[field])) out.fields[field] = value;
    }
  }
}

/** The group names a group rule's cells give (segments to add or to remove), or why one cannot be read. */
export function readGroupCells(rule: FieldRule, fields: Record<string, string>, out: MappedRow): { error: string } | undefined {
  // Each cell is a list: "Volunteer, Donor 2025" (separator "," unless the mapping gives one).
  const sep = rule.listSeparator ?? ',';
  for (const c of rule.columns) {
    // Transforms apply to the cell; a value map to each name in it ("volunteer" → "Volunteer"; → "" drops it).
    const r = applyRule({ ...rule, columns: [c], valueMap: undefined }, fields);
    if (typeof r !== 'string') return { error: `${rule.field} (from "${c}"): ${r.error}` };
    const names: string[] = [];
    for (const raw of r.split(sep)) {
      const name = raw.trim();
      if (!name) continue;
      if (!rule.valueMap) names.push(name);
      else {
        const mapped = rule.valueMap.get(name.toLowerCase());
        if (mapped === undefined) return { error: `${rule.field} (from "${c}"): "${name}" is not one of the mapped names (${[...rule.valueMap.keys()].join(', ')}); map it, or map it to "" to leave it out` };
        if (mapped.trim()) names.push(mapped.trim());
      }
    }
    if (names.length > 0) (out.groups ??= { add: [], remove: [] })[GROUP_FIELDS[rule.field]!].push(...names);
  }
  return undefined;
}
