import type { FieldRole, MappedRow, RowMapper, SourceRecord, Target } from '../core/types.js';
import type { FieldRule, MappingSpec } from './mapping-file.js';
import { readConsentCells } from './consent-rules.js';
import type { PhoneKind } from './header-words.js';
import { InputRules } from './mapper-rules.js';
import { applyRule, fillFromWholeAddress, placeLabelledPhones, readGroupCells, splitStreetLines } from './row-steps.js';
import { normaliseDate, stripSpreadsheetQuote, type AddressPart, type DateOrder } from './values.js';

export type { RowMapper } from '../core/types.js';

/** A number as a spreadsheet shows a long one: 5.03556E+09. */
const SPREADSHEET_NUMBER = /^[+-]?\d(?:[.,]\d+)?E\+?\d+$/i;

const byRole = (target: Target, role: FieldRole) => target.fields.find((f) => f.role === role)?.name;

/** Builds the mapper: a mapping file's rules, plus well-known headers matched to the target's fields. */
export interface RowMapperOptions {
  /** --empty clear: an empty cell of any mapped field the target can clear clears it (a rule's own "empty" wins). */
  emptyClears?: boolean;
  /** --strict-values: a value that cannot be used makes its row INVALID, instead of the row going without it. */
  strictValues?: boolean;
}

export function createRowMapper(target: Target, spec: MappingSpec | undefined, inputName: string, mapperOptions: RowMapperOptions = {}): RowMapper {
  return new FileMapper(target, spec, inputName, mapperOptions);
}

/** One input's mapper: each row read through the input's rules (mapper-rules.ts), then what the row's fields say together. */
class FileMapper implements RowMapper {
  private readonly input: InputRules;
  private readonly partFields: Partial<Record<AddressPart, string>> = {};
  private readonly dateFields: Set<string>;
  /** Per date field: its order once settled (by a survey, --date-order, or the first value that reads one way). */
  private readonly dateOrders = new Map<string, DateOrder>();
  private readonly droppedDates = new Set<string>();
  private readonly clearable = new Map<string, boolean>();
  private readonly keyFields: Set<string>;
  private readonly phoneFields: Record<PhoneKind, string | undefined>;
  private readonly phoneFieldNames: string[];
  private readonly street1: string | undefined;
  private readonly street2: string | undefined;

  constructor(private readonly target: Target, spec: MappingSpec | undefined, inputName: string, private readonly options: RowMapperOptions) {
    for (const f of target.fields) if (f.role && ['street1', 'street2', 'city', 'state', 'postalCode', 'country'].includes(f.role)) this.partFields[f.role as AddressPart] = f.name;
    this.dateFields = new Set(target.fields.filter((f) => f.kind === 'date').map((f) => f.name));
    this.keyFields = new Set([...target.keyFields, ...target.fields.filter((f) => f.role === 'email' || f.role === 'remoteId').map((f) => f.name)]);
    this.phoneFields = { home: byRole(target, 'homePhone'), mobile: byRole(target, 'mobilePhone'), work: byRole(target, 'workPhone') };
    this.phoneFieldNames = Object.values(this.phoneFields).filter((f): f is string => f !== undefined);
    this.street1 = this.partFields.street1;
    this.street2 = this.partFields.street2;
    this.input = new InputRules(target, spec, inputName, this.street1);
  }

  /** Whether an empty cell of this rule clears its field. */
  private clears(rule: FieldRule): boolean {
    if (rule.empty) return rule.empty === 'clear';
    if (!this.options.emptyClears) return false;
    let can = this.clearable.get(rule.field);
    if (can === undefined) this.clearable.set(rule.field, (can = this.target.canClear?.(rule.field) === true));
    return can;
  }

  /** A date field whose day/month order is read from its values (no format given). */
  private readsDates(rule: FieldRule): boolean {
    return this.dateFields.has(rule.field) && rule.dateFormat === undefined && rule.columns.length > 0;
  }

  /** A rule that copies one column unchanged (no transforms, value map or default). */
  private isPlain(rule: FieldRule): boolean {
    return rule.columns.length === 1 && rule.transforms.length === 0 && !rule.valueMap && rule.defaultValue === undefined && !this.readsDates(rule) && !rule.wholeAddress && !this.clears(rule) && !rule.consent && !rule.labelColumn && !rule.fallback;
  }

  bind(columns: readonly string[], fixed = false, sample: readonly SourceRecord[] = []): void {
    this.input.bind(columns, fixed, sample);
  }

  map(fields: Record<string, string>): { mapped: MappedRow } | { error: string } {
    const out: MappedRow = { fields: {}, custom: [] };
    const { rules } = this.input;
    let whole: string[] | undefined;
    let labelled: Array<[FieldRule, string]> | undefined;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!;
      let r: string;
      if (rule.consent) {
        const c = readConsentCells(rule.consent, fields, this.input.consentWords);
        if ('error' in c) {
          const e = this.unusable(out, rule.field, `${rule.field}: ${c.error}`);
          if (e) return e;
        } else if (c.value !== '') out.fields[rule.field] = c.value;
        continue;
      }
      if (this.isPlain(rule)) {
        // One column as it is: the common case, without the general path's checks.
        const v = fields[rule.columns[0]!];
        if (v === undefined) continue;
        r = v.trim();
        if (r.charCodeAt(0) === 39) r = stripSpreadsheetQuote(r);
      } else {
        const g = this.ruleValue(rule, fields, out);
        if (g === undefined) continue;
        if (typeof g !== 'string') return g;
        if (rule.labelColumn) {
          if (g !== '') (labelled ??= []).push([rule, g]);
          continue;
        }
        if (g === '' && this.clears(rule)) {
          (out.clear ??= []).push(rule.field);
          continue;
        }
        r = g;
      }
      out.fields[rule.field] = r;
      if (rule.wholeAddress && r !== '') (whole ??= []).push(r);
    }
    if (labelled) placeLabelledPhones(labelled, fields, this.phoneFields, out);
    const phoneError = this.dropRewrittenPhones(out);
    if (phoneError) return phoneError;
    if (this.street1 && out.fields[this.street1]?.includes('\n')) splitStreetLines(out, this.street1, this.street2);
    if (whole) fillFromWholeAddress(whole, this.partFields, out);
    if (this.input.custom.length + this.input.customRulesAuto.length > 0) {
      const e = this.mapCustom(fields, out);
      if (e) return e;
    }
    for (const rule of this.input.groupRules) {
      const e = readGroupCells(rule, fields, out);
      if (e) return e;
    }
    for (const c of this.input.addressGaps) if (fields[c]?.trim()) out.addressIncomplete = true;
    return { mapped: out };
  }

  /** A value that cannot be used: the row goes without it (said on its line), or, for a key or --strict-values, is INVALID. */
  private unusable(out: MappedRow, field: string, message: string): { error: string } | undefined {
    if (this.options.strictValues || this.keyFields.has(field)) return { error: message };
    (out.dropped ??= []).push({ field, reason: message });
    return undefined;
  }

  /** A rule's value by the general path (transforms, value map, default, a date's order): undefined when the row goes without it. */
  private ruleValue(rule: FieldRule, fields: Record<string, string>, out: MappedRow): string | { error: string } | undefined {
    let r = applyRule(rule, fields);
    if (typeof r === 'string' && r !== '' && this.readsDates(rule)) {
      if (this.droppedDates.has(rule.field)) return undefined;
      r = this.readDate(rule.field, r, out);
    }
    if (typeof r !== 'string') return this.unusable(out, rule.field, `${rule.field} (from ${rule.columns.map((c) => `"${c}"`).join(' + ')}): ${r.error}`);
    if (r === '' && !rule.columns.some((c) => c in fields)) return undefined;
    return r;
  }

  /** A date field's value as YYYY-MM-DD, read in the field's order where it is settled. */
  private readDate(field: string, value: string, out: MappedRow): string | { error: string } {
    const d = normaliseDate(value, this.dateOrders.get(field));
    if ('error' in d) return d;
    // The first value that reads one way settles the column for every row after it.
    if ((d.evidence === 'dmy' || d.evidence === 'mdy') && !this.dateOrders.has(field)) this.dateOrders.set(field, d.evidence);
    if (d.note) (out.notes ??= []).push(`${field}: ${d.note}`);
    return d.value;
  }

  /** "5.03556E+09": a spreadsheet showed the phone as a number and saved what it showed. The digits are gone. */
  private dropRewrittenPhones(out: MappedRow): { error: string } | undefined {
    for (const pf of this.phoneFieldNames) {
      const v = out.fields[pf];
      if (v === undefined || !SPREADSHEET_NUMBER.test(v)) continue;
      delete out.fields[pf];
      const e = this.unusable(out, pf, `${pf} "${v}" is a phone number a spreadsheet rewrote in scientific notation, its last digits lost (format the column as text where it was exported, and export again)`);
      if (e) return e;
    }
    return undefined;
  }

  /** The custom fields' values (the mapping file's rules, then "custom:" columns), an empty one cleared where asked. */
  private mapCustom(fields: Record<string, string>, out: MappedRow): { error: string } | undefined {
    for (const rule of [...this.input.custom, ...this.input.customRulesAuto]) {
      const r = applyRule(rule, fields);
      if (typeof r !== 'string') {
        const e = this.unusable(out, `custom ${rule.name ?? rule.fieldId}`, `custom field ${rule.name ?? rule.fieldId}: ${r.error}`);
        if (e) return e;
        continue;
      }
      if (r !== '') out.custom.push(rule.type ? { name: rule.name, fieldId: rule.fieldId, value: r, type: rule.type } : { name: rule.name, fieldId: rule.fieldId, value: r });
      else if ((rule.empty ?? (this.options.emptyClears ? 'clear' : 'skip')) === 'clear' && rule.columns.some((c) => c in fields)) {
        out.custom.push({ name: rule.name, fieldId: rule.fieldId, value: '' });
        (out.clear ??= []).push(`custom ${rule.name ?? rule.fieldId}`);
      }
    }
    return undefined;
  }

  matches(): Array<{ field: string; column: string }> {
    const { rules, custom, customRulesAuto, groupRules } = this.input;
    const { droppedDates, partFields } = this;
    return [
      ...rules.filter((r) => !droppedDates.has(r.field)).map((r) => ({ field: r.field, column: (r.columns.join(' + ') || `(default "${r.defaultValue}")`) + (r.fallback ? ` (else ${r.fallback.join(', else ')})` : '') + (r.labelColumn ? ` (which phone: ${r.labelColumn})` : '') })),
      // A whole-address column also gives the other address fields that no column of their own gives.
      ...rules
        .filter((r) => r.wholeAddress)
        .flatMap((r) => Object.values(partFields).filter((f) => f !== r.field && !rules.some((o) => o.field === f)).map((f) => ({ field: f, column: `${r.columns.join(' + ')} (whole address)` }))),
      ...[...custom, ...customRulesAuto].map((r) => ({ field: `custom ${r.name ?? r.fieldId}`, column: r.columns.join(' + ') })),
      ...groupRules.map((r) => ({ field: r.field, column: r.columns.join(' + ') })),
    ];
  }

  planNotes(): string[] {
    return this.input.notes;
  }

  dropAutoFields(fields: readonly string[]): string[] {
    return this.input.dropAutoFields(fields);
  }

  addressGaps(): string[] {
    return this.input.addressGaps;
  }

  unreadConsent(): string[] {
    return this.input.unreadConsent;
  }

  unusedColumns(): string[] {
    return this.input.unusedColumns();
  }

  dateColumns(): Array<{ field: string; columns: string[] }> {
    return this.input.rules.filter((r) => this.readsDates(r) && !this.droppedDates.has(r.field) && !this.dateOrders.has(r.field)).map((r) => ({ field: r.field, columns: r.columns }));
  }

  settleDate(field: string, order: 'dmy' | 'mdy' | 'drop'): void {
    if (order === 'drop') this.droppedDates.add(field);
    else this.dateOrders.set(field, order);
  }
}
