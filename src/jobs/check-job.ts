import { callWithRetry } from '../core/call-with-retry.js';
import { SyncError, UsageError } from '../core/errors.js';
import { readGroupDirectory } from '../core/memberships.js';
import { RequestPacer } from '../core/pace-requests.js';
import { SeenKeys, seeRow } from '../core/seen-keys.js';
import { createRedactor } from '../core/redact.js';
import { DEFAULT_RETRY_POLICY } from '../core/retry-policy.js';
import type { GroupDirectory, PrepareOptions, RowMapper, SourceRecord, Target, TargetSession } from '../core/types.js';
import { isGroupField, loadMappingFile } from '../mapping/mapping-file.js';
import { createRowMapper } from '../mapping/mapper.js';
import { sandboxEnvironment, startSandbox, type Sandbox } from '../sandbox/server.js';
import { openSource } from '../sources/index.js';
import { allSecrets, createEmulators } from '../targets/index.js';
import { checkRowGroups, sampleLookups, tally, type CheckLine, type FileCheck } from './check-sample.js';
import { formatMinutes } from './estimate.js';
import { describeAddressGaps } from './run-notes.js';
import type { JobIO } from './job-io.js';
import { requireKeyColumn } from './mapping-checks.js';

/** What `check` is asked: the file (if any), the target, the mapping, how many rows to look up, the flags' segments. */
export interface CheckRequest {
  input?: string;
  target: Target;
  map?: string;
  format?: string;
  delimiter?: string;
  encoding?: BufferEncoding;
  sampleSize: number;
  sandbox: boolean;
  trace?: string;
  segments: { add: string[]; remove: string[] };
}

export interface CheckOutcome {
  lines: CheckLine[];
  facts: Record<string, unknown>;
  exitCode: number;
  redact: (text: string) => string;
}

/** Rows read to check values (enumerations, lengths) against the account's own field list. */
const VALUE_SAMPLE = 200;

/**
 * `check`: a read-only preflight against the real account (or the sandbox) before a big run. Credentials, the
 * account's limits and what the file will cost at them, the site's own field list against the mapping and a sample
 * of values, and with a sample size whether the first rows would update or create and whether what the run writes
 * reads back. Sends no write. Returns the lines and the exit code (0 a run would go through, 1 rows would not all
 * go through as written, 2 it would not run); the command prints them.
 */
export async function runCheckJob(req: CheckRequest, io: JobIO): Promise<CheckOutcome> {
  const { input, target, sampleSize } = req;
  const opts = req;
  const lines: CheckLine[] = [];
  const facts: Record<string, unknown> = { target: target.name };
  const add = (check: string, ok: boolean, detail: string, severity: CheckLine['severity'] = 'fail') => lines.push(ok ? { check, ok, detail } : { check, ok, detail, severity });
  let env = io.env;
  let sandbox: Sandbox | undefined;
  let session: TargetSession | undefined;
  let trace: import('../report/trace-file.js').TraceFile | undefined;
  const redact = createRedactor(allSecrets(io.env));
  try {
    if (opts.sandbox) {
      sandbox = await startSandbox({ emulators: await createEmulators() });
      env = sandboxEnvironment(sandbox, io.env);
      add('endpoint', true, `the built-in sandbox at ${sandbox.url} (nothing leaves this machine)`);
    }
    const missing = target.missingCredentials(env);
    if (missing.length > 0) add('credentials', false, `missing ${missing.join(', ')} (environment or .env)`);
    else {
      try {
        if (opts.trace) trace = new (await import('../report/trace-file.js')).TraceFile(opts.trace, [...allSecrets(env), ...allSecrets(io.env), env.LUMINATE_LOGIN_NAME, io.env.LUMINATE_LOGIN_NAME]);
        session = await target.connect({ env, timeoutMs: 30_000, concurrency: 2, trace: trace?.record });
        const limits = session.limits;
        if (limits.fromRemote) {
          add('credentials', true, `${target.displayName} accepted the credentials (its limits were read)`);
          add('limits', true, `${limits.ratePerMinute ?? '?'} calls a minute, ${limits.maxBatchSize} per call; ${limits.currentRatePerMinute ?? limits.ratePerMinute ?? '?'} calls available now`);
          Object.assign(facts, { rateLimit: limits.ratePerMinute, maxBatchSize: limits.maxBatchSize, currentRateLimit: limits.currentRatePerMinute });
        } else if (session.notes?.length) add('limits', true, session.notes.join('; '));
      } catch (err) {
        if (!(err instanceof SyncError)) throw err;
        add('credentials', false, err.message);
      }
    }
    const prepare: PrepareOptions = {};
    // One pacer for every read of the check (the field list, the group listing, the sample's lookups): one budget.
    const reads = session ? { pacer: new RequestPacer(session.limits.ratePerMinute, undefined, session.limits.startRatePerMinute), retry: DEFAULT_RETRY_POLICY, signal: io.stop } : undefined;
    if (session?.describeFields && reads) {
      try {
        const { value: fields } = await callWithRetry(reads, `reading the ${target.displayName} field list`, () => session!.describeFields!());
        prepare.remoteFields = new Map(fields.map((f) => [f.name, f]));
        add('credentials', true, `${target.displayName} accepted the API key, login and this machine's address (IP whitelist)`);
        add('site fields', true, `${fields.length} fields the API account may update (listUserFields)`);
        facts.siteFields = fields.map((f) => f.name);
      } catch (err) {
        if (!(err instanceof SyncError) || err.code === 'E_INTERRUPTED') throw err;
        add('credentials', false, err.message.replace(/^reading the .* field list was refused: /, ''));
      }
    }
    const directory = await readGroups(opts, target, session, reads, add);
    if (input !== undefined) await checkFile(input, opts, { target, session, reads, prepare, sampleSize, add, facts, directory });
    else if (opts.map) add('mapping', true, `${opts.map} read (give the input file to check it against the file and the account)`);
  } finally {
    await session?.close();
    trace?.close();
    await sandbox?.close();
  }
  // Exit 0 only when a run would really go through; 1 when it would run but rows would fail (INVALID values, unknown
  // segments, an address that is not whole, fields that cannot be read back); 2 when it would not run at all.
  const ok = lines.every((l) => l.ok);
  const exitCode = ok ? 0 : lines.some((l) => !l.ok && l.severity === 'fail') ? 2 : 1;
  return { lines, facts, exitCode, redact };
}

/**
 * The groups a run would use, named as the run would resolve them: each --segment / --remove-segment (an unknown or
 * ambiguous one is FAIL: the run would stop with exit 2). Returns the account's directory for the mapped columns.
 */
async function readGroups(opts: CheckRequest, target: Target, session: TargetSession | undefined, reads: FileCheck['reads'], add: FileCheck['add']): Promise<GroupDirectory | undefined> {
  const flags = [...opts.segments.add.map((ref) => ({ flag: '--segment', ref })), ...opts.segments.remove.map((ref) => ({ flag: '--remove-segment', ref }))];
  const groups = target.groups;
  if (!groups) {
    if (flags.length > 0) add('segments', false, `${target.displayName} has no groups this tool can set`);
    return undefined;
  }
  let directory = groups.offline;
  if (!directory && session?.listGroups && reads) {
    try {
      directory = (await readGroupDirectory(reads, session, groups.noun)).directory;
    } catch (err) {
      if (!(err instanceof SyncError) || err.code === 'E_INTERRUPTED') throw err;
      add('segments', false, err.message);
      return undefined;
    }
  }
  if (!directory) {
    if (flags.length > 0) add('segments', false, `${groups.noun.many} not checked: no connection to the account`);
    return undefined;
  }
  for (const { flag, ref } of flags) {
    const r = directory.resolve(ref);
    add('segments', !('error' in r), 'error' in r ? `${flag} "${ref}": ${r.error}` : `${flag} "${ref}": ${groups.noun.one} "${r.group.label}" (${r.group.id})`);
  }
  return directory;
}

async function checkFile(input: string, opts: CheckRequest, c: FileCheck): Promise<void> {
  const { target, add } = c;
  const read = await readWholeFile(input, opts, c);
  if (!read) return;
  const { mapper, sample, rows, repeats } = read;
  c.facts.rows = rows;
  add('mapping', true, `${mapper.matches().map((m) => `${m.column} → ${m.field}`).join(', ') || 'no column matched'}`);
  checkReading(mapper, c);
  if (repeats.rows > 0) {
    const { one, many } = target.nouns;
    const spelled = repeats.caseOnly ? ` (${repeats.caseOnly} with the email spelled in another case)` : '';
    add('same person', true, `${repeats.rows} row${repeats.rows === 1 ? ' names a' : 's name'} ${repeats.rows === 1 ? one : many} an earlier row of the file named${spelled}: a run applies them in file order, the later row's values last, and says so on each such line`);
  }
  // The run's own check, so check says what the run would (and names the column holding the email addresses).
  try {
    requireKeyColumn(mapper, target, sample, input);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    add('key column', false, err.message);
  }
  if (c.prepare.remoteFields && target.checkFields) {
    const problems = target.checkFields(new Set(mapper.matches().map((m) => m.field)), c.prepare.remoteFields);
    add('mapped fields', problems.length === 0, problems.length === 0 ? `every mapped field exists on the site and accepts updates` : problems.join('; '));
  }
  checkValues(sample.slice(0, VALUE_SAMPLE), mapper, c);
  if (c.directory && mapper.matches().some((m) => isGroupField(m.field))) checkRowGroups(sample.slice(0, VALUE_SAMPLE), mapper, c);
  estimateTime(rows, c);
  if (c.sampleSize > 0 && c.session) await sampleLookups(sample.slice(0, c.sampleSize), mapper, c);
}

/** The mapping and the whole file read (rows counted, the first kept as a sample); a problem is a FAIL line. */
async function readWholeFile(input: string, opts: CheckRequest, c: FileCheck): Promise<{ mapper: RowMapper; sample: SourceRecord[]; rows: number; repeats: { rows: number; caseOnly: number } } | undefined> {
  let spec;
  try {
    spec = opts.map ? await loadMappingFile(opts.map, c.target) : undefined;
  } catch (err) {
    if (err instanceof UsageError) return void c.add('mapping', false, err.message);
    throw err;
  }
  const source = await openSource(input, { format: opts.format, delimiter: opts.delimiter, encoding: opts.encoding });
  const mapper = createRowMapper(c.target, spec, input);
  let rows = 0;
  const sample: SourceRecord[] = [];
  // Every row's person, as a run meets them: rows naming one an earlier row named are counted (a run says so per row).
  const seen = new SeenKeys();
  const repeats = { rows: 0, caseOnly: 0 };
  try {
    for await (const chunk of source.chunks()) {
      if (rows === 0) mapper.bind(source.columns(), source.fixedColumns, chunk);
      rows += chunk.length;
      for (const r of chunk) {
        if (sample.length < Math.max(VALUE_SAMPLE, c.sampleSize)) sample.push(r);
        const m = r.fields ? mapper.map(r.fields) : undefined;
        const earlier = m && !('error' in m) ? seeRow(seen, c.target, m.mapped) : undefined;
        if (earlier) repeats.rows++;
        if (earlier?.caseOnly) repeats.caseOnly++;
      }
    }
  } catch (err) {
    if (err instanceof UsageError) return void c.add('file', false, err.message);
    throw err;
  }
  return { mapper, sample, rows, repeats };
}

/** What the run says before it starts: consent read in words, choices made from the header and the sample. */
function checkReading(mapper: RowMapper, c: FileCheck): void {
  const { add } = c;
  const unread = new Set(mapper.unreadConsent());
  for (const note of mapper.planNotes()) if (![...unread].some((col) => note.startsWith(`"${col}" looks like email consent`))) add('reading', true, note);
  for (const col of unread) add('consent', false, `"${col}" looks like email consent, but its values do not say which way round: a run would not read it, so no one's status would come from it. Map it with "consent" (opt-in, opt-out or status) if it is consent`, 'problem');
  const gaps = mapper.addressGaps();
  if (gaps.length > 0) add('address', false, `not whole: ${describeAddressGaps(gaps, c.target)}`, 'problem');
}

/**
 * Values of the first rows, prepared as a run would (enumerations against the site's choices, lengths). As the
 * run reads them: a value that cannot be used costs the row that value (said), a bad key the row (INVALID).
 */
function checkValues(sample: SourceRecord[], mapper: RowMapper, c: FileCheck): void {
  const { target } = c;
  const refused = new Map<string, number>();
  const without = new Map<string, number>();
  let checked = 0;
  let partial = 0;
  const said = (why: string) => why.replace(/"[^"]*"/g, '"…"');
  for (const r of sample) {
    checked++;
    const m = r.fields ? mapper.map(r.fields) : { error: r.error ?? 'unreadable' };
    let p = 'error' in m ? { ok: false as const, error: m.error, field: undefined } : target.prepare('upsert', m.mapped, { ...c.prepare, checkOnly: true });
    const dropped = 'error' in m ? [] : [...(m.mapped.dropped ?? []).map((d) => d.reason)];
    for (let guard = 0; !p.ok && p.field && !('error' in m) && guard < 64; guard++) {
      dropped.push(p.error);
      const field = p.field;
      if (field.startsWith('custom ')) m.mapped.custom = m.mapped.custom.filter((x) => `custom ${x.name ?? x.fieldId}` !== field);
      else delete m.mapped.fields[field];
      p = target.prepare('upsert', m.mapped, { ...c.prepare, checkOnly: true });
    }
    if (!p.ok) refused.set(said(p.error), (refused.get(said(p.error)) ?? 0) + 1);
    else if (dropped.length > 0) {
      partial++;
      for (const d of dropped) without.set(said(d), (without.get(said(d)) ?? 0) + 1);
    }
  }
  const refusedTotal = [...refused.values()].reduce((a, b) => a + b, 0);
  const passing = `the first ${checked} rows pass every local check${c.prepare.remoteFields ? " and the site's choices and lengths" : ''}`;
  c.add('values', refusedTotal === 0, refusedTotal === 0 ? (partial === 0 ? passing : `${checked - partial} of the first ${checked} rows pass every check; ${partial} would go without a value (--strict-values: INVALID): ${tally(without)}`) : `${refusedTotal} of the first ${checked} rows would be INVALID: ${tally(refused)}${partial ? `; ${partial} more would go without a value: ${tally(without)}` : ''}`, 'problem');
  c.facts.sampleWithoutValue = partial;
  c.facts.sampleInvalid = refusedTotal;
}

/** How long the file takes at the account's pace (one call per batch). */
function estimateTime(rows: number, c: FileCheck): void {
  const limits = c.session?.limits;
  if (limits?.ratePerMinute) {
    const calls = Math.ceil(rows / limits.maxBatchSize);
    const perMinute = limits.startRatePerMinute ?? limits.ratePerMinute;
    const minutes = calls / perMinute;
    c.facts.estimatedMinutes = Math.round(minutes * 10) / 10;
    c.add('time', true, `${rows} rows = ${calls} call${calls === 1 ? '' : 's'} at ${limits.maxBatchSize} a call; at ${perMinute} calls a minute about ${formatMinutes(minutes)} (one more call per batch of creations without an email status column)`);
  } else if (limits) c.add('time', true, `${rows} rows, one call each; ${c.target.displayName} publishes no rate limit (concurrency ${limits.defaultConcurrency} by default)`);
}

/** The groups the first rows' own columns name (a tags column), against the account's: a row naming one it lacks is INVALID. */
