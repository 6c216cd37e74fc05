import { callWithRetry } from '../../core/call-with-retry.js';
import { SyncError, UsageError } from '../../core/errors.js';
import { RequestPacer } from '../../core/pace-requests.js';
import { DEFAULT_RETRY_POLICY } from '../../core/retry-policy.js';
import { readBatchSize, type FoundRecord, type GroupDirectory, type IdentityKind, type PrepareOptions, type SourceRecord, type TargetSession } from '../../core/types.js';
import { alignFieldNames, heldValue } from '../../core/record-changes.js';
import { readGroupDirectory } from '../../core/memberships.js';
import { createRedactor } from '../../core/redact.js';
import { isGroupField, loadMappingFile } from '../../mapping/mapping-file.js';
import { createRowMapper } from '../../mapping/mapper.js';
import { sandboxEnvironment, startSandbox, type Sandbox } from '../../sandbox/server.js';
import { openSource } from '../../sources/index.js';
import { allSecrets, createEmulators } from '../../targets/index.js';
import { requireKeyColumn } from '../../jobs/mapping-checks.js';
import { intOption } from '../options.js';
import { printable } from '../printable.js';
import { resolveTarget, type CommandIO } from '../io.js';

export interface CheckOptions {
  target?: string;
  map?: string;
  format?: string;
  delimiter?: string;
  encoding?: string;
  sample?: string;
  sandbox?: boolean;
  json?: boolean;
  trace?: string;
  segment?: string[];
  removeSegment?: string[];
}

interface CheckLine {
  check: string;
  ok: boolean;
  detail: string;
  /** What a failed line means for the exit code: 'fail' (a run would stop: exit 2) or 'problem' (rows would fail: 1). */
  severity?: 'fail' | 'problem';
}

/** Rows read to check values (enumerations, lengths) against the account's own field list. */
const VALUE_SAMPLE = 200;

/**
 * `check`: a read-only preflight against the real account (or --sandbox) before a big run. Credentials, the
 * account's limits and what the file will cost at them, the site's own field list against the mapping and a sample
 * of values, and with --sample N whether the first N rows would update or create. Sends no write. Exit 0 when a run
 * would go through, 2 with the reasons otherwise.
 */
export async function runCheck(input: string | undefined, opts: CheckOptions, io: CommandIO): Promise<number> {
  const target = resolveTarget(opts.target, io.env);
  const sampleSize = intOption(opts.sample, '--sample', 1, 10_000) ?? 0;
  const lines: CheckLine[] = [];
  const facts: Record<string, unknown> = { target: target.name };
  const add = (check: string, ok: boolean, detail: string, severity: CheckLine['severity'] = 'fail') => lines.push(ok ? { check, ok, detail } : { check, ok, detail, severity });
  let env = io.env;
  let sandbox: Sandbox | undefined;
  let session: TargetSession | undefined;
  let trace: import('../../report/trace-file.js').TraceFile | undefined;
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
        if (opts.trace) trace = new (await import('../../report/trace-file.js')).TraceFile(opts.trace, [...allSecrets(env), ...allSecrets(io.env), env.LUMINATE_LOGIN_NAME, io.env.LUMINATE_LOGIN_NAME]);
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
    if (session?.describeFields) {
      const described = await session.describeFields();
      if ('fields' in described) {
        prepare.remoteFields = new Map(described.fields.map((f) => [f.name, f]));
        add('credentials', true, `${target.displayName} accepted the API key, login and this machine's address (IP whitelist)`);
        add('site fields', true, `${described.fields.length} fields the API account may update (listUserFields)`);
        facts.siteFields = described.fields.map((f) => f.name);
      } else add('credentials', false, described.error);
    }
    const directory = await readGroups(opts, target, session, add);
    if (input !== undefined) await checkFile(input, opts, { target, session, prepare, sampleSize, add, facts, directory });
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
  if (opts.json) {
    io.stdout.write(JSON.stringify({ ok, exitCode, checks: lines.map((l) => ({ ...l, detail: redact(l.detail) })), ...facts }) + '\n');
  } else {
    // The result on stdout (check file.csv > out.txt keeps it); stderr is for what happens meanwhile.
    const w = Math.max(...lines.map((l) => l.check.length));
    const out = [`Check of ${target.displayName}${input ? ` for ${input}` : ''} (read-only: nothing was written):`];
    for (const l of lines) out.push(`  ${l.ok ? 'ok  ' : l.severity === 'problem' ? 'WARN' : 'FAIL'}  ${l.check.padEnd(w)}  ${l.detail}`);
    out.push(exitCode === 0 ? 'A run would go through.' : exitCode === 1 ? 'A run would start, but not every row would go through as written: see WARN, then check again.' : 'A run would not go through: fix what says FAIL, then check again.');
    io.stdout.write(printable(redact(out.join('\n'))) + '\n');
  }
  return exitCode;
}

interface FileCheck {
  target: ReturnType<typeof resolveTarget>;
  session?: TargetSession;
  prepare: PrepareOptions;
  sampleSize: number;
  add: (check: string, ok: boolean, detail: string, severity?: 'fail' | 'problem') => void;
  facts: Record<string, unknown>;
  /** The account's groups, when the run would use some (flags or a mapped column) and they could be read. */
  directory?: GroupDirectory;
}

/**
 * The groups a run would use, named as the run would resolve them: each --segment / --remove-segment (an unknown or
 * ambiguous one is FAIL: the run would stop with exit 2). Returns the account's directory for the mapped columns.
 */
async function readGroups(opts: CheckOptions, target: ReturnType<typeof resolveTarget>, session: TargetSession | undefined, add: FileCheck['add']): Promise<GroupDirectory | undefined> {
  const flags = [...(opts.segment ?? []).map((ref) => ({ flag: '--segment', ref })), ...(opts.removeSegment ?? []).map((ref) => ({ flag: '--remove-segment', ref }))];
  const groups = target.groups;
  if (!groups) {
    if (flags.length > 0) add('segments', false, `${target.displayName} has no groups this tool can set`);
    return undefined;
  }
  let directory = groups.offline;
  if (!directory && session?.listGroups) {
    const ctx = { pacer: new RequestPacer(session.limits.ratePerMinute, undefined, session.limits.startRatePerMinute), retry: DEFAULT_RETRY_POLICY };
    try {
      directory = (await readGroupDirectory(ctx, session, groups.noun)).directory;
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

async function checkFile(input: string, opts: CheckOptions, c: FileCheck): Promise<void> {
  const { target, add } = c;
  let spec;
  try {
    spec = opts.map ? await loadMappingFile(opts.map, target) : undefined;
  } catch (err) {
    if (err instanceof UsageError) return add('mapping', false, err.message);
    throw err;
  }
  const source = await openSource(input, { format: opts.format, delimiter: opts.delimiter, encoding: opts.encoding as BufferEncoding | undefined });
  const mapper = createRowMapper(target, spec, input);
  let rows = 0;
  const sample: SourceRecord[] = [];
  try {
    for await (const chunk of source.chunks()) {
      if (rows === 0) mapper.bind(source.columns(), source.fixedColumns, chunk);
      rows += chunk.length;
      for (const r of chunk) if (sample.length < Math.max(VALUE_SAMPLE, c.sampleSize)) sample.push(r);
    }
  } catch (err) {
    if (err instanceof UsageError) return add('file', false, err.message);
    throw err;
  }
  c.facts.rows = rows;
  const mapped = new Set(mapper.matches().map((m) => m.field));
  add('mapping', true, `${mapper.matches().map((m) => `${m.column} → ${m.field}`).join(', ') || 'no column matched'}`);
  // What the run says before it starts: consent read in words, choices made from the header and the sample.
  for (const note of mapper.planNotes()) add('reading', true, note);
  const gaps = mapper.addressGaps();
  if (gaps.length > 0) add('address', false, `not whole: ${gaps.map((g) => `"${g}"`).join(', ')} look${gaps.length === 1 ? 's' : ''} like part of the address but ${gaps.length === 1 ? 'is' : 'are'} not mapped, so addresses would go only to ${target.nouns.many} the run creates. Map ${gaps.length === 1 ? 'it' : 'them'} (--map), or run with --address replace`, 'problem');
  // The run's own check, so check says what the run would (and names the column holding the email addresses).
  try {
    requireKeyColumn(mapper, target, sample, input);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    add('key column', false, err.message);
  }
  if (c.prepare.remoteFields && target.checkFields) {
    const problems = target.checkFields(mapped, c.prepare.remoteFields);
    add('mapped fields', problems.length === 0, problems.length === 0 ? `every mapped field exists on the site and accepts updates` : problems.join('; '));
  }
  // Values of the first rows, prepared as a run would (enumerations against the site's choices, lengths).
  // As the run reads them: a value that cannot be used costs the row that value (said), a bad key the row (INVALID).
  const refused = new Map<string, number>();
  const without = new Map<string, number>();
  let checked = 0;
  let partial = 0;
  const said = (why: string) => why.replace(/"[^"]*"/g, '"…"');
  for (const r of sample.slice(0, VALUE_SAMPLE)) {
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
  add('values', refusedTotal === 0, refusedTotal === 0 ? (partial === 0 ? passing : `${checked - partial} of the first ${checked} rows pass every check; ${partial} would go without a value (--strict-values: INVALID): ${tally(without)}`) : `${refusedTotal} of the first ${checked} rows would be INVALID: ${tally(refused)}${partial ? `; ${partial} more would go without a value: ${tally(without)}` : ''}`, 'problem');
  c.facts.sampleWithoutValue = partial;
  c.facts.sampleInvalid = refusedTotal;
  if (c.directory && mapper.matches().some((m) => isGroupField(m.field))) checkRowGroups(sample.slice(0, VALUE_SAMPLE), mapper, c);
  const limits = c.session?.limits;
  if (limits?.ratePerMinute) {
    const calls = Math.ceil(rows / limits.maxBatchSize);
    const perMinute = limits.startRatePerMinute ?? limits.ratePerMinute;
    const minutes = calls / perMinute;
    c.facts.estimatedMinutes = Math.round(minutes * 10) / 10;
    add('time', true, `${rows} rows = ${calls} call${calls === 1 ? '' : 's'} at ${limits.maxBatchSize} a call; at ${perMinute} calls a minute about ${minutes < 1 ? `${Math.ceil(minutes * 60)} s` : `${minutes.toFixed(1)} min`} (one more call per batch of creations without an email status column)`);
  } else if (limits) add('time', true, `${rows} rows, one call each; ${target.displayName} publishes no rate limit (concurrency ${limits.defaultConcurrency} by default)`);
  if (c.sampleSize > 0 && c.session) await sampleLookups(sample.slice(0, c.sampleSize), mapper, c);
}

/** The groups the first rows' own columns name (a tags column), against the account's: a row naming one it lacks is INVALID. */
function checkRowGroups(rows: SourceRecord[], mapper: ReturnType<typeof createRowMapper>, c: FileCheck): void {
  const noun = c.target.groups!.noun;
  // Tallied by the name the account lacks (one line however many rows name it), with the names it has that are close.
  const unknown = new Map<string, number>();
  let bad = 0;
  for (const r of rows) {
    const m = r.fields ? mapper.map(r.fields) : undefined;
    if (!m || 'error' in m || !m.mapped.groups) continue;
    const names = [...m.mapped.groups.add, ...m.mapped.groups.remove];
    const missing = names.map((n) => ({ n, r: c.directory!.resolve(n) })).filter((x) => 'error' in x.r);
    if (missing.length === 0) continue;
    bad++;
    for (const { n, r } of missing) {
      // What the account has that is close ("(close: …)", or its whole short list), as the run would say it.
      const hint = 'error' in r ? /\((close: [^)]*|the account has [^)]*)\)/.exec(r.error)?.[1] : undefined;
      const key = `"${n}"${hint ? ` (${hint})` : ''}`;
      unknown.set(key, (unknown.get(key) ?? 0) + 1);
    }
  }
  c.facts.sampleUnknownGroups = bad;
  c.add('segments', bad === 0, bad === 0 ? `the first ${rows.length} rows name only ${noun.many} the account has` : `${bad} of the first ${rows.length} rows name a ${noun.one} the account does not have; they would be INVALID: ${tally(unknown)}`, 'problem');
}

/** "81 × "Volunteers"; 3 × …", most first, at most 8 (and how many more): one line whatever the sample holds. */
function tally(counts: Map<string, number>, most = 8): string {
  const sorted = [...counts].sort((a, b) => b[1] - a[1]);
  const shown = sorted.slice(0, most).map(([w, n]) => `${n} × ${w}`).join('; ');
  return sorted.length > most ? `${shown}; and ${sorted.length - most} more` : shown;
}

/**
 * --sample N: whether the first N rows would update an existing record or create one (each looked up by the
 * identity the run would use: email, the target's id, or its external id such as Luminate's member_id), and the
 * read-back check: every field the run would write can be read back from the existing ones, so a plan and an undo
 * will be exact. A field that cannot be is named, with what to do.
 */
async function sampleLookups(rows: SourceRecord[], mapper: ReturnType<typeof createRowMapper>, c: FileCheck): Promise<void> {
  const { target, session } = c;
  const asks: Array<{ kind: IdentityKind; value: string; fields: string[] }> = [];
  let named = 0;
  for (const r of rows) {
    const m = r.fields ? mapper.map(r.fields) : undefined;
    if (!m || 'error' in m) continue;
    const identity = target.identify?.(m.mapped);
    if (!identity || 'error' in identity) continue;
    named++;
    const prepared = target.prepare('upsert', m.mapped, c.prepare);
    const fields = prepared.ok && prepared.payload !== undefined ? Object.keys(target.flatten?.(prepared.payload) ?? {}) : [];
    asks.push({ ...identity, fields });
  }
  let found = 0;
  let looked = 0;
  const failures: string[] = [];
  const unreadable = new Map<string, number>();
  let existing = 0;
  if (session!.lookup) {
    const size = readBatchSize(session!.limits);
    // Paced and retried like every other call: the lookups count against the same per-minute budget.
    const ctx = { pacer: new RequestPacer(session!.limits.ratePerMinute, undefined, session!.limits.startRatePerMinute), retry: DEFAULT_RETRY_POLICY };
    for (const kind of ['email', 'id', 'externalId'] as const) {
      const mine = asks.filter((a) => a.kind === kind);
      for (let i = 0; i < mine.length; i += size) {
        const batch = mine.slice(i, i + size);
        try {
          const { value: records } = await callWithRetry(ctx, 'the sample lookup', async (nextCall) => {
            const r = await session!.lookup!(kind, batch.map((b) => b.value), undefined, nextCall);
            return r.kind === 'found' ? { kind: 'ok' as const, value: r.records } : r;
          });
          looked += batch.length;
          for (const b of batch) {
            const rec = records.get(b.value)?.[0];
            if (!rec) continue;
            found++;
            existing++;
            for (const f of alignedFields(b.fields, rec)) if (heldValue(rec, f) === null) unreadable.set(f, (unreadable.get(f) ?? 0) + 1);
          }
        } catch (err) {
          if (!(err instanceof SyncError) || err.code === 'E_INTERRUPTED') throw err;
          failures.push(err.message);
        }
      }
    }
  } else if (session!.findOne) {
    for (const a of asks) {
      const field = a.kind === 'email' ? target.keyFields[0]! : a.kind === 'id' ? target.fields.find((f) => f.role === 'remoteId')?.name ?? target.keyFields[0]! : target.nouns.identity.externalId;
      const r = await session!.findOne({ field, value: a.value });
      if ('error' in r) failures.push(r.error);
      else {
        looked++;
        if (r.found) found++;
      }
    }
  }
  Object.assign(c.facts, { sampleLooked: looked, sampleUpdated: found, sampleCreated: looked - found, unreadableFields: Object.fromEntries(unreadable) });
  c.add('sample', failures.length === 0, `of the first ${rows.length} rows, ${found} would update an existing ${target.nouns.one} and ${looked - found} would create one${named < rows.length ? ` (${rows.length - named} name none)` : ''}${failures.length ? `; lookups failed: ${[...new Set(failures)].join('; ')}` : ''}`);
  if (existing > 0) {
    c.add('read-back', unreadable.size === 0, unreadable.size === 0
      ? `every field the run would write can be read back from the ${existing} existing ${existing === 1 ? target.nouns.one : target.nouns.many} looked up: --plan and --undo-log will be exact`
      : `${[...unreadable].map(([f, n]) => `${f} (${n} of ${existing})`).join(', ')} cannot be read back from the account: --plan would show ${unreadable.size === 1 ? 'it' : 'them'} as unknown and an --undo-log run would stop before writing; leave ${unreadable.size === 1 ? 'it' : 'them'} out of the mapping for a run that must be undoable`, 'problem');
  }
}

/** The fields named as the stored record names them (a custom field's case), as the plan compares them. */
function alignedFields(fields: string[], rec: FoundRecord): string[] {
  return Object.keys(alignFieldNames(Object.fromEntries(fields.map((f) => [f, ''])), rec.backup));
}
