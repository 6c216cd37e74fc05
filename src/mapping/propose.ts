import type { SourceRecord, Target } from '../core/types.js';
import { planColumns } from './column-plan.js';
import { describeConsent } from './consent.js';
import { normaliseHeader, splitWholeAddress } from './values.js';

export interface Proposal {
  column: string;
  field?: string;
  /** Why: "header", "header words", or what the values look like. */
  reason: string;
  samples: string[];
  rule?: Record<string, unknown>;
  hint?: string;
  /** Said loudly by init: a proposal that changes how records are matched. */
  warning?: string;
  /** A consent column's reading in words ("true → the person is OPTED OUT"): init asks before writing it. */
  consent?: string;
  /** A second field the same column gives (a whole name's last name). */
  also?: { field: string; rule: Record<string, unknown> };
}

const share = (values: string[], test: (v: string) => boolean) => (values.length === 0 ? 0 : values.filter(test).length / values.length);

/**
 * The column's date format: day-first when some first part is over 12 (31/12/1980), month-first when some second
 * part is; undefined (no proposal) when the values contradict each other or every one reads both ways — a guess
 * there would store 5 March as May 3.
 */
function dateFormatOf(values: string[]): string | undefined {
  const m = values.map((v) => /^(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})$/.exec(v.trim()));
  if (m.length === 0 || m.some((x) => !x)) return undefined;
  const sep = m[0]![2];
  const year = m[0]![4]!.length === 4 ? 'YYYY' : 'YY';
  if (m.some((x) => x![2] !== sep || (x![4]!.length === 4 ? 'YYYY' : 'YY') !== year)) return undefined;
  const dayFirst = m.some((x) => Number(x![1]) > 12);
  const monthFirst = m.some((x) => Number(x![3]) > 12);
  if (dayFirst === monthFirst) return undefined;
  return dayFirst ? `DD${sep}MM${sep}${year}` : `MM${sep}DD${sep}${year}`;
}

/** Headers of a column that lists tags or groups (Mailchimp's TAGS, NationBuilder's tag_list, "Groups", "Segments"). */
const TAG_HEADERS = /^(tags?|taglist|tagnames|groups?|groupnames|segments?|segmentnames|lists?|labels?|interests?)$/;

/**
 * What init says of a tags column: how to map it to the target's groups. Never mapped by itself: memberships are
 * a change people ask for. Salsa resolves names; Luminate only ids, so a column of names cannot go there as it is.
 */
function tagsHint(target: Target, column: string, values: string[]): string {
  const noun = target.groups!.noun;
  const separator = [';', '|', ','].find((sep) => values.some((v) => v.includes(sep))) ?? ',';
  const line = `"segments": {"column": "${column}", "separator": "${separator}"} under "fields"`;
  const names = values.flatMap((v) => v.split(separator).map((x) => x.trim())).filter(Boolean);
  if (target.groups!.offline && names.some((n) => !/^((group|interest):)?\d+$/.test(n))) {
    return `tags by name: ${target.displayName}'s API names ${noun.many} only by id, so this column cannot be sent as it is; a column of ids would go as ${line}`;
  }
  return `tags: to put each row into the ${noun.many} it names, add ${line} (not mapped by itself: it changes memberships; \`check <file> -m <mapping>\` says which names the account lacks)`;
}

/**
 * Proposes a mapping for a file: the same column plan an import without a mapping uses (header words, then values),
 * with each rule written out (a consent column's way round, a date column's format, a label column) so the file says
 * everything. Columns it cannot place are returned with a hint.
 */
export function proposeMapping(target: Target, columns: readonly string[], sample: SourceRecord[]): Proposal[] {
  const plan = planColumns(target, columns, sample);
  const birth = target.fields.find((f) => f.role === 'birthDate')?.name;
  const out: Proposal[] = plan.columns.map((p) => {
    const values = sample.map((r) => (r.fields?.[p.column] ?? '').trim()).filter((v) => v !== '');
    const samples = [...new Set(values)].slice(0, 3);
    const proposal: Proposal = { column: p.column, field: p.field, reason: p.reason, samples, hint: p.hint };
    if (!p.field) {
      if (target.groups && TAG_HEADERS.test(normaliseHeader(p.column)) && values.length > 0) proposal.hint = tagsHint(target, p.column, values);
      else if (!p.hint && values.length === 0) proposal.hint = 'empty in the sample';
      else if (!p.hint) {
        proposal.hint = target.customFieldList
          ? `not a standard field: to send it, add {"name": "<${target.displayName} custom field>", "column": "${p.column}"} under "customFields"`
          : 'not a standard field: to send it, map it to a custom_string<N> field of your site';
      }
      return proposal;
    }
    if (p.consent) {
      proposal.rule = { consent: p.consent };
      proposal.consent = describeConsent(p.column, p.consent, values);
    }
    if (p.labelColumn) proposal.rule = { label: p.labelColumn };
    if (p.fallback) proposal.rule = { ...proposal.rule, fallback: p.fallback };
    if (p.columns) proposal.rule = { columns: p.columns, separator: p.separator, ...(p.dateFormat ? { transform: [{ date: p.dateFormat }] } : {}) };
    if (p.lastField) {
      proposal.rule = { transform: 'first-name' };
      proposal.also = { field: p.lastField, rule: { column: p.column, transform: 'last-name' } };
    }
    if (p.field === birth) {
      const fmt = dateFormatOf(values);
      if (fmt) proposal.rule = { transform: [{ date: fmt }] };
    }
    if (normaliseHeader(p.column) === 'address' && values.length > 0 && share(values, (v) => splitWholeAddress(v) !== undefined) >= 0.5) {
      proposal.rule = { transform: 'address' };
      proposal.reason = 'header; a whole address per cell (street, city, state, zip, country): split into its fields';
    }
    return proposal;
  });
  // Headers that may mean a field but change how records are matched if they do not: proposed with a warning.
  for (const p of out) {
    if (p.field) continue;
    const cautious = target.fields.find((f) => f.caution?.aliases.some((a) => normaliseHeader(a) === normaliseHeader(p.column)));
    if (cautious && !out.some((o) => o.field === cautious.name)) {
      Object.assign(p, { field: cautious.name, reason: `header — CAUTION: ${cautious.caution!.warning}`, hint: undefined });
      p.warning = `${p.column} → ${cautious.name}: ${cautious.caution!.warning}. Remove it from the mapping if not.`;
    }
  }
  return out;
}

/** The mapping file for a proposal (autoMatch off: the file says everything). Consent columns of one field go together. */
export function mappingFromProposal(target: Target, proposals: Proposal[]): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const p of proposals) {
    if (!p.field) continue;
    const earlier = fields[p.field] as { columns?: string[]; column?: string; consent?: unknown } | undefined;
    if (earlier && p.rule?.consent) {
      // A second column about the same consent ("Do Not Email" and "No Bulk Emails"): read together, any opt-out wins.
      const columns = earlier.columns ?? [earlier.column!];
      const ways = typeof earlier.consent === 'string' ? Object.fromEntries(columns.map((c) => [c, earlier.consent])) : (earlier.consent as Record<string, string>);
      fields[p.field] = { columns: [...columns, p.column], consent: { ...ways, [p.column]: p.rule.consent } };
      continue;
    }
    fields[p.field] = p.rule ? (p.rule.columns ? p.rule : { column: p.column, ...p.rule }) : p.column;
    if (p.also) fields[p.also.field] = p.also.rule;
  }
  return { target: target.name, fields, autoMatch: false };
}
