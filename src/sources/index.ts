import { extname } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { Source } from '../core/types.js';
import { createCsvSource } from './csv-source.js';
import { openInput } from './input-stream.js';
import { createJsonlSource } from './jsonl-source.js';

export type InputFormat = 'csv' | 'jsonl';

export interface OpenSourceOptions {
  format?: string;
  delimiter?: string;
  encoding?: BufferEncoding;
}

/** The format from `--format`, else from the file's extension. */
export function resolveFormat(path: string, format?: string): InputFormat {
  if (format) {
    if (format === 'csv' || format === 'jsonl') return format;
    throw new UsageError(`Unknown --format "${format}": use csv or jsonl.`);
  }
  if (path === '-') throw new UsageError('Reading from stdin needs --format csv or --format jsonl.');
  const ext = extname(path).toLowerCase();
  if (ext === '.csv' || ext === '.tsv' || ext === '.txt') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  throw new UsageError(`Cannot tell the format of ${path} from its extension: add --format csv or --format jsonl.`);
}

export async function openSource(path: string, options: OpenSourceOptions = {}): Promise<Source> {
  const format = resolveFormat(path, options.format);
  const name = path === '-' ? 'stdin' : path;
  const input = await openInput(path);
  if (options.encoding && !Buffer.isEncoding(options.encoding)) {
    throw new UsageError(`Unknown --encoding "${options.encoding}": use utf8 or latin1.`);
  }
  if (format === 'jsonl') return createJsonlSource(input, { name, encoding: options.encoding });
  const delimiter = options.delimiter === '\\t' || options.delimiter === 'tab' ? '\t' : options.delimiter;
  if (delimiter !== undefined && delimiter.length !== 1) {
    throw new UsageError(`--delimiter must be one character (or "tab"), got "${options.delimiter}".`);
  }
  return createCsvSource(input, { name, delimiter, encoding: options.encoding });
}
