import { UsageError } from '../core/errors.js';
import { describeConsent, readConsentHeader, readConsentValue } from './consent.js';
import type { FieldRule } from './mapping-file.js';

/** The target's own words for consent: Salsa's OPT_IN/OPT_OUT, Luminate's true/false. */
export interface ConsentWords {
  yes: string;
  no: string;
}

/**
 * A consent field from its columns, each read its own way round. Every column is read first: an opt-out in one
 * stands even when another's value cannot be read (two columns about one consent, "Do Not Email" and "No Bulk
 * Emails", cannot make an opt-in of a refusal); then any opt-in; else nothing is sent.
 */
export function readConsentCells(reads: NonNullable<FieldRule['consent']>, fields: Record<string, string>, words: ConsentWords): { value: string } | { error: string } {
  let value = '';
  let unreadable: string | undefined;
  for (const { column, polarity } of reads) {
    const raw = (fields[column] ?? '').trim();
    const r = readConsentValue(raw, polarity);
    if (r === 'out') return { value: words.no };
    if (r === 'unreadable') unreadable ??= `"${raw}" in "${column}" does not say whether the person agreed (yes/no, subscribed/unsubscribed…)`;
    if (r === 'in') value = words.yes;
  }
  return unreadable ? { error: unreadable } : { value };
}

/**
 * A consent field named in a mapping file is read its header's way round: "HasOptedOutOfEmail" mapped to the email
 * status without a value map means true → opted out (the rule gets its reading; notes say it in words). A value map
 * that makes a yes in an opt-out column an opt-in (what an old init wrote) is refused before anything is read.
 */
export function readMappedConsent(rule: FieldRule, words: ConsentWords, where: string | undefined): string[] {
  const reads = rule.columns.map((column) => ({ column, header: readConsentHeader(column) }));
  if (rule.valueMap) {
    for (const { column, header } of reads) {
      if (header?.polarity !== 'opt-out') continue;
      const inverted = [...rule.valueMap].filter(([k, v]) => readConsentValue(k, 'opt-out') === 'out' && v.toLowerCase() === words.yes.toLowerCase());
      if (inverted.length > 0) {
        throw new UsageError(
          `Mapping ${where ?? ''}: "${column}" is an opt-out column (yes means the person opted out), but the mapping sends ${inverted.map(([k]) => `"${k}"`).join(', ')} as ${words.yes}: ` +
            `that would opt in the people who opted out. Map those values to ${words.no} (or remove the map: the column is then read its own way round).`,
          'E_MAPPING',
        );
      }
    }
    return [];
  }
  if (rule.consent) {
    // Said explicitly: kept, unless it reads an opt-out column as consent (the same inversion a value map could make).
    for (const c of rule.consent) {
      const header = readConsentHeader(c.column);
      if (header?.polarity === 'opt-out' && c.polarity !== 'opt-out') {
        throw new UsageError(`Mapping ${where ?? ''}: "${c.column}" is an opt-out column (yes means the person opted out), but the mapping reads it as "${c.polarity}": that would opt in the people who opted out. Say "opt-out" (or leave "consent" out: the column is then read its own way round).`, 'E_MAPPING');
      }
    }
    return [];
  }
  if (rule.transforms.length > 0 || rule.defaultValue !== undefined || !reads.every((r) => r.header)) return [];
  rule.consent = reads.map((r) => ({ column: r.column, polarity: r.header!.polarity }));
  return reads.map((r) => describeConsent(r.column, r.header!.polarity, []));
}
