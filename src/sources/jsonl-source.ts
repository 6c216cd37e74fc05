import { isUtf8 } from 'node:buffer';
import { UsageError } from '../core/errors.js';
import type { Source, SourceRecord } from '../core/types.js';
import { chunkedSource } from './chunked.js';

export interface JsonlSourceOptions {
  name: string;
  encoding?: BufferEncoding;
  /** A line longer than this is INVALID without being parsed. */
  maxLineBytes?: number;
}

/** Flattens nested objects to dotted names ("address.city"), the form mappings and auto-match use. */
function flatten(value: Record<string, unknown>, prefix: string, out: Record<string, string>): void {
  for (const k in value) {
    const v = value[k];
    const name = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out[name] = v;
    else if (v === null || v === undefined) out[name] = '';
    else if (Array.isArray(v)) out[name] = v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(',');
    else if (typeof v === 'object') flatten(v as Record<string, unknown>, name, out);
    else out[name] = String(v);
  }
}

const NOT_UTF8 = 'is not valid UTF-8 (if the file came from Excel, re-run with --encoding latin1)';

/** Parses one JSONL line into a record, or the reason it cannot be used. */
export function parseJsonlLine(bytes: Buffer, encoding: BufferEncoding): { fields?: Record<string, string>; error?: string } {
  // A native check, then a plain decode: several times cheaper than a fatal TextDecoder per line.
  if (encoding === 'utf8' && !isUtf8(bytes)) return { error: NOT_UTF8 };
  return parseJsonlText(bytes.toString(encoding));
}

/** Parses one decoded JSONL line (no line end) into a record, or the reason it cannot be used. */
export function parseJsonlText(text: string): { fields?: Record<string, string>; error?: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { error: `is not valid JSON (${(err as Error).message}); each line must be one JSON object` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    return { error: `is ${kind}, not a JSON object; each line must be one object like {"email": "…"}` };
  }
  const fields: Record<string, string> = {};
  flatten(value as Record<string, unknown>, '', fields);
  // Valid UTF-8 was checked on the bytes; only NUL can still hide in a value (as \u0000).
  if (text.includes('\\u0000')) {
    for (const k in fields) if (fields[k]!.includes('\u0000')) return { error: `field "${k}" contains a NUL byte (binary data?)` };
  }
  return { fields };
}

/** Only spaces and tabs (a blank line, skipped). */
function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}

/** Encodings in which a newline is the byte 0x0A and no other character contains that byte. */
const BYTE_LINES = new Set(['utf8', 'utf-8', 'latin1', 'binary', 'ascii']);

/**
 * Reads JSON Lines as a stream: one object per line; blank lines are skipped; a bad line is an INVALID record.
 * The complete lines of each chunk are checked and decoded at once and cut as text (a newline is one byte in
 * UTF-8 and latin1); a chunk that is not valid UTF-8 is cut into byte lines instead, so that the error names the line.
 */
export function createJsonlSource(input: AsyncIterable<Buffer>, options: JsonlSourceOptions): Source {
  const seen = new Set<string>();
  const encoding = options.encoding ?? 'utf8';
  const maxLine = options.maxLineBytes ?? 8 * 1024 * 1024;
  const byteLines = BYTE_LINES.has(encoding.toLowerCase());
  const utf8 = encoding === 'utf8' || encoding.toLowerCase() === 'utf-8';
  return chunkedSource(
    () => [...seen],
    async function* (): AsyncGenerator<SourceRecord[]> {
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      let lineNo = 0;
      let row = 0;
      let oversized = false;
      let bomDropped = false;
      const record = (parsed: { fields?: Record<string, string>; error?: string }): SourceRecord => {
        row++;
        if (parsed.fields) for (const k in parsed.fields) seen.add(k);
        return parsed.error !== undefined ? { row, line: lineNo, error: parsed.error } : { row, line: lineNo, fields: parsed.fields };
      };
      const tooLong = (): SourceRecord => ({ row: ++row, line: lineNo, error: `is longer than ${maxLine} bytes; split or shorten this record` });
      /** One line as text, without its line end. */
      const textLine = (text: string): SourceRecord | undefined => {
        lineNo++;
        if (text.charCodeAt(text.length - 1) === 13) text = text.slice(0, -1);
        if (text.charCodeAt(0) !== 123 && isBlank(text)) return undefined;
        return record(parseJsonlText(text));
      };
      /** One line as bytes, without its newline (undefined: it was too long and is not held). */
      const byteLine = (bytes: Buffer | undefined): SourceRecord | undefined => {
        lineNo++;
        if (bytes === undefined) return tooLong();
        let b = bytes;
        if (lineNo === 1 && !bomDropped && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3);
        if (b.length > 0 && b[b.length - 1] === 13) b = b.subarray(0, b.length - 1);
        let blank = true;
        for (let i = 0; i < b.length && blank; i++) blank = b[i] === 32 || b[i] === 9;
        if (blank) return undefined;
        return record(parseJsonlLine(b, encoding));
      };
      /** Complete lines, each ending in a newline. */
      const lines = (region: Buffer, out: SourceRecord[]) => {
        if (lineNo === 0 && region[0] === 0xef && region[1] === 0xbb && region[2] === 0xbf) {
          region = region.subarray(3);
          bomDropped = true;
        }
        if (byteLines && region.length <= maxLine && (!utf8 || isUtf8(region))) {
          const text = region.toString(encoding);
          let start = 0;
          for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
            const rec = textLine(text.slice(start, nl));
            if (rec) out.push(rec);
            start = nl + 1;
          }
          return;
        }
        let start = 0;
        for (let nl = region.indexOf(10); nl !== -1; nl = region.indexOf(10, start)) {
          const rec = byteLine(nl - start > maxLine ? undefined : region.subarray(start, nl));
          if (rec) out.push(rec);
          start = nl + 1;
        }
      };
      for await (const raw of input) {
        const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as string);
        const out: SourceRecord[] = [];
        let start = 0;
        if (oversized) {
          // The rest of a line already too long: skip to its end.
          const nl = chunk.indexOf(10);
          if (nl === -1) continue;
          oversized = false;
          const rec = byteLine(undefined);
          if (rec) out.push(rec);
          start = nl + 1;
        }
        const last = chunk.lastIndexOf(10);
        if (last >= start) {
          const region = pending.length ? Buffer.concat([...pending, chunk.subarray(start, last + 1)]) : chunk.subarray(start, last + 1);
          pending = [];
          pendingBytes = 0;
          lines(region, out);
          start = last + 1;
        }
        if (start < chunk.length) {
          pending.push(chunk.subarray(start));
          pendingBytes += chunk.length - start;
          // Do not hold a runaway line in memory: remember only that it was too long.
          if (pendingBytes > maxLine) {
            oversized = true;
            pending = [];
            pendingBytes = 0;
          }
        }
        if (out.length > 0) yield out;
      }
      if (pending.length || oversized) {
        const rec = byteLine(oversized ? undefined : Buffer.concat(pending));
        if (rec) yield [rec];
      }
      if (lineNo === 0) throw new UsageError(`Input ${options.name} is empty: there is nothing to sync.`, 'E_EMPTY');
      if (row === 0) throw new UsageError(`Input ${options.name} has no data lines: there is nothing to sync.`, 'E_EMPTY');
    },
    false,
  );
}
