import type { Operation, PrepareOptions, Target } from '../core/types.js';
import type { UpdateRule } from '../core/update-policy.js';
import { basename, dirname, extname, join } from 'node:path';

export type DataCommand = 'import' | 'delete' | 'validate';
export type RunMode = 'send' | 'dry-run' | 'validate' | 'plan';

/** A data command as the CLI's flags describe it, checked and typed (src/cli/commands/data.ts makes it). */
export interface DataJob {
  command: DataCommand;
  input: string;
  target: Target;
  operation: Operation;
  mode: RunMode;
  sending: boolean;
  /** A delete names records the remote must look up, so its preview talks to the remote too. */
  needsRemote: boolean;
  useState: boolean;
  reportPath: string;
  statePath?: string;
  map?: string;
  format?: string;
  delimiter?: string;
  encoding?: BufferEncoding;
  concurrency?: number;
  batchSize?: number;
  rate?: number;
  timeoutSec: number;
  retries?: number;
  /** Run against the built-in emulator, shaped so. */
  sandbox?: { faults?: string; latencyMs?: number };
  maxDeletes: number;
  yes: boolean;
  backup?: string;
  allMatches: boolean;
  resume: boolean;
  changedOnly: boolean;
  /** --trace: every request and answer, appended to this file as JSON lines (credentials masked). */
  trace?: string;
  /** --strict-values: a value that cannot be used makes its row INVALID. */
  strictValues: boolean;
  full: boolean;
  mirror: boolean;
  failed?: string;
  overwrite: boolean;
  empty: 'skip' | 'clear';
  address: 'complete' | 'replace';
  dateOrder?: 'dmy' | 'mdy';
  newEmailStatus?: PrepareOptions['newEmailStatus'];
  quiet: boolean;
  json: boolean;
  /** Write `<report>.html`, the summary page (--no-html: not). */
  html: boolean;
  /** --undo-log (always with --apply-plan): where the prior values of every record written go. */
  undoLog?: string;
  /** --apply-plan: the reviewed plan whose items are sent, as they are. */
  applyPlan?: string;
  /** --update: when a value in the file may replace one the record holds (fields without a rule of their own). */
  update?: UpdateRule;
  /** --newer-column: the file's column saying when each row last changed (if-newer). */
  newerColumn?: string;
  /** Groups every upserted row joins or leaves (--segment, --remove-segment), as written. */
  groups: { add: string[]; remove: string[] };
}

/**
 * `<input-name>.report.csv` beside the input for a run that sends; a preview (validate, dry run) has its own name,
 * `<input-name>.validate.report.csv` / `.dry-run.report.csv`, so it can never take the place of a real run's report.
 */
export function defaultReportPath(input: string, mode: RunMode = 'send'): string {
  const kind = mode === 'send' ? '' : `.${mode}`;
  // A plan is JSONL: it carries the payloads and prior values that --apply-plan reads back.
  if (mode === 'plan') return input === '-' ? 'sync-plan.jsonl' : join(dirname(input), `${basename(input, extname(input))}.plan.jsonl`);
  if (input === '-') return `sync-report${kind}.csv`;
  const ext = extname(input);
  return join(dirname(input), `${basename(input, ext)}${kind}.report.csv`);
}
