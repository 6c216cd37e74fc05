import { readFile } from 'node:fs/promises';
import { UsageError } from '../core/errors.js';
import type { Target } from '../core/types.js';
import { UPDATE_RULES, type FieldUpdate, type UpdateRule } from '../core/update-policy.js';
import type { ConsentPolarity } from './consent.js';
import { compileTransform, type Transform, type TransformSpec } from './transforms.js';

/** One target field's source: one or more columns, then transforms, a value map and a default. */
export interface FieldRule {
  field: string;
  columns: string[];
  separator: string;
  transforms: Transform[];
  valueMap?: Map<string, string>;
  defaultValue?: string;
  /** The rule reads its dates with an explicit {"date": format} transform (so no column survey is needed). */
  dateFormat?: string;
  /** The column holds a whole address (Mailchimp's "Address"): its parts fill the address fields. */
  wholeAddress?: boolean;
  /** An empty cell clears the stored value ("clear"), or is not sent ("skip", the default). */
  empty?: 'clear' | 'skip';
  /** The "separator" as the file gave it: for a list field (segments), what separates names in one cell. */
  listSeparator?: string;
  /** A consent field: each column read its own way round (opt-in, opt-out, or a status in words). */
  consent?: Array<{ column: string; polarity: ConsentPolarity }>;
  /** A phone whose kind (home, mobile, work) the row's value in this column says ("Phone 1 - Label"). */
  labelColumn?: string;
  /** Columns read, in order, where the column's own cell is empty. */
  fallback?: string[];
  /** When the file's value may replace the record's (an update policy of its own). */
  update?: FieldUpdate;
}

/** Fields that are not stored values but group changes, for targets with groups (Target.groups). */
export const GROUP_FIELDS: Readonly<Record<string, 'add' | 'remove'>> = { segments: 'add', removeSegments: 'remove' };
export const isGroupField = (name: string): boolean => Object.hasOwn(GROUP_FIELDS, name);

export interface CustomRule extends Omit<FieldRule, 'field'> {
  name?: string;
  fieldId?: string;
  /** The custom field's type in the account (STRING, NUMBER, BOOLEAN, DATE): values are converted to it, or refused. */
  type?: CustomFieldType;
}

export const CUSTOM_FIELD_TYPES = ['STRING', 'NUMBER', 'BOOLEAN', 'DATE'] as const;
export type CustomFieldType = (typeof CUSTOM_FIELD_TYPES)[number];

export interface MappingSpec {
  rules: FieldRule[];
  custom: CustomRule[];
  /** Also match well-known headers for fields the file does not name. */
  autoMatch: boolean;
  /** Where each rule was written, for messages: field → "mapping.json line N". */
  where: Map<string, string>;
  /** Hash of the file's text: a changed mapping changes what is sent. */
  source: string;
  /** The email status a record the run creates gets when its row gives none (--new-email-status wins). */
  newEmailStatus?: 'OPT_IN' | 'OPT_OUT' | 'account-default';
  /** The update policy of every field without its own ("update" and "newer" at the top). */
  update?: FieldUpdate;
}

type RawRule =
  | string
  | {
      column?: string;
      columns?: string[];
      separator?: string;
      transform?: TransformSpec | TransformSpec[];
      map?: Record<string, string>;
      default?: string;
      empty?: string;
      consent?: string | Record<string, string>;
      label?: string;
      fallback?: string[];
      update?: string;
      newer?: { column?: string };
    };

const RULE_KEYS = new Set(['column', 'columns', 'separator', 'transform', 'map', 'default', 'name', 'fieldId', 'empty', 'type', 'consent', 'label', 'fallback', 'update', 'newer']);
const POLARITIES = ['opt-in', 'opt-out', 'status'];

function lineOf(text: string, needle: string): number | undefined {
  const idx = text.indexOf(JSON.stringify(needle));
  if (idx < 0) return undefined;
  return text.slice(0, idx).split('\n').length;
}

function compileRule(raw: RawRule, label: string, fail: (msg: string) => never): Omit<FieldRule, 'field'> {
  if (typeof raw === 'string') return { columns: [raw], separator: ' ', transforms: [] };
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    fail(`${label} must be a column name or an object like {"column": "E-mail", "transform": ["trim"]}`);
  }
  for (const k of Object.keys(raw)) if (!RULE_KEYS.has(k)) fail(`${label} has an unknown key "${k}" (known: column, columns, separator, transform, map, default, empty, consent, label, fallback, update, newer)`);
  const columns = raw.columns ?? (raw.column !== undefined ? [raw.column] : []);
  if (!Array.isArray(columns) || columns.some((c) => typeof c !== 'string')) fail(`${label}: "columns" must be a list of column names`);
  if (columns.length === 0 && raw.default === undefined) fail(`${label} names no "column" and no "default"`);
  const specs = raw.transform === undefined ? [] : Array.isArray(raw.transform) ? raw.transform : [raw.transform];
  // "address": not a change of the value but a way to read it (a whole address in one cell), kept aside.
  const wholeAddress = specs.some((s) => typeof s === 'string' && s.toLowerCase() === 'address');
  const transforms = specs.filter((s) => !(typeof s === 'string' && s.toLowerCase() === 'address')).map((s) => {
    const t = compileTransform(s);
    if (typeof t === 'string') fail(`${label}: ${t}`);
    return t;
  });
  let valueMap: Map<string, string> | undefined;
  if (raw.map !== undefined) {
    if (!raw.map || typeof raw.map !== 'object' || Array.isArray(raw.map)) fail(`${label}: "map" must be an object like {"Y": "true"}`);
    // Value maps compare case-insensitively: exports mix "y", "Y" and "Yes".
    valueMap = new Map(Object.entries(raw.map).map(([k, v]) => [k.trim().toLowerCase(), String(v)]));
  }
  let consent: FieldRule['consent'];
  if (raw.consent !== undefined) {
    // "consent": "opt-out" (every column), or {"Do Not Email": "opt-out", "Newsletter": "opt-in"}: which way round a yes is.
    const ways = typeof raw.consent === 'string' ? Object.fromEntries(columns.map((c) => [c, raw.consent as string])) : raw.consent;
    if (!ways || typeof ways !== 'object') fail(`${label}: "consent" must be "opt-in", "opt-out" or "status", or an object of column → one of those`);
    consent = columns.map((column) => {
      const way = (ways as Record<string, unknown>)[column];
      if (typeof way !== 'string' || !POLARITIES.includes(way)) fail(`${label}: "consent" for "${column}" must be "opt-in" (yes = agreed), "opt-out" (yes = refused) or "status" (subscribed/unsubscribed…)`);
      return { column, polarity: way as ConsentPolarity };
    });
    if (raw.map !== undefined) fail(`${label}: give "consent" or "map", not both (consent reads the values by itself)`);
  }
  if (raw.fallback !== undefined && (!Array.isArray(raw.fallback) || raw.fallback.some((c) => typeof c !== 'string') || columns.length !== 1)) fail(`${label}: "fallback" must be a list of columns read where the one "column" is empty`);
  if (raw.label !== undefined && typeof raw.label !== 'string') fail(`${label}: "label" must be the column that says which phone each value is (Mobile, Work, Home)`);
  if (raw.empty !== undefined && raw.empty !== 'clear' && raw.empty !== 'skip') fail(`${label}: "empty" must be "clear" (an empty cell clears the stored value) or "skip" (the default: not sent)`);
  return {
    update: readUpdate(raw.update, raw.newer, label, fail),
    empty: raw.empty as FieldRule['empty'],
    consent,
    labelColumn: raw.label,
    fallback: raw.fallback,
    columns,
    separator: raw.separator ?? ' ',
    listSeparator: raw.separator,
    transforms,
    valueMap,
    defaultValue: raw.default === undefined ? undefined : String(raw.default),
    wholeAddress: wholeAddress || undefined,
    dateFormat: specs.map((t) => (t && typeof t === 'object' && 'date' in t ? t.date : undefined)).find((f) => f !== undefined),
  };
}

/**
 * An "update" ("always", "if-empty", "never", "if-newer") and its "newer": {"column": …}, checked. An if-newer
 * without a column of its own takes the top-level "newer" or --newer-column, checked when the run starts.
 */
function readUpdate(update: unknown, newer: unknown, label: string, fail: (msg: string) => never): FieldUpdate | undefined {
  if (update === undefined) {
    if (newer !== undefined) fail(`${label}: "newer" goes with "update": "if-newer"`);
    return undefined;
  }
  if (typeof update !== 'string' || !(UPDATE_RULES as readonly string[]).includes(update)) fail(`${label}: "update" must be ${UPDATE_RULES.map((r) => `"${r}"`).join(', ')} (when the file's value may replace the record's)`);
  if (newer !== undefined && update !== 'if-newer') fail(`${label}: "newer" goes with "update": "if-newer"`);
  const column = (newer as { column?: unknown } | undefined)?.column;
  if (newer !== undefined && (typeof newer !== 'object' || typeof column !== 'string' || !column)) fail(`${label}: "newer" must be {"column": "<the file's column saying when the row last changed>"}`);
  return { rule: update as UpdateRule, newerColumn: column as string | undefined };
}

/** Reads and checks a mapping file against the target before any row is read; every problem names key and line. */
export async function loadMappingFile(path: string, target: Target): Promise<MappingSpec> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`Cannot read mapping file ${path}: ${(err as NodeJS.ErrnoException).code ?? err}.`, 'E_MAPPING', { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`Mapping file ${path} is not valid JSON: ${(err as Error).message}.`, 'E_MAPPING', { cause: err });
  }
  return parseMapping(json, text, path, target);
}

export function parseMapping(json: unknown, text: string, path: string, target: Target): MappingSpec {
  const fail = (msg: string, key?: string): never => {
    const line = key ? lineOf(text, key) : undefined;
    throw new UsageError(`Mapping file ${path}${line ? `, line ${line}` : ''}: ${msg}.`, 'E_MAPPING');
  };
  if (!json || typeof json !== 'object' || Array.isArray(json)) fail('must be a JSON object with a "fields" object');
  const obj = json as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    if (!['fields', 'customFields', 'autoMatch', 'target', '$schema', 'comment', 'newEmailStatus', 'update', 'newer'].includes(k)) {
      fail(`unknown top-level key "${k}" (known: target, fields, customFields, autoMatch, newEmailStatus, update, newer)`, k);
    }
  }
  if (obj.target !== undefined && obj.target !== target.name) {
    fail(`is written for target "${String(obj.target)}" but this run's target is "${target.name}" (use --target ${String(obj.target)})`, 'target');
  }
  const fields = (obj.fields ?? {}) as Record<string, RawRule>;
  if (typeof fields !== 'object' || Array.isArray(fields)) fail('"fields" must be an object of target field → column', 'fields');
  const where = new Map<string, string>();
  const rules: FieldRule[] = [];
  for (const [field, raw] of Object.entries(fields)) {
    if (isGroupField(field) && !target.groups) fail(`${target.displayName} has no groups this tool can set ("${field}")`, field);
    if (isGroupField(field) && (typeof raw === 'object' && raw && (raw.empty !== undefined))) fail(`"${field}" lists ${target.groups?.noun.many}: an empty cell changes no membership, so "empty" does not apply`, field);
    if (!isGroupField(field) && !target.isKnownField(field)) {
      const known = target.fields.map((f) => f.name).join(', ');
      fail(`"${field}" is not a ${target.displayName} field (known: ${known})`, field);
    }
    const rule: FieldRule = { field, ...compileRule(raw, `field "${field}"`, (m) => fail(m, field)) };
    const role = target.fields.find((f) => f.name === field)?.role;
    if (rule.consent && role !== 'emailStatus' && role !== 'smsStatus') fail(`field "${field}" is not a consent field: "consent" goes with the email or SMS status`, field);
    if (rule.labelColumn) {
      const phones = target.fields.filter((f) => f.role === 'homePhone' || f.role === 'mobilePhone' || f.role === 'workPhone').map((f) => f.name);
      if (!phones.includes(field)) fail(`field "${field}": "label" goes with a phone field (${phones.join(', ')})`, field);
    }
    if (rule.empty === 'clear') {
      const can = target.canClear?.(field) ?? `${target.displayName} fields cannot be cleared by this tool`;
      if (can !== true) fail(`field "${field}" cannot have "empty": "clear": ${can}`, field);
    }
    rules.push(rule);
    where.set(field, `${path}${lineOf(text, field) ? ` line ${lineOf(text, field)}` : ''}`);
  }
  const custom: CustomRule[] = [];
  if (obj.customFields !== undefined) {
    if (!Array.isArray(obj.customFields)) fail('"customFields" must be a list like [{"name": "Volunteer", "column": "Volunteer?"}]', 'customFields');
    if (!target.customFieldList) {
      fail(`${target.displayName} has no "customFields" list; name its custom fields under "fields" (e.g. custom_string1)`, 'customFields');
    }
    (obj.customFields as Array<Record<string, unknown>>).forEach((c, i) => {
      const label = `customFields[${i}]`;
      if (!c || typeof c !== 'object') fail(`${label} must be an object`, 'customFields');
      const name = typeof c.name === 'string' ? c.name : undefined;
      const fieldId = typeof c.fieldId === 'string' ? c.fieldId : undefined;
      if (!name && !fieldId) fail(`${label} needs a "name" or a "fieldId"`, 'customFields');
      const type = c.type === undefined ? undefined : String(c.type).toUpperCase();
      if (type !== undefined && !(CUSTOM_FIELD_TYPES as readonly string[]).includes(type)) fail(`${label}: "type" must be one of ${CUSTOM_FIELD_TYPES.join(', ')} (the custom field's type in the account)`, name ?? fieldId ?? 'customFields');
      custom.push({ name, fieldId, type: type as CustomFieldType | undefined, ...compileRule(c as RawRule, label, (m) => fail(m, name ?? fieldId ?? 'customFields')) });
    });
  }
  if (obj.autoMatch !== undefined && typeof obj.autoMatch !== 'boolean') fail('"autoMatch" must be true or false', 'autoMatch');
  let newEmailStatus: MappingSpec['newEmailStatus'];
  if (obj.newEmailStatus !== undefined) {
    const v = String(obj.newEmailStatus);
    if (!['OPT_IN', 'OPT_OUT', 'account-default'].includes(v)) fail('"newEmailStatus" must be "OPT_OUT", "OPT_IN" or "account-default" (the email status of a record the run creates when its row gives none)', 'newEmailStatus');
    newEmailStatus = v as MappingSpec['newEmailStatus'];
  }
  const update = readUpdate(obj.update, obj.newer, 'the top-level', (m) => fail(m, obj.update !== undefined ? 'update' : 'newer'));
  return { rules, custom, autoMatch: obj.autoMatch !== false, where, source: text, newEmailStatus, update };
}
