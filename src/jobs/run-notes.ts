import type { RunResult } from '../core/run-types.js';
import type { PrepareOptions, Target, TargetLimits } from '../core/types.js';
import { readBatchSize } from '../core/limits.js';
import type { DataJob } from './data-job-types.js';
import { formatMinutes } from './estimate.js';

/** What the summary's notes are made of, besides the result: what the run opened and wrote. */
export interface RunNoteContext {
  job: DataJob;
  limits?: TargetLimits;
  newEmailStatus?: PrepareOptions['newEmailStatus'];
  statePath?: string;
  trace?: { path: string; count: number };
  failed?: { path: string; count: number };
  resumeCommand: string;
  /** Records are read before they are written (a plan, --apply-plan, --undo-log, an update policy). */
  readsRecords?: boolean;
}

/** The summary's notes after a run: a pure function of its result and what it wrote (no I/O, no state). */
export function runNotes(result: RunResult, c: RunNoteContext): string[] {
  const { job } = c;
  const notes: string[] = [];
  if (job.mode === 'dry-run' && job.command === 'delete') notes.push(`nothing was deleted; the report lists what would be (remote_id and the name and email found)`);
  if (result.interrupted) notes.push('interrupted: requests in flight were finished; the rest are NOT_ATTEMPTED');
  for (const [note, n] of Object.entries(result.rowNotes)) notes.push(`${n} row${n === 1 ? '' : 's'}: ${note}`);
  const droppedRows = Object.entries(result.droppedValues);
  if (droppedRows.length > 0) {
    notes.push(`rows that went without a value that could not be used: ${droppedRows.map(([f, n]) => `${f} ${n}`).join(', ')} (each report line names the value and why; --strict-values makes such rows INVALID instead)`);
  }
  const kept = Object.entries(result.kept ?? {});
  if (kept.length > 0) {
    const verb = job.mode === 'plan' ? 'would keep' : 'kept';
    const resumed = job.resume ? ' of the rows this run sent (a resumed run\'s earlier rows are not counted again)' : '';
    notes.push(`records ${verb} what they hold (the update policy), rows per field${resumed}: ${kept.map(([f, n]) => `${f} ${n}`).join(', ')} (each report line says what and why)`);
  }
  const repeats = result.repeats;
  if (repeats?.rows) {
    const { one, many } = job.target.nouns;
    const spelled = repeats.caseOnly ? ` (${repeats.caseOnly} of them with the email spelled in another case)` : '';
    notes.push(`${repeats.rows} row${repeats.rows === 1 ? ' names a' : 's name'} ${repeats.rows === 1 ? one : many} an earlier row of the file named${spelled}: rows are applied in file order, the later row's values last (each such line says so; the report gives both rows the same key)`);
  }
  if (result.keptSpellings) {
    const kept = job.mode === 'plan' ? 'would be kept' : 'was kept';
    notes.push(`${result.keptSpellings} row${result.keptSpellings === 1 ? '' : 's'} spelled an email in another case than its record (as ${job.target.displayName} held it or an earlier row of the file wrote it): the record's spelling ${kept}, whatever else the row sent (a case-only difference is not a change)`);
  }
  if (result.repeats?.caseOnly && job.mode === 'send' && !c.readsRecords) {
    notes.push(`a plain import reads no record before writing it: each person's first row went as the file spells its email, so where ${job.target.displayName} spelled it otherwise, it now has the file's spelling (--plan then --apply-plan, --undo-log or an update policy keep every stored spelling)`);
  }
  if (result.unreadTimes) notes.push(`warning: ${result.unreadTimes} row${result.unreadTimes === 1 ? '' : 's'} gave no timestamp this tool could read for if-newer, so the records kept what they hold (each line says which value; use ISO 8601 such as 2025-03-14T09:30:00Z, or --date-order for 14/03/2025)`);
  if (result.warned > 0) notes.push(`${result.warned} row${result.warned === 1 ? ' was' : 's were'} written with a value the remote did not apply (see their report lines): exit 1`);
  if (result.followUps > 0) {
    notes.push(
      `${result.followUps} ${result.followUps === 1 ? job.target.nouns.one : job.target.nouns.many} created: a second call was sent for what could not go in the first without risk to existing ${job.target.nouns.many} ` +
        (job.target.describeSecondCalls?.(c.newEmailStatus ?? 'OPT_OUT') ?? '(what the first held back; each line says what)') + ' (a row whose second call failed says so on its line)',
    );
  }
  if (job.mode === 'plan') notes.push(...describePlan(result, c.limits, job.target));
  const membershipNote = describeMembershipCounts(result, job.target);
  if (membershipNote) notes.push(membershipNote);
  for (const why of result.refusedGroups ?? []) notes.push(`${why}: one call was refused, and no other was made for it`);
  if (result.unchanged > 0) {
    const batch = c.limits?.maxBatchSize;
    const saved = batch ? Math.ceil(result.unchanged / batch) : undefined;
    notes.push(`${result.unchanged} rows unchanged since the last sync were not sent${saved ? `: about ${saved} API call${saved === 1 ? '' : 's'} saved` : ''}`);
  }
  if (c.statePath) notes.push(`state: ${c.statePath}`);
  if (c.trace) notes.push(`trace: ${c.trace.path} (${c.trace.count} request${c.trace.count === 1 ? '' : 's'} and their answers, credentials masked)`);
  if (c.failed) {
    notes.push(c.failed.count > 0 ? `failed rows: ${c.failed.path} (${c.failed.count}; fix them there and re-run that file as it is)` : `failed rows: none (${c.failed.path} not written)`);
  }
  const unfinished = (result.counts.FAILED ?? 0) + (result.counts.SYSTEM_ERROR ?? 0) + (result.counts.NOT_ATTEMPTED ?? 0);
  if (unfinished > 0 && job.sending && job.input !== '-') notes.push(`to send the ${unfinished} unfinished rows: ${c.resumeCommand}`);
  return notes;
}

/**
 * A plan's summary: creates, updates per field, no-changes, and how long the real run takes at the account's
 * ceiling (one call per batch; creations that need a second call, their email status, one more per batch) — and applying
 * the plan, which reads each batch before writing it, in batches one read answers.
 */
export function describePlan(result: RunResult, limits: TargetLimits | undefined, target: Target): string[] {
  const c = result.counts;
  const creates = c.CREATE ?? 0;
  const updates = c.UPDATE ?? 0;
  const fields = Object.entries(result.planFields).sort((a, b) => b[1] - a[1]).map(([f, n]) => `${f}: ${n.toLocaleString('en-US')} row${n === 1 ? '' : 's'}`);
  const out = [`plan: ${creates.toLocaleString('en-US')} to create, ${updates.toLocaleString('en-US')} to update, ${(c.NO_CHANGE ?? 0).toLocaleString('en-US')} with no change${fields.length ? `; updates per field — ${fields.join(', ')}` : ''}`];
  const writes = (batch: number) => Math.ceil((creates + updates) / batch) + Math.ceil(result.planSecondCalls / batch);
  const calls = writes(limits?.maxBatchSize ?? 1);
  const readBatch = limits ? readBatchSize(limits) : 1;
  const applying = writes(readBatch) + Math.ceil((creates + updates) / readBatch);
  const rate = limits?.ratePerMinute;
  const n = (x: number) => x.toLocaleString('en-US');
  if (rate) out.push(`the import would make about ${n(calls)} calls: ${formatMinutes(calls / rate)} at the account's ceiling of ${n(rate)} calls a minute; applying this plan reads each batch first: about ${n(applying)} calls, ${formatMinutes(applying / rate)} (reading this plan took ${n(result.lookupCalls)} call${result.lookupCalls === 1 ? '' : 's'})`);
  else out.push(`the import would make about ${n(calls)} calls; applying this plan reads each record first: about ${n(applying)} calls (${target.displayName} publishes no rate; --rate paces it)`);
  out.push(`to send exactly this: sync-supporters import <the same file> --apply-plan <this plan> (rows whose record changes meanwhile are refused)`);
  return out;
}

function describeMembershipCounts(result: RunResult, target: Target): string | undefined {
  const c = result.memberships;
  const words: Array<[keyof typeof c, string]> = [['added', 'added'], ['already', 'already members'], ['removed', 'removed'], ['not-member', 'not members (nothing to remove)'], ['would-add', 'would be added'], ['would-remove', 'would be removed'], ['failed', 'failed']];
  const parts = words.filter(([k]) => c[k]).map(([k, w]) => `${c[k]} ${w}`);
  if (parts.length === 0) return undefined;
  const calls = result.membershipCalls > 0 ? ` (${result.membershipCalls} call${result.membershipCalls === 1 ? '' : 's'} of their own)` : '';
  return `${target.groups?.noun.one ?? 'group'} memberships: ${parts.join(', ')}${calls}${c.failed ? ' — their rows are FAILED with error_code MEMBERSHIP; --resume sends only those changes' : ''}`;
}

/**
 * Address columns with no place in the mapping, said before a run and by `check`: a row with a value in one does not
 * send its address over a stored one.
 */
export function describeAddressGaps(gaps: readonly string[], target: Target): string {
  const one = gaps.length === 1;
  const where = target.withRemoteId ? `only to ${target.nouns.many} the run creates` : 'to no one';
  return `${gaps.map((g) => `"${g}"`).join(', ')} look${one ? 's' : ''} like ${one ? 'a part' : 'parts'} of the address but ${one ? 'is' : 'are'} not mapped, so a row with a value there sends its address ${where} (map ${one ? 'it' : 'them'} in a --map file, or --address replace to send addresses anyway)`;
}
