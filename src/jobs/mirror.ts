import { combineOutcomes } from '../core/outcome.js';
import { UsageError } from '../core/errors.js';
import type { RequestPacer } from '../core/pace-requests.js';
import { planDeletes } from '../core/plan-deletes.js';
import type { RetryPolicy } from '../core/retry-policy.js';
import { runSync, type ReportSink, type RunResult } from '../core/run-sync.js';
import type { SourceRecord, Target, TargetSession } from '../core/types.js';
import type { MappingSpec } from '../mapping/mapping-file.js';
import { createRowMapper } from '../mapping/mapper.js';
import { chunkedSource } from '../core/chunked-source.js';
import { openSource } from '../sources/index.js';
import type { AccountState } from '../state/sqlite-state.js';
import { backupPathFor, writeBackup } from './delete-guard.js';
import type { DataJob } from './data-job-types.js';

export interface MirrorCandidate {
  key: string;
  remoteId: string;
}

/**
 * Who the state says this tool synced earlier and the file no longer names. Read before anything is sent, so the
 * cap can stop the run first. A row that cannot be read names nobody we can see: mirroring then could delete the
 * person it stands for, so it is refused.
 */
export async function mirrorCandidates(args: { input: string; job: Pick<DataJob, 'format' | 'delimiter' | 'encoding'>; target: Target; spec: MappingSpec | undefined; state: AccountState }) {
  const { input, job, target, state } = args;
  if (input === '-') throw new UsageError('--mirror needs the input as a file: it is read twice (who is in it, then the import).', 'E_MIRROR');
  const source = await openSource(input, { format: job.format, delimiter: job.delimiter, encoding: job.encoding });
  const mapper = createRowMapper(target, args.spec, input);
  const keys = new Set<string>();
  const keyless: number[] = [];
  for await (const chunk of source.chunks()) {
    mapper.bind(source.columns(), source.fixedColumns, chunk); // once, then each chunk's new JSONL keys
    for (const r of chunk) {
      const mapped = r.fields ? mapper.map(r.fields) : undefined;
      const prepared = mapped && 'mapped' in mapped ? target.prepare('upsert', mapped.mapped, { checkOnly: true }) : undefined;
      if (prepared?.key) keys.add(prepared.key);
      else keyless.push(r.line);
    }
  }
  if (keyless.length > 0) {
    const lines = keyless.slice(0, 5).join(', ') + (keyless.length > 5 ? ` and ${keyless.length - 5} more` : '');
    throw new UsageError(
      `--mirror refused: ${keyless.length} row${keyless.length === 1 ? '' : 's'} of ${input} name nobody that can be recognised (line${keyless.length === 1 ? '' : 's'} ${lines}), ` +
        'so mirroring could delete the people they stand for. Fix those rows (see validate), or run without --mirror. Nothing was sent.',
      'E_MIRROR',
    );
  }
  const candidates: MirrorCandidate[] = [];
  for (const e of state.entries()) if (!keys.has(e.key) && e.remote_id) candidates.push({ key: e.key, remoteId: e.remote_id });
  return { candidates };
}

/** Deletes the candidates after the import, in the same report (operation delete, rows after the input's). */
export async function runMirror(args: {
  candidates: MirrorCandidate[];
  firstRow: number;
  target: Target;
  session: TargetSession;
  pacer: RequestPacer;
  retry: RetryPolicy;
  report: ReportSink;
  state: AccountState;
  sending: boolean;
  redact: (s: string) => string;
  signal: AbortSignal;
  reportPath: string;
  backup?: string;
  concurrency: number;
  batchSize: number;
}) {
  const { target, candidates, firstRow } = args;
  const notes: string[] = [];
  const records: SourceRecord[] = candidates.map((c, i) => ({ row: firstRow + i, line: 0, fields: target.deletes!.deleteRow([c.remoteId]).fields }));
  const source = chunkedSource(() => Object.keys(records[0]?.fields ?? {}), async function* () { if (records.length) yield records; }, true);
  const plan = await planDeletes({ source, mapper: createRowMapper(target, undefined, 'state'), target, session: args.session, pacer: args.pacer, retry: args.retry, allMatches: false, operation: 'delete', signal: args.signal });
  // Those the remote no longer has are simply forgotten.
  const gone = candidates.filter((c) => !plan.toDelete.some((t) => t.remoteId === c.remoteId)).map((c) => c.remoteId);
  if (args.sending && gone.length > 0) args.state.forgetRemote(gone);
  if (args.sending && plan.toDelete.length > 0) {
    const backupPath = args.backup ?? backupPathFor(args.reportPath, 'mirror-deleted');
    await writeBackup(backupPath, plan.toDelete);
    notes.push(`backup of the ${plan.toDelete.length} ${args.target.nouns.many} mirror deletes: ${backupPath}`);
  }
  const mirrored = await runSync({
    operation: 'delete',
    mode: args.sending ? 'send' : 'dry-run',
    source: plan.source,
    target,
    mapper: createRowMapper(target, undefined, 'state'),
    session: args.session,
    decided: plan.decided,
    annotations: plan.annotations,
    pacer: args.pacer,
    state: args.state,
    firstRow,
    concurrency: args.concurrency,
    batchSize: args.batchSize,
    retry: args.retry,
    report: args.report,
    redact: args.redact,
    signal: args.signal,
  });
  const deleted = mirrored.counts.DELETED ?? 0;
  notes.push(args.sending ? `mirror: deleted ${deleted} of ${candidates.length}` : `mirror preview: ${mirrored.counts.DRY_RUN ?? 0} would be deleted`);
  return {
    notes,
    merge: (imported: RunResult): RunResult => combineOutcomes(imported, mirrored, { calls: imported.calls + mirrored.calls + plan.lookups }),
  };
}
