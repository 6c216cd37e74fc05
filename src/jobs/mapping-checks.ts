import { UsageError } from '../core/errors.js';
import type { RowMapper, SourceRecord, Target } from '../core/types.js';
import { surveyDateColumns } from '../mapping/date-survey.js';
import { isEmail } from '../mapping/values.js';
import { openSource } from '../sources/index.js';
import type { DataJob } from './data-job-types.js';

/**
 * Every date column's day/month order, once for the whole column: from --date-order, else from the file itself (a
 * survey that reads as far as it must). Stdin cannot be read twice: there the first value that reads one way
 * settles it, and ambiguous rows before it are INVALID with the fix.
 */
export async function settleDates(job: DataJob, mapper: RowMapper): Promise<string[]> {
  const { input, target } = job;
  if (job.dateOrder !== undefined) {
    for (const f of target.fields) if (f.kind === 'date') mapper.settleDate(f.name, job.dateOrder);
    return [];
  }
  if (input === '-') return [];
  const survey = await openSource(input, { format: job.format, delimiter: job.delimiter, encoding: job.encoding });
  return surveyDateColumns(survey, mapper, input);
}

/**
 * A file in which no column maps to a field that identifies a record (email, an id) would make every row INVALID:
 * said once, before anything is sent, naming the column whose values look like email addresses.
 */
export function requireKeyColumn(mapper: RowMapper, target: Target, sample: readonly SourceRecord[], name: string): void {
  const mapped = new Set(mapper.matches().map((m) => m.field));
  if (target.keyFields.some((f) => mapped.has(f))) return;
  const columns = [...new Set(sample.flatMap((r) => Object.keys(r.fields ?? {})))];
  const emails = columns
    .map((c) => ({ c, n: sample.filter((r) => isEmail((r.fields?.[c] ?? '').trim())).length }))
    .filter((x) => x.n > 0)
    .sort((a, b) => b.n - a.n);
  const emailField = target.keyFields[0]!;
  const hint = emails.length > 0
    ? `Column "${emails[0]!.c}" holds email addresses: map it with a mapping file ({"fields": {"${emailField}": "${emails[0]!.c}"}}), or rename the column to Email.`
    : `Add a column named Email (or one of ${target.keyFields.join(', ')}), or map one with --map.`;
  throw new UsageError(`${name}: no column maps to ${target.keyFields.join(' or ')}, so no row could be matched to a ${target.nouns.one} and every row would be INVALID. ${hint} Nothing was sent.`, 'E_NO_KEY');
}

/** --empty clear: which mapped fields an empty cell clears, and which it cannot (and why), before the run. */
export function describeClearing(mapper: RowMapper, target: Target): string {
  const fields = [...new Set(mapper.matches().map((m) => m.field))];
  const can = fields.filter((f) => f.startsWith('custom ') || target.canClear?.(f) === true);
  const cannot = fields.filter((f) => !can.includes(f)).map((f) => `${f} (${target.canClear?.(f) ?? 'not clearable'})`);
  return `--empty clear: an empty cell clears ${can.join(', ') || 'nothing mapped'}${cannot.length ? `; never cleared: ${cannot.join('; ')}` : ''}`;
}

