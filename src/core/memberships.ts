import { callWithRetry, type RetryContext } from './call-with-retry.js';
import type { GroupDirectory, GroupRef, Membership, MembershipChange, TargetSession } from './types.js';

/**
 * Groups named by people (flags, a tags column) and what became of each membership, as a report line says it.
 * The text is the report's interface for scripts and for `--resume`, so it is written and read here only.
 */

/** The error_code of a row whose record was written but whose group changes were not all done (--resume finishes them). */
export const MEMBERSHIP_CODE = 'MEMBERSHIP';

/** What one membership came to. */
export type MembershipOutcome = 'added' | 'already' | 'removed' | 'not-member' | 'failed' | 'would-add' | 'would-remove';

export interface MembershipResult {
  membership: Membership;
  outcome: MembershipOutcome;
  reason?: string;
  /** Done by an earlier run (--resume): said on the line, not counted again. */
  earlier?: boolean;
}

const PHRASE: Record<MembershipOutcome, string> = {
  added: 'added to',
  already: 'already in',
  removed: 'removed from',
  'not-member': 'not in',
  failed: 'failed',
  'would-add': 'would add to',
  'would-remove': 'would remove from',
};
const OUTCOME_OF_PHRASE = new Map(Object.entries(PHRASE).map(([k, v]) => [v, k as MembershipOutcome]));

/** Outcomes that leave the record as the run asked. */
export const MEMBERSHIP_DONE: ReadonlySet<MembershipOutcome> = new Set(['added', 'already', 'removed', 'not-member']);

/**
 * `segments: added to "Spring Volunteers", "Volunteer"; already in "Donors 2025"; failed "Leads" (HTTP 503 …)`:
 * one clause per outcome in a fixed order, each name as a JSON string (so any name reads back unambiguously), a
 * failure's reason in parentheses after its name.
 */
export function describeMemberships(noun: string, results: readonly MembershipResult[]): string {
  const clauses: string[] = [];
  for (const outcome of Object.keys(PHRASE) as MembershipOutcome[]) {
    const of = results.filter((r) => r.outcome === outcome);
    if (of.length === 0) continue;
    const names = of.map((r) => JSON.stringify(r.membership.group.label) + (r.reason ? ` (${r.reason.replace(/[()]/g, '')})` : ''));
    clauses.push(`${PHRASE[outcome]} ${names.join(', ')}`);
  }
  return `${noun}: ${clauses.join('; ')}`;
}

/** The groups a report line says are done (added, already in, removed, not in), by label: what `--resume` need not send again. */
export function doneInMessage(message: string): Map<string, MembershipOutcome> {
  const done = new Map<string, MembershipOutcome>();
  // A phrase, then quoted names (each maybe with a reason), up to the next clause.
  const clause = /(added to|already in|removed from|not in|failed|would add to|would remove from) ((?:"(?:[^"\\]|\\.)*"(?: \([^)]*\))?(?:, )?)+)/g;
  for (const m of message.matchAll(clause)) {
    const outcome = OUTCOME_OF_PHRASE.get(m[1]!)!;
    if (!MEMBERSHIP_DONE.has(outcome)) continue;
    for (const n of m[2]!.matchAll(/"(?:[^"\\]|\\.)*"/g)) {
      try {
        done.set(JSON.parse(n[0]) as string, outcome);
      } catch {
        // not one of ours
      }
    }
  }
  return done;
}

/**
 * The account's groups, read once (paced, retried, paging through the listing) and made a directory; `count` is how
 * many there are. Throws as callWithRetry does when they cannot be read.
 */
export async function readGroupDirectory(retry: RetryContext, session: TargetSession, noun: { one: string; many: string }): Promise<{ directory: GroupDirectory; count: number }> {
  const listGroups = session.listGroups!.bind(session);
  const { value: groups } = await callWithRetry(retry, `reading the account's ${noun.many}`, async (nextCall) => {
    const r = await listGroups(retry.signal, nextCall);
    return r.kind === 'found' ? { kind: 'ok' as const, value: r.groups } : r;
  });
  return { directory: directoryOf(groups, noun), count: groups.length };
}

/** A directory over a list read from the remote: by id, else by exact name; an unknown or ambiguous name names the close ones. */
export function directoryOf(groups: readonly GroupRef[], noun: { one: string; many: string }): GroupDirectory {
  const byId = new Map(groups.map((g) => [g.id, g]));
  const byName = new Map<string, GroupRef[]>();
  for (const g of groups) byName.set(g.label, [...(byName.get(g.label) ?? []), g]);
  const cache = new Map<string, { group: GroupRef } | { error: string }>();
  const resolve = (ref: string): { group: GroupRef } | { error: string } => {
    const id = byId.get(ref);
    if (id) return { group: id };
    const named = byName.get(ref) ?? [];
    if (named.length === 1) return { group: named[0]! };
    if (named.length > 1) return { error: `${noun.one} "${ref}" is ambiguous: ${named.length} ${noun.many} have that name (ids ${named.map((g) => g.id).join(', ')}); name it by id` };
    const close = closeMatches(ref, groups.map((g) => g.label));
    // Nothing close: a short list is shown whole, so the right name is in front of the person.
    const shown = close.length > 0 ? ` (close: ${close.map((c) => JSON.stringify(c)).join(', ')})` : groups.length === 0 ? ` (the account has no ${noun.many})` : groups.length <= 10 ? ` (the account has ${groups.map((g) => JSON.stringify(g.label)).join(', ')})` : '';
    return { error: `no ${noun.one} is named "${ref}"${shown}; names must match exactly, or give the ${noun.one}'s id` };
  };
  return {
    resolve(ref) {
      let r = cache.get(ref);
      if (!r) cache.set(ref, (r = resolve(ref)));
      return r;
    },
  };
}

/** Names that differ from `ref` only in case, spacing or punctuation, contain it, or are a few edits away. */
export function closeMatches(ref: string, names: readonly string[], max = 5): string[] {
  const fold = (s: string) => s.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');
  const f = fold(ref);
  const scored: Array<{ name: string; score: number }> = [];
  for (const name of new Set(names)) {
    const n = fold(name);
    if (!n || !f) continue;
    let score: number | undefined;
    if (n === f) score = 0;
    else if (n.includes(f) || f.includes(n)) score = 1;
    else {
      const d = editDistance(f, n, 3);
      if (d <= Math.max(1, Math.min(3, Math.floor(f.length / 4)))) score = 1 + d;
    }
    if (score !== undefined) scored.push({ name, score });
  }
  return scored.sort((a, b) => a.score - b.score || a.name.localeCompare(b.name)).slice(0, max).map((s) => s.name);
}

/** Levenshtein distance, cut off above `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      best = Math.min(best, cur[j]!);
    }
    if (best > limit) return limit + 1;
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * A row's group changes: the run's own (flags) and the row's (its columns), resolved, without repeats. A group both
 * added and removed is the row's mistake, said rather than guessed.
 */
export function rowMemberships(
  flags: readonly Membership[],
  own: { add: string[]; remove: string[] } | undefined,
  directory: GroupDirectory | undefined,
  noun: { one: string; many: string },
): { memberships: Membership[] } | { error: string } {
  const out: Membership[] = [...flags];
  const errors: string[] = [];
  for (const change of ['add', 'remove'] as MembershipChange[]) {
    for (const ref of own?.[change] ?? []) {
      if (!directory) {
        // Not checked against the remote (validate): named as written.
        out.push({ change, group: { id: ref, label: ref } });
        continue;
      }
      const r = directory.resolve(ref);
      if ('error' in r) errors.push(r.error);
      else out.push({ change, group: r.group });
    }
  }
  if (errors.length > 0) return { error: `${errors.join('; ')} (nothing was sent for this row)` };
  const seen = new Map<string, MembershipChange>();
  const unique: Membership[] = [];
  for (const m of out) {
    const key = `${m.group.kind ?? ''}:${m.group.id}`;
    const before = seen.get(key);
    if (before === m.change) continue;
    if (before) return { error: `${noun.one} "${m.group.label}" is both added and removed for this row; say one (nothing was sent for this row)` };
    seen.set(key, m.change);
    unique.push(m);
  }
  return { memberships: unique };
}
