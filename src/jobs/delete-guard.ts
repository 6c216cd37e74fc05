import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { FoundRecord } from '../core/types.js';
import type { JobIO } from './job-io.js';

/**
 * Deleting cannot be undone: above the cap, a person at a terminal must type the number; a script must say
 * --yes or raise --max-deletes. Either way nothing is deleted before that.
 */
export async function confirmLargeDelete(count: number, max: number, io: JobIO, nouns: { many: string }): Promise<void> {
  const advice = `Check what would be deleted with --dry-run, then re-run with --max-deletes ${count} (or --yes).`;
  const answer = await io.confirm(`This would delete ${count} ${nouns.many} (more than --max-deletes ${max}); deletion cannot be undone.\nType ${count} to go on, anything else to stop: `, String(count));
  if (answer === undefined) throw new UsageError(`Refusing to delete ${count} ${nouns.many}: that is more than --max-deletes ${max}. ${advice} Nothing was deleted.`, 'E_MAX_DELETES');
  if (!answer) throw new UsageError(`Not confirmed: nothing was deleted. ${advice}`, 'E_MAX_DELETES');
}

/** `<report>.<what>-<time>.jsonl` beside the report: a new file for every run, never overwritten. */
export function backupPathFor(reportPath: string, what: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return join(dirname(reportPath), `${basename(reportPath, extname(reportPath))}.${what}-${stamp}.jsonl`);
}

/** Writes the records about to be deleted, one JSON object per line, flushed to disk before any DELETE. */
export async function writeBackup(path: string, records: FoundRecord[]): Promise<void> {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    throw new UsageError(`Cannot write the backup ${path}: ${(err as NodeJS.ErrnoException).code ?? err}. Nothing was deleted; choose another path with --backup.`, 'E_BACKUP');
  }
  try {
    let chunk = '';
    for (const r of records) {
      chunk += JSON.stringify(r.backup) + '\n';
      if (chunk.length > 1 << 20) {
        writeSync(fd, chunk);
        chunk = '';
      }
    }
    if (chunk) writeSync(fd, chunk);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
