import { isUtf8 } from 'node:buffer';
import { UsageError } from '../core/errors.js';
import type { Source, SourceRecord } from '../core/types.js';
import { chunkedSource } from '../core/chunked-source.js';
import type { PackedChunk, Packer } from './record-packing.js';
import { fieldsOf, flattenInto, isBlank, NOT_UTF8, parseJsonlObject, TOO_DEEP } from './jsonl-line.js';

export { MAX_JSONL_DEPTH, parseJsonlText } from './jsonl-line.js';

export interface JsonlSourceOptions {
  name: string;
  encoding?: BufferEncoding;
  /** A line longer than this is INVALID without being parsed. */
  maxLineBytes?: number;
}

/** Encodings in which a newline is the byte 0x0A and no other character contains that byte. */
const BYTE_LINES = new Set(['utf8', 'latin1', 'binary', 'ascii']);

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** The input without a leading byte order mark (which may arrive split across chunks): it is no part of line 1. */
async function* withoutBom(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let head: Buffer | undefined = Buffer.alloc(0);
  for await (const raw of input) {
    let chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as string);
    if (head !== undefined) {
      head = Buffer.concat([head, chunk]);
      if (head.length < 3 && BOM.subarray(0, head.length).equals(head)) continue;
      chunk = head.subarray(0, 3).equals(BOM) ? head.subarray(3) : head;
      head = undefined;
    }
    if (chunk.length > 0) yield chunk;
  }
  if (head !== undefined && head.length > 0) yield head;
}

/** What the reader makes of its lines: SourceRecords here, packed chunks on the reader's worker thread. */
export interface JsonlSink<C> {
  /** A line holding a JSON object (`text` is the line, for the NUL check). */
  object(row: number, line: number, value: Record<string, unknown>, text: string): void;
  /** A line that cannot be used, and why. */
  error(row: number, line: number, message: string): void;
  /** What was made since the last call, or undefined if nothing. */
  take(): C | undefined;
}

/**
 * Reads JSON Lines as a stream: one object per line; blank lines are skipped; a bad line is an error record.
 * The complete lines of each chunk are checked and decoded at once and cut as text (a newline is one byte in
 * UTF-8 and latin1); a chunk that is not valid UTF-8 is cut into byte lines instead, so that the error names the line.
 */
export async function* readJsonl<C>(input: AsyncIterable<Buffer>, options: JsonlSourceOptions, sink: JsonlSink<C>): AsyncGenerator<C> {
  const lines = new JsonlLines(options, sink);
  for await (const chunk of withoutBom(input)) {
    lines.feed(chunk);
    const made = sink.take();
    if (made !== undefined) yield made;
  }
  if (lines.finish()) {
    const made = sink.take();
    if (made !== undefined) yield made;
  }
  if (lines.lineNo === 0) throw new UsageError(`Input ${options.name} is empty: there is nothing to sync.`, 'E_EMPTY');
  if (lines.row === 0) throw new UsageError(`Input ${options.name} has no data lines: there is nothing to sync.`, 'E_EMPTY');
}

/** A JSONL input cut into lines, each handed to the sink as an object or an error; a partial line is held over. */
class JsonlLines<C> {
  lineNo = 0;
  row = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private oversized = false;
  private readonly encoding: BufferEncoding;
  private readonly maxLine: number;
  private readonly byteLines: boolean;
  private readonly utf8: boolean;

  constructor(options: JsonlSourceOptions, private readonly sink: JsonlSink<C>) {
    this.encoding = options.encoding ?? 'utf8';
    this.maxLine = options.maxLineBytes ?? 8 * 1024 * 1024;
    this.byteLines = BYTE_LINES.has(this.encoding);
    this.utf8 = this.encoding === 'utf8';
  }

  /** The complete lines of a chunk; the rest is held (a runaway line only remembered as too long). */
  feed(chunk: Buffer): void {
    let start = 0;
    if (this.oversized) {
      // The rest of a line already too long: skip to its end.
      const nl = chunk.indexOf(10);
      if (nl === -1) return;
      this.oversized = false;
      this.byteLine(undefined);
      start = nl + 1;
    }
    const last = chunk.lastIndexOf(10);
    if (last >= start) {
      const region = this.pending.length ? Buffer.concat([...this.pending, chunk.subarray(start, last + 1)]) : chunk.subarray(start, last + 1);
      this.pending = [];
      this.pendingBytes = 0;
      this.lines(region);
      start = last + 1;
    }
    if (start < chunk.length) {
      this.pending.push(chunk.subarray(start));
      this.pendingBytes += chunk.length - start;
      // Do not hold a runaway line in memory: remember only that it was too long.
      if (this.pendingBytes > this.maxLine) {
        this.oversized = true;
        this.pending = [];
        this.pendingBytes = 0;
      }
    }
  }

  /** A last line without a newline: true if there was one. */
  finish(): boolean {
    if (!this.pending.length && !this.oversized) return false;
    this.byteLine(this.oversized ? undefined : Buffer.concat(this.pending));
    return true;
  }

  /** Complete lines, each ending in a newline. */
  private lines(region: Buffer): void {
    if (this.byteLines && region.length <= this.maxLine && (!this.utf8 || isUtf8(region))) {
      const text = region.toString(this.encoding);
      let start = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
        this.textLine(text.slice(start, nl));
        start = nl + 1;
      }
      return;
    }
    let start = 0;
    for (let nl = region.indexOf(10); nl !== -1; nl = region.indexOf(10, start)) {
      this.byteLine(nl - start > this.maxLine ? undefined : region.subarray(start, nl));
      start = nl + 1;
    }
  }

  /** One line as text, without its line end. */
  private textLine(text: string): void {
    this.lineNo++;
    if (text.charCodeAt(text.length - 1) === 13) text = text.slice(0, -1);
    if (text.charCodeAt(0) !== 123 && isBlank(text)) return;
    this.parse(text);
  }

  /** One line as bytes, without its newline (undefined: it was too long and is not held). */
  private byteLine(bytes: Buffer | undefined): void {
    this.lineNo++;
    if (bytes === undefined) return this.sink.error(++this.row, this.lineNo, `is longer than ${this.maxLine} bytes; split or shorten this record`);
    let b = bytes;
    if (b.length > 0 && b[b.length - 1] === 13) b = b.subarray(0, b.length - 1);
    let blank = true;
    for (let i = 0; i < b.length && blank; i++) blank = b[i] === 32 || b[i] === 9;
    if (blank) return;
    // A native check, then a plain decode: several times cheaper than a fatal TextDecoder per line.
    if (this.utf8 && !isUtf8(b)) return this.sink.error(++this.row, this.lineNo, NOT_UTF8);
    this.parse(b.toString(this.encoding));
  }

  private parse(text: string): void {
    const value = parseJsonlObject(text);
    if (typeof value === 'string') this.sink.error(++this.row, this.lineNo, value);
    else this.sink.object(++this.row, this.lineNo, value, text);
  }
}

/** JSON Lines as a Source of records (the in-thread reader). */
export function createJsonlSource(input: AsyncIterable<Buffer>, options: JsonlSourceOptions): Source {
  const seen = new Set<string>();
  return chunkedSource(
    () => [...seen],
    () => {
      let out: SourceRecord[] = [];
      return readJsonl(input, options, {
        object(row, line, value, text) {
          const r = fieldsOf(value, text);
          if ('error' in r) return void out.push({ row, line, error: r.error });
          for (const k in r.fields) seen.add(k);
          out.push({ row, line, fields: r.fields });
        },
        error(row, line, message) {
          out.push({ row, line, error: message });
        },
        take() {
          if (out.length === 0) return undefined;
          const made = out;
          out = [];
          return made;
        },
      });
    },
    false,
  );
}

/** JSON Lines straight into a packer, without a record object per line (the reader's worker thread). */
export function readJsonlPacked(input: AsyncIterable<Buffer>, options: JsonlSourceOptions, packer: Packer): AsyncGenerator<PackedChunk> {
  return readJsonl(input, options, {
    object(row, line, value, text) {
      if (text.includes('\\u0000')) {
        // Rare: look at the values before any is packed.
        const r = fieldsOf(value, text);
        packer.begin(row, line, 'fields' in r);
        if ('fields' in r) for (const k in r.fields) packer.field(k, r.fields[k]!);
        return packer.end('error' in r ? r.error : undefined);
      }
      packer.begin(row, line, true);
      // Too deep: the fields packed so far go with the error, and an error makes the row INVALID.
      packer.end(flattenInto(value, '', packer) ? TOO_DEEP : undefined);
    },
    error(row, line, message) {
      packer.begin(row, line, false);
      packer.end(message);
    },
    take: () => packer.take(),
  });
}
