import { heldValue } from './record-changes.js';
import type { FieldRole, FieldSpec, FoundRecord, MappedRow } from './target.js';

/**
 * When a value in the file may replace one already in the record: `always` (the default), `if-empty` (only a field
 * the record has empty), `never` (only on records the run creates), `if-newer` (when the row's own timestamp is later
 * than the record's modification time).
 */
export type UpdateRule = 'always' | 'if-empty' | 'never' | 'if-newer';
export const UPDATE_RULES: readonly UpdateRule[] = ['always', 'if-empty', 'never', 'if-newer'];

export interface FieldUpdate {
  rule: UpdateRule;
  /** if-newer: the file's column saying when the row's values last changed. */
  newerColumn?: string;
}

/** A run's update policy: per field, and a default for the rest (consent fields never take the default). */
export interface UpdatePolicy {
  /** By the field's flat name (a custom field: "custom:<name>"); an address part's rule is the whole address's. */
  fields: ReadonlyMap<string, FieldUpdate>;
  default: FieldUpdate;
  /** How a timestamp column's day and month are ordered (--date-order), when its values write them in figures. */
  dateOrder?: 'dmy' | 'mdy';
}

/** One decision: a field (or "address", the address as one) kept as the record holds it, and why. */
export interface Kept {
  field: string;
  why: string;
  /** Kept because the row's timestamp could not be read (if-newer). */
  unreadTime?: boolean;
}

const ADDRESS_ROLES: ReadonlySet<FieldRole> = new Set(['street1', 'street2', 'city', 'state', 'postalCode', 'country']);
const CONSENT_ROLES: ReadonlySet<FieldRole> = new Set(['emailStatus', 'smsStatus']);

/** The fields that are one for the policy (the address), and those the run-wide default never covers (consent). */
export class PolicyFields {
  readonly address: ReadonlySet<string>;
  readonly consent: ReadonlySet<string>;

  /** Fields that say which record a row is (email, ids): they find the record, so no policy keeps them. */
  readonly keys: ReadonlySet<string>;

  constructor(fields: readonly FieldSpec[], keyFields: readonly string[] = []) {
    this.keys = new Set([...keyFields, ...fields.filter((f) => f.role === 'email' || f.role === 'remoteId' || f.role === 'externalId').map((f) => f.name)]);
    this.address = new Set(fields.filter((f) => (f.role && ADDRESS_ROLES.has(f.role)) || f.partOf === 'address').map((f) => f.name));
    this.consent = new Set(fields.filter((f) => f.role && CONSENT_ROLES.has(f.role)).map((f) => f.name));
  }

  /**
   * The rule of a field: its own, the address's (any part's own rule), else the default — which consent never takes.
   * A key is always sent: it is how the record is found (a case-only difference in an email is no reason to drop a row).
   */
  ruleOf(policy: UpdatePolicy, field: string): FieldUpdate {
    if (this.keys.has(field)) return ALWAYS;
    const own = policy.fields.get(field);
    if (own) return own;
    if (this.address.has(field)) for (const part of this.address) if (policy.fields.has(part)) return policy.fields.get(part)!;
    return this.consent.has(field) ? ALWAYS : policy.default;
  }

  /** Whether a row writing these fields must read its record first (some field's rule is not `always`). */
  needsRead(policy: UpdatePolicy, fields: Iterable<string>): boolean {
    for (const f of fields) if (this.ruleOf(policy, f).rule !== 'always') return true;
    return false;
  }
}

const ALWAYS: FieldUpdate = { rule: 'always' };

/** The file's columns a policy reads timestamps from (if-newer), each once. */
export function newerColumns(policy: UpdatePolicy): string[] {
  return [...new Set([policy.default, ...policy.fields.values()].map((u) => u.newerColumn).filter((c): c is string => !!c))];
}

/**
 * The fields a mapped row writes, by the names a policy and a read record use (a custom field: "custom:<name>"),
 * those it clears included: what a policy can keep, since the row can be prepared again without them.
 */
export function writtenFields(row: MappedRow): string[] {
  return [...Object.keys(row.fields), ...(row.clear ?? []), ...row.custom.map((c) => `custom:${c.name ?? c.fieldId}`)];
}

/** When the row's values last changed, per timestamp column: epoch ms, or why it cannot be read. */
export type RowTimes = ReadonlyMap<string, number | string>;

/**
 * Which of the fields a row would change the record keeps, by the policy. The address goes whole or not at all:
 * it counts as empty only when every part is. A value that could not be read from the record is not empty (it is
 * unknown), so `if-empty` keeps it. `if-newer` fills an empty field, and otherwise needs both times: the row's
 * (its timestamp column) and the record's (the remote's modification time); without either, the record keeps it.
 */
export function keptByPolicy(
  policy: UpdatePolicy,
  fields: PolicyFields,
  changed: readonly string[],
  rec: FoundRecord,
  rowTimes: RowTimes | undefined,
  remoteName: string,
): Kept[] {
  const kept: Kept[] = [];
  let addressDone = false;
  for (const field of changed) {
    const inAddress = fields.address.has(field);
    if (inAddress && addressDone) continue;
    const { rule, newerColumn } = fields.ruleOf(policy, field);
    if (rule === 'always') continue;
    const unit = inAddress ? [...fields.address] : [field];
    if (inAddress) addressDone = true;
    const held = unit.map((f) => heldValue(rec, f));
    const stored = describeHeld(unit, held, inAddress);
    const name = inAddress ? 'address' : field;
    if (rule === 'never') kept.push({ field: name, why: `never: ${stored} in the CRM` });
    else if (held.some((v) => v === null)) kept.push({ field: name, why: `${rule}: its value in the CRM could not be read` });
    else if (held.every((v) => v === '')) continue;
    else if (rule === 'if-empty') kept.push({ field: name, why: `if-empty: ${stored} in the CRM` });
    else {
      const rowTime = rowTimes?.get(newerColumn ?? '');
      const why = newerThanRecord(rowTime, newerColumn, rec.modifiedAt, remoteName);
      if (why) kept.push({ field: name, why: `if-newer: ${why}; ${stored} in the CRM`, ...(typeof rowTime !== 'number' ? { unreadTime: true } : {}) });
    }
  }
  return kept;
}

/** Undefined when the row is newer than the record; else why the record's value stays. */
function newerThanRecord(rowTime: number | string | undefined, column: string | undefined, modifiedAt: string | undefined, remoteName: string): string | undefined {
  if (typeof rowTime === 'string') return rowTime;
  if (rowTime === undefined) return `the row has no "${column ?? 'timestamp'}" value`;
  const remote = modifiedAt === undefined ? NaN : Date.parse(modifiedAt);
  if (Number.isNaN(remote)) return `${remoteName} gives no modification time for the record, so a newer value cannot be told`;
  if (rowTime > remote) return undefined;
  return `the record changed ${new Date(remote).toISOString()}, the row ${new Date(rowTime).toISOString()}`;
}

function describeHeld(unit: string[], held: Array<string | null>, asAddress: boolean): string {
  if (!asAddress) return held[0] === '' ? 'empty' : held[0] === null ? 'unknown' : JSON.stringify(held[0]);
  const parts = held.filter((v): v is string => !!v);
  return parts.length === 0 ? 'no address' : JSON.stringify(parts.join(', '));
}

/**
 * The row without these fields (flat names; "address" is every address part), as a target prepares it again: what
 * the record keeps is then not sent at all.
 */
export function withoutKept(row: MappedRow, kept: readonly Kept[], fields: PolicyFields): MappedRow {
  const drop = new Set(kept.flatMap((k) => (k.field === 'address' ? [...fields.address] : [k.field])));
  const out: MappedRow = { ...row, fields: { ...row.fields }, custom: row.custom.filter((c) => !drop.has(`custom:${c.name ?? c.fieldId}`)) };
  for (const f of drop) delete out.fields[f];
  if (out.clear) out.clear = out.clear.filter((f) => !drop.has(f));
  return out;
}

/** "kept: homePhone (if-empty: "555-0100" in the CRM), address (…)" for the report line. */
export function describeKept(kept: readonly Kept[]): string {
  return `kept: ${kept.map((k) => `${k.field} (${k.why})`).join(', ')}`;
}

const MONTH_FIRST = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(am|pm)?)?$/i;

/**
 * A row's timestamp (if-newer), read without guessing: ISO 8601 (a time without a zone is taken as UTC), epoch
 * seconds or milliseconds, a date with a month name, or a day and month in figures when their order is known
 * (`dateOrder`, else when one of them is over 12). Epoch ms, or why the value cannot be read.
 */
export function readRowTime(value: string | undefined, column: string, dateOrder?: 'dmy' | 'mdy'): number | string | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  const quoted = `"${column}" value ${JSON.stringify(v)}`;
  if (/^\d{10}$/.test(v)) return Number(v) * 1000;
  const compact = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(v);
  if (compact) return readRowTime(`${compact[1]}-${compact[2]}-${compact[3]}T${compact[4]}:${compact[5]}:${compact[6]}Z`, column, dateOrder);
  if (/^\d{13}$/.test(v)) return Number(v);
  // ISO 8601, and the forms exports write it in: a space for the T, a zone after a space (Shopify: "-0400").
  const iso = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s?(Z|UTC|[+-]\d{2}:?\d{2})?)?$/i.exec(v);
  if (iso) {
    const zone = !iso[3] || /^(z|utc)$/i.test(iso[3]) ? 'Z' : iso[3].length === 5 ? `${iso[3].slice(0, 3)}:${iso[3].slice(3)}` : iso[3];
    const time = iso[2] ? iso[2].padStart(iso[2].indexOf(':') === 1 ? iso[2].length + 1 : iso[2].length, '0') : '00:00';
    const t = Date.parse(`${iso[1]}T${time}${zone}`);
    return Number.isNaN(t) ? `the ${quoted} is not a date` : t;
  }
  const figures = MONTH_FIRST.exec(v);
  if (figures) {
    const [a, b] = [Number(figures[1]), Number(figures[2])];
    const order = dateOrder ?? (a > 12 ? 'dmy' : b > 12 ? 'mdy' : undefined);
    if (!order) return `the ${quoted} could be day-first or month-first (give --date-order dmy or mdy)`;
    const [day, month] = order === 'dmy' ? [a, b] : [b, a];
    const hour12 = Number(figures[4] ?? 0) % 12;
    const hour = figures[7] ? hour12 + (figures[7].toLowerCase() === 'pm' ? 12 : 0) : Number(figures[4] ?? 0);
    const t = Date.UTC(Number(figures[3]), month - 1, day, hour, Number(figures[5] ?? 0), Number(figures[6] ?? 0));
    return month > 12 || day > 31 ? `the ${quoted} is not a date` : t;
  }
  if (/[a-z]{3}/i.test(v)) {
    // A time without a zone is UTC here too (Date.parse would take the machine's own zone).
    const zoned = /\b(utc|gmt|z)\b|[+-]\d{2}:?\d{2}\s*$/i.test(v);
    const t = Date.parse(zoned ? v : `${v} UTC`);
    if (!Number.isNaN(t)) return t;
  }
  return `the ${quoted} is not a date and time this tool reads (use 2025-03-14T09:30:00Z)`;
}
