import { UsageError } from '../core/errors.js';
import type { Target } from '../core/types.js';
import { TARGETS } from '../targets/index.js';

/** What every command file shares: its streams and environment, the data commands' options, the target. */

export interface DataCommandOptions {
  strictValues?: boolean;
  trace?: string;
  target?: string;
  map?: string;
  format?: string;
  report?: string;
  concurrency?: string;
  batchSize?: string;
  rate?: string;
  dryRun?: boolean;
  resume?: boolean;
  sandbox?: boolean;
  sandboxFaults?: string;
  sandboxLatency?: string;
  json?: boolean;
  quiet?: boolean;
  delimiter?: string;
  encoding?: string;
  timeout?: string;
  retries?: string;
  allMatches?: boolean;
  /** A path, or false for --no-state. */
  state?: string | false;
  changedOnly?: boolean;
  update?: string;
  /** false with --no-html. */
  html?: boolean;
  newerColumn?: string;
  full?: boolean;
  mirror?: boolean;
  segment?: string[];
  plan?: boolean;
  undoLog?: string | boolean;
  applyPlan?: string;
  removeSegment?: string[];
  failed?: string;
  /** OPT_OUT (default), OPT_IN or account-default: the email status of a record the run creates when its row gives none. */
  newEmailStatus?: string;
  /** skip (default) or clear: what an empty cell does to the stored value. */
  empty?: string;
  /** complete (default) or replace: whether a row's partial address is sent, replacing the stored one whole. */
  address?: string;
  /** dmy or mdy: how to read D/M/Y dates in every date column, instead of telling it from the file. */
  dateOrder?: string;
  /** Replace an existing --report or --failed file that this tool did not write. */
  overwrite?: boolean;
  maxDeletes?: string;
  yes?: boolean;
  backup?: string;
}

export interface CommandIO {
  env: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** The arguments as typed (for the resume command the summary prints). */
  argv?: string[];
}

export function resolveTarget(name: string | undefined, env: Record<string, string | undefined>): Target {
  const wanted = (name ?? env.SYNC_TARGET ?? Object.keys(TARGETS)[0]!).toLowerCase();
  const target = TARGETS[wanted];
  if (!target) throw new UsageError(`Unknown target "${wanted}": use ${Object.keys(TARGETS).join(' or ')} (-t/--target or SYNC_TARGET).`);
  return target;
}
