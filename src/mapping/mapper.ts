import { UsageError } from '../core/errors.js';
import type { MappedRow, RowMapper, Target } from '../core/types.js';
import { GROUP_FIELDS, isGroupField, type CustomRule, type FieldRule, type MappingSpec } from './mapping-file.js';
import { EXPORT_HEADERS } from './export-headers.js';
import { normaliseDate, normaliseHeader, splitWholeAddress, type AddressPart, type DateOrder } from './values.js';

export type { RowMapper } from '../core/types.js';

const CUSTOM_PREFIX = /^custom[:.](.+)$/i;

/** Normalised header → target field: the target's own names and aliases first, then common exports' by role. */
export function headerIndex(target: Target): Map<string, string> {
  const index = new Map<string, string>();
  const add = (alias: string, field: string) => {
    const key = normaliseHeader(alias);
    if (!index.has(key)) index.set(key, field);
  };
  for (const f of target.fields) for (const a of [f.name, ...f.aliases]) add(a, f.name);
  for (const f of target.fields) for (const a of (f.role && EXPORT_HEADERS[f.role]) || []) add(a, f.name);
  return index;
}

/** Builds the mapper: a mapping file's rules, plus well-known headers matched to the target's fields. */
export interface RowMapperOptions {
  /** --empty clear: an empty cell of any mapped field the target can clear clears it (a rule's own "empty" wins). */
  emptyClears?: boolean;
}

export function createRowMapper(target: Target, spec: MappingSpec | undefined, inputName: string, mapperOptions: RowMapperOptions = {}): RowMapper {
  const aliasIndex = headerIndex(target);
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

  const autoBind = (column: string) => {
    if (seenColumns.has(column)) return;
    seenColumns.add(column);
    // A failed-rows file's own column: the reason a row failed last time, never data.
    if (column === 'sync_error') return void used.add(column);
    if (!autoMatch || used.has(column)) return;
    const custom = CUSTOM_PREFIX.exec(column);
    if (custom && canCustom) {
      customRulesAuto.push({ name: custom[1]!.trim(), columns: [column], separator: ' ', transforms: [] });
      used.add(column);
      return;
    }
    const field = aliasIndex.get(normaliseHeader(column)) ?? (target.isKnownField(column) ? column : undefined);
    if (field && !claimed.has(field)) {
      claimed.add(field);
      // A column called just "Address" may hold the whole address (Mailchimp): read so when a value has that form.
      const wholeAddress = field === partFields.street1 && normaliseHeader(column) === 'address' ? true : undefined;
      rules.push({ field, columns: [column], separator: ' ', transforms: [], wholeAddress });
      used.add(column);
    }
  };
  const customRulesAuto: CustomRule[] = [];
  let bound = false;
  let fixedColumns = false;

  // The value as a plain string, or why it cannot be used: no wrapper object per field and row.
  const apply = (rule: Omit<FieldRule, 'field'>, fields: Record<string, string>): string | { error: string } => {
    let value: string;
    if (rule.columns.length === 1) value = (fields[rule.columns[0]!] ?? '').trim();
    else {
      const parts: string[] = [];
      for (const c of rule.columns) {
        const v = (fields[c] ?? '').trim();
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
  const isPlain = (rule: FieldRule) => rule.columns.length === 1 && rule.transforms.length === 0 && !rule.valueMap && rule.defaultValue === undefined && !readsDates(rule) && !rule.wholeAddress && !clears(rule);

  return {
    bind(columns, fixed = false) {
      if (bound) {
        // Cheap when nothing is new: every column given so far went through autoBind once.
        if (!fixedColumns && columns.length !== seenColumns.size) for (const c of columns) autoBind(c);
        return;
      }
      bound = true;
      fixedColumns = fixed;
      const known = new Set(columns);
      const missing: string[] = [];
      for (const r of [...rules, ...groupRules, ...custom]) {
        const where = 'field' in r ? spec?.where.get(r.field as string) : undefined;
        for (const c of r.columns) {
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
      for (const c of columns) autoBind(c);
    },
    map(fields) {
      const out: MappedRow = { fields: {}, custom: [] };
      let whole: string[] | undefined;
      for (let i = 0; i < rules.length; i++) {
        const rule = rules[i]!;
        let r: string | { error: string };
        if (isPlain(rule)) {
          // One column as it is: the common case, without the general path's checks.
          const v = fields[rule.columns[0]!];
          if (v === undefined) continue;
          r = v.trim();
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
          if (typeof r !== 'string') return { error: `${rule.field} (from ${rule.columns.map((c) => `"${c}"`).join(' + ')}): ${r.error}` };
          if (r === '' && !rule.columns.some((c) => c in fields)) continue;
          if (r === '' && clears(rule)) {
            (out.clear ??= []).push(rule.field);
            continue;
          }
        }
        out.fields[rule.field] = r;
        if (rule.wholeAddress && r !== '') (whole ??= []).push(r);
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
          if (typeof r !== 'string') return { error: `custom field ${rule.name ?? rule.fieldId}: ${r.error}` };
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
      return { mapped: out };
    },
    matches() {
      return [
        ...rules.filter((r) => !droppedDates.has(r.field)).map((r) => ({ field: r.field, column: r.columns.join(' + ') || `(default "${r.defaultValue}")` })),
        // A whole-address column also gives the other address fields that no column of their own gives.
        ...rules
          .filter((r) => r.wholeAddress)
          .flatMap((r) => Object.values(partFields).filter((f) => f !== r.field && !rules.some((o) => o.field === f)).map((f) => ({ field: f, column: `${r.columns.join(' + ')} (whole address)` }))),
        ...[...custom, ...customRulesAuto].map((r) => ({ field: `custom ${r.name ?? r.fieldId}`, column: r.columns.join(' + ') })),
        ...groupRules.map((r) => ({ field: r.field, column: r.columns.join(' + ') })),
      ];
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
