import { hash as sha } from 'node:crypto';
import type { RunContext } from './run-context.js';
import { rowMemberships, type MembershipResult } from './memberships.js';
import type { DroppedValues, PreviousRow, Work } from './run-types.js';
import type { MappedRow, Membership, Prepared, RowRepeat, SourceRecord } from './types.js';
import { SUCCESS_STATUSES } from './statuses.js';
import { readRowTime, writtenFields, type RowTimes } from './update-policy.js';
import { seeRow } from './seen-keys.js';

const CHECK_ONLY = { checkOnly: true };

/**
 * One input row into the run: kept from a previous run or decided before it, else mapped, prepared by the target,
 * compared with the state (--changed-only, a remembered remote id), and either finished at once (INVALID,
 * UNCHANGED, DRY_RUN) or queued to send behind the rows that hold its keys.
 */
export function admitRow(ctx: RunContext, record: SourceRecord): void {
  const { options, emitter } = ctx;
  const { operation, target, mapper, state } = options;
  ctx.rowsRead++;
  const prev = options.previous?.get(record.row);
  if (prev) return keepPrevious(ctx, record, prev);
  const decided = options.decided?.get(record.row);
  if (decided) {
    emitter.keepInput(record, decided.status);
    return emitter.emit(decided);
  }
  // One shape for every finished row's base (finishRow reads it for each of a million rows: a second shape made from
  // a spread cost validate ~0.5 µs a row).
  let dropped: DroppedValues | undefined;
  let repeat: RowRepeat | undefined;
  const here = (key: string, note?: string, membershipResults?: MembershipResult[]) => ({ row: record.row, line: record.line, key, input: record, note, dropped, repeat, membershipResults });
  if (record.ready) return admitReady(ctx, record);
  if (record.error) return ctx.finishRow(here(''), { status: 'INVALID', errorMessage: `line ${record.line}: ${record.error}` });
  const mapped = mapper.map(record.fields!);
  if ('error' in mapped) return ctx.finishRow(here(''), { status: 'INVALID', errorMessage: mapped.error });
  const groups = rowGroups(ctx, mapped.mapped);
  if (groups.error !== undefined) return ctx.finishRow(here(target.prepare(operation, mapped.mapped, CHECK_ONLY).key), { status: 'INVALID', errorMessage: groups.error });
  const memberships = groups.memberships;
  // After a stop (Ctrl-C, an abort) a row only needs its key for the report: no payload, hash or state lookup
  // (the rest of a 200,000-row file is reported in a fraction of the time).
  const stop = ctx.stop;
  const prepared = prepareRow(ctx, mapped.mapped);
  if (mapped.mapped.dropped) dropped = { fields: mapped.mapped.dropped.map((d) => d.field), text: mapped.mapped.dropped.map((d) => `not sent: ${d.reason}`).join('; ') };
  if (!prepared.ok) return ctx.finishRow(here(prepared.key), { status: 'INVALID', errorMessage: prepared.error });
  if (stop && (ctx.sending || ctx.planning)) return ctx.finishRow(here(prepared.key), { status: 'NOT_ATTEMPTED', errorMessage: stop.message });
  prepared.note = rowNote(ctx, mapped.mapped, prepared);
  repeat = operation === 'upsert' ? sameAsEarlier(ctx, mapped.mapped) : undefined;
  // What the row's group changes come to is said on its line (not in its note: notes are counted per text). A
  // preview says what would be done; an inline target's changes are done when its row is.
  const said = memberships && (!ctx.sending || target.groups!.delivery === 'inline')
    ? memberships.map((m) => ({ membership: m, outcome: ctx.sending ? (m.change === 'add' ? 'added' as const : 'removed' as const) : m.change === 'add' ? 'would-add' as const : 'would-remove' as const }))
    : undefined;
  const separate = ctx.sending && target.groups?.delivery === 'calls' ? memberships : undefined;
  // Every Work of the run in one shape (no spread of one into another: the send loop reads them all). Only a row
  // whose record is sent carries what a creation's second call needs.
  const newWork = (payload: unknown, sent?: { fallback: unknown; hash: string | undefined }): Work => ({ row: record.row, line: record.line, key: prepared.key, lockKeys: prepared.lockKeys, payload, fallback: sent?.fallback, hash: sent?.hash, attempts: 0, waitingOn: 0, done: false, input: options.onFailure ? record : undefined, note: prepared.note, dropped, repeat, memberships: separate, afterCreate: sent ? prepared.afterCreate : undefined, heldBackNote: sent ? prepared.heldBackNote : undefined });
  // --resume: the record was written by the earlier run; only the group changes it did not finish are sent.
  const pending = options.membershipsPending?.get(record.row);
  if (pending && separate && ctx.sending) {
    const w = newWork(undefined);
    w.upserted = { status: pending.status, remoteId: pending.remoteId };
    w.membershipResults = separate.filter((m) => pending.done.has(m.group.label)).map((m) => ({ membership: m, outcome: pending.done.get(m.group.label)!, earlier: true }));
    if (ctx.locks.claim(w)) ctx.toReady(w);
    return;
  }
  const remembered = state && operation === 'upsert' ? fromState(ctx, prepared) : undefined;
  if (remembered?.unchanged) {
    ctx.unchanged++;
    const { remoteId } = remembered;
    if (separate && remoteId) {
      // Its record is as last synced, but its group changes are asked for now: they are sent, by its stored id
      // (group membership is not part of what --changed-only compares; README "Segments and groups").
      const w = newWork(undefined);
      w.upserted = { status: 'UNCHANGED', remoteId, errorMessage: 'same as last synced; not sent' };
      if (ctx.locks.claim(w)) ctx.toReady(w);
      return;
    }
    return ctx.finishRow(here(prepared.key), { status: 'UNCHANGED', remoteId, errorMessage: 'same as last synced; not sent' });
  }
  const payload = remembered?.payload ?? prepared.payload;
  const fallback = remembered?.fallback;
  const hash = remembered?.hash;
  if (!ctx.sending && !ctx.planning) return ctx.finishRow(here(prepared.key, prepared.note, said), { status: 'DRY_RUN' });
  const work = newWork(payload, { fallback, hash });
  const problem = readFirstIfNeeded(ctx, work, mapped.mapped, record, prepared.payload);
  if (problem) return ctx.finishRow(here(prepared.key), { status: 'INVALID', errorMessage: problem });
  if (said) work.membershipResults = said;
  if (ctx.locks.claim(work)) ctx.toReady(work);
}

/**
 * A row an earlier run finished (`--resume`): its line as it was. Its person is still met: a later row naming them
 * says so, and keeps the spelling the record was sent with.
 */
function keepPrevious(ctx: RunContext, record: SourceRecord, prev: PreviousRow): void {
  const { mapper, operation } = ctx.options;
  if (operation === 'upsert' && record.fields && !ctx.stop) {
    const m = mapper.map(record.fields);
    if (!('error' in m)) sameAsEarlier(ctx, m.mapped, false);
  }
  ctx.emitter.keepInput(record, prev.status);
  ctx.emitter.emit({ raw: prev.line, row: record.row, status: prev.status });
}

/** The row's group changes (the run's flags and its own columns), resolved: for an upsert only. */
function rowGroups(ctx: RunContext, row: MappedRow): { memberships?: Membership[]; error?: string } {
  const { options } = ctx;
  const groups = options.target.groups;
  if (!groups || options.operation !== 'upsert' || !(options.memberships?.length || row.groups)) return {};
  const r = rowMemberships(options.memberships ?? [], row.groups, options.groupDirectory ?? groups.offline, groups.noun);
  if ('error' in r) return { error: r.error };
  const memberships = r.memberships.length > 0 ? r.memberships : undefined;
  // Targets that carry them in the row's own request build them into its payload.
  if (groups.delivery === 'inline') row.memberships = memberships;
  return { memberships };
}

/**
 * The target's payload for the row. A value that cannot be used costs the row that value, not the contact (unless
 * --strict-values): the row goes without it, and its line says which and why. A key never: the target names no
 * field for it. After a stop only the key is made.
 */
function prepareRow(ctx: RunContext, row: MappedRow): Prepared {
  const { operation, target, strictValues } = ctx.options;
  const how = ctx.stop ? CHECK_ONLY : ctx.prepareOptions;
  let prepared = target.prepare(operation, row, how);
  for (let guard = 0; !prepared.ok && prepared.field && !strictValues && guard < 64; guard++) {
    withoutValue(row, prepared.field, prepared.error);
    prepared = target.prepare(operation, row, how);
  }
  return prepared;
}

/**
 * What the row's line says of it besides its status: the mapper's notes, what it clears (in a preview too, before
 * anything is sent), and in a preview, which cannot know whether the row would create its record, what would be
 * held back.
 */
function rowNote(ctx: RunContext, row: MappedRow, prepared: Extract<Prepared, { ok: true }>): string | undefined {
  let note = prepared.note;
  if (row.notes) note = [...row.notes, ...(note ? [note] : [])].join('; ');
  if (row.clear?.length) note = [note, `clears ${row.clear.join(', ')}`].filter(Boolean).join('; ');
  if (!ctx.sending && prepared.heldBackNote) note = [note, prepared.heldBackNote].filter(Boolean).join('; ');
  return note;
}

/**
 * What the state remembers of the row's key: the payload's hash; whether it is unchanged since last synced
 * (--changed-only); and a remembered remote id, which the payload then carries (the payload without it is the
 * fallback, sent if that id turns out stale).
 */
function fromState(ctx: RunContext, prepared: Extract<Prepared, { ok: true }>): { hash: string; unchanged?: boolean; remoteId?: string; payload?: unknown; fallback?: unknown } {
  const { options } = ctx;
  const hash = sha('sha256', (options.hashSalt ?? '') + JSON.stringify(prepared.payload), 'base64url').slice(0, 32);
  const stored = options.state!.get(prepared.key);
  if (options.changedOnly && stored && stored.hash === hash && SUCCESS_STATUSES.has(stored.status)) return { hash, unchanged: true, remoteId: stored.remoteId };
  if (stored?.remoteId && options.target.withRemoteId) return { hash, payload: options.target.withRemoteId(prepared.payload, stored.remoteId), fallback: prepared.payload };
  return { hash };
}

/**
 * Whether an earlier row of the file named the same record (the same email, however spelled in case, or id), for
 * this row's line, and whether the email was spelled in another case.
 */
function sameAsEarlier(ctx: RunContext, row: MappedRow, count = true): RowRepeat | undefined {
  const { target } = ctx.options;
  const earlier = seeRow(ctx.seen, target, row);
  if (!earlier) return undefined;
  const { caseOnly } = earlier;
  // A resumed run's earlier rows are not counted again.
  if (count) ctx.repeats.rows++;
  if (count && caseOnly) ctx.repeats.caseOnly++;
  const one = target.nouns.one;
  // (Which row is not said: a line number for every identity met would cost a million-row run 8 MB more. The
  // report's key column is the same for both rows.)
  return { caseOnly, text: `same ${target.nouns.identity[earlier.kind]} as an earlier row of the file${caseOnly ? ', spelled in another case' : ''}: one ${one}, its rows applied in file order` };
}

/**
 * Whether the row's record is read before it is written (a plan, the undo log, an update policy that needs it, an
 * email an earlier row spelled in another case), and how: by the id the state remembers (what will be sent), else as
 * the row names it. Why the row cannot say which record it writes, if it cannot.
 */
function readFirstIfNeeded(ctx: RunContext, work: Work, row: MappedRow, record: SourceRecord, unsent: unknown): string | undefined {
  const { options } = ctx;
  const policy = options.update && options.operation === 'upsert' && ctx.policyFields!.needsRead(options.update, writtenFields(row));
  // What the record keeps is decided once it is read (check-current.ts): the row is prepared again without it.
  if (policy) work.rowTimes = rowTimes(ctx, record);
  if (!ctx.planning && !options.undoLog && !policy && !work.repeat?.caseOnly) return undefined;
  // Kept while the record is read: prepared again with the record's spelling of the email, and by the policy.
  if (options.operation === 'upsert') work.mapped = row;
  if (policy) work.policy = true;
  const identity = work.payload !== unsent && work.fallback !== undefined ? { kind: 'id' as const, value: stateId(options, work.key)! } : options.target.identify(row);
  if ('error' in identity) return identity.error;
  work.identity = identity;
  return undefined;
}

/** The row's timestamps, one per if-newer column the policy names. */
function rowTimes(ctx: RunContext, record: SourceRecord): RowTimes | undefined {
  const { newerColumns } = ctx;
  if (newerColumns.length === 0) return undefined;
  const order = ctx.options.update!.dateOrder;
  return new Map(newerColumns.map((c) => [c, readRowTime(record.fields?.[c], c, order) ?? `the row has no "${c}" value`]));
}

/** The row without one value (a field, or "custom <name>"), and why, for its report line. */
function withoutValue(row: MappedRow, field: string, reason: string): void {
  if (field.startsWith('custom ')) {
    const name = field.slice('custom '.length);
    row.custom = row.custom.filter((c) => (c.name ?? c.fieldId) !== name);
  } else delete row.fields[field];
  (row.dropped ??= []).push({ field, reason });
}

function stateId(options: RunContext['options'], key: string): string | undefined {
  return options.state?.get(key)?.remoteId;
}

/** A record decided before the run (a reviewed plan's row, an undo's restore): reported as decided, or sent as it is. */
function admitReady(ctx: RunContext, record: SourceRecord): void {
  const r = record.ready!;
  const base = { row: record.row, line: record.line, key: r.key, input: record, repeat: r.repeat, dropped: r.dropped };
  if (r.repeat) {
    ctx.repeats.rows++;
    if (r.repeat.caseOnly) ctx.repeats.caseOnly++;
  }
  if (r.decided) return ctx.finishRow(base, r.decided);
  if (ctx.stop) return ctx.finishRow(base, { status: 'NOT_ATTEMPTED', errorMessage: ctx.stop.message });
  // A preview says DRY_RUN; a plan (an undo's --dry-run) reads the record and says what it would change.
  if (!ctx.sending && !ctx.planning) return ctx.finishRow({ ...base, note: r.note }, { status: 'DRY_RUN', remoteId: r.remoteId });
  const work: Work = { row: record.row, line: record.line, key: r.key, lockKeys: r.lockKeys, payload: r.payload, attempts: 0, waitingOn: 0, done: false, input: ctx.options.onFailure ? record : undefined, note: r.note, identity: r.identity, expect: r.expect, force: r.force, afterCreate: r.afterCreate, heldBackNote: r.heldBackNote, partial: r.partial, repeat: r.repeat, kept: r.kept, dropped: r.dropped };
  if (ctx.locks.claim(work)) ctx.toReady(work);
}
