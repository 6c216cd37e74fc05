import { existsSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { UsageError } from '../../core/errors.js';
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
}

const pad = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n));

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
  io.stderr.write(printable(lines.join('\n')) + '\n\n');
  let accepted = proposals;
  if (!opts.yes) {
    if (!process.stdin.isTTY) throw new UsageError(`Not written: run with --yes to accept this proposal without a question (or run it in a terminal).`, 'E_CONFIRM');
    const rl = createInterface({ input: process.stdin, output: io.stderr as NodeJS.WritableStream });
    const answer = await rl.question(`Write this to ${out}? [y/N] `);
    const consentAnswer = /^y(es)?$/i.test(answer.trim()) && consent.length > 0 ? await rl.question(`Write the consent reading above too (it decides who is emailed)? [y/N] `) : 'y';
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
  const mapping = mappingFromProposal(target, accepted);
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
