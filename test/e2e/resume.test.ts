import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
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

/** A Salsa account that counts how many times each email arrived in a PUT. */
async function countingSalsa(latencyMs: number) {
  const salsa = createSalsaEmulator({ token: 'resume-token', rateLimit: 100_000 });
  const received = new Map<string, number>();
  const counting: Emulator = {
    ...salsa,
    handle(req) {
      if (req.method === 'PUT') {
        for (const s of JSON.parse(req.body).payload.supporters as Array<{ contacts: Array<{ value: string }> }>) {
          const e = s.contacts[0]!.value;
          received.set(e, (received.get(e) ?? 0) + 1);
        }
      }
      return salsa.handle(req);
    },
  };
  sandbox = await startSandbox({ emulators: [counting], latencyMs });
  // Its own state, shared by the killed run and its resume as a user's would be (never the repo's own).
  const env = { SALSA_API_URL: sandbox.url, SALSA_API_TOKEN: 'resume-token', SYNC_SUPPORTERS_STATE: join(tempDir(), 'state.db') };
  return { salsa, received, env };
}

function bigFile(n: number) {
  const dir = tempDir();
  const file = join(dir, 'people.csv');
  // With each person's consent, as a sign-up export has it: one call per batch (no second call for a status).
  writeFileSync(file, csv(['Email', 'First Name', 'Email Status'], Array.from({ length: n }, (_, i) => [`person${i}@example.org`, `P${i}`, 'OPT_IN'])));
  return { dir, file, report: join(dir, 'people.report.csv') };
}

/** Starts the bin and kills it with `signal` once the report has grown past `afterBytes`. */
function runAndSignal(args: string[], env: Record<string, string>, report: string, signal: NodeJS.Signals, afterBytes: number) {
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', SYNC_SUPPORTERS_RETRY_BASE_MS: '5', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const poll = setInterval(() => {
      if (existsSync(report) && statSync(report).size > afterBytes) {
        clearInterval(poll);
        child.kill(signal);
      }
    }, 5);
    child.on('close', (code, sig) => {
      clearInterval(poll);
      resolve({ code, signal: sig, stderr });
    });
  });
}

function expectComplete(reportPath: string, n: number) {
  const report = readReport(reportPath);
  expect(report.map((r) => Number(r.row))).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  expect(report.filter((r) => r.status !== 'ADDED' && r.status !== 'UPDATED')).toEqual([]);
  return report;
}

describe('never lose a row', () => {
  it('kill -9 mid-run, then --resume: every row reported once, every row in the remote, only in-flight rows sent twice', async () => {
    const { salsa, received, env } = await countingSalsa(25);
    const { file, report } = bigFile(3000);
    const killed = await runAndSignal(['import', file, '-c', '4', '-b', '20', '--quiet'], env, report, 'SIGKILL', 20_000);
    expect(killed.signal).toBe('SIGKILL');
    const sentBefore = [...received.values()].reduce((a, b) => a + b, 0);
    expect(sentBefore).toBeGreaterThan(0);
    expect(sentBefore).toBeLessThan(3000);

    const resumed = await runInProcess(['import', file, '-c', '4', '-b', '20', '--resume', '--json'], { env });
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout).rows).toBe(3000);
    expect(resumed.stderr).toMatch(/resumed from .*rows already had a final answer/);
    expectComplete(report, 3000);
    expect(salsa.supporters()).toHaveLength(3000);
    const twice = [...received.values()].filter((n) => n > 1).length;
    expect(twice).toBeLessThanOrEqual(4 * 20); // at most what was in flight when the process died
    expect(existsSync(`${report}.journal`)).toBe(false);
  });

  it('Ctrl-C finishes what is in flight, reports the rest NOT_ATTEMPTED, says how to resume; --resume sends nothing twice', async () => {
    const { salsa, received, env } = await countingSalsa(25);
    const { file, report } = bigFile(2000);
    const stopped = await runAndSignal(['import', file, '-c', '3'], env, report, 'SIGINT', 5000);
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toMatch(/SIGINT: stopping/);
    expect(stopped.stderr).toMatch(/to send the \d+ unfinished rows: sync-supporters import .*people\.csv -c 3 --resume/);
    const partial = readReport(report);
    expect(partial).toHaveLength(2000);
    const notAttempted = partial.filter((r) => r.status === 'NOT_ATTEMPTED').length;
    expect(notAttempted).toBeGreaterThan(0);
    expect(partial.filter((r) => r.status === 'ADDED')).toHaveLength(2000 - notAttempted);
    expect(salsa.supporters()).toHaveLength(2000 - notAttempted);

    const resumed = await runInProcess(['import', file, '-c', '3', '--resume', '--json'], { env });
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout).counts).toEqual({ ADDED: 2000 });
    expectComplete(report, 2000);
    expect([...received.values()].every((n) => n === 1)).toBe(true);
  });

  it('refuses to resume from a report made from another file', async () => {
    const { env } = await countingSalsa(0);
    const { file } = bigFile(50);
    expect((await runInProcess(['import', file, '--quiet'], { env })).code).toBe(0);
    appendFileSync(file, 'late@example.org,Late\n');
    const res = await runInProcess(['import', file, '--resume'], { env });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/Cannot resume: the input .*people\.csv is not the file .* was made from \(its size changed from \d+ to \d+ bytes\)/);
  });

  it('a resume after a clean run with failures sends only the failed rows', async () => {
    const salsa = createSalsaEmulator({ token: 't', rateLimit: 100_000 });
    let down = true;
    const flaky: Emulator = { ...salsa, handle: (req) => (down && req.body.includes('person1') ? { status: 503, body: '<html>503</html>' } : salsa.handle(req)) };
    sandbox = await startSandbox({ emulators: [flaky] });
    const env = { SALSA_API_URL: sandbox.url, SALSA_API_TOKEN: 't', SYNC_SUPPORTERS_STATE: join(tempDir(), 'state.db') };
    const { file, report } = bigFile(30);
    const first = await runInProcess(['import', file, '-b', '1', '--retries', '1', '--json'], { env });
    expect(first.code).toBe(1);
    expect(JSON.parse(first.stdout).counts).toEqual({ ADDED: 19, FAILED: 11 }); // person1, person10…person19
    down = false;
    const second = await runInProcess(['import', file, '-b', '1', '--resume', '--json'], { env });
    expect(JSON.parse(second.stdout)).toMatchObject({ counts: { ADDED: 30 }, calls: 11, exitCode: 0 }); // counts describe the whole report; only 11 were sent
    expectComplete(report, 30);
    expect(readFileSync(report, 'utf8').split('\n')[0]).toBe('row,line,operation,key,status,remote_id,attempts,http_status,error_code,error_message');
  });
});

describe('interrupting a delete while it looks rows up', () => {
  it('Ctrl-C during the lookups exits 130, deletes nothing and says so', async () => {
    const salsa = createSalsaEmulator({ token: 'tok' });
    salsa.seed!([{ firstName: 'A', contacts: [{ type: 'EMAIL', value: 'a@example.org' }] }]);
    // Every search is held for a long time, as a slow remote would: the interrupt lands while one is in flight.
    let searching!: () => void;
    const searched = new Promise<void>((resolve) => (searching = resolve));
    const slow: Emulator = { ...salsa, handle: (req) => (req.path.endsWith('/search') && searching(), salsa.handle(req)) };
    sandbox = await startSandbox({ emulators: [slow], latencyMs: 0, faults: 'slow:1,only=search', slowMs: 60_000 });
    const dir = tempDir();
    const file = join(dir, 'leavers.csv');
    writeFileSync(file, csv(['Email'], [['a@example.org']]));
    const child = spawn(process.execPath, [BIN, 'delete', file, '--json'], { env: { PATH: process.env.PATH ?? '', SALSA_API_URL: sandbox.url, SALSA_API_TOKEN: 'tok', SYNC_SUPPORTERS_STATE: join(dir, 's.db') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const code = new Promise<number | null>((resolve) => child.on('close', resolve));
    await searched;
    child.kill('SIGINT');
    expect(await code).toBe(130);
    expect(JSON.parse(stdout)).toMatchObject({ error: { code: 'E_INTERRUPTED' }, exitCode: 130 });
    expect(stderr).toMatch(/error \[E_INTERRUPTED\]: interrupted during looking up the rows to delete \(nothing was deleted\)/);
    expect(salsa.supporters()).toHaveLength(1);
  });
});
