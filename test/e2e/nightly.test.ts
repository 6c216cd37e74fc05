import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import Database from 'libsql';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import type { Emulator } from '../../src/sandbox/emulator-types.js';
import { createSalsaEmulator } from '../../src/targets/salsa/emulator.js';
import { BIN, csv, tempDir, readReport, runInProcess } from '../support/helpers.js';

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

/** A Salsa account that counts the supporters it receives per method. */
async function countingAccount() {
  const salsa = createSalsaEmulator({ token: 'night', rateLimit: 100_000 });
  const received = { PUT: 0, DELETE: 0 };
  const counting: Emulator = {
    ...salsa,
    handle(req) {
      if (req.method === 'PUT' || req.method === 'DELETE') received[req.method] += (JSON.parse(req.body).payload.supporters as unknown[]).length;
      return salsa.handle(req);
    },
  };
  sandbox = await startSandbox({ emulators: [counting] });
  const dir = tempDir();
  const env = { SALSA_API_URL: sandbox.url, SALSA_API_TOKEN: 'night', SYNC_SUPPORTERS_STATE: join(dir, 'state.db') };
  return { salsa, received, env, dir };
}

type Person = [email: string, first: string, city: string];
const people = (n: number): Person[] => Array.from({ length: n }, (_, i) => [`n${i}@example.org`, `N${i}`, 'Austin']);
// A whole address (street, city, zip): Salsa replaces a sent address whole, so the tool sends a changed city only so.
// With consent, as a nightly export carries it: one call per batch (no second call for a created supporter's status).
const write = (file: string, rows: Person[]) => writeFileSync(file, csv(['Email', 'First Name', 'Address 1', 'City', 'Zip', 'Email Status'], rows.map(([e, f, c]) => [e, f, '1 Main St', c, '78701', 'OPT_IN'])));

function expectRemoteEquals(salsa: ReturnType<typeof createSalsaEmulator>, rows: Person[]) {
  const remote = salsa.supporters().map((s) => [(s.contacts as Array<{ value: string }>)[0]!.value, s.firstName, (s.address as { city: string }).city]);
  expect(remote.sort()).toEqual([...rows].sort());
}

describe('nightly syncs on the local state', () => {
  it('a second night with 1% changed and 1% removed sends only those, and the remote ends equal to the file', async () => {
    const { salsa, received, env, dir } = await countingAccount();
    const file = join(dir, 'export.csv');
    const night1 = people(2000);
    write(file, night1);
    const first = await runInProcess(['import', file, '--changed-only', '--mirror', '--json'], { env });
    expect(JSON.parse(first.stdout)).toMatchObject({ counts: { ADDED: 2000 }, exitCode: 0 });
    expect(received).toEqual({ PUT: 2000, DELETE: 0 });

    const night2 = night1.filter((_, i) => i % 100 !== 7).map((p, i) => (i % 100 === 3 ? ([p[0], p[1], 'Dallas'] as Person) : p));
    write(file, night2);
    const second = await runInProcess(['import', file, '--changed-only', '--mirror', '--json'], { env });
    const summary = JSON.parse(second.stdout);
    expect(summary).toMatchObject({ counts: { UNCHANGED: 1960, UPDATED: 20, DELETED: 20 }, exitCode: 0, unchanged: 1960 });
    expect(second.stderr).toMatch(/1960 rows unchanged since the last sync were not sent: about 98 API calls saved/);
    expect(received).toEqual({ PUT: 2020, DELETE: 20 }); // only the 20 changed and the 20 removed
    expectRemoteEquals(salsa, night2);
    const report = readReport(join(dir, 'export.report.csv'));
    expect(report).toHaveLength(1980 + 20);
    expect(report.slice(1980).every((r) => r.operation === 'delete' && r.status === 'DELETED' && r.line === '')).toBe(true);

    // A third night with nothing new sends nothing at all.
    const third = await runInProcess(['import', file, '--changed-only', '--mirror', '--json'], { env });
    expect(JSON.parse(third.stdout)).toMatchObject({ counts: { UNCHANGED: 1980 }, calls: 0 });
  });

  it('mirror never deletes anyone the tool did not sync, and --dry-run previews it', async () => {
    const { salsa, env, dir } = await countingAccount();
    salsa.seed!([{ firstName: 'Other', contacts: [{ type: 'EMAIL', value: 'someone-else@example.org' }] }]);
    const file = join(dir, 'e.csv');
    write(file, people(10));
    await runInProcess(['import', file, '--quiet'], { env });
    write(file, people(10).slice(0, 8));
    const preview = await runInProcess(['import', file, '--mirror', '--changed-only', '--dry-run', '--json'], { env });
    expect(JSON.parse(preview.stdout).counts).toEqual({ UNCHANGED: 8, DRY_RUN: 2 });
    expect(salsa.supporters()).toHaveLength(11);
    await runInProcess(['import', file, '--mirror', '--changed-only', '--quiet'], { env });
    expect(salsa.supporters().map((s) => (s.contacts as Array<{ value: string }>)[0]!.value).sort()).toEqual([...people(8).map((p) => p[0]), 'someone-else@example.org'].sort());
  });

  it('mirror is refused before anything is sent when rows cannot be read, or when it would exceed the cap', async () => {
    const { received, env, dir } = await countingAccount();
    const file = join(dir, 'e.csv');
    write(file, people(20));
    await runInProcess(['import', file, '--quiet'], { env });
    writeFileSync(file, csv(['Email', 'First Name', 'Address 1', 'City', 'Zip', 'Email Status'], people(20).map(([e, f, c]) => [e, f, '1 Main St', c, '78701', 'OPT_IN'])) + '"broken,row\n');
    const broken = await runInProcess(['import', file, '--mirror'], { env });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/--mirror refused: 1 row of .* name nobody that can be recognised \(line 22\)/);
    write(file, people(20).slice(0, 5));
    const capped = await runInProcess(['import', file, '--mirror', '--max-deletes', '10'], { env });
    expect(capped.code).toBe(2);
    expect(capped.stderr).toMatch(/Refusing to delete 15 supporters: that is more than --max-deletes 10/);
    expect(received).toEqual({ PUT: 20, DELETE: 0 });
  });

  it('a changed mapping file or --full sends everything again', async () => {
    const { received, env, dir } = await countingAccount();
    const file = join(dir, 'e.csv');
    write(file, people(30));
    await runInProcess(['import', file, '--quiet', '--changed-only'], { env });
    const map = join(dir, 'map.json');
    writeFileSync(map, JSON.stringify({ fields: { email: 'Email', firstName: 'First Name', city: 'City' } }));
    const mapped = await runInProcess(['import', file, '--changed-only', '-m', map, '--json'], { env });
    expect(JSON.parse(mapped.stdout).counts).toEqual({ UPDATED: 30 });
    const full = await runInProcess(['import', file, '--full', '-m', map, '--json'], { env });
    expect(JSON.parse(full.stdout).counts).toEqual({ UPDATED: 30 });
    expect(received.PUT).toBe(90);
  });

  it('remembers supporterIds: later upserts send them, and a stale one falls back to the email', async () => {
    const { salsa, env, dir } = await countingAccount();
    const file = join(dir, 'e.csv');
    write(file, people(3));
    await runInProcess(['import', file, '--quiet'], { env });
    const ids = new Map(salsa.supporters().map((s) => [(s.contacts as Array<{ value: string }>)[0]!.value, s.supporterId]));
    // Someone deletes n1 in Salsa itself; tonight's file still has everyone, with a new city.
    const n1 = String(ids.get('n1@example.org'));
    salsa.handle({ method: 'DELETE', path: '/api/integration/ext/v1/supporters', query: '', headers: { authtoken: 'night' }, body: JSON.stringify({ payload: { supporters: [{ supporterId: n1 }] } }) });
    write(file, people(3).map((p) => [p[0], p[1], 'Dallas'] as Person));
    const res = await runInProcess(['import', file, '--json'], { env });
    expect(JSON.parse(res.stdout).counts).toEqual({ UPDATED: 2, ADDED: 1 });
    const report = readReport(join(dir, 'e.report.csv'));
    expect(report.map((r) => r.remote_id).slice(0, 1)).toEqual([ids.get('n0@example.org')]);
    expect(report[1]!.remote_id).not.toBe(n1);
    expectRemoteEquals(salsa, people(3).map((p) => [p[0], p[1], 'Dallas'] as Person));
  });

  it('a killed run followed by a normal run neither loses nor duplicates anything', async () => {
    const salsa = createSalsaEmulator({ token: 'night', rateLimit: 100_000 });
    sandbox = await startSandbox({ emulators: [salsa], latencyMs: 40 });
    const dir = tempDir();
    const env = { SALSA_API_URL: sandbox.url, SALSA_API_TOKEN: 'night', SYNC_SUPPORTERS_STATE: join(dir, 'state.db'), PATH: process.env.PATH ?? '' };
    const file = join(dir, 'e.csv');
    const rows = people(3000);
    write(file, rows);
    const report = join(dir, 'e.report.csv');
    await new Promise<void>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'import', file, '--changed-only', '--quiet', '-c', '4'], { env, stdio: 'ignore' });
      const poll = setInterval(() => {
        // Late enough that state has been committed at least once (it is committed every 250 ms).
        if (existsSync(report) && statSync(report).size > 100_000) {
          clearInterval(poll);
          child.kill('SIGKILL');
        }
      }, 5);
      child.on('close', () => (clearInterval(poll), resolve()));
    });
    const partial = salsa.supporters().length;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(3000);
    const normal = await runInProcess(['import', file, '--changed-only', '--json'], { env });
    const s = JSON.parse(normal.stdout);
    expect(s.exitCode).toBe(0);
    expect((s.counts.UNCHANGED ?? 0) + (s.counts.ADDED ?? 0) + (s.counts.UPDATED ?? 0)).toBe(3000);
    expect(s.counts.UNCHANGED).toBeGreaterThan(0); // what the killed run had committed was not sent again
    expect(salsa.supporters()).toHaveLength(3000); // nobody twice, nobody missing
    expectRemoteEquals(salsa, rows);
  });

  it('state show and state forget', async () => {
    const { env, dir } = await countingAccount();
    const file = join(dir, 'e.csv');
    write(file, people(5));
    await runInProcess(['import', file, '--quiet'], { env });
    const show = await runInProcess(['state', 'show'], { env });
    expect(show.stdout).toMatch(/salsa {2}http:\/\/127\.0\.0\.1:\d+#[0-9a-f]{12} {2}ADDED 5/);
    expect(show.stdout).not.toContain('night'); // the token is not kept, only a hash of it
    const forget = await runInProcess(['state', 'forget', '-t', 'salsa'], { env });
    expect(forget.stdout).toMatch(/forgot 5 rows of salsa/);
    expect((await runInProcess(['state', 'show'], { env })).stdout).toMatch(/nothing synced yet/);
  });

  it('when another process holds the state database, the run waits at 20,000 unsaved rows instead of piling up, and saves everything once it is free', async () => {
    const { env, dir } = await countingAccount();
    const file = join(dir, 'big.csv');
    const rows = people(40_000);
    write(file, rows.slice(0, 1));
    // Creates the state database; its report goes elsewhere, so nothing below can mistake it for the run's.
    expect((await runInProcess(['import', file, '--quiet', '-r', join(dir, 'setup.report.csv')], { env })).code).toBe(0);
    write(file, rows);
    const lock = new Database(env.SYNC_SUPPORTERS_STATE);
    lock.exec('BEGIN IMMEDIATE'); // the write lock, as an overlapping run or a sqlite3 shell would hold it
    const report = join(dir, 'big.report.csv');
    const child = spawn(process.execPath, [BIN, 'import', file, '--json', '-c', '8'], { env: { PATH: process.env.PATH ?? '', SYNC_SUPPORTERS_RETRY_BASE_MS: '5', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // The condition, not a duration: the run says when it starts waiting for its state (stderr is synchronous).
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        stderr += d;
        if (/waiting for the local state database/.test(stderr)) resolve();
      });
      void exited.then(() => reject(new Error(`the run ended without waiting for its state: ${stderr}`)));
    });
    const lines = readFileSync(report, 'utf8').split('\n').length - 2;
    // It stopped at the backlog limit: 20,000 rows posted and not committed (at most a group of 2,000 behind that,
    // and a report buffer not yet flushed), not the whole file.
    expect(lines).toBeGreaterThanOrEqual(17_000);
    expect(lines).toBeLessThanOrEqual(25_000);
    lock.exec('ROLLBACK');
    lock.close();
    expect(await exited).toBe(0);
    expect(stderr).not.toMatch(/warning/);
    expect(JSON.parse(stdout)).toMatchObject({ exitCode: 0, counts: { ADDED: 39_999, UPDATED: 1 } });
    const db = new Database(env.SYNC_SUPPORTERS_STATE, { readonly: true });
    expect(db.prepare('SELECT COUNT(*) AS n FROM synced').get()).toMatchObject({ n: 40_000 });
    db.close();
  }, 150_000);

  it('a state that could not be saved is a warning, and the next --changed-only run sends exactly the rows it lost', async () => {
    const { salsa, env, dir } = await countingAccount();
    const file = join(dir, 'p.csv');
    const rows = people(3000);
    write(file, rows.slice(0, 1));
    expect((await runInProcess(['import', file, '--quiet'], { env })).code).toBe(0);
    // The database refuses one key, as a full disk or a corrupt page would refuse a write: the transaction that
    // carries it fails as a whole.
    const db = new Database(env.SYNC_SUPPORTERS_STATE);
    db.exec(`CREATE TRIGGER refuse BEFORE INSERT ON synced WHEN NEW.key = 'n1500@example.org' BEGIN SELECT RAISE(ABORT, 'disk says no'); END`);
    write(file, rows);
    const first = await runInProcess(['import', file, '--changed-only', '--json'], { env });
    expect(JSON.parse(first.stdout)).toMatchObject({ exitCode: 0, counts: { ADDED: 2999, UNCHANGED: 1 } });
    expect(first.stderr).toMatch(/warning: the local state .* was not fully saved: disk says no; the next --changed-only run will send those rows again/);
    const saved = (db.prepare('SELECT COUNT(*) AS n FROM synced').get() as { n: number }).n;
    expect(saved).toBeLessThan(3000);
    expect(saved).toBeGreaterThan(1);
    db.exec('DROP TRIGGER refuse');
    db.close();

    const second = await runInProcess(['import', file, '--changed-only', '--json'], { env });
    expect(JSON.parse(second.stdout)).toMatchObject({ exitCode: 0, counts: { UNCHANGED: saved, UPDATED: 3000 - saved } });
    expectRemoteEquals(salsa, rows);
  });
});
