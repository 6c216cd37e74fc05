import { existsSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { UsageError } from '../../core/errors.js';
import { UPDATE_RULES, type UpdateRule } from '../../core/update-policy.js';
import type { SourceRecord } from '../../core/types.js';
import { parseMapping } from '../../mapping/mapping-file.js';
import { mappingFromProposal, proposeMapping } from '../../mapping/propose.js';
import { checkRunFiles } from '../../report/output-guard.js';
import { openSource } from '../../sources/index.js';
import { printable } from '../printable.js';
import { resolveTarget, type CommandIO } from '../io.js';

export interface InitOptions {
  target?: string;
  out?: string;
  yes?: boolean;
  force?: boolean;
  format?: string;
  delimiter?: string;
  encoding?: string;
  update?: string;
  newerColumn?: string;
}

const pad = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n));

/** A header that says when a row last changed ("Updated At", "Last Modified", "Date modified"). */
const TIMESTAMP_HEADER = /\b(updated|modified|timestamp|last[ _-]?(changed|modified|updated)|changed[ _-]?(at|on|date))\b/i;

function checkedUpdate(value: string, stamp: string | undefined): UpdateRule {
  const rule = UPDATE_RULES.find((r) => r === value.toLowerCase());
  if (!rule) throw new UsageError(`The update rule must be ${UPDATE_RULES.join(', ')}; got "${value}".`);
  if (rule === 'if-newer' && !stamp) throw new UsageError('if-newer needs a column saying when each row last changed: name it with --newer-column.');
  return rule;
}

/** `init`: propose a mapping from the header and a sample, show it, and write it after a yes. */
export async function runInit(input: string, opts: InitOptions, io: CommandIO): Promise<number> {
  const target = resolveTarget(opts.target, io.env);
  const out = opts.out ?? 'mapping.json';
  checkRunFiles([{ path: input, role: 'the input' }], [{ path: out, role: 'the mapping', option: '--out' }]);
  if (existsSync(out) && !opts.force) throw new UsageError(`${out} already exists: choose another file with --out, or replace it with --force.`, 'E_EXISTS');
  const source = await openSource(input, { format: opts.format, delimiter: opts.delimiter, encoding: opts.encoding as BufferEncoding | undefined });
  const sample: SourceRecord[] = [];
  for await (const chunk of source.chunks()) {
    for (const r of chunk) if (r.fields && sample.length < 200) sample.push(r);
    if (sample.length >= 200) break;
  }
  const columns = source.fixedColumns ? source.columns() : [...new Set(sample.flatMap((r) => Object.keys(r.fields ?? {})))];
  const proposals = proposeMapping(target, columns, sample);
  const w = Math.min(24, Math.max(8, ...columns.map((c) => c.length)));
  const lines = [`Proposed mapping of ${input} to ${target.displayName} (from the header and ${sample.length} sample rows):`, '', `  ${pad('column', w)}  ${pad('→ field', 24)}  ${pad('why', 34)}  sample values`];
  for (const p of proposals) {
    lines.push(`  ${pad(p.column, w)}  ${pad(p.field ? `→ ${p.field}` : '  (not mapped)', 24)}  ${pad(p.field ? p.reason : '', 34)}  ${p.samples.map((s) => JSON.stringify(s)).join(', ')}`);
  }
  const warnings = proposals.filter((p) => p.warning);
  if (warnings.length > 0) {
    lines.push('', 'WARNING:');
    for (const p of warnings) lines.push(`  ${p.warning}`);
  }
  const consent = proposals.filter((p) => p.consent);
  if (consent.length > 0) {
    // Who is emailed is decided here: the reading is said in words, and asked for on its own.
    lines.push('', 'Consent (read the way round each header says; never inverted):');
    for (const p of consent) lines.push(`  ${p.consent}`);
  }
  const unmapped = proposals.filter((p) => !p.field);
  if (unmapped.length > 0) {
    lines.push('', 'Not mapped:');
    for (const p of unmapped) lines.push(`  ${p.column}: ${p.hint}`);
  }
  // Which values of the file may replace what a record already holds: asked below, or --update.
  const stamp = opts.newerColumn ?? columns.find((c) => TIMESTAMP_HEADER.test(c));
  let update = opts.update === undefined ? undefined : checkedUpdate(opts.update, stamp);
  lines.push('', `Existing records: ${update ? `update ${update}` : 'the file\'s values replace what they hold (--update if-empty fills only empty fields, never leaves them as they are' + (stamp ? `, if-newer replaces only when "${stamp}" is newer` : '') + ')'}`);
  io.stderr.write(printable(lines.join('\n')) + '\n\n');
  let accepted = proposals;
  if (!opts.yes) {
    if (!process.stdin.isTTY) throw new UsageError(`Not written: run with --yes to accept this proposal without a question (or run it in a terminal).`, 'E_CONFIRM');
    const rl = createInterface({ input: process.stdin, output: io.stderr as NodeJS.WritableStream });
    const answer = await rl.question(`Write this to ${out}? [y/N] `);
    const consentAnswer = /^y(es)?$/i.test(answer.trim()) && consent.length > 0 ? await rl.question(`Write the consent reading above too (it decides who is emailed)? [y/N] `) : 'y';
    if (/^y(es)?$/i.test(answer.trim()) && update === undefined) {
      const choices = ['always', 'if-empty', 'never', ...(stamp ? ['if-newer'] : [])];
      const said = await rl.question(`May the file's values replace what existing records hold? ${choices.join(' / ')} [always] `);
      update = checkedUpdate(said.trim() || 'always', stamp);
    }
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      io.stderr.write('Not written.\n');
      return 1;
    }
    if (!/^y(es)?$/i.test(consentAnswer.trim())) {
      accepted = proposals.map((p) => (p.consent ? { ...p, field: undefined, rule: undefined } : p));
      io.stderr.write('The consent columns are left out of the mapping: the email status is not changed by it.\n');
    }
  }
  const mapping: Record<string, unknown> = mappingFromProposal(target, accepted);
  if (update && update !== 'always') {
    mapping.update = update;
    if (update === 'if-newer') mapping.newer = { column: stamp };
  }
  const text = JSON.stringify(mapping, null, 2) + '\n';
  parseMapping(mapping, text, out, target); // what init writes must be a mapping the tool accepts
  try {
    writeFileSync(out, text);
  } catch (err) {
    throw new UsageError(`Cannot write the mapping ${out}: ${(err as NodeJS.ErrnoException).code ?? err}. Choose another path with --out.`, 'E_OUTPUT_PATH', { cause: err });
  }
  // Quoted for a shell: "Sign-up (Responses).csv" is one argument.
  const q = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);
  io.stderr.write(`Wrote ${out}. Check it, then: sync-supporters validate ${q(input)} -t ${target.name} -m ${q(out)}\n`);
  return 0;
}
