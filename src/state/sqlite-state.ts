import { closeSync, mkdirSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import type Libsql from 'libsql';
import { UsageError, SyncError } from '../core/errors.js';
import type { Status, SyncState } from '../core/types.js';
import { openConnection, WRITER_BUSY_TIMEOUT_MS } from './connection.js';
import type { WriterMessage, WriterReply } from './state-writer.js';

export { DEFAULT_STATE_PATH } from './paths.js';

/** Rows the state's writer may be behind before a run waits for it. */
const MAX_BACKLOG_ROWS = 20_000;

export interface AccountState extends SyncState {
  /** Keys this tool synced in this account, with their remote ids (for --mirror). */
  entries(): IterableIterator<{ key: string; remote_id: string | null; status: string }>;
}

export interface StateDb {
  path: string;
  forAccount(target: string, account: string): AccountState;
  summary(): Array<{ target: string; account: string; status: string; rows: number; last: string }>;
  forget(target: string, account?: string): number;
  /** Waits for every write to be committed; rejects, after closing, if one failed. */
  close(): Promise<void>;
}

/**
 * The local state: one row per (target, account, key) with the remote id, the hash of the payload last sent
 * successfully, the last status and when (connection.ts has how each connection is set up).
 * Reads happen here; a run's writes go to a worker thread (state-writer.ts), started at the first write.
 */
export interface StateDbOptions {
  /** Called once, when a run first has to wait for the writer (another process holding the write lock, a slow disk). */
  onWait?: (rowsBehind: number) => void;
}

export function openStateDb(path: string, options: StateDbOptions = {}): StateDb {
  const db = openDatabase(path);
  // Rows are read by column name only: libsql adds a `_metadata` key to each row object.
  type Row = { key: string; remote_id: string | null; hash: string | null; status: string };
  const get = db.prepare<[string, string, string]>('SELECT key, remote_id, hash, status FROM synced WHERE target = ? AND account = ? AND key = ?');
  const any = db.prepare<[string, string]>('SELECT 1 AS one FROM synced WHERE target = ? AND account = ? LIMIT 1');
  const list = db.prepare<[string, string]>('SELECT key, remote_id, status FROM synced WHERE target = ? AND account = ? ORDER BY key');
  const writes = new WriterLink(path, options.onWait);
  return {
    path,
    forAccount(target, account) {
      // An account this tool has never synced (a first import, a migration) has nothing to find: its keys are not
      // looked up one by one (~10 us of the main thread per row, measured in a run). A key that appears twice in the
      // file is then sent twice, matched by its key both times, as without a state.
      const empty = any.get(target, account) === undefined;
      return {
        get(key) {
          if (empty) return undefined;
          const r = get.get(target, account, key) as Row | undefined;
          return r ? { key: r.key, remoteId: r.remote_id ?? undefined, hash: r.hash ?? undefined, status: r.status as Status } : undefined;
        },
        record: (entries) => writes.post({ kind: 'record', target, account, entries, at: new Date().toISOString() }, entries.length),
        forgetRemote: (remoteIds) => writes.post({ kind: 'forget', target, account, remoteIds }, remoteIds.length),
        entries: function* () {
          for (const r of list.iterate(target, account) as IterableIterator<Row>) yield { key: r.key, remote_id: r.remote_id, status: r.status };
        },
      };
    },
    summary: () =>
      (db.prepare('SELECT target, account, status, COUNT(*) AS rows, MAX(updated_at) AS last FROM synced GROUP BY target, account, status ORDER BY target, account, status').all() as Array<{ target: string; account: string; status: string; rows: number; last: string }>).map(
        ({ target, account, status, rows, last }) => ({ target, account, status, rows, last }),
      ),
    forget(target, account) {
      const r = account === undefined ? db.prepare('DELETE FROM synced WHERE target = ?').run(target) : db.prepare('DELETE FROM synced WHERE target = ? AND account = ?').run(target, account);
      return r.changes;
    },
    async close() {
      const writeError = await writes.close();
      db.close();
      if (writeError) throw new SyncError('E_STATE', `the local state ${path} was not fully saved: ${writeError}`, 1);
    },
  };
}

/** The database file, its owner's alone, with its table: or a message that says what to do. */
function openDatabase(path: string): Libsql.Database {
  try {
    createRequire(import.meta.url)('libsql');
  } catch (err) {
    throw new UsageError(`The local state needs its SQLite binding (libsql), which did not load (${(err as Error).message.split('\n')[0]}). Run npm ci again, or use --no-state.`, 'E_STATE', { cause: err });
  }
  try {
    // What was sent to whom is personal data: the folder and the database are its owner's alone (SQLite gives its
    // -wal and -shm files the database's mode).
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    closeSync(openSync(path, 'a', 0o600));
    const db = openConnection(path);
    db.exec(`CREATE TABLE IF NOT EXISTS synced (
      target TEXT NOT NULL, account TEXT NOT NULL, key TEXT NOT NULL,
      remote_id TEXT, hash TEXT, status TEXT NOT NULL, updated_at TEXT NOT NULL,
      PRIMARY KEY (target, account, key)) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS synced_remote ON synced (target, account, remote_id);`);
    return db;
  } catch (err) {
    throw new UsageError(`Cannot open the state database ${path}: ${(err as Error).message}. Choose another with --state, or use --no-state.`, 'E_STATE', { cause: err });
  }
}

/**
 * The run's writes, posted to a worker thread started at the first one. Rows posted and not yet committed are
 * counted in memory shared with it: when the writer falls this far behind, the main thread waits for it, so a run
 * faster than its disk cannot queue up unbounded memory.
 */
class WriterLink {
  private writer?: Worker;
  private writeError?: string;
  private readonly backlog = new Int32Array(new SharedArrayBuffer(4));
  /** The writer committed nothing for a whole stall limit: what comes later is dropped, not queued without end. */
  private stalled = false;
  private waited = false;

  constructor(private readonly path: string, private readonly onWait?: (rowsBehind: number) => void) {}

  post(m: WriterMessage, rows: number): void {
    if (this.stalled) return;
    const writer = (this.writer ??= this.start());
    const { backlog } = this;
    // A writer that commits nothing for longer than it may wait for a lock is taken for stuck (its messages cannot
    // arrive while this waits, so the count of rows still queued is what shows progress).
    if (!this.waited && Atomics.load(backlog, 0) > MAX_BACKLOG_ROWS) {
      this.waited = true;
      this.onWait?.(Atomics.load(backlog, 0));
    }
    for (let queued = Atomics.load(backlog, 0), idle = 0; queued > MAX_BACKLOG_ROWS; queued = Atomics.load(backlog, 0)) {
      if (Atomics.wait(backlog, 0, queued, 1000) !== 'timed-out') idle = 0;
      else if (++idle * 1000 > WRITER_BUSY_TIMEOUT_MS + 5000) {
        this.stalled = true;
        this.writeError ??= `the state writer committed nothing for ${idle} s; results after that were not saved`;
        return;
      }
    }
    Atomics.add(backlog, 0, rows);
    writer.postMessage(m);
  }

  private start(): Worker {
    const writer = new Worker(new URL('./state-writer.js', import.meta.url), { workerData: { path: this.path, backlog: this.backlog }, resourceLimits: { maxYoungGenerationSizeMb: 2 } });
    writer.on('message', (r: WriterReply) => (this.writeError ??= r.message));
    writer.on('error', (err) => (this.writeError ??= err.message));
    writer.unref();
    return writer;
  }

  /** Waits for the last writes to be committed: what went wrong, if anything did. */
  async close(): Promise<string | undefined> {
    const w = this.writer;
    if (!w) return this.writeError;
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    w.ref();
    w.postMessage({ kind: 'close' } satisfies WriterMessage);
    // What is queued is at most the backlog limit: a writer that takes longer than a lock wait is stuck.
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<'stuck'>((resolve) => (timer = setTimeout(() => resolve('stuck'), WRITER_BUSY_TIMEOUT_MS + 5000)));
    if ((await Promise.race([exited, stuck])) === 'stuck') {
      this.writeError ??= 'the state writer did not finish its last writes';
      await w.terminate();
    }
    clearTimeout(timer);
    return this.writeError;
  }
}
