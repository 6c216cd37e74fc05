import { Parser, type CsvError } from 'csv-parse';
import { UsageError } from '../core/errors.js';
import type { Source, SourceRecord } from '../core/types.js';
import { chunkedSource } from '../core/chunked-source.js';
import { LineBreakCounter, pastLineBreak, textProblem } from './input-stream.js';

export interface CsvSourceOptions {
  /** Name used in messages (the file path, or "stdin"). */
  name: string;
  delimiter?: string;
  encoding?: BufferEncoding;
  /** A record larger than this many bytes is INVALID rather than held in memory. */
  maxRecordBytes?: number;
}

const CANDIDATE_DELIMITERS = [',', ';', '\t'] as const;

/** Picks `,` `;` or tab by counting them, outside quotes, on the header line. */
export function detectDelimiter(sample: string): string {
  const counts = new Map<string, number>(CANDIDATE_DELIMITERS.map((d) => [d, 0]));
  let quoted = false;
  for (const ch of sample) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === '\n' || ch === '\r')) break;
    else if (!quoted && counts.has(ch)) counts.set(ch, counts.get(ch)! + 1);
  }
  let best = ',';
  for (const d of CANDIDATE_DELIMITERS) if (counts.get(d)! > counts.get(best)!) best = d;
  return best;
}

function describeCsvError(err: CsvError, maxRecordBytes = 8 * 1024 * 1024): string {
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quote opened on this line is never closed (fix the quote; the lines after it were read as rows of their own)';
    case 'CSV_INVALID_CLOSING_QUOTE':
      return 'a quoted field is followed by text before the next delimiter (check the quotes on this line)';
    case 'CSV_MAX_RECORD_SIZE':
      return `the record is larger than ${(maxRecordBytes / 1048576).toFixed(maxRecordBytes < 1048576 ? 2 : 0)} MiB (a field of several megabytes, or a quote that is never closed?); it was skipped`;
    default:
      return `cannot be parsed: ${err.message}`;
  }
}

/** Errors after which csv-parse emits nothing more: the reader restarts at the next line instead. */
const FATAL = new Set(['CSV_QUOTE_NOT_CLOSED', 'CSV_MAX_RECORD_SIZE']);

/**
 * Reads CSV as a stream: bytes in, one SourceRecord per data record out, each with its row and starting line.
 * Malformed records become records with `error`; the reading goes on. After an unclosed quote or an oversized
 * record (which stop csv-parse for good) a fresh parser starts at the line after the bad record's first line, so
 * the rows behind it are read, not lost. Memory stays bounded by the record limit.
 */
export function createCsvSource(input: AsyncIterable<Buffer>, options: CsvSourceOptions): Source {
  let columns: string[] = [];
  let detected: string | undefined = options.delimiter;
  const encoding = options.encoding ?? 'utf8';
  const maxRecordBytes = options.maxRecordBytes ?? 8 * 1024 * 1024;
  return chunkedSource(
    () => columns,
    async function* (): AsyncGenerator<SourceRecord[]> {
      const queue: Array<{ fields?: string[]; error?: string; line: number }> = [];
      // Byte bookkeeping in absolute offsets: `window` holds bytes from `windowStart` on, so newlines can be
      // counted per record; `consumed` is the end of the last record; `base` is where the current parser began.
      let window: Buffer = Buffer.alloc(0);
      let windowStart = 0;
      let consumed = 0;
      let base = 0;
      let line = 1; // line on which the text after `consumed` begins
      let fatal: CsvError | undefined;
      let skippingToNewline = false;
      let delimiter = options.delimiter;
      const breaks = new LineBreakCounter();
      const countNewlines = (buf: Buffer, from: number, to: number) => breaks.count(buf, from, to);
      const advance = (toByte: number): number => {
        const from = consumed - windowStart;
        const to = toByte - windowStart;
        let start = from;
        while (start < to && (window[start] === 10 || window[start] === 13)) start++;
        const startLine = line + countNewlines(window, from, start);
        line += countNewlines(window, from, to);
        consumed = toByte;
        return startLine;
      };
      let parser: Parser | undefined;
      const makeParser = (offset: number, first: boolean) => {
        base = offset;
        fatal = undefined;
        // Every record delimiter a real file mixes is one: \r\n, \n and a lone \r (csv-parse's own detection takes
        // the first line's and merges rows that end otherwise). Records are taken from 'data', which csv-parse emits synchronously while it
        // parses, so `p.info.bytes` is the end of that very record: exact line numbers without the context object
        // `on_record` would allocate for every record (measured: ~25% of a validate run).
        const p: Parser = new Parser({
          bom: first,
          delimiter,
          encoding,
          record_delimiter: ['\r\n', '\n', '\r'],
          relax_column_count: true,
          relax_quotes: true,
          skip_empty_lines: true,
          skip_records_with_error: true,
          max_record_size: maxRecordBytes,
          on_skip: (err: CsvError | undefined) => {
            if (fatal) return;
            if (err && FATAL.has(err.code)) fatal = err;
            else queue.push({ error: err ? describeCsvError(err) : 'cannot be parsed', line: advance(base + p.info.bytes) });
          },
        } as ConstructorParameters<typeof Parser>[0]);
        p.on('data', (record: string[]) => {
          if (!fatal) queue.push({ fields: record, line: advance(base + p.info.bytes) });
        });
        return p;
      };
      const write = (p: Parser, bytes: Buffer) => new Promise<void>((resolve, reject) => p.write(bytes, (err) => (err ? reject(err) : resolve())));
      const end = (p: Parser) =>
        new Promise<void>((resolve, reject) => {
          p.once('error', reject);
          p.end(() => resolve());
          p.resume();
        });
      /** The bad record is reported at its first line; reading starts again on the next line. */
      const recover = async () => {
        const err = fatal!;
        let s = consumed - windowStart;
        while (s < window.length && (window[s] === 10 || window[s] === 13)) s++;
        const startLine = line + countNewlines(window, consumed - windowStart, s);
        queue.push({ error: describeCsvError(err, maxRecordBytes), line: startLine });
        parser = undefined;
        line = startLine + 1;
        const next = pastLineBreak(window, s);
        if (next === -1) {
          // The bad line is still arriving: drop bytes until its end.
          skippingToNewline = true;
          windowStart += window.length;
          consumed = windowStart;
          window = Buffer.alloc(0);
          return;
        }
        await restartAt(windowStart + next);
      };
      const restartAt = async (offset: number) => {
        skippingToNewline = false;
        window = window.subarray(offset - windowStart);
        windowStart = offset;
        consumed = offset;
        parser = makeParser(offset, false);
        if (window.length > 0) await write(parser, window);
        while (fatal) {
          await recover();
          if (!parser) return;
        }
      };

      let header: string[] | undefined;
      let row = 0;
      let sawAnyByte = false;
      const drain = function* (): Generator<SourceRecord[]> {
        const out: SourceRecord[] = [];
        for (let i = 0; i < queue.length; i++) {
          const item = queue[i]!;
          if (!header) {
            if (item.error) {
              throw new UsageError(`${options.name}, line ${item.line}: the header row ${item.error}.`, 'E_HEADER');
            }
            header = checkHeader(item.fields!, options.name, item.line);
            columns = header;
            continue;
          }
          row++;
          out.push(item.error ? { row, line: item.line, error: item.error } : toRecord(item.fields!, header, row, item.line, encoding));
        }
        queue.length = 0;
        if (out.length > 0) yield out;
      };

      for await (const raw of input) {
        const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as string);
        if (chunk.length === 0) continue;
        sawAnyByte = true;
        delimiter ??= detectDelimiter(chunk.subarray(0, 64 * 1024).toString('latin1'));
        detected = delimiter;
        parser ??= skippingToNewline ? undefined : makeParser(0, true);
        const rest = window.subarray(consumed - windowStart);
        window = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
        windowStart = consumed;
        if (skippingToNewline) {
          const next = pastLineBreak(window, 0);
          if (next === -1) {
            windowStart += window.length;
            consumed = windowStart;
            window = Buffer.alloc(0);
            continue;
          }
          await restartAt(windowStart + next);
        } else {
          await write(parser!, chunk);
          while (fatal) {
            await recover();
            if (!parser) break;
          }
        }
        yield* drain();
      }
      if (!sawAnyByte) throw new UsageError(`Input ${options.name} is empty: there is nothing to sync.`, 'E_EMPTY');
      while (parser) {
        const p = parser;
        await end(p);
        if (!fatal) break;
        await recover();
        // A restarted parser has been fed the rest of the window; end it in the next turn.
        if (parser === p) break;
      }
      yield* drain();
      if (!header) throw new UsageError(`Input ${options.name} has no header row.`, 'E_EMPTY');
      if (row === 0) {
        throw new UsageError(`Input ${options.name} has a header but no data rows: there is nothing to sync.`, 'E_EMPTY');
      }
    },
    true,
    () => detected,
  );
}

function checkHeader(fields: string[], name: string, line: number): string[] {
  const seen = new Map<string, number>();
  const header = fields.map((f, i) => {
    const trimmed = f.trim();
    return trimmed === '' ? `column_${i + 1}` : trimmed;
  });
  header.forEach((h, i) => {
    const key = h.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) {
      throw new UsageError(
        `${name}, line ${line}: the header names column "${h}" twice (columns ${first + 1} and ${i + 1}). ` +
          'Rename or remove one of them so every value has one meaning.',
        'E_HEADER',
      );
    }
    seen.set(key, i);
  });
  return header;
}

function toRecord(values: string[], header: string[], row: number, line: number, encoding: string): SourceRecord {
  const last = values.length - 1;
  if (last >= 0 && values[last]!.endsWith('\r')) values[last] = values[last]!.slice(0, -1);
  let count = values.length;
  // Spreadsheets often leave empty trailing cells; they carry no data.
  while (count > header.length && values[count - 1] === '') count--;
  if (count !== header.length) {
    const tail = count > header.length ? ' (an unquoted delimiter inside a value?)' : ' (a truncated line?)';
    return { row, line, error: `expected ${header.length} columns, found ${values.length}${tail}`, raw: values.length <= 10_000 ? values : undefined };
  }
  if (values.every((v) => v.trim() === '')) return { row, line, error: 'the row is empty (only delimiters)' };
  const fields: Record<string, string> = {};
  for (let i = 0; i < header.length; i++) {
    const value = values[i] ?? '';
    const problem = value.length > 0 ? textProblem(value, encoding) : undefined;
    if (problem) return { row, line, error: `column "${header[i]}" ${problem}` };
    fields[header[i]!] = value;
  }
  return { row, line, fields };
}
