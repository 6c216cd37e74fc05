import type { FieldRole, SourceRecord, Target } from '../core/types.js';
import type { ConsentPolarity } from './consent.js';
import { readHeader, type HeaderReading } from './header-words.js';
import { stripSpreadsheetQuote } from './values.js';

/**
 * Which column of a file gives which field, decided once for the whole file from its header and a sample of its
 * rows: the import's automatic matching and `init`'s proposal are this one plan, so what init proposes is what an
 * import without a mapping does.
 */
export interface PlannedColumn {
  column: string;
  field?: string;
  /** Why, in a few words: "header", "header words", "values look like email addresses". */
  reason: string;
  /** A consent column: read its values this way round. */
  consent?: ConsentPolarity;
  /** A phone whose kind (home, mobile, work) is given per row by another column ("Phone 1 - Label"). */
  labelColumn?: string;
  /** Why a column is not mapped, for init and the run's opening lines. */
  hint?: string;
  /** Columns read, in order, when this one's cell is empty ("Default Address Phone" behind "Phone"). */
  fallback?: string[];
  /** The field is made of several columns, joined (a street and its house number; a birth year, month and day). */
  columns?: string[];
  separator?: string;
  /** Their joined value is a date in this format ("YYYY-M-D"). */
  dateFormat?: string;
  /** A whole name: split into `field` (the first name) and `lastField` (the last name). */
  lastField?: string;
}

export interface ColumnPlan {
  columns: PlannedColumn[];
  /** Said before the run: choices a person should know of (the email column found by its values, a phone's kind). */
  notes: string[];
  /** Columns that look like parts of the mapped address but are not mapped: the address is not whole. */
  addressGaps: string[];
  /** Columns that look like consent but do not say which way round: not read, so no status comes from them. */
  unreadConsent: string[];
}

const ADDRESS_BLOCK_ORDER = ['', 'home', 'primary', 'default', 'mailing', 'permanent', 'residential', 'main', 'current', 'personal', 'private', 'postal', 'physical', 'billing', 'shipping', 'delivery', 'work', 'business', 'office', 'other', 'alternate'];
export const blockRank = (block: string) => {
  const ranks = block.split(' ').map((w) => ADDRESS_BLOCK_ORDER.indexOf(w)).filter((r) => r >= 0);
  return ranks.length ? Math.max(...ranks) : block === '' ? 0 : ADDRESS_BLOCK_ORDER.length;
};

export interface Candidate {
  column: string;
  index: number;
  field: string;
  /** 0: the target's own name or alias; 1: a well-known export's header; 2: read from the header's words. */
  tier: number;
  reading: HeaderReading;
  consent?: ConsentPolarity;
}

/**
 * The plan as it is made, stage by stage: which candidate each column is, and which field each one claimed. The
 * stages are functions over it (column-plan.ts, column-plan-joins.ts).
 */
export class Planner {
  readonly plan: PlannedColumn[];
  readonly notes: string[] = [];
  readonly readings: HeaderReading[];
  readonly claimed: Set<string>;
  candidates: Candidate[] = [];
  addressCands: Candidate[] = [];
  phones: Candidate[] = [];
  /** Columns that look like consent but whose values could not be read: said before the run, WARN in check. */
  readonly unreadConsent: string[] = [];
  /** The address block sent ("" when the headers name none). */
  block: string | undefined;
  private readonly valuesOf = new Map<string, string[]>();

  constructor(readonly target: Target, readonly columns: readonly string[], private readonly sample: readonly SourceRecord[], taken: ReadonlySet<string>) {
    this.plan = columns.map((column) => ({ column, reason: '' }));
    this.readings = columns.map((c) => readHeader(c));
    this.claimed = new Set(taken);
  }

  /** The target's field for a role (or the field of that name, "county"). */
  fieldOf(role: string): string | undefined {
    return this.target.fields.find((f) => f.role === role)?.name ?? (this.target.fields.some((f) => f.name === role) ? role : undefined);
  }

  roleOf(field: string): FieldRole | undefined {
    return this.target.fields.find((f) => f.name === field)?.role;
  }

  /** The column is of the address block sent, or of none. */
  inBlock(i: number): boolean {
    const block = this.readings[i]!.block;
    return block === '' || block === this.block;
  }

  /** A column's non-empty sample values (Excel's apostrophe dropped). */
  values(c: string): string[] {
    let v = this.valuesOf.get(c);
    if (!v) this.valuesOf.set(c, (v = this.sample.map((r) => stripSpreadsheetQuote((r.fields?.[c] ?? '').trim())).filter((x) => x !== '')));
    return v;
  }

  place(c: Candidate, field = c.field, reason = c.tier === 3 ? `values look like ${c.reading.role === 'phone' ? 'phone numbers' : c.reading.role === 'gender' ? 'M/F' : 'postcodes'}` : c.tier === 2 ? 'header words' : 'header'): void {
    this.claimed.add(field);
    Object.assign(this.plan[c.index]!, { field, reason, consent: c.consent, hint: undefined });
  }

  /** Candidates in the order they claim a field: a first one before a second, the surer reading, the likelier block. */
  sorted(list: Candidate[]): Candidate[] {
    return [...list].sort((a, b) => Number(a.reading.secondary) - Number(b.reading.secondary) || a.tier - b.tier || blockRank(a.reading.block) - blockRank(b.reading.block) || a.index - b.index);
  }
}
