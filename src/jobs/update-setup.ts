import { UsageError } from '../core/errors.js';
import type { RowMapper, Target } from '../core/types.js';
import { newerColumns, PolicyFields, type FieldUpdate, type UpdatePolicy, type UpdateRule } from '../core/update-policy.js';
import type { MappingSpec } from '../mapping/mapping-file.js';
import type { DataJob } from './data-job-types.js';

/**
 * The run's update policy from --update / --newer-column and the mapping's "update"s (a field's own wins, then the
 * flag, then the mapping's top level); undefined when every field is `always` (nothing to read first). An if-newer
 * without a timestamp column stops the run before anything is read.
 */
export function buildUpdatePolicy(job: DataJob, spec: MappingSpec | undefined): UpdatePolicy | undefined {
  const flagColumn = job.newerColumn;
  const topColumn = spec?.update?.newerColumn ?? flagColumn;
  const withColumn = (u: FieldUpdate, where: string, column = topColumn): FieldUpdate => {
    if (u.rule !== 'if-newer') return { rule: u.rule };
    const newerColumn = u.newerColumn ?? column;
    if (!newerColumn) throw new UsageError(`${where} is "if-newer", but no column says when each row last changed: name it with --newer-column "<column>" or "newer": {"column": "<column>"} in the mapping.`);
    return { rule: 'if-newer', newerColumn };
  };
  const byFlag: FieldUpdate | undefined = job.update ? withColumn({ rule: job.update }, '--update', flagColumn) : undefined;
  const fallback = byFlag ?? (spec?.update ? withColumn(spec.update, 'the mapping\'s "update"') : { rule: 'always' });
  const fields = new Map<string, FieldUpdate>();
  for (const r of spec?.rules ?? []) if (r.update) fields.set(r.field, withColumn(r.update, `field "${r.field}"'s "update"`));
  for (const c of spec?.custom ?? []) if (c.update) fields.set(`custom:${c.name ?? c.fieldId}`, withColumn(c.update, `custom field "${c.name ?? c.fieldId}"'s "update"`));
  if (fallback.rule === 'always' && [...fields.values()].every((f) => f.rule === 'always')) return undefined;
  if (!job.target.readBack) throw new UsageError(`${job.target.displayName} records cannot be read before writing, so an update policy other than "always" is not available.`, 'E_UNSUPPORTED');
  return { fields, default: fallback, dateOrder: job.dateOrder };
}

const SAID: Record<UpdateRule, string> = {
  always: 'always replaced',
  'if-empty': 'filled only where the record has none',
  never: 'set only on records this run creates',
  'if-newer': 'replaced only by a row newer than the record',
};

/**
 * Said before the first request: what the policy does with each mapped field (the address as one), what it does
 * not do to consent, and where the remote gives no modification time for if-newer. An if-newer column missing from
 * the file stops the run.
 */
export function describeUpdatePolicy(policy: UpdatePolicy, mapper: RowMapper, target: Target, columns: readonly string[]): string[] {
  const pf = new PolicyFields(target.fields, target.keyFields);
  // Keys find the record: they are what it is matched by, not values it keeps or replaces.
  const mapped = [...new Set(mapper.matches().map((m) => m.field))].filter((f) => !pf.keys.has(f));
  const units = new Map<string, FieldUpdate>();
  for (const f of mapped) units.set(pf.address.has(f) ? 'address' : f, pf.ruleOf(policy, f));
  const missing = [...units.values()].map((u) => u.newerColumn).find((c) => c !== undefined && !columns.includes(c));
  if (missing) throw new UsageError(`The if-newer column "${missing}" is not in the file (its columns: ${columns.join(', ')}). Nothing was sent.`);
  const byRule = new Map<string, string[]>();
  for (const [unit, u] of units) {
    const said = `${SAID[u.rule]}${u.newerColumn ? ` (by "${u.newerColumn}")` : ''}`;
    byRule.set(said, [...(byRule.get(said) ?? []), unit]);
  }
  const lines = [`update policy: ${[...byRule].map(([said, fields]) => `${fields.join(', ')} ${said}`).join('; ')}`];
  const consent = mapped.filter((f) => pf.consent.has(f));
  for (const f of consent) {
    const own = policy.fields.get(f);
    if (!own && policy.default.rule !== 'always') lines.push(`${f}: consent is sent as the file says; a run-wide update policy does not apply to it (give it an "update" of its own in the mapping to change that)`);
    else if (own && own.rule !== 'always') lines.push(`${f}: consent ${SAID[own.rule]}, as the mapping says: a record's stored status may stay as it is`);
  }
  if ([...units.values()].some((u) => u.rule === 'if-newer') && !target.readBack?.givesModifiedTime) {
    lines.push(`${target.displayName} gives no modification time for a record: if-newer fields are filled where the record has none, and kept where it has one`);
  }
  return lines;
}

const FIGURES = /^(\d{1,2})[/.-](\d{1,2})[/.-]\d{4}\b/;

/**
 * The day/month order of the if-newer columns, settled once for each column from its own values, as date fields
 * are: the first value that reads only one way (25/12/2026) settles the column, a column whose values read both ways
 * is refused (exit 2). Reads as far as it must; `--date-order` settles it without reading; stdin is not read twice
 * (there each value must read one way, or the row keeps the record's values). Returns the policy with the order.
 */
export async function settleTimestampOrder(job: DataJob, policy: UpdatePolicy | undefined): Promise<UpdatePolicy | undefined> {
  if (!policy || policy.dateOrder || job.input === '-') return policy;
  const columns = newerColumns(policy);
  if (columns.length === 0) return policy;
  const { openSource } = await import('../sources/index.js');
  const source = await openSource(job.input, { format: job.format, delimiter: job.delimiter, encoding: job.encoding });
  const found = new Map<string, { order: 'dmy' | 'mdy'; value: string; line: number }>();
  for await (const chunk of source.chunks()) {
    for (const r of chunk) {
      for (const c of columns) {
        const m = FIGURES.exec((r.fields?.[c] ?? '').trim());
        if (!m) continue;
        const order = Number(m[1]) > 12 ? 'dmy' : Number(m[2]) > 12 ? 'mdy' : undefined;
        if (!order) continue;
        const seen = found.get(c);
        if (!seen) found.set(c, { order, value: m[0], line: r.line });
        else if (seen.order !== order) {
          throw new UsageError(`${job.input}: the if-newer column "${c}" writes dates both day-first (line ${order === 'dmy' ? r.line : seen.line}) and month-first (line ${order === 'mdy' ? r.line : seen.line}): give --date-order dmy or mdy, or fix the column. Nothing was sent.`, 'E_DATE_ORDER');
        }
      }
    }
    // One order for every column: the flag's; columns that disagree cannot share it.
    if (found.size === columns.length) break;
  }
  const orders = new Set([...found.values()].map((f) => f.order));
  if (orders.size !== 1) return policy;
  return { ...policy, dateOrder: [...orders][0] };
}
