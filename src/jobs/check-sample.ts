import { callWithRetry } from '../core/call-with-retry.js';
import { SyncError } from '../core/errors.js';
import type { RequestPacer } from '../core/pace-requests.js';
import { alignFieldNames, heldValue } from '../core/record-changes.js';
import type { RetryPolicy } from '../core/retry-policy.js';
import type { FoundRecord, GroupDirectory, IdentityKind, PrepareOptions, SourceRecord, Target, TargetSession } from '../core/types.js';
import { readBatchSize } from '../core/limits.js';
import type { createRowMapper } from '../mapping/mapper.js';

export interface CheckLine {
  check: string;
  ok: boolean;
  detail: string;
  /** What a failed line means for the exit code: 'fail' (a run would stop: exit 2) or 'problem' (rows would fail: 1). */
  severity?: 'fail' | 'problem';
}

export interface FileCheck {
  target: Target;
  /** The check's one pacer and retry policy: every read it makes shares the account's budget. */
  reads?: { pacer: RequestPacer; retry: RetryPolicy; signal?: AbortSignal };
  session?: TargetSession;
  prepare: PrepareOptions;
  sampleSize: number;
  add: (check: string, ok: boolean, detail: string, severity?: 'fail' | 'problem') => void;
  facts: Record<string, unknown>;
  /** The account's groups, when the run would use some (flags or a mapped column) and they could be read. */
  directory?: GroupDirectory;
}

export function checkRowGroups(rows: SourceRecord[], mapper: ReturnType<typeof createRowMapper>, c: FileCheck): void {
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
export function tally(counts: Map<string, number>, most = 8): string {
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
export async function sampleLookups(rows: SourceRecord[], mapper: ReturnType<typeof createRowMapper>, c: FileCheck): Promise<void> {
  const { target, session } = c;
  const asks: Array<{ kind: IdentityKind; value: string; fields: string[] }> = [];
  let named = 0;
  for (const r of rows) {
    const m = r.fields ? mapper.map(r.fields) : undefined;
    if (!m || 'error' in m) continue;
    const identity = target.identify(m.mapped);
    if ('error' in identity) continue;
    named++;
    const prepared = target.prepare('upsert', m.mapped, c.prepare);
    const fields = prepared.ok && prepared.payload !== undefined ? Object.keys(target.readBack?.flatten(prepared.payload) ?? {}) : [];
    asks.push({ ...identity, fields });
  }
  let found = 0;
  let looked = 0;
  const failures: string[] = [];
  const unreadable = new Map<string, number>();
  let existing = 0;
  if (session!.lookup) {
    const size = readBatchSize(session!.limits);
    // Paced and retried like every other call: the lookups count against the check's one budget.
    const ctx = c.reads!;
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
