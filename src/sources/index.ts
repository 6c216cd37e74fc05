import { statSync } from 'node:fs';
import { extname } from 'node:path';
import { UsageError } from '../core/errors.js';
import { withBytes } from '../core/chunked-source.js';
import type { Source } from '../core/types.js';
import { createCsvSource } from './csv-source.js';
import { checkInputFile, counted, openInput, refuseBinaryStream } from './input-stream.js';
import { createJsonlSource } from './jsonl-source.js';
import { createThreadedSource } from './threaded-source.js';

export type InputFormat = 'csv' | 'jsonl';

export interface OpenSourceOptions {
  format?: string;
  delimiter?: string;
  encoding?: BufferEncoding;
  /**
   * Parse a file on a worker thread, beside the main thread's mapping and checks (stdin is always parsed here).
   * Worth it when this process's own work sets the pace (validate, dry runs); when sending, the remote does, the
   * main thread is mostly idle, and a second thread would only add its memory.
   */
  parseOnWorker?: boolean;
}

/** The format from `--format`, else from the file's extension. */
/** Files smaller than this are parsed on the main thread (a worker's start-up is ~50-100 ms of CPU here). */
const WORKER_MIN_BYTES = 4 * 1024 * 1024;

export function resolveFormat(path: string, format?: string): InputFormat {
  if (format) {
    if (format === 'csv' || format === 'jsonl') return format;
    throw new UsageError(`Unknown --format "${format}": use csv or jsonl.`);
  }
  if (path === '-') throw new UsageError('Reading from stdin needs --format csv or --format jsonl.');
  const ext = extname(path).toLowerCase();
  if (ext === '.csv' || ext === '.tsv' || ext === '.txt') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  // A spreadsheet or a document is not a CSV with another name: say what to do with it first.
  const saveAs: Record<string, string> = { '.xlsx': 'an Excel workbook', '.xls': 'an old Excel workbook', '.xlsm': 'an Excel workbook', '.ods': 'a LibreOffice spreadsheet', '.numbers': 'a Numbers spreadsheet' };
  if (saveAs[ext]) throw new UsageError(`${path} is ${saveAs[ext]}: open it and save it as "CSV UTF-8" (File > Save As), then import the .csv.`, 'E_INPUT');
  throw new UsageError(`Cannot tell the format of ${path} from its extension: add --format csv or --format jsonl.`);
}

export async function openSource(path: string, options: OpenSourceOptions = {}): Promise<Source> {
  const format = resolveFormat(path, options.format);
  const name = path === '-' ? 'stdin' : path;
  if (path !== '-') await checkInputFile(path);
  if (options.encoding && !Buffer.isEncoding(options.encoding)) {
    throw new UsageError(`Unknown --encoding "${options.encoding}": use utf8 or latin1.`);
  }
  // One spelling from here on: the readers check for invalid bytes only when this says 'utf8' (UTF-8, utf-8 and
  // UTF8 used to slip past that check and decode bad bytes to U+FFFD without a word).
  const encoding = options.encoding ? (options.encoding.toLowerCase().replace('utf-8', 'utf8') as BufferEncoding) : undefined;
  const delimiter = options.delimiter === '\\t' || options.delimiter === 'tab' ? '\t' : options.delimiter;
  if (format === 'csv' && delimiter !== undefined && delimiter.length !== 1) {
    throw new UsageError(`--delimiter must be one character (or "tab"), got "${options.delimiter}".`);
  }
  // A worker thread parses a large file beside the main thread (validate of 1M rows); for a small one, starting it
  // costs more than it saves (validate of 300 rows: ~370 -> ~150 ms).
  const size = path === '-' ? undefined : statSync(path).size;
  if (size !== undefined && options.parseOnWorker && size >= WORKER_MIN_BYTES) {
    return createThreadedSource({ path, format, name, delimiter: format === 'csv' ? delimiter : undefined, encoding });
  }
  const read = { read: 0, total: size };
  const input = counted(path === '-' ? refuseBinaryStream(openInput(path), name) : openInput(path), read);
  const source = format === 'jsonl' ? createJsonlSource(input, { name, encoding }) : createCsvSource(input, { name, delimiter, encoding });
  return withBytes(source, () => read);
}

