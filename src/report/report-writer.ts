import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { extname } from 'node:path';
import { UsageError } from '../core/errors.js';
import { CSV_HEADER, formatCsvLine, formatJsonLine, type RowResult } from './report-row.js';

export type ReportFormat = 'csv' | 'jsonl';

export function reportFormatOf(path: string): ReportFormat {
  const ext = extname(path).toLowerCase();
  return ext === '.jsonl' || ext === '.ndjson' || ext === '.json' ? 'jsonl' : 'csv';
}

/** Where the completion-order journal of a report lives; `--resume` reads it with the report. */
export function journalPathOf(reportPath: string): string {
  return `${reportPath}.journal`;
}

/**
 * Opens a file that holds personal data readable by its owner only: created so, and narrowed if it existed (a
 * report this tool wrote before, with a looser mode).
 */
export function openPrivate(path: string, flags: string): number {
  const fd = openSync(path, flags, 0o600);
  try {
    fchmodSync(fd, 0o600);
  } catch {
    // a file system without modes (some network shares): nothing more to do
  }
  return fd;
}

/**
 * Writes the report in input order, plus a journal of results in the order they arrive.
 * Writes are synchronous and whole lines at a time: after `kill -9` the files hold every flushed line and at most
 * one torn last line, which the resume reader drops. The journal exists so that results still waiting in the
 * reorder buffer (behind a slow row) are on disk too; it is removed when the report is complete.
 */
export class ReportWriter {
  readonly format: ReportFormat;
  private readonly fd: number;
  private readonly journalFd: number | undefined;
  private buffer = '';
  private journalBuffer = '';
  private closed = false;

  constructor(
    readonly path: string,
    options: { journal: boolean; carry?: Iterable<string> },
  ) {
    this.format = reportFormatOf(path);
    try {
      if (options.journal) {
        // The journal starts with every final answer a previous run left (resume), written aside and renamed in,
        // so that the report can be rewritten without a moment where any answer exists nowhere on disk.
        const journal = journalPathOf(path);
        const tmp = openPrivate(`${journal}.tmp`, 'w');
        let chunk = '';
        for (const line of options.carry ?? []) {
          chunk += `${line}\n`;
          if (chunk.length > 1 << 20) {
            writeSync(tmp, chunk);
            chunk = '';
          }
        }
        if (chunk) writeSync(tmp, chunk);
        fsyncSync(tmp);
        closeSync(tmp);
        renameSync(`${journal}.tmp`, journal);
        this.journalFd = openPrivate(journal, 'a');
      }
      this.fd = openPrivate(path, 'w');
    } catch (err) {
      throw new UsageError(`Cannot write the report ${path}: ${(err as NodeJS.ErrnoException).code ?? err}. Choose another path with --report.`, 'E_REPORT', { cause: err });
    }
    if (this.format === 'csv') this.buffer = CSV_HEADER;
  }

  /** A result has arrived (any order): journal it, in the report's own line format. */
  journal(r: RowResult): void {
    if (this.journalFd !== undefined) this.journalBuffer += this.format === 'csv' ? formatCsvLine(r) : formatJsonLine(r);
  }

  /** The next row in input order. */
  write(r: RowResult): void {
    this.buffer += this.format === 'csv' ? formatCsvLine(r) : formatJsonLine(r);
    if (this.buffer.length > 64 * 1024) this.flush();
  }

  /** A line already formatted for this report (kept from a previous run on resume). */
  writeRaw(line: string): void {
    this.buffer += line.endsWith('\n') ? line : `${line}\n`;
    if (this.buffer.length > 64 * 1024) this.flush();
  }

  flush(): void {
    if (this.journalBuffer && this.journalFd !== undefined) {
      writeSync(this.journalFd, this.journalBuffer);
      this.journalBuffer = '';
    }
    if (this.buffer) {
      writeSync(this.fd, this.buffer);
      this.buffer = '';
    }
  }

  /** Completes the report; with `complete`, the journal is no longer needed. */
  close(complete: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.flush();
    fsyncSync(this.fd);
    closeSync(this.fd);
    if (this.journalFd !== undefined) {
      closeSync(this.journalFd);
      if (complete) rmSync(journalPathOf(this.path), { force: true });
    }
  }
}
