import { accessSync, closeSync, constants, existsSync, openSync, readSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import { CSV_HEADER } from './report-row.js';
import { pagePathOf } from './summary-page.js';
import { journalPathOf } from './report-writer.js';
import { readRunRecordSync, runRecordPathOf } from './run-record.js';

/** A file a run reads or writes, and what it is to the person ("the input", "the --failed file"…). */
export interface RunFile {
  path: string;
  role: string;
  /** The option that chooses it, for the advice in a refusal. */
  option?: string;
  /** The run creates the file's folder when it is missing (the state's .sync-supporters/). */
  createsFolder?: boolean;
}

/** Mode of files that hold personal data: readable and writable by their owner only. */
export const PRIVATE_FILE_MODE = 0o600;

/**
 * What a path is on disk: the same id for two spellings of one file (a relative and an absolute path, a symlink,
 * a hard link), so that `-r contacts.csv` on input `./contacts.csv` is caught however it is written.
 */
function identity(path: string): string {
  try {
    const s = statSync(path);
    return `inode:${s.dev}:${s.ino}`;
  } catch {
    try {
      return `path:${join(realpathSync(dirname(resolve(path))), basename(path))}`;
    } catch {
      return `path:${resolve(path)}`;
    }
  }
}

const why = (err: unknown) => {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'does not exist' : code === 'EACCES' || code === 'EPERM' ? 'is not writable (permission denied)' : code === 'EROFS' ? 'is on a read-only file system' : String(code ?? err);
};

/**
 * Refuses (exit 2), before anything is opened for writing, an output that is — or resolves to — an input, a mapping
 * or another output, and an output whose folder is missing or not writable. Outputs are checked in the order given.
 */
export function checkRunFiles(inputs: RunFile[], outputs: RunFile[]): void {
  const seen = new Map<string, RunFile>();
  for (const f of inputs) if (f.path !== '-') seen.set(identity(f.path), f);
  for (const out of outputs) {
    const id = identity(out.path);
    const clash = seen.get(id);
    if (clash) {
      const same = clash.path === out.path ? `${out.path}` : `${out.path} (the same file as ${clash.path})`;
      throw new UsageError(
        `Refusing to write ${out.role} to ${same}: that is ${clash.role}, and writing would destroy it. ` +
          `Choose another path${out.option ? ` with ${out.option}` : ''}. Nothing was written or sent.`,
        'E_OUTPUT_CLASH',
      );
    }
    seen.set(id, out);
    const dir = dirname(resolve(out.path));
    if (out.createsFolder && !existsSync(dir)) continue;
    try {
      if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
      accessSync(dir, constants.W_OK);
      if (existsSync(out.path)) {
        if (statSync(out.path).isDirectory()) throw Object.assign(new Error('a folder'), { code: 'EISDIR' });
        accessSync(out.path, constants.W_OK);
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const what = code === 'EISDIR' ? `${out.path} is a folder` : code === 'ENOTDIR' ? `${dirname(out.path)} is not a folder` : existsSync(dir) ? `${existsSync(out.path) ? out.path : `the folder ${dir}`} ${why(err)}` : `the folder ${dir} does not exist`;
      throw new UsageError(
        `Cannot write ${out.role} ${out.path}: ${what}. ${code === 'ENOENT' ? 'Create the folder, or choose' : 'Choose'} another path${out.option ? ` with ${out.option}` : ''}. Nothing was written or sent.`,
        'E_OUTPUT_PATH',
        { cause: err },
      );
    }
  }
}

/** The first bytes of a file, as text (enough to recognise what wrote it). */
function head(path: string, bytes = 4096): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Whether a file was written by this tool as a report (CSV header, or a JSONL report line). */
export function looksLikeReport(path: string): boolean {
  const text = head(path);
  if (text === '') return true;
  if (text.startsWith(CSV_HEADER.trimEnd())) return true;
  const first = text.split('\n', 1)[0]!;
  try {
    const o = JSON.parse(first) as Record<string, unknown>;
    return typeof o.row === 'number' && typeof o.status === 'string' && 'operation' in o;
  } catch {
    return false;
  }
}

/** Whether a file was written by this tool as a failed-rows file (it has the sync_error column). */
export function looksLikeFailedRows(path: string): boolean {
  const text = head(path);
  if (text === '') return true;
  const first = text.split('\n', 1)[0]!;
  return /(^|[,;\t"])sync_error("?\r?$|"?$)/.test(first) || /"sync_error":/.test(first);
}

export interface ReportPlan {
  /** Notes for the summary (where an earlier report was kept). */
  notes: string[];
  /** Where the earlier real report was moved, if it was (restoreKeptReport puts it back). */
  keptAs?: string;
}

/**
 * Decides what becomes of a file already at the report path, before the run writes anything:
 * - not a report of this tool: refused unless `overwrite` (a typo like `-r mapping.json` must not cost the file);
 * - a real run's report (it sent): never replaced. A run that sends and is not resuming moves it, with its run
 *   record and journal, aside to `<name>.<its start time>.<ext>`; a validate or dry run is refused;
 * - a preview's report (validate, dry run): replaced.
 */
export function prepareReportPath(reportPath: string, opts: { sending: boolean; resuming: boolean; overwrite: boolean; commandLabel: string }): ReportPlan {
  const notes: string[] = [];
  const journal = journalPathOf(reportPath);
  const hasReport = existsSync(reportPath);
  if (!hasReport && !existsSync(journal)) return { notes };
  const ours = !hasReport || looksLikeReport(reportPath);
  if (!ours && opts.overwrite) return { notes };
  if (!ours) {
    throw new UsageError(
      `${reportPath} exists and is not a sync-supporters report, so it was not replaced. Choose another path with --report ` +
        `(a typo for -m/--map?), or replace it deliberately with --overwrite. Nothing was written or sent.`,
      'E_REPORT_EXISTS',
    );
  }
  const record = readRunRecordSync(reportPath);
  // A report without a record of what made it may be a real run's from before records had a mode: keep it.
  const real = record ? (record.mode ?? 'send') === 'send' : existsSync(journal) || hasReport;
  if (!real || opts.resuming) return { notes };
  if (!opts.sending) {
    throw new UsageError(
      `${reportPath} is the report of a real ${record?.operation === 'delete' ? 'delete' : 'run'}${record?.startedAt ? ` (started ${record.startedAt})` : ''}; ` +
        `a ${opts.commandLabel} would replace it and with it the record --resume needs. Choose another path with --report (or leave --report out: ` +
        `previews have their own default name). Nothing was written.`,
      'E_REPORT_REAL',
    );
  }
  const stamp = (record?.startedAt ?? new Date(statSync(hasReport ? reportPath : journal).mtimeMs).toISOString()).replace(/[:.]/g, '-');
  // contacts.report.csv → contacts.<start>.report.csv: still a report by its name (and to .gitignore's *.report.csv).
  const ext = extname(reportPath);
  const base = basename(reportPath, ext);
  const kept = join(dirname(reportPath), base.endsWith('.report') ? `${base.slice(0, -7)}.${stamp}.report${ext}` : `${base}.${stamp}${ext}`);
  if (existsSync(kept)) throw new UsageError(`Cannot keep the earlier report ${reportPath} as ${kept}: that file exists. Move one of them, or choose another --report.`, 'E_REPORT_REAL');
  if (hasReport) renameSync(reportPath, kept);
  if (existsSync(journal)) renameSync(journal, journalPathOf(kept));
  if (record) renameSync(runRecordPathOf(reportPath), runRecordPathOf(kept));
  if (existsSync(pagePathOf(reportPath))) renameSync(pagePathOf(reportPath), pagePathOf(kept));
  notes.push(`the earlier report at this path was kept as ${kept}${existsSync(journalPathOf(kept)) ? ' (it was unfinished: resume it with --resume --report ' + kept + ')' : ''}`);
  return { notes, keptAs: kept };
}

/**
 * A run that stops before sending (a usage error) puts the earlier report back where it was: what this run wrote at
 * the report's path (its report, journal, run record) goes, the kept files return.
 */
export function restoreKeptReport(reportPath: string, keptAs: string): void {
  for (const [from, to] of [[keptAs, reportPath], [journalPathOf(keptAs), journalPathOf(reportPath)], [runRecordPathOf(keptAs), runRecordPathOf(reportPath)], [pagePathOf(keptAs), pagePathOf(reportPath)]] as const) {
    if (existsSync(to)) unlinkSync(to);
    if (existsSync(from)) renameSync(from, to);
  }
}

/** Refuses to replace a file at `path` that this tool did not write as `role`, unless `overwrite`. */
export function checkReplaceable(file: RunFile, recognise: (path: string) => boolean, overwrite: boolean): void {
  if (overwrite || !existsSync(file.path) || recognise(file.path)) return;
  throw new UsageError(
    `${file.path} exists and is not ${file.role} written by sync-supporters, so it was not replaced. Choose another path${file.option ? ` with ${file.option}` : ''}, ` +
      'or replace it deliberately with --overwrite. Nothing was written or sent.',
    'E_OUTPUT_EXISTS',
  );
}

interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Takes `<report>.lock` for this run, so that two runs (two cron jobs) never write one report, journal and run
 * record at once: the second is refused with who holds it. A lock whose process is gone (killed, rebooted) is
 * taken over, so a killed run never leaves it stuck. Returns the release.
 */
export function lockReport(reportPath: string, command: string): () => void {
  const path = `${reportPath}.lock`;
  const mine: LockInfo = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command };
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', PRIVATE_FILE_MODE);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new UsageError(`Cannot create the lock ${path}: ${why(err)}.`, 'E_LOCK', { cause: err });
      let held: LockInfo | undefined;
      try {
        held = JSON.parse(head(path)) as LockInfo;
      } catch {
        held = undefined; // torn or empty: the holder died while writing it
      }
      if (held && (held.host !== mine.host || alive(held.pid))) {
        throw new UsageError(
          `Another sync-supporters run is writing ${reportPath} (${held.command}, pid ${held.pid}${held.host !== mine.host ? ` on ${held.host}` : ''}, started ${held.startedAt}). ` +
            `Wait for it to finish, or give this run its own --report. If that run is gone, delete ${path}.`,
          'E_LOCKED',
        );
      }
      try {
        unlinkSync(path); // its process is gone
      } catch {
        // another run took it over first: try again
      }
      continue;
    }
    writeSync(fd, JSON.stringify(mine));
    closeSync(fd);
    return () => {
      try {
        if ((JSON.parse(head(path)) as LockInfo).pid === process.pid) unlinkSync(path);
      } catch {
        // already gone
      }
    };
  }
  throw new UsageError(`Cannot take the lock ${path}: another run keeps taking it.`, 'E_LOCKED');
}
