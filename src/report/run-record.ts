import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { UsageError } from '../core/errors.js';

/** What a report was made from, kept beside it so `--resume` can refuse a different input. */
export interface RunRecord {
  version: 1;
  /** What the run did: only a run that sent (`send`; records without a mode are from before previews had one) can be resumed. */
  mode?: 'send' | 'dry-run' | 'validate' | 'plan';
  /** A preview does not hash its input. */
  input: { path: string; size?: number; sha256?: string };
  target: string;
  operation: string;
  startedAt: string;
}

export const runRecordPathOf = (reportPath: string) => `${reportPath}.run.json`;

export async function fingerprint(path: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest('hex') };
}

export async function writeRunRecord(reportPath: string, record: RunRecord): Promise<void> {
  const path = runRecordPathOf(reportPath);
  try {
    await writeFile(`${path}.tmp`, JSON.stringify(record, null, 2) + '\n', { mode: 0o600 });
    await rename(`${path}.tmp`, path);
  } catch (err) {
    throw new UsageError(`Cannot write the run record ${path}: ${(err as NodeJS.ErrnoException).code ?? err}. Choose another place for the report with --report.`, 'E_REPORT', { cause: err });
  }
}

export function readRunRecordSync(reportPath: string): RunRecord | undefined {
  try {
    return JSON.parse(readFileSync(runRecordPathOf(reportPath), 'utf8')) as RunRecord;
  } catch {
    return undefined;
  }
}

export async function readRunRecord(reportPath: string): Promise<RunRecord | undefined> {
  try {
    return JSON.parse(await readFile(runRecordPathOf(reportPath), 'utf8')) as RunRecord;
  } catch {
    return undefined;
  }
}

/** Refuses to resume from a report that was made from another file, target or command. */
export async function checkResumable(reportPath: string, current: Omit<RunRecord, 'startedAt' | 'version'>): Promise<void> {
  const previous = await readRunRecord(reportPath);
  const fresh = `Run without --resume to start over (the report will be rewritten).`;
  if (!previous) {
    throw new UsageError(`Cannot resume: ${reportPath} has no run record (${runRecordPathOf(reportPath)}), so it cannot be matched to this input. ${fresh}`, 'E_RESUME');
  }
  if ((previous.mode ?? 'send') !== 'send') {
    const what = previous.mode === 'validate' ? 'validate' : previous.mode === 'plan' ? 'import --plan' : `${previous.operation === 'delete' ? 'delete' : 'import'} --dry-run`;
    throw new UsageError(`Cannot resume: ${reportPath} is the report of a ${what}, which sent nothing, so it cannot say which rows are done. ${fresh}`, 'E_RESUME');
  }
  if (previous.target !== current.target || previous.operation !== current.operation) {
    throw new UsageError(`Cannot resume: ${reportPath} is the report of a ${previous.operation} to ${previous.target}, not a ${current.operation} to ${current.target}. ${fresh}`, 'E_RESUME');
  }
  const a = previous.input;
  const b = current.input;
  if (a.size !== b.size || a.sha256 !== b.sha256) {
    const what = a.size !== b.size ? `its size changed from ${a.size} to ${b.size} bytes` : 'its content changed (same size, different SHA-256)';
    throw new UsageError(`Cannot resume: the input ${b.path} is not the file ${reportPath} was made from (${what}). Rows would not line up. Restore that file, or ${fresh.charAt(0).toLowerCase()}${fresh.slice(1)}`, 'E_RESUME');
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
