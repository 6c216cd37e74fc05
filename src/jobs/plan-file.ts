import { readFile } from 'node:fs/promises';
import { UsageError } from '../core/errors.js';
import type { FieldChange, IdentityKind, ReadyItem, RowRepeat, SourceRecord, Status } from '../core/types.js';
import { STATUSES } from '../core/statuses.js';
import { fingerprint, readRunRecord, runRecordPathOf } from '../report/run-record.js';
import type { DataJob } from './data-job-types.js';

/** One line of a plan (`import --plan`): the report's columns plus what --apply-plan needs to send exactly it. */
interface PlanLine {
  row: number;
  line: number | '';
  key: string;
  status: Status;
  remote_id?: string;
  error_message?: string;
  changes?: FieldChange[];
  identity?: { kind: IdentityKind; value: string };
  before?: Record<string, string> | null;
  payload?: unknown;
  lockKeys?: string[];
  afterCreate?: unknown;
  heldBackNote?: string;
  repeat?: RowRepeat;
  kept?: string;
  dropped?: { fields: string[]; text: string };
}

/**
 * A reviewed plan as the records of a run: CREATE and UPDATE rows send their planned payload, each checked first
 * against what the plan saw (a record that changed since is a CONFLICT); NO_CHANGE rows are UNCHANGED; a row the
 * plan could not decide is reported, not sent. Refused (exit 2) when the plan is not a plan of this very input.
 */
export async function readPlan(job: DataJob): Promise<{ records: SourceRecord[]; notes: string[] }> {
  const path = job.applyPlan!;
  const fail = (why: string): never => {
    throw new UsageError(`--apply-plan ${path}: ${why}. Nothing was sent.`, 'E_PLAN');
  };
  const record = await readRunRecord(path);
  if (!record || record.mode !== 'plan') fail(`no plan record beside it (${runRecordPathOf(path)}): make the plan with sync-supporters import ${job.input} --plan`);
  if (record!.target !== job.target.name) fail(`it is a plan for ${record!.target}, not ${job.target.name}`);
  const now = await fingerprint(job.input);
  if (record!.input.sha256 !== now.sha256) fail(`${job.input} is not the file the plan was made from (it changed, or it is another file): make a new plan and review it`);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return fail(`cannot read it (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  const records: SourceRecord[] = [];
  const counts: Partial<Record<Status, number>> = {};
  for (const [i, raw] of text.split('\n').entries()) {
    if (!raw.trim()) continue;
    let p: PlanLine;
    try {
      p = JSON.parse(raw) as PlanLine;
    } catch {
      return fail(`line ${i + 1} is not JSON (was the plan edited?)`);
    }
    if (p.row !== records.length + 1 || !(STATUSES as readonly string[]).includes(p.status)) fail(`line ${i + 1} is not row ${records.length + 1} of the plan (was the plan edited?)`);
    counts[p.status] = (counts[p.status] ?? 0) + 1;
    const line = typeof p.line === 'number' ? p.line : 0;
    let ready: ReadyItem;
    const repeat = p.repeat && typeof p.repeat.text === 'string' ? { text: p.repeat.text, caseOnly: p.repeat.caseOnly === true } : undefined;
    const kept = typeof p.kept === 'string' ? p.kept : undefined;
    const dropped = p.dropped && Array.isArray(p.dropped.fields) && typeof p.dropped.text === 'string' ? p.dropped : undefined;
    if ((p.status === 'CREATE' || p.status === 'UPDATE') && p.payload !== undefined && p.identity && p.lockKeys) {
      ready = { key: p.key, lockKeys: p.lockKeys, payload: p.payload, identity: p.identity, expect: p.before ?? null, afterCreate: p.afterCreate, heldBackNote: p.heldBackNote, repeat, kept, dropped };
    } else if (p.status === 'NO_CHANGE') {
      const nothing = ['the plan found nothing to change; not sent', kept].filter(Boolean).join('; ');
      ready = { key: p.key, lockKeys: [], payload: undefined, repeat, dropped, decided: { status: 'UNCHANGED', remoteId: p.remote_id || undefined, errorMessage: nothing } };
    } else if (p.status === 'INVALID') {
      ready = { key: p.key, lockKeys: [], payload: undefined, decided: { status: 'INVALID', errorMessage: p.error_message } };
    } else {
      ready = { key: p.key, lockKeys: [], payload: undefined, decided: { status: 'INVALID', errorMessage: `the plan has no decision for this row (${p.status}${p.error_message ? `: ${p.error_message}` : ''}); make a new plan` } };
    }
    records.push({ row: p.row, line, ready });
  }
  if (records.length === 0) fail('it holds no rows');
  const said = Object.entries(counts).map(([s, n]) => `${n} ${s}`).join(', ');
  return { records, notes: [`applying the plan ${path} made ${record!.startedAt} (${said}): what it reviewed is sent, rows whose record changed since are CONFLICT`] };
}
