import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { UsageError } from '../core/errors.js';

/** A file (or `-` for stdin) as a byte stream; `checkInputFile` first gives the message a person can act on. */
export function openInput(path: string): Readable {
  return path === '-' ? process.stdin : createReadStream(path, { highWaterMark: 256 * 1024 });
}

/** Throws the message a person can act on when `path` is not a readable, non-empty file. */
export async function checkInputFile(path: string): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(code ?? err);
    throw new UsageError(`Cannot read input file ${path}: ${why}. Check the path and try again.`, 'E_INPUT', {
      cause: err,
    });
  }
  if (info.isDirectory()) throw new UsageError(`Input ${path} is a folder, not a file. Name a .csv or .jsonl file.`, 'E_INPUT');
  if (info.size === 0) throw new UsageError(`Input file ${path} is empty: there is nothing to sync.`, 'E_EMPTY');
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(Math.min(info.size, SNIFF_BYTES));
    await fh.read(head, 0, head.length, 0);
    refuseBinary(head, path);
  } finally {
    await fh.close();
  }
}

const SNIFF_BYTES = 64 * 1024;

/** Files people pick by mistake, by their first bytes, with what to do instead. */
const SIGNATURES: Array<[bytes: number[], what: string]> = [
  [[0x50, 0x4b, 0x03, 0x04], 'an Excel workbook (.xlsx) or another zip archive: open it in Excel or LibreOffice and save it as "CSV UTF-8"'],
  [[0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1], 'an old Excel workbook (.xls): open it in Excel or LibreOffice and save it as "CSV UTF-8"'],
  [[0x25, 0x50, 0x44, 0x46], 'a PDF document: export the contacts from where the PDF came from as CSV'],
  [[0x1f, 0x8b], 'gzip-compressed: decompress it first (gunzip)'],
  [[0x53, 0x51, 0x4c, 0x69, 0x74, 0x65, 0x20, 0x66], 'an SQLite database, not a contact file'],
  [[0xff, 0xfe], 'UTF-16 text (Excel\'s "Unicode Text"): save it as "CSV UTF-8" instead'],
  [[0xfe, 0xff], 'UTF-16 text: save it as "CSV UTF-8" instead'],
];

/**
 * Refuses input that is not text at all before a single row is read (exit 2), instead of reporting hundreds of
 * INVALID rows: a known binary signature, or more than 1% control bytes (not tab, CR or LF) in the first 64 KiB.
 * A stray NUL or two in a text file is left to the row checks, which name the row.
 */
export function refuseBinary(head: Buffer, name: string): void {
  for (const [bytes, what] of SIGNATURES) {
    if (head.length >= bytes.length && bytes.every((b, i) => head[i] === b)) {
      throw new UsageError(`${name} is not a CSV or JSONL text file: it looks like ${what}.`, 'E_NOT_TEXT');
    }
  }
  let control = 0;
  for (let i = 0; i < head.length; i++) {
    const b = head[i]!;
    if ((b < 0x20 && b !== 9 && b !== 10 && b !== 13) || b === 0x7f) control++;
  }
  if (control >= 8 && control > head.length / 100) {
    throw new UsageError(
      `${name} is not a CSV or JSONL text file: ${control} of its first ${head.length} bytes are control bytes (binary data?). ` +
        'Export the contacts as CSV (UTF-8) or JSON Lines and try again.',
      'E_NOT_TEXT',
    );
  }
}

/** Stdin checked the same way, on its first bytes, as it streams. */
export async function* refuseBinaryStream(input: AsyncIterable<Buffer>, name: string): AsyncGenerator<Buffer> {
  let head: Buffer[] | undefined = [];
  let size = 0;
  for await (const raw of input) {
    const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as string);
    if (!head) {
      yield chunk;
      continue;
    }
    head.push(chunk);
    size += chunk.length;
    if (size < 4096) continue;
    const all = Buffer.concat(head);
    head = undefined;
    refuseBinary(all.subarray(0, SNIFF_BYTES), name);
    yield all;
  }
  if (head && size > 0) {
    const all = Buffer.concat(head);
    refuseBinary(all, name);
    yield all;
  }
}

/**
 * Counts line breaks in windows of a file the way the CSV reader splits records: CRLF, LF or a lone CR (old Mac
 * exports, and files that mix them). The position of the next CR is remembered per window, so a window with a stray
 * CR far ahead is not scanned again for every record; a window without CR costs only the LF count.
 */
export class LineBreakCounter {
  private buf: Buffer | undefined;
  private nextCr = -1;

  count(buf: Buffer, start: number, end: number): number {
    let n = countNewlines(buf, start, end);
    if (buf !== this.buf) {
      this.buf = buf;
      this.nextCr = buf.indexOf(13);
    }
    if (this.nextCr === -1) return n;
    if (this.nextCr < start) this.nextCr = buf.indexOf(13, start);
    while (this.nextCr !== -1 && this.nextCr < end) {
      if (buf[this.nextCr + 1] !== 10) n++;
      this.nextCr = buf.indexOf(13, this.nextCr + 1);
    }
    return n;
  }
}

/** The index just past the first line break at or after `from` (CRLF, LF or CR), or -1 when none is there yet. */
export function pastLineBreak(buf: Buffer, from: number): number {
  const lf = buf.indexOf(10, from);
  const cr = buf.indexOf(13, from);
  if (cr !== -1 && (lf === -1 || cr < lf)) return buf[cr + 1] === 10 ? cr + 2 : cr + 1 < buf.length ? cr + 1 : -1;
  return lf === -1 ? -1 : lf + 1;
}

/** Counts LF bytes in buf[start, end). */
export function countNewlines(buf: Buffer, start: number, end: number): number {
  let n = 0;
  let i = buf.indexOf(10, start);
  while (i !== -1 && i < end) {
    n++;
    i = buf.indexOf(10, i + 1);
  }
  return n;
}

/** Problems inside a decoded value that would corrupt the remote if sent as is. */
export function textProblem(value: string, encoding: string): string | undefined {
  if (value.includes('\u0000')) return 'contains a NUL byte (binary data?)';
  if (encoding === 'utf8' && value.includes('\uFFFD')) {
    return 'is not valid UTF-8 (if the file came from Excel, re-run with --encoding latin1)';
  }
  return undefined;
}

/** The input's chunks, counting the bytes that pass (for the progress's estimate of the rows in the file). */
export async function* counted(input: AsyncIterable<Buffer>, into: { read: number }): AsyncGenerator<Buffer> {
  for await (const chunk of input) {
    into.read += chunk.length;
    yield chunk;
  }
}
