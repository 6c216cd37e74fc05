import { createRequire } from 'node:module';
import type Libsql from 'libsql';

/** How long the state writer's transaction waits for another connection's write lock before it fails. */
export const WRITER_BUSY_TIMEOUT_MS = 30_000;

/**
 * Opens one connection to the state database, set up the same way on both threads: WAL (readers and the writer do
 * not block each other; a killed run leaves every committed transaction and nothing torn), NORMAL sync, a busy
 * timeout (5 s unless told), and a 2 MB page cache (SQLite's own default, set explicitly: a binding built with a
 * larger one fills it with random-key upserts: +16 MB RSS per connection at 300k rows, at no gain in speed). The
 * binding is libsql, which keeps better-sqlite3's API and installs a prebuilt binary from the npm registry
 * (bench/RESULTS.md "Install"). Throws if it does not load or the file cannot be opened.
 */
export function openConnection(path: string, busyTimeoutMs = 5000): Libsql.Database {
  const Database = createRequire(import.meta.url)('libsql') as typeof Libsql;
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma(`busy_timeout = ${Math.floor(busyTimeoutMs)}`);
  db.pragma('cache_size = -2000');
  return db;
}
