import type { RequestPacer, PacerClock } from './pace-requests.js';
import type { ProgressSink } from './progress.js';
import type { RetryPolicy } from './retry-policy.js';
import type { MembershipOutcome, MembershipResult } from './memberships.js';
import type { RowTimes, UpdatePolicy } from './update-policy.js';
import type { FieldChange, FoundRecord, GroupDirectory, MappedRow, IdentityKind, Membership, Operation, PrepareOptions, RowMapper, RowRepeat, RowResult, Source, SourceRecord, Status, SyncState, Target, TargetSession } from './types.js';

/** Where results go; the report writer implements it. */
export interface ReportSink {
  journal(r: RowResult): void;
  write(r: RowResult): void;
  /** A previous run's line, kept as it was (`--resume`), with its status. */
  writeRaw(line: string, status?: Status): void;
  flush(): void;
}

/** A row that a previous run already finished (`--resume`): its report line is kept as it was. */
export interface PreviousRow {
  status: Status;
  line: string;
}

export interface RunOptions {
  // What runs, from where, to where.
  operation: Operation;
  /**
   * `send` talks to the remote; `dry-run` does everything else; `plan` reads every row's record and reports what
   * sending would change (CREATE, UPDATE with the fields, NO_CHANGE), writing nothing.
   */
  mode: 'send' | 'dry-run' | 'plan';
  source: Source;
  target: Target;
  mapper: RowMapper;
  session?: TargetSession;
  /** How the target builds payloads (beyond what the run decides itself). */
  prepare?: PrepareOptions;

  // How it is sent.
  concurrency: number;
  batchSize: number;
  /** Paces every call (the CLI's, shared with lookups before the run so the minute window counts both); default: none. */
  pacer?: RequestPacer;
  retry?: RetryPolicy;
  clock?: PacerClock;
  /** Rows read ahead of the oldest unreported row, at most (bounds memory behind a slow row). */
  maxWindow?: number;
  /** Aborting it is an interrupt: stop taking rows, finish what is in flight, report the rest NOT_ATTEMPTED. */
  signal?: AbortSignal;
  /** The run is refused before it starts (credentials rejected at connect): every row is reported, none sent. */
  abortBeforeStart?: string;

  // Where results go.
  report: ReportSink;
  progress?: ProgressSink;
  redact?: (text: string) => string;
  /** Each row that did not succeed, in input order, with its input fields (the failed-rows file). */
  onFailure?: (record: SourceRecord, result: { status: Status; errorMessage?: string }) => void;
  /** Called once the columns are known and bound, before any request, with the first records read (a sample). */
  onBound?: (mapper: RowMapper, sample: readonly SourceRecord[]) => void;

  // What earlier runs and earlier steps decided.
  /** `--resume`: rows a previous run finished, kept as they were. */
  previous?: Map<number, PreviousRow>;
  /** Local state: remote ids and payload hashes from earlier runs; updated as results arrive. */
  state?: SyncState;
  /** Skip rows whose payload hash equals the one last sent successfully (UNCHANGED). */
  changedOnly?: boolean;
  /**
   * Which values of the file may replace what a record holds (--update, a mapping's "update"): a row writing a field
   * whose rule is not `always` reads its record first, and what the record keeps is not sent.
   */
  update?: UpdatePolicy;
  /** --strict-values: a value that cannot be used makes its row INVALID (by default the row goes without it). */
  strictValues?: boolean;
  /** Mixed into every payload hash: a changed mapping file changes every hash, so everything is sent again. */
  hashSalt?: string;
  /** The first row number (rows after an input's own, e.g. mirror deletes, continue its numbering). */
  firstRow?: number;
  /** Rows already decided before the run (delete lookups): reported as given, nothing sent. */
  decided?: Map<number, RowResult>;
  /** remote_id and message for rows that end in success or DRY_RUN without their own (what a delete names). */
  annotations?: Map<number, { remoteId: string; message: string }>;

  /** --undo-log: before each batch is sent, the prior values of every record it writes (read through lookups). */
  undoLog?: UndoSink;
  /** How a CONFLICT says since when the record changed ("since the plan was made", "since the import"). */
  expectLabel?: string;
  /** What to do about a CONFLICT, for its message ("--force sends it anyway"). */
  forceHint?: string;

  // Groups (--segment, a segments column).
  /** Group changes every upserted row gets (--segment, --remove-segment), resolved before the run. */
  memberships?: Membership[];
  /** Resolves the groups rows name in their own columns; absent: names are taken as written (validate: not checked). */
  groupDirectory?: GroupDirectory;
  /** `--resume`: rows whose record a previous run wrote but whose group changes were not all done. */
  membershipsPending?: Map<number, PendingMemberships>;
}

/** Where the prior values of records go before a batch is sent (src/report/undo-log.ts writes them). */
export interface UndoSink {
  /** Each row's record as it was before this batch (null: there was none, the row creates it); on disk when it returns. */
  before(entries: UndoEntry[]): void;
  /** A row created this record. */
  created(row: number, remoteId: string): void;
}

export interface UndoEntry {
  row: number;
  line: number;
  key: string;
  identity?: { kind: IdentityKind; value: string };
  remoteId?: string;
  /** The whole record as it was (flat form), or null when the row creates one. */
  before: Record<string, string> | null;
  /** The fields the write changes, old → new. */
  changes: FieldChange[];
  /** What the write leaves in the fields it sets (for undo's check that nobody changed them since). */
  after: Record<string, string>;
  /** More than one record matched the row's identity: the first was recorded. */
  matches?: number;
}

/** A row a previous run wrote, waiting for group changes: they are sent by its remote id, the record is not sent again. */
export interface PendingMemberships {
  remoteId: string;
  /** What the record's own call came to then (ADDED, UPDATED…). */
  status: Status;
  /** Group changes already done then, by label. */
  done: Map<string, MembershipOutcome>;
}

export interface RunResult {
  rows: number;
  counts: Partial<Record<Status, number>>;
  durationMs: number;
  calls: number;
  rateLimited: number;
  /** Rows skipped as UNCHANGED (--changed-only). */
  unchanged: number;
  /** Rows whose payload left something out deliberately, per note (Prepared.note). */
  rowNotes: Record<string, number>;
  /** Rows that went without a value that could not be used, per field (MappedRow.dropped). */
  droppedValues: Record<string, number>;
  /** Second calls made for created records (Prepared.afterCreate). */
  followUps: number;
  /** Rows the remote wrote with a part it did not apply (a custom field value with warnings): exit 1. */
  warned: number;
  /** Group changes per outcome (added, already, removed, not-member, failed, would-add, would-remove). */
  memberships: Partial<Record<MembershipOutcome, number>>;
  /** Calls that carried group changes (part of `calls`). */
  membershipCalls: number;
  /** Why the remote would not change some groups' members (a non-CRM segment): one line each. */
  refusedGroups: string[];
  /** Calls that read records before writing them (plans, the undo log, checks; part of `calls`). */
  lookupCalls: number;
  /** Fields a record kept as it was, by the update policy: rows per field ("address" for the address). */
  kept: Record<string, number>;
  /** Rows whose if-newer fields were kept because their timestamp could not be read. */
  unreadTimes?: number;
  /** Rows naming a record an earlier row of the file named (`caseOnly`: its email spelled in another case). */
  repeats?: { rows: number; caseOnly: number };
  /** Rows that kept the record's spelling of an email the row spelled in another case. */
  keptSpellings?: number;
  /** A plan's updates: rows per field that would change. */
  planFields: Record<string, number>;
  /** In a plan: the creations that need a second call (their email status, a held-back partial address). */
  planSecondCalls: number;
  ceilingPerMinute?: number;
  achievedPerMinute?: number;
  /** The run's calls and finished rows over time (a point a second or less often: at most 720), for the summary page. */
  pace?: PaceSample[];
  abortReason?: string;
  interrupted: boolean;
  exitCode: number;
}

/** How far the run had got `atMs` after it started. */
export interface PaceSample {
  atMs: number;
  calls: number;
  rows: number;
}

/** One row on its way: what is sent, what came back so far, and who waits for its keys. */
export interface Work {
  row: number;
  line: number;
  key: string;
  lockKeys: string[];
  payload: unknown;
  /** The input record, kept only when a failed-rows file is written. */
  input?: SourceRecord;
  /** The payload without a remote id from the state: sent instead if that id turns out stale (NOT_FOUND). */
  fallback?: unknown;
  hash?: string;
  attempts: number;
  /** What the payload deliberately left out, for the report line of a row that succeeds. */
  note?: string;
  /** Values the row went without (they could not be used): said first on its line, counted per field. */
  dropped?: DroppedValues;
  /** Sent by a second call if the remote says the row created a record (Prepared.afterCreate). */
  afterCreate?: unknown;
  /** Prepared.heldBackNote: dropped once the second call has sent what was held back. */
  heldBackNote?: string;
  /** The creation's own answer, reported once the second call is done. */
  created?: Partial<RowResult> & { status: Status };
  /** An attempt got no usable answer: the remote may have acted on it anyway. */
  answerLost?: boolean;
  /** Group changes to make once the record is written (targets whose groups are separate calls). */
  memberships?: Membership[];
  /** The record's own answer (or UNCHANGED, or a previous run's), kept while its group changes are sent. */
  upserted?: Outcome;
  /** What each group change came to so far. */
  membershipResults?: MembershipResult[];
  /** Group changes still without an answer. */
  membershipsLeft?: number;
  /** How to find the record the row writes (plans, the undo log, the check before a reviewed item is sent). */
  identity?: { kind: IdentityKind; value: string };
  /** What the record must hold before the row is sent (null: no record), else CONFLICT (ReadyItem.expect). */
  expect?: Record<string, string> | null;
  force?: boolean;
  /** A success that is not whole (ReadyItem.partial): counted as warned, exit 1. */
  partial?: boolean;
  /**
   * The mapped row, kept while its record is read: prepared again with the record's spelling of its email (a
   * case-only difference), and by an update policy without what the record keeps.
   */
  mapped?: MappedRow;
  /** An update policy judges this row once its record is read. */
  policy?: true;
  /** What the record kept by the update policy, for the row's line (not a note: notes are counted per text). */
  kept?: string;
  /** That an earlier row named the same record, for the row's line. */
  repeat?: RowRepeat;
  /** When the row's values last changed, per timestamp column (if-newer). */
  rowTimes?: RowTimes;
  /** The record as read before sending (once per row, whatever retries follow). */
  current?: { found: FoundRecord[] };
  waitingOn: number;
  dependents?: Work[];
  done: boolean;
}

/** A row's answer; `incomplete`: written, but not all of it applied (not remembered as synced). */
export type Outcome = Partial<RowResult> & { status: Status; incomplete?: boolean };

/** A finished row: a new report line, or a previous run's kept as it was. */
export type Finished = RowResult | { raw: string; row: number; status: Status };

/** Where written records' group changes wait for their calls (deliver-memberships.ts implements it). */
export interface MembershipQueue {
  /** Group changes queued and not yet dispatched. */
  readonly waiting: number;
  /** How long the oldest queued change has waited. */
  waitedMs(): number;
  /** A written record's group changes (those not done by an earlier run) join their queues. */
  enqueue(w: Work): void;
  /** Sends every queue that holds anything. */
  flush(): void;
  /** Groups whose members the remote will not change through its API: group id → why (said once in the summary). */
  readonly refused: ReadonlyMap<string, string>;
}

/** The values a row went without, by field, and the words its report line says of them. */
export interface DroppedValues {
  fields: string[];
  text: string;
}
