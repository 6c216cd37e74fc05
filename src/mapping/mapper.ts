import { UsageError } from '../core/errors.js';
import type { FieldRole, MappedRow, RowMapper, SourceRecord, Target } from '../core/types.js';
import { GROUP_FIELDS, isGroupField, type CustomRule, type FieldRule, type MappingSpec } from './mapping-file.js';
import { planColumns } from './column-plan.js';
import { describeConsent, type ConsentPolarity } from './consent.js';
import { readConsentCells, readMappedConsent } from './consent-rules.js';
import { phoneKindOfLabel } from './header-words.js';
import { compileTransform, type Transform } from './transforms.js';
import { normaliseDate, normaliseHeader, splitWholeAddress, stripSpreadsheetQuote, type AddressPart, type DateOrder } from './values.js';

export type { RowMapper } from '../core/types.js';

const CUSTOM_PREFIX = /^custom[:.](.+)$/i;
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
  // Group fields (segments, removeSegments) are lists of names, never stored values: kept apart, never auto-matched.
  const rules: FieldRule[] = spec ? spec.rules.filter((r) => !isGroupField(r.field)) : [];
  const groupRules: FieldRule[] = spec ? spec.rules.filter((r) => isGroupField(r.field)) : [];
  const custom: CustomRule[] = spec ? [...spec.custom] : [];
  const autoMatch = spec ? spec.autoMatch : true;
  const seenColumns = new Set<string>();
  const used = new Set<string>();
  const claimed = new Set(rules.map((r) => r.field));
  const canCustom = !!target.customFieldList;
  const partFields: Partial<Record<AddressPart, string>> = {};
  for (const f of target.fields) if (f.role && ['street1', 'street2', 'city', 'state', 'postalCode', 'country'].includes(f.role)) partFields[f.role as AddressPart] = f.name;
  const dateFields = new Set(target.fields.filter((f) => f.kind === 'date').map((f) => f.name));
  /** Per date field: its order once settled (by a survey, --date-order, or the first value that reads one way). */
  const dateOrders = new Map<string, DateOrder>();
  const droppedDates = new Set<string>();
  const clearable = new Map<string, boolean>();
  /** Whether an empty cell of this rule clears its field. */
  const clears = (rule: FieldRule) => {
    if (rule.empty) return rule.empty === 'clear';
    if (!mapperOptions.emptyClears) return false;
    let can = clearable.get(rule.field);
    if (can === undefined) clearable.set(rule.field, (can = target.canClear?.(rule.field) === true));
    return can;
  };
  const readsDates = (rule: FieldRule) => dateFields.has(rule.field) && rule.dateFormat === undefined && rule.columns.length > 0;

  /** Said before the run: how consent columns read, choices the plan made. */
  const planNotes: string[] = [];
  let addressGaps: string[] = [];
  const unreadConsent: string[] = [];
  const consentWords = target.optInValues ?? { yes: 'true', no: 'false' };
  const consentFields = new Set(target.fields.filter((f) => f.role === 'emailStatus' || f.role === 'smsStatus').map((f) => f.name));
  const keyFields = new Set([...target.keyFields, ...target.fields.filter((f) => f.role === 'email' || f.role === 'remoteId').map((f) => f.name)]);
  const phoneFields = { home: byRole(target, 'homePhone'), mobile: byRole(target, 'mobilePhone'), work: byRole(target, 'workPhone') };
  const phoneFieldNames = Object.values(phoneFields).filter((f): f is string => f !== undefined);
  const street1 = partFields.street1;
  const street2 = partFields.street2;

  /** Columns seen for the first time: matched by the column plan (header words, then what the sample's values are). */
  const autoBind = (columns: readonly string[], sample: readonly SourceRecord[]) => {
    const fresh = columns.filter((c) => !seenColumns.has(c));
    for (const c of fresh) seenColumns.add(c);
    // A failed-rows file's own column: the reason a row failed last time, never data.
    for (const c of fresh) if (c === 'sync_error') used.add(c);
    if (!autoMatch) return;
    const open: string[] = [];
    for (const column of fresh) {
      if (used.has(column)) continue;
      const custom = CUSTOM_PREFIX.exec(column);
      if (custom && canCustom) {
        customRulesAuto.push({ name: custom[1]!.trim(), columns: [column], separator: ' ', transforms: [] });
        used.add(column);
      } else open.push(column);
    }
    if (open.length === 0) return;
    const plan = planColumns(target, open, sample, claimed);
    planNotes.push(...plan.notes);
    for (const c of plan.unreadConsent) planNotes.push(`"${c}" looks like email consent, but its values do not say which way round: it is NOT read, so no one's email status comes from it. If it is consent, map it with "consent" or a value map`);
    unreadConsent.push(...plan.unreadConsent);
    addressGaps = [...addressGaps, ...plan.addressGaps];
    const consent = new Map<string, Array<{ column: string; polarity: ConsentPolarity }>>();
    for (const p of plan.columns) {
      if (!p.field) continue;
      used.add(p.column);
      if (p.consent) {
        consent.set(p.field, [...(consent.get(p.field) ?? []), { column: p.column, polarity: p.consent }]);
        planNotes.push(describeConsent(p.column, p.consent, sample.map((r) => r.fields?.[p.column] ?? '')));
        continue;
      }
      claimed.add(p.field);
      // A column called just "Address" may hold the whole address (Mailchimp): read so when a value has that form.
      const wholeAddress = p.field === street1 && normaliseHeader(p.column) === 'address' ? true : undefined;
      const transforms = p.dateFormat ? [compileTransform({ date: p.dateFormat }) as Transform] : p.lastField ? [compileTransform('first-name') as Transform] : [];
      if (p.lastField) {
        claimed.add(p.lastField);
        rules.push({ field: p.lastField, columns: [p.column], separator: ' ', transforms: [compileTransform('last-name') as Transform] });
      }
      rules.push({ field: p.field, columns: p.columns ?? [p.column], separator: p.separator ?? ' ', transforms, dateFormat: p.dateFormat, wholeAddress, labelColumn: p.labelColumn, fallback: p.fallback });
      for (const c of [...(p.labelColumn ? [p.labelColumn] : []), ...(p.fallback ?? []), ...(p.columns ?? [])]) used.add(c);
    }
    for (const [field, reads] of consent) {
      claimed.add(field);
      rules.push({ field, columns: reads.map((r) => r.column), separator: ' ', transforms: [], consent: reads });
    }
  };
  const customRulesAuto: CustomRule[] = [];
  let bound = false;
  let fixedColumns = false;

  // The value as a plain string, or why it cannot be used: no wrapper object per field and row.
  const apply = (rule: Omit<FieldRule, 'field'>, fields: Record<string, string>): string | { error: string } => {
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
  };

  /** A rule that copies one column unchanged (no transforms, value map or default). */
  const isPlain = (rule: FieldRule) => rule.columns.length === 1 && rule.transforms.length === 0 && !rule.valueMap && rule.defaultValue === undefined && !readsDates(rule) && !rule.wholeAddress && !clears(rule) && !rule.consent && !rule.labelColumn && !rule.fallback;

  return {
    bind(columns, fixed = false, sample = []) {
      if (bound) {
        // Cheap when nothing is new: every column given so far went through autoBind once.
        if (!fixedColumns && columns.length !== seenColumns.size) autoBind(columns, sample);
        return;
      }
      bound = true;
      fixedColumns = fixed;
      const known = new Set(columns);
      const missing: string[] = [];
      for (const r of [...rules, ...groupRules, ...custom]) {
        const where = 'field' in r ? spec?.where.get(r.field as string) : undefined;
        for (const c of [...r.columns, ...(r.labelColumn ? [r.labelColumn] : []), ...(r.fallback ?? [])]) {
          if (!known.has(c)) missing.push(`"${c}"${where ? ` (${where})` : ''}`);
          used.add(c);
        }
      }
      if (missing.length > 0 && columns.length > 0) {
        throw new UsageError(
          `The mapping names ${missing.join(', ')}, not a column of ${inputName} (its columns: ${columns.join(', ')}). ` +
            'Fix the column names in the mapping file.',
          'E_MAPPING',
        );
      }
      for (const rule of rules) if (consentFields.has(rule.field)) planNotes.push(...readMappedConsent(rule, consentWords, spec?.where.get(rule.field)));
      autoBind(columns, sample);
    },
    map(fields) {
      const out: MappedRow = { fields: {}, custom: [] };
      let whole: string[] | undefined;
      let labelled: Array<[FieldRule, string]> | undefined;
      /** A value that cannot be used: the row goes without it (said on its line), or, for a key or --strict-values, is INVALID. */
      const unusable = (field: string, message: string): { error: string } | undefined => {
        if (mapperOptions.strictValues || keyFields.has(field)) return { error: message };
        (out.dropped ??= []).push({ field, reason: message });
        return undefined;
      };
      for (let i = 0; i < rules.length; i++) {
        const rule = rules[i]!;
        let r: string | { error: string };
        if (rule.consent) {
          const c = readConsentCells(rule.consent, fields, consentWords);
          if ('error' in c) {
            const e = unusable(rule.field, `${rule.field}: ${c.error}`);
            if (e) return e;
          } else if (c.value !== '') out.fields[rule.field] = c.value;
          continue;
        }
        if (isPlain(rule)) {
          // One column as it is: the common case, without the general path's checks.
          const v = fields[rule.columns[0]!];
          if (v === undefined) continue;
          r = v.trim();
          if (r.charCodeAt(0) === 39) r = stripSpreadsheetQuote(r);
        } else {
          r = apply(rule, fields);
          if (typeof r === 'string' && r !== '' && readsDates(rule)) {
            if (droppedDates.has(rule.field)) continue;
            const d = normaliseDate(r, dateOrders.get(rule.field));
            if ('error' in d) r = d;
            else {
              // The first value that reads one way settles the column for every row after it.
              if ((d.evidence === 'dmy' || d.evidence === 'mdy') && !dateOrders.has(rule.field)) dateOrders.set(rule.field, d.evidence);
              if (d.note) (out.notes ??= []).push(`${rule.field}: ${d.note}`);
              r = d.value;
            }
          }
          if (typeof r !== 'string') {
            const e = unusable(rule.field, `${rule.field} (from ${rule.columns.map((c) => `"${c}"`).join(' + ')}): ${r.error}`);
            if (e) return e;
            continue;
          }
          if (r === '' && !rule.columns.some((c) => c in fields)) continue;
          if (rule.labelColumn) {
            if (r !== '') (labelled ??= []).push([rule, r]);
            continue;
          }
          if (r === '' && clears(rule)) {
            (out.clear ??= []).push(rule.field);
            continue;
          }
        }
        out.fields[rule.field] = r;
        if (rule.wholeAddress && r !== '') (whole ??= []).push(r);
      }
      if (labelled) {
        // "Phone 1 - Value" beside "Phone 1 - Label": the label says which phone it is; a column of its own wins.
        for (const [rule, v] of labelled) {
          const field = phoneFields[phoneKindOfLabel(fields[rule.labelColumn!] ?? '')] ?? rule.field;
          if (!out.fields[field]) out.fields[field] = v;
        }
      }
      for (const pf of phoneFieldNames) {
        // "5.03556E+09": a spreadsheet showed the phone as a number and saved what it showed. The digits are gone.
        const v = out.fields[pf];
        if (v === undefined || !SPREADSHEET_NUMBER.test(v)) continue;
        delete out.fields[pf];
        const e = unusable(pf, `${pf} "${v}" is a phone number a spreadsheet rewrote in scientific notation, its last digits lost (format the column as text where it was exported, and export again)`);
        if (e) return e;
      }
      if (street1 && out.fields[street1]?.includes('\n')) {
        // A street written on two lines (Salesforce's MailingStreet): the second line is line 2 unless a column gives it.
        const [first, ...more] = out.fields[street1]!.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
        out.fields[street1] = first ?? '';
        if (street2 && !out.fields[street2] && more.length > 0) out.fields[street2] = more.join(', ');
        else if (more.length > 0) out.fields[street1] = [first, ...more].join(', ');
      }
      if (whole) {
        // Its parts fill the address fields that no column of their own gives.
        for (const v of whole) {
          const parts = splitWholeAddress(v);
          if (!parts) continue;
          for (const [part, value] of Object.entries(parts) as Array<[AddressPart, string]>) {
            const field = partFields[part];
            if (field && (part === 'street1' || !out.fields[field])) out.fields[field] = value;
          }
        }
      }
      if (custom.length + customRulesAuto.length > 0) {
        for (const rule of [...custom, ...customRulesAuto]) {
          const r = apply(rule, fields);
          if (typeof r !== 'string') {
            const e = unusable(`custom ${rule.name ?? rule.fieldId}`, `custom field ${rule.name ?? rule.fieldId}: ${r.error}`);
            if (e) return e;
            continue;
          }
          if (r !== '') out.custom.push(rule.type ? { name: rule.name, fieldId: rule.fieldId, value: r, type: rule.type } : { name: rule.name, fieldId: rule.fieldId, value: r });
          else if ((rule.empty ?? (mapperOptions.emptyClears ? 'clear' : 'skip')) === 'clear' && rule.columns.some((c) => c in fields)) {
            out.custom.push({ name: rule.name, fieldId: rule.fieldId, value: '' });
            (out.clear ??= []).push(`custom ${rule.name ?? rule.fieldId}`);
          }
        }
      }
      for (const rule of groupRules) {
        // Each cell is a list: "Volunteer, Donor 2025" (separator "," unless the mapping gives one).
        const sep = rule.listSeparator ?? ',';
        for (const c of rule.columns) {
          // Transforms apply to the cell; a value map to each name in it ("volunteer" → "Volunteer"; → "" drops it).
          const r = apply({ ...rule, columns: [c], valueMap: undefined }, fields);
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
      }
      for (const c of addressGaps) if (fields[c]?.trim()) out.addressIncomplete = true;
      return { mapped: out };
    },
    matches() {
      return [
        ...rules.filter((r) => !droppedDates.has(r.field)).map((r) => ({ field: r.field, column: (r.columns.join(' + ') || `(default "${r.defaultValue}")`) + (r.fallback ? ` (else ${r.fallback.join(', else ')})` : '') + (r.labelColumn ? ` (which phone: ${r.labelColumn})` : '') })),
        // A whole-address column also gives the other address fields that no column of their own gives.
        ...rules
          .filter((r) => r.wholeAddress)
          .flatMap((r) => Object.values(partFields).filter((f) => f !== r.field && !rules.some((o) => o.field === f)).map((f) => ({ field: f, column: `${r.columns.join(' + ')} (whole address)` }))),
        ...[...custom, ...customRulesAuto].map((r) => ({ field: `custom ${r.name ?? r.fieldId}`, column: r.columns.join(' + ') })),
        ...groupRules.map((r) => ({ field: r.field, column: r.columns.join(' + ') })),
      ];
    },
    planNotes() {
      return planNotes;
    },
    dropAutoFields(fields) {
      const named = new Set(spec?.rules.map((r) => r.field) ?? []);
      for (let i = rules.length - 1; i >= 0; i--) if (fields.includes(rules[i]!.field) && !named.has(rules[i]!.field)) rules.splice(i, 1);
      return fields.filter((f) => named.has(f));
    },
    addressGaps() {
      return addressGaps;
    },
    unreadConsent() {
      return unreadConsent;
    },
    unusedColumns() {
      return [...seenColumns].filter((c) => !used.has(c));
    },
    dateColumns() {
      return rules.filter((r) => readsDates(r) && !droppedDates.has(r.field) && !dateOrders.has(r.field)).map((r) => ({ field: r.field, columns: r.columns }));
    },
    settleDate(field, order) {
      if (order === 'drop') droppedDates.add(field);
      else dateOrders.set(field, order);
    },
  };
}
