/**
 * What a target is to the core: the interface a target folder implements (src/targets/<name>/index.ts), the session
 * it opens, and the shapes of what it prepares and what its answers come to. Types only.
 */

import type { Status } from './statuses.js';
import type { GroupRef, GroupSupport, Membership, MembershipChange } from './groups.js';

export type Operation = 'upsert' | 'delete';

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
  /** When the remote last changed the record (ISO 8601), where its answer says (Salsa's lastModified): if-newer. */
  modifiedAt?: string;
  /** The record's email as the remote spells it: a row that spells it in another case keeps this spelling. */
  email?: string;
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
  /** Part of the address without an address role of its own (Salsa's county): an update policy takes it with the rest. */
  partOf?: 'address';
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
  /** The mapped field that holds the email: a row whose email differs from a read record's only in case keeps the record's spelling. */
  readonly emailField?: string;
  /**
   * What a created record's second call sets (Prepared.afterCreate), for the run's summary, and what in the file
   * would save those calls: "(email status OPT_OUT where the row has none; …). An email status column …".
   */
  readonly describeSecondCalls?: (newEmailStatus: string) => string;
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
    /** Its lookups say when each record last changed (FoundRecord.modifiedAt): an update policy's if-newer needs it. */
    givesModifiedTime?: boolean;
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
