import { UsageError } from '../core/errors.js';
import type { MappedRow, Target } from '../core/types.js';
import type { CustomRule, FieldRule, MappingSpec } from './mapping-file.js';
import { normaliseHeader } from './values.js';

export interface RowMapper {
  /**
   * Checks the mapping against the columns; throws a UsageError before any row is sent. Without `fixed` (JSONL,
   * whose later records may bring new keys) call it again with each chunk's columns: new ones are auto-matched,
   * in the order they were first seen, as if each had been there from the start.
   */
  bind(columns: readonly string[], fixed?: boolean): void;
  /** Maps one record whose keys are all among the columns given to `bind`. */
  map(fields: Record<string, string>): { mapped: MappedRow } | { error: string };
  /** Field ← column, for the run's opening lines. */
  matches(): Array<{ field: string; column: string }>;
  unusedColumns(): string[];
}

const CUSTOM_PREFIX = /^custom[:.](.+)$/i;

/** Builds the mapper: a mapping file's rules, plus well-known headers matched to the target's fields. */
export function createRowMapper(target: Target, spec: MappingSpec | undefined, inputName: string): RowMapper {
  const aliasIndex = new Map<string, string>();
  for (const f of target.fields) {
    for (const a of [f.name, ...f.aliases]) {
      const key = normaliseHeader(a);
      if (!aliasIndex.has(key)) aliasIndex.set(key, f.name);
    }
  }
  const rules: FieldRule[] = spec ? [...spec.rules] : [];
  const custom: CustomRule[] = spec ? [...spec.custom] : [];
  const autoMatch = spec ? spec.autoMatch : true;
  const seenColumns = new Set<string>();
  const used = new Set<string>();
  const claimed = new Set(rules.map((r) => r.field));
  const canCustom = target.isKnownField('customFieldValues');

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
      rules.push({ field, columns: [column], separator: ' ', transforms: [] });
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
  const isPlain = (rule: FieldRule) => rule.columns.length === 1 && rule.transforms.length === 0 && !rule.valueMap && rule.defaultValue === undefined;

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
      for (const r of [...rules, ...custom]) {
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
          if (typeof r !== 'string') return { error: `${rule.field} (from ${rule.columns.map((c) => `"${c}"`).join(' + ')}): ${r.error}` };
          if (r === '' && !rule.columns.some((c) => c in fields)) continue;
        }
        out.fields[rule.field] = r;
      }
      if (custom.length + customRulesAuto.length > 0) {
        for (const rule of [...custom, ...customRulesAuto]) {
          const r = apply(rule, fields);
          if (typeof r !== 'string') return { error: `custom field ${rule.name ?? rule.fieldId}: ${r.error}` };
          if (r !== '') out.custom.push({ name: rule.name, fieldId: rule.fieldId, value: r });
        }
      }
      return { mapped: out };
    },
    matches() {
      return [
        ...rules.map((r) => ({ field: r.field, column: r.columns.join(' + ') || `(default "${r.defaultValue}")` })),
        ...[...custom, ...customRulesAuto].map((r) => ({ field: `custom ${r.name ?? r.fieldId}`, column: r.columns.join(' + ') })),
      ];
    },
    unusedColumns() {
      return [...seenColumns].filter((c) => !used.has(c));
    },
  };
}
