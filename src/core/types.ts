/**
 * The pipeline's vocabulary. The core imports only these interfaces, never a concrete target:
 * Source → Mapper (target.prepare) → scheduler/batcher → Target session → Reporter.
 */

export type Operation = 'upsert' | 'delete';

export const STATUSES = [
  'ADDED',
  'UPDATED',
  'DELETED',
  'UPSERTED',
  'UNCHANGED',
  'DRY_RUN',
  'CREATE',
  'UPDATE',
  'NO_CHANGE',
  'INVALID',
  'CONFLICT',
  'NOT_FOUND',
  'VALIDATION_ERROR',
  'SYSTEM_ERROR',
  'FAILED',
  'NOT_ATTEMPTED',
] as const;
export type Status = (typeof STATUSES)[number];

/** Identities a run reads in one lookup call (TargetLimits.lookupBatchSize, else maxBatchSize). */
export function readBatchSize(limits: TargetLimits): number {
  return Math.max(1, limits.lookupBatchSize ?? limits.maxBatchSize);
}

/** Statuses that count as success for the exit code (docs/CONTRACT.md "Exit status"). */
export const SUCCESS_STATUSES: ReadonlySet<Status> = new Set<Status>([
  'ADDED',
  'UPDATED',
  'DELETED',
  'UPSERTED',
  'UNCHANGED',
  'DRY_RUN',
  // A plan's outcomes (--plan): what the run would do.
  'CREATE',
  'UPDATE',
  'NO_CHANGE',
]);

/** Statuses that `--resume` sends again (docs/CONTRACT.md "final?" column). */
export const RETRYABLE_STATUSES: ReadonlySet<Status> = new Set<Status>(['SYSTEM_ERROR', 'FAILED', 'NOT_ATTEMPTED']);

/** One input record as a source reads it: either fields, or the reason it could not be read. */
export interface SourceRecord {
  /** 1-based data record number (header not counted). */
  row: number;
  /** 1-based source line where the record starts. */
  line: number;
  /** Column name → raw value. Absent when the record could not be parsed. */
  fields?: Record<string, string>;
  /** Why the record could not be read (it becomes an INVALID row). */
  error?: string;
  /** The cells of a CSV record that did not fit the header, so a failed-rows file can keep them. */
  raw?: string[];
  /**
   * A record that is already a request item (a reviewed plan's row, an undo's restore): it is sent as it is, not
   * mapped or prepared again. Its `expect` says what the remote record must hold before it is sent.
   */
  ready?: ReadyItem;
}

/** A request item decided before the run (--apply-plan, undo). */
export interface ReadyItem {
  key: string;
  lockKeys: string[];
  payload: unknown;
  /** How to find the record it writes (for the check before sending). */
  identity?: { kind: IdentityKind; value: string };
  /**
   * What the remote record must hold, field by field (flat form), for the item to be sent: null = there must be no
   * record (a planned CREATE). Anything else is a CONFLICT (unless forced).
   */
  expect?: Record<string, string> | null;
  /** Sent without looking (undo --force). */
  force?: boolean;
  /** Sent by a second call if the row creates its record (Prepared.afterCreate). */
  afterCreate?: unknown;
  heldBackNote?: string;
  /** Reported without sending (a planned NO_CHANGE, a row the plan found invalid). */
  decided?: Omit<RowResult, 'row' | 'line' | 'operation' | 'attempts' | 'key'>;
  /** Said on the row's line when it succeeds (what could not be put back, say). */
  note?: string;
  /** The record it names, for its report line before any answer (a preview of a deletion). */
  remoteId?: string;
  /** Part of what it should do cannot be done (a field the API cannot empty): a success still exits 1. */
  partial?: boolean;
}

/** One field a write changes: its value before and after (flat form; "" = empty). */
export interface FieldChange {
  field: string;
  /** What the record held ("" when empty); null when the tool could not read it (unknown, never taken for ""). */
  old: string | null;
  new: string;
}

export interface Source extends AsyncIterable<SourceRecord> {
  /** Column names, known once the first record (or header) has been read. */
  readonly columns: () => readonly string[];
  /** The same records a chunk at a time (one await per chunk, not per row: the core reads this way). */
  chunks(): AsyncIterable<SourceRecord[]>;
  /** True when every record has exactly the header's columns (CSV); JSONL records may bring new keys. */
  readonly fixedColumns: boolean;
  /** The CSV delimiter in use, once known (a failed-rows file is written the same way). */
  delimiter?: () => string | undefined;
}

/** What a target makes of one mapped row. */
export type Prepared =
  | {
      ok: true;
      /** The identity shown in the report (email, supporterId, cons_id…). */
      key: string;
      /** Every identity this row touches: no two in-flight rows share any of them. */
      lockKeys: string[];
      /** The target's own request item (a Salsa supporter object, Luminate form fields…). */
      payload: unknown;
      /**
       * What was deliberately left out of this row, for its report line (e.g. an address without a street, which
       * would erase the stored one). The same text for the same reason: the summary counts rows per note.
       */
      note?: string;
      /**
       * What was left out because it could erase stored data, sent by a second call once the remote says this row
       * created a new record (nothing stored to erase then): applied with `withRemoteId(afterCreate, newId)`.
       */
      afterCreate?: unknown;
      /** Said on the report line only when the row did not create a record (so `afterCreate` was not sent). */
      heldBackNote?: string;
    }
  /** `field`: the error is about that one optional value, so the row may go without it (never a key's). */
  | { ok: false; key: string; error: string; field?: string };

/** The answer for one item of a request. */
export interface ItemResult {
  status: Status;
  remoteId?: string;
  errorCode?: string;
  errorMessage?: string;
  /** The remote failed on this item in a way a later attempt may cure (Salsa SYSTEM_ERROR, Luminate code 1). */
  retryable?: boolean;
  /** The record was written but part of it was not applied (Salsa's warnings on a custom field value). */
  warning?: string;
}

/** What one HTTP attempt came to, as a target classifies it. The core owns what happens next. */
export type AttemptOutcome =
  | { kind: 'results'; results: ItemResult[]; httpStatus: number }
  /** Transient: try the same request again later (429 rate, 5xx, reset, timeout, rate text in a 200). */
  | { kind: 'retry'; reason: string; httpStatus?: number; retryAfterMs?: number; rateLimited?: boolean }
  /** The request carried more items than the remote allows: resend in batches of at most `maxBatchSize`. */
  | { kind: 'shrink'; maxBatchSize: number; reason: string; httpStatus?: number }
  /** The remote refused the request as a whole (400, 500 with a body): not cured by waiting. */
  | { kind: 'reject'; reason: string; httpStatus?: number; errorCode?: string }
  /** No row can succeed: credentials or configuration. The run stops (exit 3). */
  | { kind: 'abort'; reason: string; httpStatus?: number; errorCode?: string };

export interface TargetLimits {
  /** The limits were read from the remote (Salsa's metrics), not assumed. */
  fromRemote?: boolean;
  /** Calls a minute available right now, when the remote says (a token shared with other integrations). */
  currentRatePerMinute?: number;
  /** Items per request the remote accepts. 1 for one-per-call APIs. */
  maxBatchSize: number;
  /**
   * Identities one lookup reads in a single call, when fewer than maxBatchSize: a run that reads records before
   * writing them (--plan, --undo-log, an applied plan, undo) batches its rows this small, so each batch costs one read.
   */
  lookupBatchSize?: number;
  /** Calls per minute the remote allows, when known. */
  ratePerMinute?: number;
  /** The rate to start at when the remote says less is available right now; pacing recovers to the ceiling. */
  startRatePerMinute?: number;
  /** Concurrency to use when the user does not say. */
  defaultConcurrency: number;
}

/** How a delete row names its record. */
export type IdentityKind = 'id' | 'email' | 'externalId';

/** A record the remote found for an identity: enough to report, preview and back it up. */
export interface FoundRecord {
  remoteId: string;
  /** "Ann Lee <ann@example.org>" for the report and the preview. */
  label: string;
  /** The record in the flat form `import` reads back (field names as mapping targets use them); "" = read as empty. */
  backup: Record<string, string>;
  /** Fields the answer gave in a shape the tool could not read: their value is unknown, never "". */
  unknown?: readonly string[];
  /**
   * What a field missing from `backup` means: 'empty' where the remote leaves empty fields out of its answers
   * (Salsa), 'unknown' where it answers every field it has (Luminate's getUser) so a missing one was not read.
   */
  absent?: 'empty' | 'unknown';
}

export type LookupOutcome =
  | { kind: 'found'; records: Map<string, FoundRecord[]> }
  | Exclude<AttemptOutcome, { kind: 'results' }>;

/** A live connection to one remote account. */
export interface TargetSession {
  readonly limits: TargetLimits;
  /** What connecting found out that a person should know (limits assumed, a lower allowance right now). */
  readonly notes?: readonly string[];
  /** One attempt of one request; never throws for HTTP or network trouble, classifies it instead. */
  send(operation: Operation, payloads: unknown[], signal?: AbortSignal): Promise<AttemptOutcome>;
  /**
   * One attempt at finding the records these identities name (all of one kind, at most maxBatchSize), paging
   * through the answer. Keys of `records` are the values as given. Targets without a search leave it out.
   * `nextCall` is awaited before every call after the first (a further page): it takes a slot of the run's pace and
   * counts the call, so paging never goes around the per-minute budget (listGroups takes it too).
   */
  lookup?(kind: IdentityKind, values: string[], signal?: AbortSignal, nextCall?: () => Promise<void>): Promise<LookupOutcome>;
  /** The fields this account accepts on update, as the remote describes them, or why they could not be read. */
  describeFields?(): Promise<{ kind: 'ok'; value: RemoteField[] } | Exclude<AttemptOutcome, { kind: 'results' }>>;
  /**
   * One attempt at reading every group of the account (Salsa's segments search, paged to a short page), so that a
   * run can name groups by name. Targets whose groups are named by id (GroupSupport.offline) leave it out.
   */
  listGroups?(signal?: AbortSignal, nextCall?: () => Promise<void>): Promise<{ kind: 'found'; groups: GroupRef[] } | Exclude<AttemptOutcome, { kind: 'results' }>>;
  /**
   * One attempt at adding records to one group, or removing them (at most maxBatchSize remote ids): a result per id,
   * ADDED (now a member), UPDATED (was one already), DELETED (removed), NOT_FOUND (no such record, or not a member).
   */
  sendMembership?(change: MembershipChange, groupId: string, remoteIds: string[], signal?: AbortSignal): Promise<AttemptOutcome>;
  /**
   * One attempt at reading how many calls a minute are left for this token now (Salsa's metrics currentRateLimit),
   * whoever made the others; undefined when the remote does not say. Read again during long runs (allowance.ts).
   */
  readAllowance?(signal?: AbortSignal): Promise<number | undefined>;
  close(): Promise<void>;
}

/** What this tool last synced for one row key, in one target account (nightly syncs, --changed-only, --mirror). */
export interface StateEntry {
  key: string;
  remoteId?: string;
  /** Hash of the payload last sent successfully. */
  hash?: string;
  status: Status;
}

/** The local state the core consults and updates; the CLI backs it with SQLite. */
export interface SyncState {
  get(key: string): StateEntry | undefined;
  /** The results of one request, written in one transaction. */
  record(entries: StateEntry[]): void;
  /** Records that no longer exist remotely (deleted). */
  forgetRemote(remoteIds: string[]): void;
}

/**
 * What a field means, whatever a target calls it: headers of common exports (Mailchimp, Google Contacts, Outlook,
 * ActionNetwork, NationBuilder, EveryAction) are matched by role, and `init` proposes fields by role.
 */
export type FieldRole =
  | 'email' | 'emailStatus' | 'title' | 'firstName' | 'middleName' | 'lastName' | 'suffix'
  | 'street1' | 'street2' | 'city' | 'state' | 'postalCode' | 'country'
  | 'homePhone' | 'mobilePhone' | 'workPhone' | 'birthDate' | 'gender' | 'externalId' | 'remoteId' | 'smsStatus';

/** A field a target accepts in its flat, mapped form, and how headers find it. */
export interface FieldSpec {
  name: string;
  /** Header spellings matched case- and punctuation-insensitively. */
  aliases: string[];
  description?: string;
  /** A calendar date: the mapper reads a column's day/month order once for all its rows (never row by row). */
  kind?: 'date';
  role?: FieldRole;
  /** The shape of the target's own ids (a Salsa supporterId is a UUID): a column of other values is another system's ids. */
  ownIds?: RegExp;
  /** Headers that may mean this field but change what it does if they do not: never auto-matched; init proposes them with the warning. */
  caution?: { aliases: string[]; warning: string };
}

/** One request and its answer, for --trace (the trace file masks credentials before anything is written). */
export interface HttpTraceEntry {
  at: string;
  method: string;
  url: string;
  requestHeaders: Record<string, string>;
  requestBody?: string;
  status?: number;
  responseHeaders?: Record<string, unknown>;
  responseBody?: string;
  /** Why there was no answer (a timeout, a reset). */
  error?: string;
  ms: number;
}

export interface ConnectOptions {
  env: Record<string, string | undefined>;
  /** --trace: every request and answer, as it happens. */
  trace?: (entry: HttpTraceEntry) => void;
  /** Per-request timeout. */
  timeoutMs: number;
  /** Requests the run will have in flight at most (sizes the connection pool). */
  concurrency: number;
}

export interface PrepareOptions {
  /** Validate and dry runs that neither send nor hash: every check, but no payload needs building. */
  checkOnly?: boolean;
  /**
   * Send a partial composite object (an address with only a zip) even though the remote replaces the stored one
   * whole: only when the person asks for it (--address replace).
   */
  replacePartial?: boolean;
  /**
   * The email subscription status a record this run creates gets when its row gives none (default OPT_OUT: never
   * opt in anyone who did not opt in); `account-default` leaves it to the account. Existing records keep theirs.
   */
  newEmailStatus?: 'OPT_IN' | 'OPT_OUT' | 'account-default';
  /** The remote's own description of its fields, when it could be read (Luminate's listUserFields). */
  remoteFields?: ReadonlyMap<string, RemoteField>;
}

/** A field as the remote describes it (Luminate listUserFields: name, valueType, maxChars, required, choices). */
export interface RemoteField {
  name: string;
  label?: string;
  valueType?: string;
  maxChars?: number;
  required?: boolean;
  choices?: string[];
}

/** A target is a folder behind this one interface (src/targets/<name>/index.ts). */
export interface Target {
  readonly name: string;
  readonly displayName: string;
  /** What the remote calls one record, several, and each kind of identity, for messages the core writes. */
  readonly nouns: { one: string; many: string; identity: Record<IdentityKind, string> };
  readonly operations: readonly Operation[];
  /** Why an operation is missing, for the exit-2 message. */
  readonly unsupportedReason?: Partial<Record<Operation, string>>;
  readonly fields: readonly FieldSpec[];
  /** Fields that identify a row for upsert (any one is enough); a file mapping none of them cannot be sent. */
  readonly keyFields: readonly string[];
  /** Named custom fields are a list of their own (a mapping's "customFields", `custom:<Name>` columns), not fields. */
  readonly customFieldList?: boolean;
  /** The target gives records it creates an explicit email status (PrepareOptions.newEmailStatus). */
  readonly setsNewRecordStatus?: boolean;
  /** How the target writes an email opt-in and opt-out (for init's value maps), when it has its own words. */
  readonly optInValues?: { yes: string; no: string };
  /** Whether a flat field name (e.g. a custom field) is acceptable in a mapping file. */
  isKnownField(name: string): boolean;
  /**
   * Whether a header is written as the target's own field name beyond its listed fields (Luminate's custom_string1,
   * primary_address.street3): such a column is that field without a mapping. Not every name a mapping may use.
   */
  isOwnFieldName?(header: string): boolean;
  /** Turn a mapped row (field → value) into a request item, or say why it cannot be sent. */
  /**
   * Checks a mapped row and builds its request item. With `checkOnly` (validate and dry runs that neither send
   * nor hash it) the row gets every check but the target may leave `payload` and `lockKeys` empty.
   */
  prepare(operation: Operation, mapped: MappedRow, options?: PrepareOptions): Prepared;
  /** Problems with mapped fields given the remote's own field list (a field the site lacks or will not update). */
  checkFields?(mapped: ReadonlySet<string>, remote: ReadonlyMap<string, RemoteField>): string[];
  /** Whether an empty cell can clear this field remotely; a string says why not (a key, a contact Salsa refuses without a value). */
  canClear?(field: string): true | string;
  /** What the target will leave out or replace given the fields a file maps, said before the run (and the options it reads). */
  describeMapping?(mappedFields: ReadonlySet<string>, options: PrepareOptions): string[];
  /** Which identity a row names (id first, else email, else external id), or why it names none: how it is read. */
  identify(mapped: MappedRow): { kind: IdentityKind; value: string } | { error: string };
  /** Deleting, for a target whose API can (its operations include 'delete'; checked when the target is registered). */
  readonly deletes?: {
    /** The mapped row that deletes these remote records (what `prepare('delete', …)` accepts). */
    deleteRow(remoteIds: string[]): MappedRow;
  };
  /** How the target puts records into groups (Salsa segments, Luminate groups and interests), when it can. */
  readonly groups?: GroupSupport;
  /** Environment variables this target needs, checked before anything is read. */
  missingCredentials(env: Record<string, string | undefined>): string[];
  /** Values that must never be printed (tokens, passwords, keys). */
  secrets(env: Record<string, string | undefined>): string[];
  /** Which account a run talks to, without any secret in it (keys the local state). */
  accountId(env: Record<string, string | undefined>): string;
  /** The payload with the remote id learned earlier, so the remote matches by id (supporterId, cons_id). */
  withRemoteId?(payload: unknown, remoteId: string): unknown;
  /**
   * Reading records back to compare and restore them, all together or not at all: --plan, --undo-log, --apply-plan,
   * undo and check's read-back need both (and the session's lookup).
   */
  readonly readBack?: {
    /**
     * What a payload leaves in the record, in the flat form of FoundRecord.backup (field names as mappings use them;
     * "" for a field it empties): compared with the stored record for --plan, the undo log and the checks before
     * --apply-plan and undo send.
     */
    flatten(payload: unknown): Record<string, string>;
    /**
     * The mapped row that puts these fields of a record back as they were (`before`, flat form; "" = was empty), by
     * its remote id: what `undo` sends. Fields that cannot be put back through the API are named in `notes`.
     */
    restoreRow(remoteId: string, before: Record<string, string>, fields: string[]): MappedRow;
  };
  connect(options: ConnectOptions): Promise<TargetSession>;
}

/** The mapped form of one row: target field name → value, plus custom fields. */
export interface MappedRow {
  fields: Record<string, string>;
  custom: Array<{ name?: string; fieldId?: string; value: string; type?: string }>;
  /** What the mapping left out of this row on purpose (a birthday without a year), for its report line. */
  notes?: string[];
  /** Fields whose cell is empty and that the person asked to clear (a mapping's "empty": "clear", --empty clear). */
  clear?: string[];
  /** Values that could not be used and were left out of this row (field, and why), for its report line. */
  dropped?: Array<{ field: string; reason: string }>;
  /** The row has a value in a column that looks like part of its address but is not mapped: its address is not whole. */
  addressIncomplete?: boolean;
  /** Groups the row names in its own columns (mapping fields `segments`, `removeSegments`), as written. */
  groups?: { add: string[]; remove: string[] };
  /** Every group change for this row, resolved (its columns' and the run's flags'): inline targets put them in the payload. */
  memberships?: Membership[];
}

/** A group a record can belong to: a Salsa segment, a Luminate group or interest. */
export interface GroupRef {
  id: string;
  /** How the report names it: the segment's name, "group 1234", "interest 55". */
  label: string;
  /** For targets with more than one kind of group (Luminate: group, interest). */
  kind?: string;
  /** The remote's own type of the group, as it answers it (Salsa segments: DEFAULT, CUSTOM…). */
  type?: string;
}

export type MembershipChange = 'add' | 'remove';

export interface Membership {
  change: MembershipChange;
  group: GroupRef;
}

/** Resolves what a person wrote (an id, an exact name) to one group, or says why it names none. */
export interface GroupDirectory {
  resolve(ref: string): { group: GroupRef } | { error: string };
}

export interface GroupSupport {
  /** What the remote calls them, for messages ("segment", "segments"). */
  noun: { one: string; many: string };
  /**
   * `calls`: memberships are separate calls after the upsert, by remote id (Salsa's segments/members);
   * `inline`: they travel in the row's own request (Luminate's add_group_ids…), which `prepare` builds.
   */
  delivery: 'calls' | 'inline';
  /** Groups are named by id, resolved without asking the remote (Luminate); absent: the session's listGroups. */
  offline?: GroupDirectory;
}

/** One report line, as the core produces it (docs/CONTRACT.md "The report"); src/report writes it. */
export interface RowResult {
  /** Structured data a JSONL report carries beside the columns (a plan's changes, the payload it would send). */
  details?: Record<string, unknown>;
  row: number;
  line: number;
  operation: Operation;
  key: string;
  status: Status;
  remoteId?: string;
  attempts: number;
  httpStatus?: number;
  errorCode?: string;
  errorMessage?: string;
}

/** Turns a record's columns into a target's fields (src/mapping builds it from headers and a mapping file). */
export interface RowMapper {
  /**
   * Checks the mapping against the columns; throws a UsageError before any row is sent. Without `fixed` (JSONL,
   * whose later records may bring new keys) call it again with each chunk's columns: new ones are auto-matched,
   * in the order they were first seen, as if each had been there from the start.
   */
  bind(columns: readonly string[], fixed?: boolean, sample?: readonly SourceRecord[]): void;
  /** Said before the run: how consent columns are read, and choices made from the header and sample. */
  planNotes(): string[];
  /** Columns that look like parts of the mapped address but are not mapped: an address from this file is not whole. */
  addressGaps(): string[];
  /** Columns that look like email consent but whose values could not be read: no status comes from them. */
  unreadConsent(): string[];
  /**
   * Stops sending these fields where they were matched automatically (a work phone column, and a site without
   * work_phone): returns those a mapping file names, which cannot be dropped so.
   */
  dropAutoFields(fields: readonly string[]): string[];
  /** Maps one record whose keys are all among the columns given to `bind`. */
  map(fields: Record<string, string>): { mapped: MappedRow } | { error: string };
  /** Field ← column, for the run's opening lines. */
  matches(): Array<{ field: string; column: string }>;
  unusedColumns(): string[];
  /** Date fields (bound) whose day/month order is read from the column, not given by a format. */
  dateColumns(): Array<{ field: string; columns: string[] }>;
  /** Settles a date field's order for every row (a column survey, --date-order), or drops the field (no years). */
  settleDate(field: string, order: 'dmy' | 'mdy' | 'drop'): void;
}

/** An email as a key: trimmed and lower-cased (matching, locks, the state). */
export function normaliseEmail(value: string): string {
  return value.trim().toLowerCase();
}
