import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { createSalsaEmulator, type SalsaEmulatorOptions } from '../../src/targets/salsa/emulator.js';
import type { Emulator } from '../../src/sandbox/emulator-types.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'bin/sync-supporters.js');

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'sync-supporters-test-'));
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the real bin as a child process, with a clean environment (no real credentials can leak in). */
export function runCli(args: string[], options: { env?: Record<string, string>; cwd?: string; stdin?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? ROOT,
      // Each run gets its own state file unless the test says otherwise.
      env: { PATH: process.env.PATH ?? '', SYNC_SUPPORTERS_RETRY_BASE_MS: '5', SYNC_SUPPORTERS_STATE: join(tempDir(), 'state.db'), ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 50_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
    child.stdin.end(options.stdin ?? '');
  });
}

export type ReportRow = Record<string, string>;

export function readReport(path: string): ReportRow[] {
  const text = readFileSync(path, 'utf8');
  if (path.endsWith('.jsonl')) return text.trim().split('\n').map((l) => JSON.parse(l) as ReportRow);
  return parse(text, { columns: true }) as ReportRow[];
}

export interface TestSandbox {
  sandbox: Sandbox;
  salsa: ReturnType<typeof createSalsaEmulator>;
  env: Record<string, string>;
  token: string;
}

/** A sandbox in this test process, with a token unique to the test so leaks are detectable. */
export async function startSalsaSandbox(options: SalsaEmulatorOptions & { faults?: string; latencyMs?: number; slowMs?: number; extra?: Emulator[] } = {}): Promise<TestSandbox> {
  const token = options.token ?? `tok-${Math.random().toString(36).slice(2)}-SECRET`;
  const salsa = createSalsaEmulator({ ...options, token });
  const sandbox = await startSandbox({ emulators: [salsa, ...(options.extra ?? [])], faults: options.faults, latencyMs: options.latencyMs, slowMs: options.slowMs });
  return { sandbox, salsa, token, env: { SALSA_API_URL: sandbox.url, SALSA_API_TOKEN: token } };
}

/** Closes, after each test of the file that calls it, every sandbox the test handed to the returned function. */
export function closeAfterEach(): <T extends { close(): Promise<unknown> }>(sandbox: T) => T {
  const open: Array<{ close(): Promise<unknown> }> = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  return (sandbox) => (open.push(sandbox), sandbox);
}

/** A Luminate site in its own sandbox, and the environment that points a run at it. */
export async function startLuminateSandbox(options: { unanswered?: string[] } = {}) {
  const { createLuminateEmulator } = await import('../../src/targets/luminate/emulator.js');
  const lum = createLuminateEmulator(options);
  const sandbox = await startSandbox({ emulators: [lum] });
  return { lum, sandbox, env: lum.environment(sandbox.url) };
}

/** Writes a CSV file from a header and rows (values are quoted when needed). */
export function csv(header: string[], rows: string[][]): string {
  const cell = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\n') + '\n';
}

/**
 * Runs the built CLI in this process (no process start: ~1-2 s of CPU each on small machines), with its own
 * streams and environment. For what needs a real process — signals, kill -9, a terminal — use runCli.
 */
export async function runInProcess(args: string[], options: { env?: Record<string, string> } = {}): Promise<CliResult> {
  // @ts-expect-error dist has no type declarations; npm test builds it first
  const { main } = (await import('../../dist/cli/main.js')) as { main: (argv: string[], io: unknown) => Promise<number> };
  const { PassThrough } = await import('node:stream');
  let stdout = '';
  let stderr = '';
  const out = new PassThrough();
  const err = new PassThrough();
  out.on('data', (d) => (stdout += d));
  err.on('data', (d) => (stderr += d));
  const env = { SYNC_SUPPORTERS_RETRY_BASE_MS: '5', SYNC_SUPPORTERS_STATE: join(tempDir(), 'state.db'), ...options.env };
  const code = await main(['node', 'sync-supporters', ...args], { env, stdout: out, stderr: err, argv: args });
  await new Promise((r) => setImmediate(r));
  return { code, signal: null, stdout, stderr };
}
