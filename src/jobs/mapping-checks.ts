import { UsageError } from '../core/errors.js';
import type { PrepareOptions, RowMapper, SourceRecord, Target } from '../core/types.js';
import { isGroupField } from '../mapping/mapping-file.js';
import { surveyDateColumns } from '../mapping/date-survey.js';
import { isEmail } from '../mapping/values.js';
import { openSource } from '../sources/index.js';
import type { DataJob } from './data-job-types.js';
import type { JobIO } from './job-io.js';
import { describeAddressGaps } from './run-notes.js';
import { newerColumns, type UpdatePolicy } from '../core/update-policy.js';
import { describeUpdatePolicy } from './update-setup.js';

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


/** "Columns used: …" and "Columns not used: …", before the run. */
export function describeMapping(mapper: RowMapper, io: JobIO, quiet: boolean, alsoUsed: readonly string[] = []): void {
  if (quiet) return;
  const matches = mapper.matches();
  const unused = mapper.unusedColumns().filter((c) => !alsoUsed.includes(c));
  io.say(`Columns used: ${matches.map((m) => `${m.column} → ${m.field}`).join(', ') || 'none'}`);
  if (unused.length > 0) io.say(`Columns not used: ${unused.join(', ')} (name them in a --map file, e.g. as custom fields, to send them)`);
}

/**
 * Once an import's columns are bound, before any request: what the header and its first rows told (consent read in
 * words, the email column found by its values, an address that is not whole), a key column present, the fields the
 * account will take (a field matched from a header that the account lacks is left out, said; one a mapping file
 * names is an error), and what the target does with the fields sent. Each line is said now and kept for the summary.
 */
export function checkBoundColumns(m: RowMapper, sample: readonly SourceRecord[], c: { job: DataJob; io: JobIO; prepare: PrepareOptions; notes: string[]; update?: UpdatePolicy; columns: readonly string[]; said?: Set<string> }): void {
  const { job, io, prepare } = c;
  const { target } = job;
  const say = (lines: string[]) => {
    if (!job.quiet) {
      for (const line of lines) {
        io.say(`Note: ${line}`);
        c.said?.add(line);
      }
    }
    c.notes.push(...lines);
  };
  // An if-newer column is read for its timestamps, though it maps to no field.
  const stamps = c.update ? newerColumns(c.update) : [];
  describeMapping(m, io, job.quiet, stamps);
  if (job.operation !== 'upsert') return;
  const told = [...m.planNotes()];
  const gaps = m.addressGaps();
  if (gaps.length > 0 && job.address !== 'replace') told.push(`the address is not whole: ${describeAddressGaps(gaps, target)}`);
  say(told);
  requireKeyColumn(m, target, sample, job.input === '-' ? 'stdin' : job.input);
  const stored = new Set(m.matches().map((x) => x.field).filter((f) => !isGroupField(f)));
  const remote = prepare.remoteFields;
  const refused = (fields: Iterable<string>) => (remote && target.checkFields ? target.checkFields(new Set(fields), remote) : []);
  let problems = refused(stored);
  if (problems.length > 0) {
    const lacking = [...stored].filter((f) => refused([f]).length > 0);
    const named = m.dropAutoFields(lacking);
    const dropped = lacking.filter((f) => !named.includes(f));
    if (dropped.length > 0) say([`not sent: ${dropped.join(', ')} (matched from the file's columns, but not a field this ${target.displayName} account lets the API update)`]);
    problems = refused(named);
  }
  if (problems.length > 0) {
    throw new UsageError(`The mapping names fields ${target.displayName} will not take: ${problems.join('; ')}. Fix the mapping (sync-supporters check lists the fields). Nothing was sent.`, 'E_REMOTE_FIELDS');
  }
  // Said before the first request, and again in the summary.
  const policy = target.describeMapping?.(stored, prepare) ?? [];
  if (job.empty === 'clear') policy.push(describeClearing(m, target));
  if (c.update) {
    policy.push(...describeUpdatePolicy(c.update, m, target, c.columns));
    if (job.mode === 'dry-run') policy.push('a dry run reads no record, so it cannot say what each would keep: --plan does');
  }
  say(policy);
}
