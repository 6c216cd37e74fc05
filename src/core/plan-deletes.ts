import { InternalError } from './errors.js';
import type { RequestPacer, PacerClock } from './pace-requests.js';
import { realClock } from './pace-requests.js';
import type { RetryPolicy } from './retry-policy.js';
import { callWithRetry } from './call-with-retry.js';
import type { FoundRecord, IdentityKind, Operation, RowMapper, RowResult, Source, SourceRecord, Status, Target, TargetSession } from './types.js';
import { normaliseEmail } from './keys.js';
import { readBatchSize } from './limits.js';
import { chunkedSource } from './chunked-source.js';

export interface DeletePlan {
  /** What to send: the input's rows in order, each naming the records to delete (or why it cannot). */
  source: Source;
  /** Rows decided by the lookup (NOT_FOUND, ambiguous): reported as they are, nothing sent. */
  decided: Map<number, RowResult>;
  /** Per row to delete: the records, for the report's remote_id and message. */
  annotations: Map<number, { remoteId: string; message: string }>;
  /** Every distinct record that would be deleted, for the cap and the backup. */
  toDelete: FoundRecord[];
  rows: number;
  lookups: number;
}

interface Pending {
  record: SourceRecord;
  kind?: IdentityKind;
  value?: string;
  error?: string;
  key: string;
}

/** What planDeletes is given: the delete file and its mapping, the connection, and the run's pacing. */
export interface DeletePlanOptions {
  source: Source;
  mapper: RowMapper;
  target: Target;
  session: TargetSession;
  pacer: RequestPacer;
  retry: RetryPolicy;
  allMatches: boolean;
  operation: Operation;
  clock?: PacerClock;
  signal?: AbortSignal;
}

/**
 * Reads a delete file and resolves each row's identity to remote records before anything is deleted, so the
 * preview, the cap and the backup all see exactly what the DELETE phase will send. Lookups share the pacer with
 * the DELETE phase and are retried by the same policy.
 */
export async function planDeletes(options: DeletePlanOptions): Promise<DeletePlan> {
  const { target, session } = options;
  if (!target.deletes || !session.lookup) throw new InternalError(`${target.displayName} cannot resolve rows for delete`);
  const { pending, wanted } = await readIdentities(options);
  const { found, lookups } = await lookUp(options, wanted);
  return { ...decideRows(options, pending, found), rows: pending.length, lookups };
}

/** Every row of the file, with the identity it names (or why it names none). */
async function readIdentities(options: DeletePlanOptions): Promise<{ pending: Pending[]; wanted: Record<IdentityKind, Set<string>> }> {
  const { target, mapper } = options;
  const pending: Pending[] = [];
  const wanted: Record<IdentityKind, Set<string>> = { id: new Set(), email: new Set(), externalId: new Set() };
  for await (const chunk of options.source.chunks()) {
    mapper.bind(options.source.columns(), options.source.fixedColumns, chunk); // once, then each chunk's new JSONL keys
    for (const record of chunk) {
      if (record.error) {
        pending.push({ record, key: '' });
        continue;
      }
      const mapped = mapper.map(record.fields!);
      const id = 'error' in mapped ? mapped : target.identify(mapped.mapped);
      if ('error' in id) {
        pending.push({ record, error: id.error, key: '' });
        continue;
      }
      const value = id.kind === 'email' ? normaliseEmail(id.value) : id.value.trim();
      wanted[id.kind].add(value);
      pending.push({ record, kind: id.kind, value, key: value });
    }
  }
  return { pending, wanted };
}

/** Resolves every identity, a batch of one kind per call; a lookup that keeps failing ends the run before any delete. */
async function lookUp(options: DeletePlanOptions, wanted: Record<IdentityKind, Set<string>>): Promise<{ found: Map<string, FoundRecord[]>; lookups: number }> {
  const { session } = options;
  const found = new Map<string, FoundRecord[]>();
  let lookups = 0;
  // As many as one search answers in one call (a full page would ask for another).
  const size = readBatchSize(session.limits);
  for (const kind of ['id', 'email', 'externalId'] as const) {
    const values = [...wanted[kind]];
    for (let i = 0; i < values.length; i += size) {
      const batch = values.slice(i, i + size);
      const { value: records, calls } = await callWithRetry<Map<string, FoundRecord[]>>(
        { pacer: options.pacer, retry: options.retry, clock: options.clock ?? realClock, signal: options.signal },
        `looking up the rows to delete (nothing was deleted)`,
        async (nextCall) => {
          const out = await session.lookup!(kind, batch, options.signal, nextCall);
          return out.kind === 'found' ? { kind: 'ok', value: out.records } : out;
        },
      );
      lookups += calls;
      for (const v of batch) found.set(`${kind}:${v}`, records.get(v) ?? []);
    }
  }
  return { found, lookups };
}

/** Each row decided (NOT_FOUND, ambiguous, INVALID) or turned into the target's delete form naming its records. */
function decideRows(options: DeletePlanOptions, pending: Pending[], found: Map<string, FoundRecord[]>): Omit<DeletePlan, 'rows' | 'lookups'> {
  const { target } = options;
  const nouns = target.nouns;
  const decided = new Map<number, RowResult>();
  const annotations = new Map<number, { remoteId: string; message: string }>();
  const toDelete = new Map<string, FoundRecord>();
  const records: SourceRecord[] = [];
  const deleteColumns = new Set<string>();
  const decide = (p: Pending, status: Status, message: string, remoteId?: string) =>
    decided.set(p.record.row, { row: p.record.row, line: p.record.line, operation: options.operation, key: p.key, status, attempts: 0, remoteId, errorMessage: message });
  for (const p of pending) {
    const { row, line } = p.record;
    if (p.record.error || p.error) {
      // INVALID as import would report it: the core maps the same reason again.
      records.push(p.record.error ? p.record : { row, line, error: p.error });
      continue;
    }
    const matches = found.get(`${p.kind}:${p.value}`) ?? [];
    if (matches.length === 0) {
      decide(p, 'NOT_FOUND', `no ${nouns.one} with this ${nouns.identity[p.kind!]}`);
      records.push(p.record);
      continue;
    }
    if (matches.length > 1 && !options.allMatches) {
      decide(p, 'VALIDATION_ERROR', `this ${nouns.identity[p.kind!]} matches ${matches.length} ${nouns.many} (${matches.map((m) => m.remoteId).join(', ')}); not deleted. Name them by ${nouns.identity.id}, or re-run with --all-matches to delete all of them`);
      records.push(p.record);
      continue;
    }
    for (const m of matches) toDelete.set(m.remoteId, m);
    const ids = matches.map((m) => m.remoteId);
    annotations.set(row, { remoteId: ids.join(' '), message: matches.map((m) => `${m.label} (${m.remoteId})`).join('; ') });
    const fields = target.deletes!.deleteRow(ids).fields;
    for (const k in fields) deleteColumns.add(k);
    records.push({ row, line, fields });
  }
  return {
    // Rows whose fields are the target's delete form (rows decided here are reported as they are, never mapped);
    // the mapper the CLI gives runSync reads them as they are.
    source: chunkedSource(() => [...deleteColumns], async function* () { yield records; }, true),
    decided,
    annotations,
    toDelete: [...toDelete.values()],
  };
}
