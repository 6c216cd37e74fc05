/**
 * The state's writer, on a worker thread: a run's results are committed here, on the second core, so that a
 * transaction never holds up the main thread's next request (a 700-row commit takes ~13 ms, long enough to delay
 * every connection's follow-up). It has its own connection; WAL lets the main thread read meanwhile.
 * Messages are applied in the order they were posted, one transaction each.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { StateEntry } from '../core/types.js';
import { openConnection, WRITER_BUSY_TIMEOUT_MS } from './connection.js';

export type WriterMessage =
  | { kind: 'record'; target: string; account: string; entries: StateEntry[]; at: string }
  | { kind: 'forget'; target: string; account: string; remoteIds: string[] }
  | { kind: 'close' };

export type WriterReply = { kind: 'error'; message: string };

const { path, backlog } = workerData as { path: string; backlog: Int32Array };
// Another process may hold the database's write lock for a while (an overlapping run, a sqlite3 shell): this
// thread can wait for it as long as the run waits for this thread (sqlite-state.ts), without holding anything up.
const db = openConnection(path, WRITER_BUSY_TIMEOUT_MS);
const upsert = db.prepare(`INSERT INTO synced (target, account, key, remote_id, hash, status, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (target, account, key) DO UPDATE SET remote_id = COALESCE(excluded.remote_id, remote_id), hash = excluded.hash, status = excluded.status, updated_at = excluded.updated_at`);
const forgetRemote = db.prepare('DELETE FROM synced WHERE target = ? AND account = ? AND remote_id = ?');
const apply = db.transaction((m: Exclude<WriterMessage, { kind: 'close' }>) => {
  if (m.kind === 'record') for (const e of m.entries) upsert.run(m.target, m.account, e.key, e.remoteId ?? null, e.hash ?? null, e.status, m.at);
  else for (const id of m.remoteIds) forgetRemote.run(m.target, m.account, id);
});

parentPort!.on('message', (m: WriterMessage) => {
  if (m.kind === 'close') {
    db.close();
    parentPort!.close();
    return;
  }
  try {
    apply(m);
  } catch (err) {
    parentPort!.postMessage({ kind: 'error', message: (err as Error).message } satisfies WriterReply);
  } finally {
    Atomics.sub(backlog, 0, m.kind === 'record' ? m.entries.length : m.remoteIds.length);
    Atomics.notify(backlog, 0);
  }
});
