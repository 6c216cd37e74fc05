import { combineOutcomes } from '../core/outcome.js';
import { readFile } from 'node:fs/promises';
import { callWithRetry } from '../core/call-with-retry.js';
import { UsageError } from '../core/errors.js';
import { RequestPacer } from '../core/pace-requests.js';
import { createRedactor } from '../core/redact.js';
import { DEFAULT_RETRY_POLICY } from '../core/retry-policy.js';
import { runSync, type RunResult, type UndoEntry } from '../core/run-sync.js';
import type { FoundRecord, SourceRecord, Target, TargetSession } from '../core/types.js';
import { readBatchSize } from '../core/limits.js';
import { drift } from '../core/record-changes.js';
import { createRowMapper } from '../mapping/mapper.js';
import { checkRunFiles, lockReport, prepareReportPath } from '../report/output-guard.js';
import { journalPathOf, ReportWriter } from '../report/report-writer.js';
import { readPreviousResults } from '../report/resume-reader.js';
import { checkResumable, exists, fingerprint, runRecordPathOf, writeRunRecord } from '../report/run-record.js';
import type { UndoHeader, UndoLine } from '../report/undo-log.js';
import { openStateDb, type StateDb } from '../state/sqlite-state.js';
import { allSecrets, TARGETS } from '../targets/index.js';
import type { JobIO } from './job-io.js';
import { backupPathFor, confirmLargeDelete, writeBackup } from './delete-guard.js';
import { recordsSource, retryPolicyFor } from './run-resources.js';

export interface UndoJob {
  log: string;
  reportPath: string;
  dryRun: boolean;
  force: boolean;
  resume: boolean;
  maxDeletes: number;
  yes: boolean;
  backup?: string;
  concurrency?: number;
  rate?: number;
  timeoutSec: number;
  retries?: number;
  statePath?: string;
  quiet: boolean;
  /** --trace: every request and answer, appended as JSON lines (credentials masked). */
  trace?: string;
}

export interface UndoOutcome {
  result: RunResult;
  notes: string[];
  reportPath: string;
  verb: string;
  redact: (s: string) => string;
  targetName: string;
}

/** What an undo log says of one import row: its record before (first entry wins), and the record it created. */
interface RowUndo {
  entry: UndoEntry;
  created?: string;
}

/** Reads an undo log: its header, and per import row the first prior values written (before any attempt). */
export async function readUndoLog(path: string): Promise<{ header: UndoHeader; rows: RowUndo[] }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`Cannot read the undo log ${path}: ${(err as NodeJS.ErrnoException).code ?? err}.`, 'E_UNDO');
  }
  const lines = text.split('\n');
  let header: UndoHeader | undefined;
  const byRow = new Map<number, RowUndo>();
  lines.forEach((raw, i) => {
    if (!raw.trim()) return;
    let l: UndoLine;
    try {
      l = JSON.parse(raw) as UndoLine;
    } catch {
      // A line torn by a crash can only be the last: its batch was never sent (the line is synced before sending).
      if (i >= lines.length - 2) return;
      throw new UsageError(`${path} line ${i + 1} is not JSON: it is not an undo log this tool wrote, or it was edited.`, 'E_UNDO');
    }
    if (l.type === 'header') header ??= l;
    else if (l.type === 'before') {
      if (!byRow.has(l.row)) byRow.set(l.row, { entry: l });
    } else if (l.type === 'created') {
      const r = byRow.get(l.row);
      if (r) r.created ??= l.remoteId;
    }
  });
  if (!header) throw new UsageError(`${path} has no header line: it is not an undo log written by sync-supporters import --undo-log.`, 'E_UNDO');
  return { header, rows: [...byRow.values()].sort((a, b) => a.entry.row - b.entry.row) };
}

/**
 * `undo <undo-log>`: puts back the records an import updated (the fields it changed, to their prior values; "" is
 * sent to empty a field that was empty), then deletes the records it created — with delete's rules: a preview
 * (--dry-run, which reads every record and says what would change), the cap (--max-deletes / --yes) and a backup.
 * A record changed again since the import is a CONFLICT, not overwritten (--force overwrites). One report line per
 * record, resumable with --resume like an import.
 */
export async function runUndoJob(job: UndoJob, io: JobIO): Promise<UndoOutcome> {
  const { header, rows } = await readUndoLog(job.log);
  const target = Object.hasOwn(TARGETS, header.target) ? TARGETS[header.target] : undefined;
  if (!target) throw new UsageError(`${job.log} is the undo log of a ${header.target} import, which this version does not know.`, 'E_UNDO');
  const env = io.env;
  const missing = target.missingCredentials(env);
  if (missing.length > 0) throw new UsageError(`Missing ${missing.join(', ')} for ${target.displayName} (environment or .env): undo talks to the account the import wrote to.`, 'E_CREDENTIALS');
  if (target.accountId(env) !== header.account) {
    throw new UsageError(`${job.log} belongs to an import into ${header.account.replace(/#.*/, '')} with other credentials than this environment's: point the environment at that account. Nothing was sent.`, 'E_UNDO');
  }
  const sending = !job.dryRun;
  checkRunFiles([{ path: job.log, role: 'the undo log' }], [
    { path: job.reportPath, role: 'the report', option: '--report' },
    { path: journalPathOf(job.reportPath), role: "the report's journal", option: '--report' },
    { path: runRecordPathOf(job.reportPath), role: "the report's run record", option: '--report' },
    ...(job.backup ? [{ path: job.backup, role: 'the backup', option: '--backup' }] : []),
  ]);
  const release = lockReport(job.reportPath, `undo ${job.log}`);
  let session: TargetSession | undefined;
  let trace: import('../report/trace-file.js').TraceFile | undefined;
  let stateDb: StateDb | undefined;
  let report: ReportWriter | undefined;
  // The person's stop (Ctrl-C): the CLI's signal; quitting at once closes the report as it stands.
  const interrupt = { signal: io.stop };
  io.onQuit(() => report?.close(false));
  const notes: string[] = [];
  const redact = createRedactor(allSecrets(env));
  try {
    const kept = prepareReportPath(job.reportPath, { sending, resuming: job.resume, overwrite: false, commandLabel: 'undo --dry-run' });
    notes.push(...kept.notes);
    const print = await fingerprint(job.log);
    const current = { input: { path: job.log, ...print }, target: target.name, operation: 'undo' };
    let previous: Awaited<ReturnType<typeof readPreviousResults>>['previous'] | undefined;
    if (job.resume && sending && ((await exists(job.reportPath)) || (await exists(journalPathOf(job.reportPath))))) {
      await checkResumable(job.reportPath, current);
      previous = (await readPreviousResults(job.reportPath)).previous;
      notes.push(`resumed from ${job.reportPath}: ${previous.size} records already had a final answer`);
    }
    await writeRunRecord(job.reportPath, { version: 1, mode: sending ? 'send' : 'dry-run', ...current, startedAt: new Date().toISOString() });

    if (job.trace) trace = new (await import('../report/trace-file.js')).TraceFile(job.trace, [...allSecrets(env), env.LUMINATE_LOGIN_NAME]);
    const connected = await target.connect({ env, timeoutMs: job.timeoutSec * 1000, concurrency: job.concurrency ?? 4, trace: trace?.record });
    session = connected;
    const limits = connected.limits;
    const rate = job.rate && limits.ratePerMinute ? Math.min(job.rate, limits.ratePerMinute) : job.rate ?? limits.ratePerMinute;
    const pacer = new RequestPacer(rate, undefined, job.rate ? undefined : limits.startRatePerMinute);
    const retry = retryPolicyFor(job.retries, env);
    if (job.statePath) stateDb = openStateDb(job.statePath);
    const state = stateDb?.forAccount(target.name, header.account);

    // Pass 1: records the import updated, put back field by field, each checked first against what the import wrote.
    const restores: SourceRecord[] = [];
    const creations: Array<{ row: number; r: RowUndo }> = [];
    let n = 0;
    for (const r of coalesce(rows)) {
      if (r.entry.before === null) creations.push({ row: 0, r });
      else restores.push({ row: ++n, line: r.entry.line, ready: restoreItem(target, r, job.force) });
    }
    for (const c of creations) c.row = ++n;
    const nounOf = (k: number) => (k === 1 ? target.nouns.one : target.nouns.many);
    notes.push(`undo log of the import of ${header.input} started ${header.startedAt}: ${restores.length} ${nounOf(restores.length)} it wrote over, ${creations.length} it created`);

    report = new ReportWriter(job.reportPath, { journal: sending, carry: previous ? [...previous.values()].map((p) => p.line) : undefined });
    const common = {
      target,
      mapper: createRowMapper(target, undefined, job.log),
      session: connected,
      pacer,
      retry,
      concurrency: job.concurrency ?? limits.defaultConcurrency,
      batchSize: readBatchSize(limits), // each batch is read before it is restored
      report,
      redact,
      signal: interrupt.signal,
      previous,
      state,
      expectLabel: 'since the import',
      forceHint: '--force puts it back anyway',
    };
    const progress = await io.progress(sending ? 'Undo' : 'Undo preview', job.quiet);
    const restored = await runSync({ ...common, operation: 'upsert', mode: sending ? 'send' : 'plan', source: recordsSource(restores), progress });

    // Pass 2: records the import created: deleted (Salsa), with the delete rules; Luminate cannot delete them.
    const deletions = await deletionRecords(target, connected, creations, { pacer, retry, signal: interrupt.signal, force: job.force, previous });
    const cannot = deletions.filter((d) => d.ready?.decided?.errorCode === 'NO_DELETE').map((d) => d.ready!.decided!.remoteId);
    if (cannot.length > 0) notes.push(`${cannot.length} ${target.nouns.many} created by the import cannot be deleted through ${target.displayName}'s API: ${cannot.join(', ')} (delete them in its admin)`);
    const toDelete = deletions.filter((d) => d.ready && !d.ready.decided);
    let deleted: RunResult | undefined;
    if (!restored.interrupted && !restored.abortReason) {
      if (sending && toDelete.length > job.maxDeletes && !job.yes) await confirmLargeDelete(toDelete.length, job.maxDeletes, io, target.nouns);
      if (sending && toDelete.length > 0) {
        const backupPath = job.backup ?? backupPathFor(job.reportPath, 'undo-deleted');
        await writeBackup(backupPath, toDelete.map((d) => d.found!));
        notes.push(`backup of the ${toDelete.length} ${toDelete.length === 1 ? target.nouns.one : target.nouns.many} the undo deletes: ${backupPath}`);
      }
      const deleting = deletions.length > 0 ? await io.progress(sending ? 'Undo: deleting what the import created' : 'Undo preview: what the import created', job.quiet) : undefined;
      deleted = await runSync({ ...common, operation: 'delete', mode: sending ? 'send' : 'dry-run', source: recordsSource(deletions.map((d) => d.record)), firstRow: restores.length + 1, progress: deleting });
    }
    report.close(true);
    const result = deleted ? combineOutcomes(restored, deleted) : restored;
    if (!sending) notes.push('nothing was changed: each line says what the undo would do (UPDATE with the fields it puts back, DRY_RUN for a deletion) or why it would not (CONFLICT)');
    const conflicts = result.counts.CONFLICT ?? 0;
    if (conflicts > 0) notes.push(`${conflicts} ${conflicts === 1 ? target.nouns.one : target.nouns.many} changed again since the import: not overwritten (their lines say how; --force overwrites)`);
    if (stateDb) notes.push(`state: the keys put back will be sent again by the next --changed-only run`);
    return { result, notes, reportPath: job.reportPath, verb: sending ? 'Undo' : 'Undo preview', redact, targetName: target.displayName };
  } catch (err) {
    report?.close(false);
    throw err;
  } finally {
    await session?.close();
    trace?.close();
    await stateDb?.close().catch(() => undefined);
    release();
  }
}

/**
 * One undo per record, however many rows of the import wrote it (a key twice in the file): its values before the
 * first, every field any of them changed, and what the last one left there (what the check expects now). A record
 * the import created is only deleted, expecting what its rows left in it.
 */
function coalesce(rows: RowUndo[]): RowUndo[] {
  const byRecord = new Map<string, RowUndo>();
  const out: RowUndo[] = [];
  for (const r of rows) {
    const id = r.entry.before === null ? r.created : r.entry.remoteId;
    const first = id ? byRecord.get(id) : undefined;
    if (!first) {
      const copy: RowUndo = { ...r, entry: { ...r.entry, changes: [...r.entry.changes], after: { ...r.entry.after } } };
      if (id) byRecord.set(id, copy);
      out.push(copy);
      continue;
    }
    // A later row on the same record: the first row's prior values stay; the fields and what was left in them grow.
    Object.assign(first.entry.after, r.entry.after);
    for (const c of r.entry.changes) {
      const had = first.entry.changes.find((x) => x.field === c.field);
      if (had) had.new = c.new;
      else if (first.entry.before) first.entry.changes.push({ field: c.field, old: first.entry.before[c.field] ?? '', new: c.new });
    }
  }
  return out;
}

/** The item that puts an updated record's changed fields back, expecting what the import wrote in them. */
function restoreItem(target: Target, r: RowUndo, force: boolean): SourceRecord['ready'] {
  const e = r.entry;
  const key = e.key;
  if (!e.remoteId) return { key, lockKeys: [], payload: undefined, decided: { status: 'INVALID', errorMessage: 'the undo log has no id for this record' } };
  if (e.matches) return { key, lockKeys: [], payload: undefined, decided: { status: 'INVALID', remoteId: e.remoteId, errorMessage: `${e.matches} ${target.nouns.many} matched this row during the import, so which one it wrote is not known: check them by hand` } };
  if (e.changes.length === 0) return { key, lockKeys: [], payload: undefined, decided: { status: 'UNCHANGED', remoteId: e.remoteId, errorMessage: 'the import changed nothing in this record' } };
  // Only what was read is written back: a field whose value before the import was not read is left as it is.
  const unread = e.changes.filter((c) => c.old === null).map((c) => c.field);
  const fields = e.changes.filter((c) => c.old !== null).map((c) => c.field);
  if (fields.length === 0) return { key, lockKeys: [], payload: undefined, decided: { status: 'INVALID', remoteId: e.remoteId, errorMessage: `${unread.join(', ')}: the value before the import was not read, so it cannot be put back` } };
  const before = { ...e.before, ...Object.fromEntries(e.changes.filter((c) => c.old !== null).map((c) => [c.field, c.old!])) };
  const mapped = target.readBack!.restoreRow(e.remoteId, before, fields);
  if (unread.length > 0) (mapped.notes ??= []).push(`${unread.join(', ')} not put back: the value before the import was not read`);
  const prepared = target.prepare('upsert', mapped, { replacePartial: true, newEmailStatus: 'account-default' });
  if (!prepared.ok) return { key, lockKeys: [], payload: undefined, decided: { status: 'INVALID', remoteId: e.remoteId, errorMessage: `cannot be put back: ${prepared.error}` } };
  return {
    key,
    lockKeys: prepared.lockKeys,
    payload: prepared.payload,
    identity: { kind: 'id', value: e.remoteId },
    expect: Object.fromEntries(e.changes.map((c) => [c.field, c.new])),
    force,
    note: [`puts back ${fields.join(', ')}`, ...(mapped.notes ?? [])].join('; '),
    partial: (mapped.notes?.length ?? 0) > 0,
  };
}

/**
 * The records the import created, as delete rows: each read first (for the backup, and to refuse one changed since
 * — a CONFLICT unless --force), one already gone reported so. Created records whose id the log lacks (the run
 * stopped between the answer and its line) are found by the row's own identity.
 */
async function deletionRecords(
  target: Target,
  session: TargetSession,
  creations: Array<{ row: number; r: RowUndo }>,
  ctx: { pacer: RequestPacer; retry: typeof DEFAULT_RETRY_POLICY; signal: AbortSignal; force: boolean; previous?: Map<number, unknown> },
): Promise<Array<{ record: SourceRecord; ready?: NonNullable<SourceRecord['ready']>; found?: FoundRecord }>> {
  const out: Array<{ record: SourceRecord; ready?: NonNullable<SourceRecord['ready']>; found?: FoundRecord }> = [];
  const decided = (row: number, line: number, key: string, d: NonNullable<NonNullable<SourceRecord['ready']>['decided']>) => {
    const ready = { key, lockKeys: [], payload: undefined, decided: d };
    out.push({ record: { row, line, ready }, ready });
  };
  const canDelete = !!target.deletes && !!session.lookup;
  const todo = creations.filter((c) => !ctx.previous?.has(c.row));
  // Read them all first, by id (or by the row's identity when the id was not recorded), maxBatchSize a call.
  const found = new Map<number, FoundRecord | null>();
  if (canDelete) {
    const byKind = new Map<string, Array<{ row: number; kind: 'id' | 'email' | 'externalId'; value: string }>>();
    for (const c of todo) {
      const ask = c.r.created ? { kind: 'id' as const, value: c.r.created } : c.r.entry.identity;
      if (!ask) continue;
      byKind.set(ask.kind, [...(byKind.get(ask.kind) ?? []), { row: c.row, ...ask }]);
    }
    for (const [kind, asks] of byKind) {
      const size = readBatchSize(session.limits);
      for (let i = 0; i < asks.length; i += size) {
        const part = asks.slice(i, i + size);
        const { value } = await callWithRetry({ pacer: ctx.pacer, retry: ctx.retry, signal: ctx.signal }, `reading the ${target.nouns.many} the import created`, async (nextCall) => {
          const r = await session.lookup!(kind as 'id', part.map((p) => p.value), ctx.signal, nextCall);
          return r.kind === 'found' ? { kind: 'ok' as const, value: r.records } : r;
        });
        for (const p of part) found.set(p.row, value.get(p.value)?.[0] ?? null);
      }
    }
  }
  for (const { row, r } of creations) {
    const key = r.entry.key;
    const line = r.entry.line;
    if (ctx.previous?.has(row)) {
      out.push({ record: { row, line, ready: { key, lockKeys: [], payload: undefined } } });
      continue;
    }
    if (!canDelete) {
      decided(row, line, key, r.created
        ? { status: 'INVALID', remoteId: r.created, errorCode: 'NO_DELETE', errorMessage: `created by the import (${target.nouns.identity.id} ${r.created}), and ${target.displayName}'s API cannot delete: delete it in the admin` }
        : { status: 'INVALID', errorCode: 'NO_DELETE', errorMessage: `the import may have created it (${key}); ${target.displayName}'s API cannot delete: check it in the admin` });
      continue;
    }
    const rec = found.get(row);
    if (!rec) {
      decided(row, line, key, { status: 'UNCHANGED', remoteId: r.created, errorMessage: r.created || r.entry.identity ? 'already gone: nothing to delete' : 'the undo log has no id for it' });
      continue;
    }
    const changed = drift(r.entry.after, rec);
    if (changed.length > 0 && !ctx.force) {
      decided(row, line, key, { status: 'CONFLICT', remoteId: rec.remoteId, errorMessage: `changed since the import created it: ${changed.join('; ')}; not deleted (--force deletes it anyway)` });
      continue;
    }
    const prepared = target.prepare('delete', target.deletes!.deleteRow([rec.remoteId]));
    if (!prepared.ok) {
      decided(row, line, key, { status: 'INVALID', remoteId: rec.remoteId, errorMessage: prepared.error });
      continue;
    }
    const ready = { key, lockKeys: prepared.lockKeys, payload: prepared.payload, remoteId: rec.remoteId, note: `created by the import: ${rec.label}` };
    out.push({ record: { row, line, ready }, ready, found: rec });
  }
  return out;
}

