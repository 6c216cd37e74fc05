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

/** Parses one JSONL line into a record, or the reason it cannot be used. */
export function parseJsonlLine(bytes: Buffer, encoding: BufferEncoding): { fields?: Record<string, string>; error?: string } {
  let text: string;
  if (encoding === 'utf8') {
    // A native check, then a plain decode: several times cheaper than a fatal TextDecoder per line.
    if (!isUtf8(bytes)) return { error: 'is not valid UTF-8 (if the file came from Excel, re-run with --encoding latin1)' };
    text = bytes.toString('utf8');
  } else {
    text = bytes.toString(encoding);
  }
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

/** Reads JSON Lines as a stream: one object per line; blank lines are skipped; a bad line is an INVALID record. */
export function createJsonlSource(input: AsyncIterable<Buffer>, options: JsonlSourceOptions): Source {
  const seen = new Set<string>();
  const encoding = options.encoding ?? 'utf8';
  const maxLine = options.maxLineBytes ?? 8 * 1024 * 1024;
  return chunkedSource(
    () => [...seen],
    async function* (): AsyncGenerator<SourceRecord[]> {
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      let lineNo = 0;
      let row = 0;
      let oversized = false;
      const finishLine = (bytes: Buffer | undefined): SourceRecord | undefined => {
        lineNo++;
        if (oversized) {
          oversized = false;
          return { row: ++row, line: lineNo, error: `is longer than ${maxLine} bytes; split or shorten this record` };
        }
        let b = bytes!;
        if (lineNo === 1 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3);
        if (b.length > 0 && b[b.length - 1] === 13) b = b.subarray(0, b.length - 1);
        if (b.every((c) => c === 32 || c === 9)) return undefined;
        const parsed = parseJsonlLine(b, encoding);
        row++;
        if (parsed.fields) for (const k of Object.keys(parsed.fields)) seen.add(k);
        return { row, line: lineNo, ...parsed };
      };
      for await (const raw of input) {
        const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as string);
        const out: SourceRecord[] = [];
        let start = 0;
        let nl = chunk.indexOf(10, start);
        while (nl !== -1) {
          let lineBytes: Buffer | undefined;
          if (!oversized) {
            lineBytes = pending.length ? Buffer.concat([...pending, chunk.subarray(start, nl)]) : chunk.subarray(start, nl);
            if (lineBytes.length > maxLine) oversized = true;
          }
          pending = [];
          pendingBytes = 0;
          const rec = finishLine(lineBytes);
          if (rec) out.push(rec);
          start = nl + 1;
          nl = chunk.indexOf(10, start);
        }
        if (start < chunk.length && !oversized) {
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
        const rec = finishLine(oversized ? undefined : Buffer.concat(pending));
        if (rec) yield [rec];
      }
      if (lineNo === 0) throw new UsageError(`Input ${options.name} is empty: there is nothing to sync.`, 'E_EMPTY');
      if (row === 0) throw new UsageError(`Input ${options.name} has no data lines: there is nothing to sync.`, 'E_EMPTY');
    },
    false,
  );
}
