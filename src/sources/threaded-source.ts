import { statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { RunAbortedError, UsageError, type ErrorCode } from '../core/errors.js';
import type { Source, SourceRecord } from '../core/types.js';
import { chunkedSource, withBytes } from '../core/chunked-source.js';
import { unpacker } from './record-packing.js';
import type { SourceWorkerData, SourceWorkerMessage } from './source-worker.js';

const SLICE = 256;

/**
 * A file source whose parsing runs on a worker thread (source-worker.ts): the same records, in the same order,
 * as the in-thread CSV and JSONL readers give, while the main thread maps, checks, sends and reports.
 * Each iteration of `chunks()` starts its own reader; leaving the loop early stops it.
 */
export function createThreadedSource(options: Omit<SourceWorkerData, 'ahead'> & { ahead?: number }): Source {
  let columns: string[] = [];
  let delimiter: string | undefined;
  const workerData: SourceWorkerData = { ...options, ahead: options.ahead ?? 16 };
  // How far the reader is, as of the last chunk the core has taken whole (for the progress's estimate).
  const read = { read: 0, total: statSync(options.path).size };
  const source = chunkedSource(
    () => columns,
    async function* (): AsyncGenerator<SourceRecord[]> {
      const worker = new Worker(new URL('./source-worker.js', import.meta.url), { workerData });
      const inbox: Array<SourceWorkerMessage | { kind: 'crash'; message: string }> = [];
      let wake: (() => void) | undefined;
      const arrive = (m: (typeof inbox)[number]) => {
        inbox.push(m);
        wake?.();
      };
      worker.on('message', arrive);
      worker.on('error', (err) => arrive({ kind: 'crash', message: err.message }));
      worker.on('exit', (code) => arrive({ kind: 'crash', message: `the reader thread ended early (exit code ${code})` }));
      const keys: string[] = [];
      try {
        for (;;) {
          while (inbox.length === 0) await new Promise<void>((r) => (wake = r));
          const m = inbox.shift()!;
          switch (m.kind) {
            case 'chunk':
              keys.push(...m.newKeys);
              if (m.columns) columns = m.columns;
              delimiter = m.delimiter;
              worker.postMessage('more');
              // Handed over in small slices: rows become objects just before the core takes them.
              for (const records = unpacker(m, keys); !records.done; ) yield records.next(SLICE);
              read.read = m.bytes;
              break;
            case 'end':
              columns = m.columns;
              return;
            case 'error':
              throw m.usage ? new UsageError(m.message, m.code as ErrorCode) : new RunAbortedError(`reading ${options.name} failed: ${m.message}`, 'E_READ');
            case 'crash':
              // The reader thread itself died (out of memory, a bug): the rows read so far are reported, then exit 3.
              throw new RunAbortedError(`reading ${options.name} failed: the reader thread stopped (${m.message})`, 'E_READ');
          }
        }
      } finally {
        worker.removeAllListeners();
        void worker.terminate();
      }
    },
    options.format === 'csv',
    () => delimiter,
  );
  return withBytes(source, () => read);
}
