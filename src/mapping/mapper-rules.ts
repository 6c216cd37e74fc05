import { UsageError } from '../core/errors.js';
import type { SourceRecord, Target } from '../core/types.js';
import { isGroupField, type CustomRule, type FieldRule, type MappingSpec } from './mapping-file.js';
import { planColumns, type ColumnPlan, type PlannedColumn } from './column-plan.js';
import { describeConsent, type ConsentPolarity } from './consent.js';
import { readMappedConsent } from './consent-rules.js';
import { compileTransform, type Transform } from './transforms.js';
import { normaliseHeader } from './values.js';

const CUSTOM_PREFIX = /^custom[:.](.+)$/i;

/**
 * The rules one input is mapped by: the mapping file's, then those its columns are matched to as they come (each
 * column once, when it is first seen), and what binding them says before the run. The mapper (mapper.ts) reads rows
 * through them.
 */
export class InputRules {
  // Group fields (segments, removeSegments) are lists of names, never stored values: kept apart, never auto-matched.
  readonly rules: FieldRule[];
  readonly groupRules: FieldRule[];
  readonly custom: CustomRule[];
  readonly customRulesAuto: CustomRule[] = [];
  /** Said before the run: how consent columns read, choices the plan made. */
  readonly notes: string[] = [];
  addressGaps: string[] = [];
  readonly unreadConsent: string[] = [];
  readonly consentWords: { yes: string; no: string };
  private readonly seenColumns = new Set<string>();
  private readonly used = new Set<string>();
  private readonly autoMatch: boolean;
  private readonly claimed: Set<string>;
  private readonly canCustom: boolean;
  private readonly consentFields: Set<string>;
  private bound = false;
  private fixedColumns = false;

  /** `street1`: the target's first street line, which a column called just "Address" may give whole. */
  constructor(private readonly target: Target, private readonly spec: MappingSpec | undefined, private readonly inputName: string, private readonly street1: string | undefined) {
    this.rules = spec ? spec.rules.filter((r) => !isGroupField(r.field)) : [];
    this.groupRules = spec ? spec.rules.filter((r) => isGroupField(r.field)) : [];
    this.custom = spec ? [...spec.custom] : [];
    this.autoMatch = spec ? spec.autoMatch : true;
    this.claimed = new Set(this.rules.map((r) => r.field));
    this.canCustom = !!target.customFieldList;
    this.consentWords = target.optInValues ?? { yes: 'true', no: 'false' };
    this.consentFields = new Set(target.fields.filter((f) => f.role === 'emailStatus' || f.role === 'smsStatus').map((f) => f.name));
  }

  /** RowMapper.bind: the first time, the mapping file's columns checked; every time, new columns matched. */
  bind(columns: readonly string[], fixed: boolean, sample: readonly SourceRecord[]): void {
    if (this.bound) {
      // Cheap when nothing is new: every column given so far went through autoBind once.
      if (!this.fixedColumns && columns.length !== this.seenColumns.size) this.autoBind(columns, sample);
      return;
    }
    this.bound = true;
    this.fixedColumns = fixed;
    this.checkNamedColumns(columns);
    for (const rule of this.rules) if (this.consentFields.has(rule.field)) this.notes.push(...readMappedConsent(rule, this.consentWords, this.spec?.where.get(rule.field)));
    this.autoBind(columns, sample);
  }

  /** Every column the mapping file names is used, and must be one of the input's: a UsageError names those that are not. */
  private checkNamedColumns(columns: readonly string[]): void {
    const known = new Set(columns);
    const missing: string[] = [];
    for (const r of [...this.rules, ...this.groupRules, ...this.custom]) {
      const where = 'field' in r ? this.spec?.where.get(r.field as string) : undefined;
      for (const c of [...r.columns, ...(r.labelColumn ? [r.labelColumn] : []), ...(r.fallback ?? [])]) {
        if (!known.has(c)) missing.push(`"${c}"${where ? ` (${where})` : ''}`);
        this.used.add(c);
      }
    }
    if (missing.length > 0 && columns.length > 0) {
      throw new UsageError(
        `The mapping names ${missing.join(', ')}, not a column of ${this.inputName} (its columns: ${columns.join(', ')}). ` +
          'Fix the column names in the mapping file.',
        'E_MAPPING',
      );
    }
  }

  /** Columns seen for the first time: matched by the column plan (header words, then what the sample's values are). */
  private autoBind(columns: readonly string[], sample: readonly SourceRecord[]): void {
    const fresh = columns.filter((c) => !this.seenColumns.has(c));
    for (const c of fresh) this.seenColumns.add(c);
    // A failed-rows file's own column: the reason a row failed last time, never data.
    for (const c of fresh) if (c === 'sync_error') this.used.add(c);
    if (!this.autoMatch) return;
    const open: string[] = [];
    for (const column of fresh) {
      if (this.used.has(column)) continue;
      const custom = CUSTOM_PREFIX.exec(column);
      if (custom && this.canCustom) {
        this.customRulesAuto.push({ name: custom[1]!.trim(), columns: [column], separator: ' ', transforms: [] });
        this.used.add(column);
      } else open.push(column);
    }
    if (open.length === 0) return;
    this.addPlan(planColumns(this.target, open, sample, this.claimed), sample);
  }

  /** The plan's columns become rules (a field's consent columns one rule, read together); its notes are said before the run. */
  private addPlan(plan: ColumnPlan, sample: readonly SourceRecord[]): void {
    this.notes.push(...plan.notes);
    for (const c of plan.unreadConsent) this.notes.push(`"${c}" looks like email consent, but its values do not say which way round: it is NOT read, so no one's email status comes from it. If it is consent, map it with "consent" or a value map`);
    this.unreadConsent.push(...plan.unreadConsent);
    this.addressGaps = [...this.addressGaps, ...plan.addressGaps];
    const consent = new Map<string, Array<{ column: string; polarity: ConsentPolarity }>>();
    for (const p of plan.columns) {
      if (!p.field) continue;
      this.used.add(p.column);
      if (p.consent) {
        consent.set(p.field, [...(consent.get(p.field) ?? []), { column: p.column, polarity: p.consent }]);
        this.notes.push(describeConsent(p.column, p.consent, sample.map((r) => r.fields?.[p.column] ?? '')));
        continue;
      }
      this.addPlannedRule(p, p.field);
    }
    for (const [field, reads] of consent) {
      this.claimed.add(field);
      this.rules.push({ field, columns: reads.map((r) => r.column), separator: ' ', transforms: [], consent: reads });
    }
  }

  /** The rule for one planned column (and a whole name's second one, for the last name). */
  private addPlannedRule(p: PlannedColumn, field: string): void {
    this.claimed.add(field);
    // A column called just "Address" may hold the whole address (Mailchimp): read so when a value has that form.
    const wholeAddress = field === this.street1 && normaliseHeader(p.column) === 'address' ? true : undefined;
    const transforms = p.dateFormat ? [compileTransform({ date: p.dateFormat }) as Transform] : p.lastField ? [compileTransform('first-name') as Transform] : [];
    if (p.lastField) {
      this.claimed.add(p.lastField);
      this.rules.push({ field: p.lastField, columns: [p.column], separator: ' ', transforms: [compileTransform('last-name') as Transform] });
    }
    this.rules.push({ field, columns: p.columns ?? [p.column], separator: p.separator ?? ' ', transforms, dateFormat: p.dateFormat, wholeAddress, labelColumn: p.labelColumn, fallback: p.fallback });
    for (const c of [...(p.labelColumn ? [p.labelColumn] : []), ...(p.fallback ?? []), ...(p.columns ?? [])]) this.used.add(c);
  }

  /** RowMapper.dropAutoFields: the rules matched automatically for these fields removed. */
  dropAutoFields(fields: readonly string[]): string[] {
    const { rules } = this;
    const named = new Set(this.spec?.rules.map((r) => r.field) ?? []);
    for (let i = rules.length - 1; i >= 0; i--) if (fields.includes(rules[i]!.field) && !named.has(rules[i]!.field)) rules.splice(i, 1);
    return fields.filter((f) => named.has(f));
  }

  unusedColumns(): string[] {
    return [...this.seenColumns].filter((c) => !this.used.has(c));
  }
}
