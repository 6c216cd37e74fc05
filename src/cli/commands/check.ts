import { callWithRetry } from '../../core/call-with-retry.js';
import { SyncError, UsageError } from '../../core/errors.js';
import { RequestPacer } from '../../core/pace-requests.js';
import { DEFAULT_RETRY_POLICY } from '../../core/retry-policy.js';
import { readBatchSize, type GroupDirectory, type PrepareOptions, type SourceRecord, type TargetSession } from '../../core/types.js';
import { readGroupDirectory, rowMemberships } from '../../core/memberships.js';
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
  segment?: string[];
  removeSegment?: string[];
}

interface CheckLine {
  check: string;
  ok: boolean;
  detail: string;
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
  const add = (check: string, ok: boolean, detail: string) => lines.push({ check, ok, detail });
  let env = io.env;
  let sandbox: Sandbox | undefined;
  let session: TargetSession | undefined;
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
        session = await target.connect({ env, timeoutMs: 30_000, concurrency: 2 });
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
    await sandbox?.close();
  }
  const ok = lines.every((l) => l.ok);
  if (opts.json) {
    io.stdout.write(JSON.stringify({ ok, exitCode: ok ? 0 : 2, checks: lines.map((l) => ({ ...l, detail: redact(l.detail) })), ...facts }) + '\n');
  } else {
    const w = Math.max(...lines.map((l) => l.check.length));
    const out = [`Check of ${target.displayName}${input ? ` for ${input}` : ''} (read-only: nothing was written):`];
    for (const l of lines) out.push(`  ${l.ok ? 'ok  ' : 'FAIL'}  ${l.check.padEnd(w)}  ${l.detail}`);
    out.push(ok ? 'A run would go through.' : 'A run would not go through: fix what says FAIL, then check again.');
    io.stderr.write(printable(redact(out.join('\n'))) + '\n');
  }
  return ok ? 0 : 2;
}

interface FileCheck {
  target: ReturnType<typeof resolveTarget>;
  session?: TargetSession;
  prepare: PrepareOptions;
  sampleSize: number;
  add: (check: string, ok: boolean, detail: string) => void;
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
  if (gaps.length > 0) add('address', false, `not whole: ${gaps.map((g) => `"${g}"`).join(', ')} look${gaps.length === 1 ? 's' : ''} like part of the address but ${gaps.length === 1 ? 'is' : 'are'} not mapped, so addresses would go only to ${target.nouns.many} the run creates. Map ${gaps.length === 1 ? 'it' : 'them'} (--map), or run with --address replace`);
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
  const refused = new Map<string, number>();
  let checked = 0;
  for (const r of sample.slice(0, VALUE_SAMPLE)) {
    checked++;
    const m = r.fields ? mapper.map(r.fields) : { error: r.error ?? 'unreadable' };
    const p = 'error' in m ? { ok: false as const, error: m.error } : target.prepare('upsert', m.mapped, { ...c.prepare, checkOnly: true });
    if (!p.ok) {
      const why = p.error.replace(/"[^"]*"/g, '"…"');
      refused.set(why, (refused.get(why) ?? 0) + 1);
    }
  }
  const refusedTotal = [...refused.values()].reduce((a, b) => a + b, 0);
  add('values', true, refusedTotal === 0 ? `the first ${checked} rows pass every local check${c.prepare.remoteFields ? " and the site's choices and lengths" : ''}` : `${refusedTotal} of the first ${checked} rows would be INVALID: ${[...refused].map(([w, n]) => `${n} × ${w}`).join('; ')}`);
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
  const unknown = new Map<string, number>();
  let bad = 0;
  for (const r of rows) {
    const m = r.fields ? mapper.map(r.fields) : undefined;
    if (!m || 'error' in m || !m.mapped.groups) continue;
    const resolved = rowMemberships([], m.mapped.groups, c.directory, noun);
    if (!('error' in resolved)) continue;
    bad++;
    const why = resolved.error.replace(/ \(nothing was sent for this row\)$/, '');
    unknown.set(why, (unknown.get(why) ?? 0) + 1);
  }
  c.add('segments', true, bad === 0 ? `the first ${rows.length} rows name only ${noun.many} the account has` : `${bad} of the first ${rows.length} rows name a ${noun.one} the account does not have; they would be INVALID: ${[...unknown].map(([w, n]) => `${n} × ${w}`).join('; ')}`);
}

/** --sample N: whether the first N rows would update an existing record or create one. */
async function sampleLookups(rows: SourceRecord[], mapper: ReturnType<typeof createRowMapper>, c: FileCheck): Promise<void> {
  const { target, session } = c;
  const keys: Array<{ field: string; value: string }> = [];
  for (const r of rows) {
    const m = r.fields ? mapper.map(r.fields) : undefined;
    if (!m || 'error' in m) continue;
    const field = target.keyFields.find((f) => m.mapped.fields[f]?.trim());
    if (field) keys.push({ field, value: m.mapped.fields[field]!.trim() });
  }
  let found = 0;
  let looked = 0;
  const failures: string[] = [];
  if (session!.lookup) {
    const size = readBatchSize(session!.limits);
    // Paced and retried like every other call: the lookups count against the same per-minute budget.
    const ctx = { pacer: new RequestPacer(session!.limits.ratePerMinute, undefined, session!.limits.startRatePerMinute), retry: DEFAULT_RETRY_POLICY };
    for (const kind of ['email', 'id'] as const) {
      const values = keys.filter((k) => (kind === 'email' ? k.field === target.keyFields[0] : k.field !== target.keyFields[0])).map((k) => k.value);
      for (let i = 0; i < values.length; i += size) {
        const batch = values.slice(i, i + size);
        try {
          const { value: records } = await callWithRetry(ctx, 'the sample lookup', async (nextCall) => {
            const r = await session!.lookup!(kind, batch, undefined, nextCall);
            return r.kind === 'found' ? { kind: 'ok' as const, value: r.records } : r;
          });
          looked += batch.length;
          found += batch.filter((v) => (records.get(v) ?? []).length > 0).length;
        } catch (err) {
          if (!(err instanceof SyncError) || err.code === 'E_INTERRUPTED') throw err;
          failures.push(err.message);
        }
      }
    }
  } else if (session!.findOne) {
    for (const k of keys) {
      const r = await session!.findOne(k);
      if ('error' in r) failures.push(r.error);
      else {
        looked++;
        if (r.found) found++;
      }
    }
  }
  Object.assign(c.facts, { sampleLooked: looked, sampleUpdated: found, sampleCreated: looked - found });
  c.add('sample', failures.length === 0, `of the first ${rows.length} rows, ${found} would update an existing ${target.nouns.one} and ${looked - found} would create one${keys.length < rows.length ? ` (${rows.length - keys.length} name none)` : ''}${failures.length ? `; lookups failed: ${[...new Set(failures)].join('; ')}` : ''}`);
}
