import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { openPrivate } from './report-writer.js';
import { UsageError } from '../core/errors.js';
import type { SourceRecord, Status } from '../core/types.js';

export const SYNC_ERROR_COLUMN = 'sync_error';

/** How an input file is written: a UTF-8 byte-order mark, its line ending and its encoding (so Excel reads a copy alike). */
export interface TextStyle {
  bom: boolean;
  eol: '\n' | '\r\n' | '\r';
  encoding: BufferEncoding;
}

/** The style of the input file's first 64 KB: its BOM and the first line's ending (stdin: plain UTF-8, LF). */
export function sniffTextStyle(path: string, encoding: BufferEncoding = 'utf8'): TextStyle {
  const plain: TextStyle = { bom: false, eol: '\n', encoding };
  if (path === '-') return plain;
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buf = Buffer.alloc(64 * 1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const head = buf.subarray(0, n);
    const bom = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf;
    const cr = head.indexOf(13);
    const lf = head.indexOf(10);
    const eol = cr >= 0 && (lf < 0 || cr < lf) ? (head[cr + 1] === 10 ? '\r\n' : '\r') : '\n';
    return { bom, eol, encoding };
  } catch {
    return plain;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const cell = (v: string, delimiter: string) => (v.includes('"') || v.includes(delimiter) || /[\r\n]/.test(v) || /^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/**
 * The rows that did not succeed, in the input's own format and columns plus `sync_error`, so a person can fix them
 * in a spreadsheet and re-run the file as it is (import ignores the sync_error column). Values are written exactly as
 * read: they are the person's own data and must re-import unchanged.
 */
export class FailedRowsWriter {
  private fd: number | undefined;
  private buffer = '';
  count = 0;

  constructor(
    readonly path: string,
    private readonly format: 'csv' | 'jsonl',
    private readonly columns: () => readonly string[],
    private readonly delimiter: () => string | undefined,
    private readonly style: TextStyle = { bom: false, eol: '\n', encoding: 'utf8' },
  ) {}

  private open(): void {
    try {
      this.fd = openPrivate(this.path, 'w');
    } catch (err) {
      throw new UsageError(`Cannot write the failed-rows file ${this.path}: ${(err as NodeJS.ErrnoException).code ?? err}.`, 'E_FAILED_FILE', { cause: err });
    }
    if (this.format === 'csv') {
      const d = this.delimiter() ?? ',';
      // The input's own BOM, delimiter and line ending: Excel opens the file to fix exactly as it opened the input.
      if (this.style.bom) this.buffer += '\ufeff';
      this.buffer += [...this.columns(), SYNC_ERROR_COLUMN].map((c) => cell(c, d)).join(d) + this.style.eol;
    }
  }

  add(record: SourceRecord, result: { status: Status; errorMessage?: string }): void {
    if (this.fd === undefined) this.open();
    this.count++;
    // No RegExp per row: building one cost ~5 us a row (1 s of a Ctrl-C on 200,000 rows).
    const prefix = `line ${record.line}: `;
    const message = result.errorMessage?.startsWith(prefix) ? result.errorMessage.slice(prefix.length) : result.errorMessage ?? '';
    const why = `line ${record.line}: ${result.status}${message ? `: ${message}` : ''}`.replace(/[\r\n]+/g, ' ');
    if (this.format === 'jsonl') {
      this.buffer += JSON.stringify({ ...(record.fields ?? {}), [SYNC_ERROR_COLUMN]: why }) + '\n';
    } else {
      const d = this.delimiter() ?? ',';
      const columns = this.columns();
      const values = record.fields ? columns.map((c) => record.fields![c] ?? '') : [...(record.raw ?? [])];
      // A short row is padded so that sync_error stands in its own column; a long one keeps every cell to fix.
      while (values.length < columns.length) values.push('');
      this.buffer += [...values.map((v) => cell(v, d)), cell(why, d)].join(d) + this.style.eol;
    }
    if (this.buffer.length > 64 * 1024) this.flush();
  }

  flush(): void {
    if (this.fd !== undefined && this.buffer) {
      writeSync(this.fd, Buffer.from(this.buffer, this.style.encoding));
      this.buffer = '';
    }
  }

  close(): void {
    this.flush();
    if (this.fd !== undefined) closeSync(this.fd);
  }
}
