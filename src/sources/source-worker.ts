/**
 * The reader's worker thread: parses the input file (CSV or JSONL, with all the checks and recovery of the
 * in-thread readers) and sends the records to the main thread a chunk at a time, a few chunks ahead at most.
 * Parsing is about half of a run's local work; here it runs on the second core, beside mapping and sending.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { UsageError } from '../core/errors.js';
import { createCsvSource } from './csv-source.js';
import { readJsonlPacked } from './jsonl-source.js';
import { counted, openInput } from './input-stream.js';
import { createPacker, type PackedChunk } from './record-packing.js';

export interface SourceWorkerData {
  path: string;
  format: 'csv' | 'jsonl';
  name: string;
  delimiter?: string;
  encoding?: BufferEncoding;
  /** Chunks sent before the main thread asks for more. */
  ahead: number;
}

export type SourceWorkerMessage =
  | ({ kind: 'chunk'; columns?: string[]; delimiter?: string; /** Bytes of the file read so far. */ bytes: number } & PackedChunk)
  | { kind: 'end'; columns: string[] }
  | { kind: 'error'; message: string; code?: string; usage: boolean };

const data = workerData as SourceWorkerData;
const port = parentPort!;
const post = (m: SourceWorkerMessage, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);

let credit = data.ahead;
let resume: (() => void) | undefined;
const more = () => {
  credit++;
  resume?.();
};
port.on('message', more);

const file = openInput(data.path);
const read = { read: 0 };
const input = counted(file, read);
const packer = createPacker();
let columnsSent = -1;
/** Sends one chunk, a few ahead of the main thread at most. */
async function send(packed: PackedChunk, columns: readonly string[], delimiter: string | undefined) {
  const changed = columns.length !== columnsSent;
  columnsSent = columns.length;
  post({ kind: 'chunk', ...packed, columns: changed ? [...columns] : undefined, delimiter, bytes: read.read }, [packed.meta.buffer as ArrayBuffer]);
  if (--credit <= 0) await new Promise<void>((r) => (resume = r));
  resume = undefined;
}
try {
  if (data.format === 'jsonl') {
    // Parsed straight into the packer: no record object per line on this side either.
    for await (const packed of readJsonlPacked(input, { name: data.name, encoding: data.encoding }, packer)) await send(packed, packer.keys(), undefined);
    post({ kind: 'end', columns: [...packer.keys()] });
  } else {
    const source = createCsvSource(input, { name: data.name, delimiter: data.delimiter, encoding: data.encoding });
    for await (const chunk of source.chunks()) await send(packer.pack(chunk), source.columns(), source.delimiter?.());
    post({ kind: 'end', columns: [...source.columns()] });
  }
} catch (err) {
  const e = err as Error & { code?: string };
  post({ kind: 'error', message: e.message, code: e.code, usage: err instanceof UsageError });
} finally {
  file.destroy();
  port.off('message', more); // nothing keeps the thread alive now: it ends once the last message is out
}
