/**
 * The pipeline's vocabulary. The core imports only these interfaces, never a concrete target:
 * Source → Mapper (target.prepare) → scheduler/batcher → Target session → Reporter.
 */
import type { Status } from './statuses.js';
import type { IdentityKind, MappedRow, Operation } from './target.js';

export type { Status } from './statuses.js';
export type * from './target.js';
export type * from './groups.js';


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
/** That an earlier row of the file names the same record: the row line's words, and whether its email was spelled in another case. */
export interface RowRepeat {
  text: string;
  caseOnly: boolean;
}

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
  /** A plan's word that an earlier row names the same record. */
  repeat?: RowRepeat;
  /** A plan's word on what the record keeps (its spelling of the email, an update policy's kept values). */
  kept?: string;
  /** Values the planned row goes without (they could not be used): said on its line, counted per field. */
  dropped?: { fields: string[]; text: string };
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
  /** How far into the input the reading is, in bytes, and its size when known (a file): the progress's estimate. */
  bytes?: () => { read: number; total?: number };
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
