import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
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
