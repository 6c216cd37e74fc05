import { Parser, type CsvError } from 'csv-parse';
import { UsageError } from '../core/errors.js';
import type { Source, SourceRecord } from '../core/types.js';
import { countNewlines, textProblem } from './input-stream.js';

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

function describeCsvError(err: CsvError): string {
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted field is never closed: this record runs to the end of the file (fix the quote and re-run)';
    case 'CSV_INVALID_CLOSING_QUOTE':
      return 'a quoted field is followed by text before the next delimiter (check the quotes on this line)';
    case 'CSV_MAX_RECORD_SIZE':
      return 'the record is larger than the limit of one row (a field of several megabytes?)';
    default:
      return `cannot be parsed: ${err.message}`;
  }
}

/**
 * Reads CSV as a stream: bytes in, one SourceRecord per data record out, each with its row and starting line.
 * Malformed records become records with `error`; the reading goes on.
 */
export function createCsvSource(input: AsyncIterable<Buffer>, options: CsvSourceOptions): Source {
  let columns: string[] = [];
  const encoding = options.encoding ?? 'utf8';
  return {
    columns: () => columns,
    async *[Symbol.asyncIterator](): AsyncGenerator<SourceRecord> {
      const queue: Array<{ fields?: string[]; error?: string; line: number }> = [];
      // Byte bookkeeping: `window` holds bytes from `windowStart` on, so newlines can be counted per record.
      let window: Buffer = Buffer.alloc(0);
      let windowStart = 0;
      let consumed = 0; // parser offset of the end of the last record or skip
      let line = 1; // line on which the next record's text begins
      const advance = (toByte: number): number => {
        const from = consumed - windowStart;
        const to = toByte - windowStart;
        // A record starts after any blank lines before it.
        let start = from;
        while (start < to && (window[start] === 10 || window[start] === 13)) start++;
        const startLine = line + countNewlines(window, from, start);
        line += countNewlines(window, from, to);
        consumed = toByte;
        return startLine;
      };
      let parser: Parser | undefined;
      const makeParser = (delimiter: string) =>
        new Parser({
          bom: true,
          delimiter,
          encoding,
          record_delimiter: ['\r\n', '\n', '\r'],
          relax_column_count: true,
          relax_quotes: true,
          skip_empty_lines: true,
          skip_records_with_error: true,
          max_record_size: options.maxRecordBytes ?? 8 * 1024 * 1024,
          on_record: (record: string[]) => {
            queue.push({ fields: record, line: advance(parser!.info.bytes) });
            return null;
          },
          on_skip: (err: CsvError | undefined) => {
            queue.push({ error: err ? describeCsvError(err) : 'cannot be parsed', line: advance(parser!.info.bytes) });
          },
        } as ConstructorParameters<typeof Parser>[0]);

      const feed = (chunk: Buffer) =>
        new Promise<void>((resolve, reject) => {
          parser!.write(chunk, (err) => (err ? reject(err) : resolve()));
        });

      let header: string[] | undefined;
      let row = 0;
      let sawAnyByte = false;
      const drain = function* (): Generator<SourceRecord> {
        while (queue.length > 0) {
          const item = queue.shift()!;
          if (!header) {
            if (item.error) {
              throw new UsageError(`${options.name}, line ${item.line}: the header row ${item.error}.`, 'E_HEADER');
            }
            header = checkHeader(item.fields!, options.name, item.line);
            columns = header;
            continue;
          }
          row++;
          if (item.error) {
            yield { row, line: item.line, error: item.error };
            continue;
          }
          yield toRecord(item.fields!, header, row, item.line, encoding);
        }
      };

      for await (const raw of input) {
        const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as string);
        if (chunk.length === 0) continue;
        sawAnyByte = true;
        if (!parser) parser = makeParser(options.delimiter ?? detectDelimiter(chunk.subarray(0, 64 * 1024).toString('latin1')));
        const rest = window.subarray(consumed - windowStart);
        window = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
        windowStart = consumed;
        await feed(chunk);
        yield* drain();
      }
      if (!parser || !sawAnyByte) throw new UsageError(`Input ${options.name} is empty: there is nothing to sync.`, 'E_EMPTY');
      await new Promise<void>((resolve, reject) => {
        parser!.once('error', reject);
        parser!.end(() => resolve());
        parser!.resume();
      });
      yield* drain();
      if (!header) throw new UsageError(`Input ${options.name} has no header row.`, 'E_EMPTY');
      if (row === 0) {
        throw new UsageError(`Input ${options.name} has a header but no data rows: there is nothing to sync.`, 'E_EMPTY');
      }
    },
  };
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
  let count = values.length;
  // Spreadsheets often leave empty trailing cells; they carry no data.
  while (count > header.length && values[count - 1] === '') count--;
  if (count !== header.length) {
    const tail = count > header.length ? ' (an unquoted delimiter inside a value?)' : ' (a truncated line?)';
    return { row, line, error: `expected ${header.length} columns, found ${values.length}${tail}` };
  }
  const fields: Record<string, string> = {};
  for (let i = 0; i < header.length; i++) {
    const value = values[i] ?? '';
    const problem = value.length > 0 ? textProblem(value, encoding) : undefined;
    if (problem) return { row, line, error: `column "${header[i]}" ${problem}` };
    fields[header[i]!] = value;
  }
  return { row, line, fields };
}
