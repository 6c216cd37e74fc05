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
  let reader: CsvReader | undefined;
  return chunkedSource(
    () => reader?.header ?? [],
    async function* (): AsyncGenerator<SourceRecord[]> {
      const r = (reader = new CsvReader(options));
      for await (const raw of input) {
        const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as string);
        if (chunk.length === 0) continue;
        await r.feed(chunk);
        yield* r.drain();
      }
      await r.finish();
      yield* r.drain();
      r.checkEnd();
    },
    true,
    () => reader?.delimiter ?? options.delimiter,
  );
}

type Parsed = { fields?: string[]; error?: string; line: number };

/**
 * One CSV input's reading state. Byte bookkeeping is in absolute offsets: `window` holds bytes from `windowStart`
 * on, so newlines can be counted per record; `consumed` is the end of the last record; `base` is where the current
 * parser began.
 */
class CsvReader {
  header?: string[];
  delimiter?: string;
  private readonly queue: Parsed[] = [];
  private window: Buffer = Buffer.alloc(0);
  private windowStart = 0;
  private consumed = 0;
  private base = 0;
  /** The line on which the text after `consumed` begins. */
  private line = 1;
  private fatal?: CsvError;
  private skippingToNewline = false;
  private readonly breaks = new LineBreakCounter();
  private parser?: Parser;
  private row = 0;
  private sawAnyByte = false;
  private readonly encoding: BufferEncoding;
  private readonly maxRecordBytes: number;

  constructor(private readonly options: CsvSourceOptions) {
    this.delimiter = options.delimiter;
    this.encoding = options.encoding ?? 'utf8';
    this.maxRecordBytes = options.maxRecordBytes ?? 8 * 1024 * 1024;
  }

  /** The next bytes of the input, parsed as far as they go. */
  async feed(chunk: Buffer): Promise<void> {
    this.sawAnyByte = true;
    this.delimiter ??= detectDelimiter(chunk.subarray(0, 64 * 1024).toString('latin1'));
    this.parser ??= this.skippingToNewline ? undefined : this.makeParser(0, true);
    const rest = this.window.subarray(this.consumed - this.windowStart);
    this.window = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
    this.windowStart = this.consumed;
    if (this.skippingToNewline) {
      const next = pastLineBreak(this.window, 0);
      if (next === -1) return this.dropWindow();
      return this.restartAt(this.windowStart + next);
    }
    await write(this.parser!, chunk);
    await this.recoverWhileFatal();
  }

  /** The end of the input: the parser (and any restarted after a bad record) ended. */
  async finish(): Promise<void> {
    if (!this.sawAnyByte) throw new UsageError(`Input ${this.options.name} is empty: there is nothing to sync.`, 'E_EMPTY');
    while (this.parser) {
      const p = this.parser;
      await end(p);
      if (!this.fatal) break;
      await this.recover();
      // A restarted parser has been fed the rest of the window; end it in the next turn.
      if (this.parser === p) break;
    }
  }

  /** A file with a header and no data row, or no header at all, has nothing to sync. */
  checkEnd(): void {
    if (!this.header) throw new UsageError(`Input ${this.options.name} has no header row.`, 'E_EMPTY');
    if (this.row === 0) throw new UsageError(`Input ${this.options.name} has a header but no data rows: there is nothing to sync.`, 'E_EMPTY');
  }

  /** What was parsed so far, as records (the first item is the header). */
  *drain(): Generator<SourceRecord[]> {
    const out: SourceRecord[] = [];
    const { queue } = this;
    for (let i = 0; i < queue.length; i++) {
      const item = queue[i]!;
      if (!this.header) {
        if (item.error) throw new UsageError(`${this.options.name}, line ${item.line}: the header row ${item.error}.`, 'E_HEADER');
        this.header = checkHeader(item.fields!, this.options.name, item.line);
        continue;
      }
      const row = ++this.row;
      out.push(item.error ? { row, line: item.line, error: item.error } : toRecord(item.fields!, this.header, row, item.line, this.encoding));
    }
    queue.length = 0;
    if (out.length > 0) yield out;
  }

  /** Moves past a record ending at `toByte`: the line it starts on. */
  private advance(toByte: number): number {
    const { window } = this;
    const from = this.consumed - this.windowStart;
    const to = toByte - this.windowStart;
    let start = from;
    while (start < to && (window[start] === 10 || window[start] === 13)) start++;
    const startLine = this.line + this.breaks.count(window, from, start);
    this.line += this.breaks.count(window, from, to);
    this.consumed = toByte;
    return startLine;
  }

  private makeParser(offset: number, first: boolean): Parser {
    this.base = offset;
    this.fatal = undefined;
    // Every record delimiter a real file mixes is one: \r\n, \n and a lone \r (csv-parse's own detection takes
    // the first line's and merges rows that end otherwise). Records are taken from 'data', which csv-parse emits synchronously while it
    // parses, so `p.info.bytes` is the end of that very record: exact line numbers without the context object
    // `on_record` would allocate for every record (measured: ~25% of a validate run).
    const p: Parser = new Parser({
      bom: first,
      delimiter: this.delimiter,
      encoding: this.encoding,
      record_delimiter: ['\r\n', '\n', '\r'],
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      max_record_size: this.maxRecordBytes,
      on_skip: (err: CsvError | undefined) => {
        if (this.fatal) return;
        if (err && FATAL.has(err.code)) this.fatal = err;
        else this.queue.push({ error: err ? describeCsvError(err) : 'cannot be parsed', line: this.advance(this.base + p.info.bytes) });
      },
    } as ConstructorParameters<typeof Parser>[0]);
    p.on('data', (record: string[]) => {
      if (!this.fatal) this.queue.push({ fields: record, line: this.advance(this.base + p.info.bytes) });
    });
    return p;
  }

  private async recoverWhileFatal(): Promise<void> {
    while (this.fatal) {
      await this.recover();
      if (!this.parser) return;
    }
  }

  /** The bad record is reported at its first line; reading starts again on the next line. */
  private async recover(): Promise<void> {
    const { window } = this;
    let s = this.consumed - this.windowStart;
    while (s < window.length && (window[s] === 10 || window[s] === 13)) s++;
    const startLine = this.line + this.breaks.count(window, this.consumed - this.windowStart, s);
    this.queue.push({ error: describeCsvError(this.fatal!, this.maxRecordBytes), line: startLine });
    this.parser = undefined;
    this.line = startLine + 1;
    const next = pastLineBreak(window, s);
    if (next === -1) {
      // The bad line is still arriving: drop bytes until its end.
      this.skippingToNewline = true;
      return this.dropWindow();
    }
    await this.restartAt(this.windowStart + next);
  }

  private dropWindow(): void {
    this.windowStart += this.window.length;
    this.consumed = this.windowStart;
    this.window = Buffer.alloc(0);
  }

  private async restartAt(offset: number): Promise<void> {
    this.skippingToNewline = false;
    this.window = this.window.subarray(offset - this.windowStart);
    this.windowStart = offset;
    this.consumed = offset;
    this.parser = this.makeParser(offset, false);
    if (this.window.length > 0) await write(this.parser, this.window);
    await this.recoverWhileFatal();
  }
}

function write(p: Parser, bytes: Buffer): Promise<void> {
  return new Promise<void>((resolve, reject) => p.write(bytes, (err) => (err ? reject(err) : resolve())));
}

function end(p: Parser): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    p.once('error', reject);
    p.end(() => resolve());
    p.resume();
  });
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
