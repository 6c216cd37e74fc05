import { callWithRetry } from '../core/call-with-retry.js';
import { SyncError, UsageError } from '../core/errors.js';
import { readGroupDirectory } from '../core/memberships.js';
import type { RequestPacer } from '../core/pace-requests.js';
import type { RetryPolicy } from '../core/retry-policy.js';
import type { PendingMemberships, PreviousRow } from '../core/run-types.js';
import type { GroupDirectory, Membership, PrepareOptions, RowMapper, Source, SourceRecord, Target, TargetSession } from '../core/types.js';
import { isGroupField, type MappingSpec } from '../mapping/mapping-file.js';
import type { AccountState } from '../state/sqlite-state.js';
import { allSecrets, createEmulators } from '../targets/index.js';
import type { DataJob } from './data-job-types.js';
import type { JobIO } from './job-io.js';
import type { UpdatePolicy } from '../core/update-policy.js';
import type { RunResources } from './run-resources.js';
import type { PageCollector } from '../report/summary-page.js';

/*
 * A data run's side of the account: which groups it must read, the sandbox and the connection, the local state,
 * the account's field list and groups, and the run's --segment names resolved against them.
 */

/** What a data run is made of before it connects: the mapping, the records, what it says so far. */
export interface Setup {
  job: DataJob;
  io: JobIO;
  spec?: MappingSpec;
  /** --apply-plan: the reviewed plan's records. */
  planned?: { records: SourceRecord[]; notes: string[] };
  source: Source;
  mapper: RowMapper;
  prepare: PrepareOptions;
  /** Which values of the file may replace what a record holds; undefined: all (nothing is read first for it). */
  update?: UpdatePolicy;
  verb: string;
  notes: string[];
  /** Notes already said before the run (the terminal summary does not say them again). */
  said: Set<string>;
  /** The summary page's collector of report rows (none with --no-html). */
  page?: PageCollector;
  /** The account written to, as the page names it (set once connected). */
  account?: string;
  previous?: Map<number, PreviousRow>;
  pending?: Map<number, PendingMemberships>;
  redact: (text: string) => string;
}

/** The pacer, retry policy and stop signal every call of the run goes through. */
export interface Calls {
  pacer: RequestPacer;
  retry: RetryPolicy;
  signal: AbortSignal;
}

/**
 * Groups named by name need the account's list: a dry run reads it too when it can (a read, nothing sent). What
 * cannot be checked is said.
 */
export function groupsNeeded(s: Setup): { list: boolean; connect: boolean } {
  const { job, spec, notes, io } = s;
  const { target, mode } = job;
  const used = job.groups.add.length + job.groups.remove.length > 0 || !!spec?.rules.some((r) => isGroupField(r.field));
  const separate = target.groups?.delivery === 'calls';
  const list = used && job.operation === 'upsert' && mode !== 'validate' && separate && !target.groups!.offline;
  const connect = list && !job.needsRemote && (!!job.sandbox || target.missingCredentials(io.env).length === 0);
  if (used && mode === 'validate' && separate) notes.push(`${target.groups!.noun.many} are named as written: validate does not connect, so names are not checked (a --dry-run checks them against the account)`);
  if (list && !job.needsRemote && !connect) notes.push(`${target.groups!.noun.many} were not checked against the account (no credentials): names are shown as written`);
  return { list, connect };
}

/**
 * The sandbox when asked, the trace, and the connection. Credentials the remote refuses at connect do not throw:
 * every row is then reported, none sent (exit 3). Returns the environment the remote is reached with.
 */
export async function connect(s: Setup, res: RunResources, forGroups: boolean): Promise<{ env: Record<string, string | undefined>; abortBeforeStart?: string }> {
  const { job, io, notes } = s;
  const env = io.env;
  if (!job.needsRemote && !forGroups) return { env };
  let remoteEnv = env;
  if (job.sandbox) {
    // Loaded only for --sandbox (and so for every command below: what a run does not use, it does not load).
    const { sandboxEnvironment, startSandbox } = await import('../sandbox/server.js');
    res.sandbox = await startSandbox({ emulators: await createEmulators(), faults: job.sandbox.faults, latencyMs: job.sandbox.latencyMs });
    remoteEnv = sandboxEnvironment(res.sandbox, env);
    notes.push(`sent to the built-in sandbox at ${res.sandbox.url}${job.sandbox.faults ? ` with faults ${job.sandbox.faults}` : ''}; nothing left this machine`);
  }
  try {
    await res.openTrace(job.trace, [...allSecrets(remoteEnv), ...allSecrets(env), remoteEnv.LUMINATE_LOGIN_NAME, env.LUMINATE_LOGIN_NAME]);
    res.session = await job.target.connect({ env: remoteEnv, timeoutMs: job.timeoutSec * 1000, concurrency: job.concurrency ?? 8, trace: res.trace?.record });
    notes.push(...(res.session.notes ?? []));
    s.account = job.target.accountId(remoteEnv);
    return { env: remoteEnv };
  } catch (err) {
    if (err instanceof SyncError && err.exitCode === 3) return { env: remoteEnv, abortBeforeStart: err.message };
    throw err;
  }
}

/** The local state of this account (remote ids, payload hashes), when the run uses it. */
export async function openState(s: Setup, res: RunResources, remoteEnv: Record<string, string | undefined>): Promise<AccountState | undefined> {
  const { job, io } = s;
  if (!job.useState) return undefined;
  const { openStateDb } = await import('../state/sqlite-state.js');
  res.stateDb = openStateDb(job.statePath!, {
    // Said as it happens (stderr is written synchronously): the run is paused, not hung.
    onWait: (n) => job.quiet || io.say(`\nwaiting for the local state database: ${n} results not saved yet (another process may hold its write lock); sending resumes when they are`),
  });
  return res.stateDb.forAccount(job.target.name, job.target.accountId(remoteEnv));
}

/**
 * The account's own field list (Luminate's listUserFields), when it can be read: the mapping is checked against it
 * before the first row, and values are sent as it needs them (an enumeration's own choices). One call, through the
 * run's pacer and retry policy like every other.
 */
export async function readFieldList(s: Setup, session: TargetSession, calls: Calls): Promise<void> {
  if (!session.describeFields) return;
  const name = s.job.target.displayName;
  try {
    const { value } = await callWithRetry(calls, `reading the ${name} field list`, () => session.describeFields!());
    s.prepare.remoteFields = new Map(value.map((f) => [f.name, f]));
  } catch (err) {
    if (!(err instanceof SyncError) || err.code === 'E_INTERRUPTED') throw err;
    s.notes.push(`could not read the ${name} field list (${err.message}): fields were checked by name only`);
  }
}

/** The account's groups, read once at the start: names are resolved against them. */
export async function readGroups(s: Setup, session: TargetSession, calls: Calls): Promise<GroupDirectory> {
  const noun = s.job.target.groups!.noun;
  const { directory, count } = await readGroupDirectory(calls, session, noun);
  s.notes.push(`${count} ${noun.many} in the account; names resolved once, at the start`);
  return directory;
}

/**
 * The run's --segment / --remove-segment, resolved: an unknown or ambiguous name stops the run before anything is
 * sent (exit 2), naming the close matches. Without a directory (validate, a dry run without credentials) names are
 * taken as written.
 */
export function resolveFlagGroups(job: DataJob, target: Target, directory: GroupDirectory | undefined): Membership[] {
  const out: Membership[] = [];
  const problems: string[] = [];
  for (const change of ['add', 'remove'] as const) {
    for (const ref of job.groups[change]) {
      if (!directory) {
        out.push({ change, group: { id: ref, label: ref } });
        continue;
      }
      const r = directory.resolve(ref);
      if ('error' in r) problems.push(`${change === 'add' ? '--segment' : '--remove-segment'} "${ref}": ${r.error}`);
      else out.push({ change, group: r.group });
    }
  }
  if (problems.length > 0) throw new UsageError(`${problems.join('; ')}. Nothing was sent.`, 'E_SEGMENT');
  const both = out.filter((m) => m.change === 'add' && out.some((o) => o.change === 'remove' && o.group.id === m.group.id && o.group.kind === m.group.kind));
  if (both.length > 0) throw new UsageError(`${both.map((m) => `"${m.group.label}"`).join(', ')} is both --segment and --remove-segment: say one. Nothing was sent.`, 'E_SEGMENT');
  return out;
}
