import { callWithRetry } from './call-with-retry.js';
import { InterruptedError, RunAbortedError } from './errors.js';
import { describeKept, keptByPolicy, withoutKept, writtenFields, type Kept } from './update-policy.js';
import { alignFieldNames, describeChanges, diffRecord, drift, heldValue } from './record-changes.js';
import type { RunContext } from './run-context.js';
import type { UndoEntry, Work } from './run-types.js';
import type { FieldChange, FoundRecord, IdentityKind, Status } from './types.js';
import { normaliseEmail } from './keys.js';

/** The fields a second call sets (not the parts it leaves empty: it only adds to what the first call wrote). */
function onlySet(flat: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(flat).filter(([, v]) => v !== ''));
}

/**
 * Reads the records a batch is about to write, once per row, through the run's pacer, retry policy and breaker:
 * a plan (`--plan`) finishes each row with what sending would change; an item decided earlier (`--apply-plan`,
 * `undo`) whose record no longer holds what was expected is a CONFLICT, not sent; the undo log (`--undo-log`) gets
 * every prior value, on disk before the batch goes. Returns the rows still to send.
 */
export async function checkCurrent(ctx: RunContext, batch: Work[]): Promise<Work[]> {
  await readRecords(ctx, batch);
  const toSend: Work[] = [];
  const undo: UndoEntry[] = [];
  for (const w of batch) {
    if (w.done) continue;
    if (!w.current || decide(ctx, w, undo)) toSend.push(w);
  }
  if (undo.length > 0) ctx.options.undoLog!.before(undo);
  return toSend;
}

/**
 * One lookup per kind of identity for the rows not read yet. A row whose record could not be read is never sent
 * without it: it fails (or, after a stop, is not attempted).
 */
async function readRecords(ctx: RunContext, batch: Work[]): Promise<void> {
  const { options } = ctx;
  const nouns = options.target.nouns;
  const byKind = new Map<IdentityKind, Work[]>();
  for (const w of batch) if (w.identity && !w.current) byKind.set(w.identity.kind, [...(byKind.get(w.identity.kind) ?? []), w]);
  const unread = new Set<Work>();
  for (const [kind, works] of byKind) {
    const values = [...new Set(works.map((w) => w.identity!.value))];
    try {
      const { value: records, calls } = await callWithRetry(
        { pacer: ctx.pacer, retry: ctx.policy, clock: ctx.clock, signal: ctx.stopController.signal, breaker: ctx.breaker },
        `reading ${values.length === 1 ? `the ${nouns.one}` : `${values.length} ${nouns.many}`} before writing`,
        async (nextCall) => {
          const r = await options.session!.lookup!(kind, values, ctx.stopController.signal, nextCall);
          return r.kind === 'found' ? { kind: 'ok' as const, value: r.records } : r;
        },
      );
      ctx.calls += calls;
      ctx.lookupCalls += calls;
      for (const w of works) w.current = { found: records.get(w.identity!.value) ?? [] };
    } catch (err) {
      if (err instanceof InterruptedError || ctx.stop) for (const w of works) unread.add(w);
      else if (err instanceof RunAbortedError && err.code === 'E_AUTH') {
        ctx.requestStop('abort', err.message);
        for (const w of works) unread.add(w);
      } else {
        // Not read, so not written: a row is never sent without its prior values when they were asked for.
        for (const w of works) ctx.finishWork(w, { status: 'FAILED', errorMessage: `not sent: ${(err as Error).message}` });
      }
    }
  }
  for (const w of unread) ctx.notAttempted(w);
}

/** What one read row comes to: finished here (a plan's line, NOT_FOUND, CONFLICT, UNCHANGED), or sent (true). */
function decide(ctx: RunContext, w: Work, undo: UndoEntry[]): boolean {
  const { options } = ctx;
  const nouns = options.target.nouns;
  const found = w.current!.found;
  // In a plan, a record an earlier row of the file would already have written (or created) is read as that row
  // would leave it: the plan then shows what this row changes after it, and applying it meets no false CONFLICT.
  const identityKey = `${w.identity!.kind}:${w.identity!.value.toLowerCase()}`;
  const rec: FoundRecord | undefined = ctx.planning ? ctx.planned.get(identityKey) ?? (found[0] && ctx.planned.get(`id:${found[0].remoteId}`)) ?? found[0] : found[0];
  // A record the row creates also gets what its second call sends (its email status).
  const flat = (p: unknown) => (p === undefined ? {} : options.target.readBack?.flatten(p) ?? {});
  const spelling = rec && w.mapped ? keepStoredSpelling(ctx, w, rec) : undefined;
  const intendedOf = () => alignFieldNames(rec || w.afterCreate === undefined ? flat(w.payload) : { ...flat(w.payload), ...onlySet(flat(w.afterCreate)) }, rec?.backup);
  let intended = intendedOf();
  let changes = diffRecord(intended, rec);
  const kept = rec && w.mapped && w.policy ? applyPolicy(ctx, w, rec, changes) : [];
  w.mapped = undefined;
  if (kept === 'finished') return false;
  if (kept.length > 0) {
    intended = intendedOf();
    changes = diffRecord(intended, rec);
  }
  const several = found.length > 1 ? `${found.length} ${nouns.many} match ${w.identity!.value}; the first (${rec!.remoteId}) is shown, and the remote decides which one it writes` : undefined;
  if (!rec && w.identity!.kind === 'id' && w.fallback === undefined && w.expect === undefined) {
    // An id names a record the remote made; none has it now, so the call can only answer "not found" (and an undo
    // log must not take it for a record the run created).
    const none = `no ${nouns.one} has this ${nouns.identity.id} (${w.identity!.value})`;
    ctx.finishWork(w, { status: 'NOT_FOUND', errorMessage: ctx.planning ? `${none}: the import would answer not found` : `${none}; not sent` });
    return false;
  }
  if (w.expect !== undefined && !w.force && !stillAsExpected(ctx, w, rec, changes.length)) return false;
  if (ctx.planning) {
    // An item that cannot be done whole (an undo's field the API cannot empty) says so in the preview too.
    finishPlanned(ctx, w, { rec, identityKey, intended, changes, said: [several, spelling, kept.length > 0 ? describeKept(kept) : undefined, w.partial ? w.note : undefined] });
    return false;
  }
  if (kept.length > 0 && changes.length === 0) {
    // Everything the row would change, the record keeps: nothing is sent.
    ctx.finishWork(w, { status: 'UNCHANGED', remoteId: rec!.remoteId, errorMessage: [spelling, `${describeKept(kept)}; nothing else to send`].filter(Boolean).join('; ') });
    return false;
  }
  const unreadable = changes.filter((c) => c.old === null).map((c) => c.field);
  if (options.undoLog && unreadable.length > 0) {
    // The undo log would not know what to put back: the row is not written (never a value undo cannot restore), and
    // the run stops, as the same field will be unreadable in the records after it.
    const why = `the current value of ${unreadable.join(', ')} could not be read from ${options.target.displayName}, so the undo log could not record it; leave ${unreadable.length === 1 ? 'that field' : 'those fields'} out of the mapping, or run without --undo-log`;
    ctx.finishWork(w, { status: 'FAILED', remoteId: rec?.remoteId, errorMessage: `not sent: ${why}` });
    ctx.requestStop('abort', `stopped before writing: ${why}`);
    return false;
  }
  if (options.undoLog) undo.push({ row: w.row, line: w.line, key: w.key, identity: w.identity, remoteId: rec?.remoteId, before: rec?.backup ?? null, changes, after: intended, ...(several ? { matches: found.length } : {}) });
  return true;
}

/**
 * The update policy, once the record is read: the fields it keeps (counted per field, said on the row's line) and
 * the row prepared again without them, so that what the record keeps is not sent at all.
 */
function applyPolicy(ctx: RunContext, w: Work, rec: FoundRecord, changes: FieldChange[]): Kept[] | 'finished' {
  const { options } = ctx;
  const row = w.mapped!;
  // Only what the row itself writes can be kept: a change under another name (Luminate's email.primary_address, the
  // record's side of the key primary_email) is not the row's to go without.
  const written = new Set(writtenFields(row));
  const kept = keptByPolicy(options.update!, ctx.policyFields!, changes.map((c) => c.field).filter((f) => written.has(f)), rec, w.rowTimes, options.target.displayName);
  if (kept.length === 0) return kept;
  for (const k of kept) ctx.kept[k.field] = (ctx.kept[k.field] ?? 0) + 1;
  if (kept.some((k) => k.unreadTime)) ctx.unreadTimes++;
  const prepared = options.target.prepare('upsert', withoutKept(row, kept, ctx.policyFields!), ctx.prepareOptions);
  if (!prepared.ok) {
    // Never the kept values: a row that cannot go without them is not sent.
    ctx.finishWork(w, { status: 'UNCHANGED', remoteId: rec.remoteId, errorMessage: `${describeKept(kept)}; the rest cannot be sent without them (${prepared.error})` });
    return 'finished';
  }
  usePrepared(ctx, w, rec, prepared.payload);
  w.kept = [w.kept, describeKept(kept)].filter(Boolean).join('; ');
  return kept;
}

/** The row's payload prepared again, by the record's id where the state gave one (the payload without it is the fallback). */
function usePrepared(ctx: RunContext, w: Work, rec: FoundRecord, payload: unknown): void {
  const { withRemoteId } = ctx.options.target;
  const byId = w.fallback !== undefined && withRemoteId;
  w.fallback = byId ? payload : undefined;
  w.payload = byId ? withRemoteId(payload, rec.remoteId) : payload;
}

/**
 * A row whose email differs from the record's only in case is one person spelled two ways: the record keeps its
 * spelling (the row is prepared again with it), and the row's line says so. An email that changes more than case is
 * the row's to change.
 */
function keepStoredSpelling(ctx: RunContext, w: Work, rec: FoundRecord): string | undefined {
  const { target } = ctx.options;
  const field = target.emailField;
  const mine = field ? w.mapped!.fields[field]?.trim() : undefined;
  const stored = rec.email;
  if (!field || !mine || !stored || mine === stored || normaliseEmail(mine) !== normaliseEmail(stored)) return undefined;
  const row = { ...w.mapped!, fields: { ...w.mapped!.fields, [field]: stored } };
  const prepared = target.prepare('upsert', row, ctx.prepareOptions);
  // The same row with another spelling of its email prepares as it did; were it not to, it is sent as it is.
  if (!prepared.ok) return undefined;
  w.mapped = row;
  usePrepared(ctx, w, rec, prepared.payload);
  ctx.keptSpellings++;
  w.kept = `the email keeps its record's spelling ${stored} (this row spells it ${mine})`;
  return w.kept;
}

/**
 * An item decided earlier (a reviewed plan's, an undo's) goes only if its record still holds what was expected;
 * else it is a CONFLICT — or UNCHANGED when the record already holds exactly what it would write.
 */
function stillAsExpected(ctx: RunContext, w: Work, rec: FoundRecord | undefined, changeCount: number): boolean {
  const { options } = ctx;
  const nouns = options.target.nouns;
  const problem = w.expect === null
    ? rec ? `a ${nouns.one} with this ${nouns.identity[w.identity!.kind]} exists now (${rec.remoteId}), and was to be created` : undefined
    : !rec ? `the ${nouns.one} no longer exists` : drift(w.expect!, rec).join('; ') || undefined;
  if (!problem) return true;
  if (rec && changeCount === 0) {
    // Someone (or an earlier attempt whose answer was lost) already wrote exactly this: nothing to send.
    ctx.finishWork(w, { status: 'UNCHANGED', remoteId: rec.remoteId, errorMessage: 'already holds what this would write; not sent' });
  } else {
    ctx.finishWork(w, { status: 'CONFLICT', remoteId: rec?.remoteId, errorMessage: `changed ${options.expectLabel ?? 'since it was read'}: ${problem}; not sent${options.forceHint ? ` (${options.forceHint})` : ''}` });
  }
  return false;
}

/** A plan's line for one row: CREATE, UPDATE with its fields, or NO_CHANGE; the record as the row would leave it. */
function finishPlanned(ctx: RunContext, w: Work, r: { rec?: FoundRecord; identityKey: string; intended: Record<string, string>; changes: FieldChange[]; said: Array<string | undefined> }): void {
  const { rec, intended, changes } = r;
  const status: Status = !rec ? 'CREATE' : changes.length > 0 ? 'UPDATE' : 'NO_CHANGE';
  const email = rec?.email ?? (w.identity?.kind === 'email' ? w.identity.value.trim() : undefined);
  const after: FoundRecord = { remoteId: rec?.remoteId ?? '', label: rec?.label ?? w.key, backup: { ...rec?.backup, ...intended }, unknown: rec?.unknown?.filter((f) => !(f in intended)), absent: rec?.absent, email };
  ctx.planned.set(r.identityKey, after);
  if (after.remoteId) ctx.planned.set(`id:${after.remoteId}`, after);
  if (status === 'UPDATE') for (const c of changes) ctx.planFields[c.field] = (ctx.planFields[c.field] ?? 0) + 1;
  if (status === 'CREATE' && w.afterCreate !== undefined) ctx.planSecondCalls++;
  // What was reviewed, to be fed back: the payload as it would go, and the fields it writes as they are now.
  const before = rec ? Object.fromEntries(Object.keys(intended).map((f) => [f, heldValue(rec, f)])) : null;
  ctx.finishWork(w, {
    status,
    remoteId: rec?.remoteId,
    errorMessage: [status === 'NO_CHANGE' ? 'no field would change' : describeChanges(changes), ...r.said].filter(Boolean).join('; '),
    details: {
      changes, identity: w.identity, before, payload: w.payload, lockKeys: w.lockKeys,
      ...(w.afterCreate !== undefined ? { afterCreate: w.afterCreate, heldBackNote: w.heldBackNote } : {}),
      // Said again on the lines of the run that applies the plan.
      ...(w.repeat ? { repeat: w.repeat } : {}),
      ...(w.kept ? { kept: w.kept } : {}),
      ...(w.dropped ? { dropped: w.dropped } : {}),
    },
  });
}
