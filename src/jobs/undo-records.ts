import { readFile } from 'node:fs/promises';
import { callWithRetry } from '../core/call-with-retry.js';
import { UsageError } from '../core/errors.js';
import { readBatchSize } from '../core/limits.js';
import type { RequestPacer } from '../core/pace-requests.js';
import { drift } from '../core/record-changes.js';
import type { RetryPolicy } from '../core/retry-policy.js';
import type { UndoEntry } from '../core/run-types.js';
import type { FoundRecord, SourceRecord, Target, TargetSession } from '../core/types.js';
import type { UndoHeader, UndoLine } from '../report/undo-log.js';

/*
 * An undo log read back: one entry per import row, coalesced per record, and the items that undo sends — the
 * restores of what the import wrote over, and the deletions of what it created (each read first).
 */

/** What an undo log says of one import row: its record before (first entry wins), and the record it created. */
export interface RowUndo {
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
 * One undo per record, however many rows of the import wrote it (a key twice in the file): its values before the
 * first, every field any of them changed, and what the last one left there (what the check expects now). A record
 * the import created is only deleted, expecting what its rows left in it.
 */
export function coalesce(rows: RowUndo[]): RowUndo[] {
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
export function restoreItem(target: Target, r: RowUndo, force: boolean): SourceRecord['ready'] {
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
  // What the remote cannot empty stays as the import left it: named, and not among what is put back.
  const stays = mapped.dropped ?? [];
  for (const d of stays) (mapped.notes ??= []).push(d.reason);
  if (unread.length > 0) (mapped.notes ??= []).push(`${unread.join(', ')} not put back: the value before the import was not read`);
  const putBack = fields.filter((f) => !stays.some((d) => d.field === f));
  const prepared = target.prepare('upsert', mapped, { replacePartial: true, newEmailStatus: 'account-default' });
  if (!prepared.ok) return { key, lockKeys: [], payload: undefined, decided: { status: 'INVALID', remoteId: e.remoteId, errorMessage: `cannot be put back: ${prepared.error}` } };
  return {
    key,
    lockKeys: prepared.lockKeys,
    payload: prepared.payload,
    identity: { kind: 'id', value: e.remoteId },
    expect: Object.fromEntries(e.changes.map((c) => [c.field, c.new])),
    force,
    note: [putBack.length > 0 ? `puts back ${putBack.join(', ')}` : 'puts nothing back', ...(mapped.notes ?? [])].join('; '),
    partial: (mapped.notes?.length ?? 0) > 0,
  };
}

/**
 * The records the import created, as delete rows: each read first (for the backup, and to refuse one changed since
 * — a CONFLICT unless --force), one already gone reported so. Created records whose id the log lacks (the run
 * stopped between the answer and its line) are found by the row's own identity.
 */
export async function deletionRecords(
  target: Target,
  session: TargetSession,
  creations: Array<{ row: number; r: RowUndo }>,
  ctx: { pacer: RequestPacer; retry: RetryPolicy; signal: AbortSignal; force: boolean; previous?: Map<number, unknown> },
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
