import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UsageError } from '../core/errors.js';
import type { Emulator, EmulatorReply } from './emulator-types.js';
import { parseFaults, type FaultKind } from './faults.js';

export interface SandboxOptions {
  port?: number;
  host?: string;
  /** Added to every answer, in ms. */
  latencyMs?: number;
  faults?: string;
  /** How long a `slow` fault holds the answer. */
  slowMs?: number;
  emulators: Emulator[];
}

export interface SandboxStats {
  requests: number;
  maxInFlight: number;
  maxItemsPerRequest: number;
  faults: Partial<Record<FaultKind, number>>;
  statuses: Record<string, number>;
  /** Requests per "METHOD /path" (which calls a run made, e.g. that a resume sent no supporter again). */
  calls: Record<string, number>;
}

export interface Sandbox {
  url: string;
  server: Server;
  emulators: Emulator[];
  stats: SandboxStats;
  close(): Promise<void>;
}

const HTML_GATEWAY = (code: number, text: string) => `<html><head><title>${code} ${text}</title></head><body><center><h1>${code} ${text}</h1></center><hr><center>nginx</center></body></html>\n`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readBody(req: IncomingMessage, limit = 32 * 1024 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) reject(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(body: string): unknown {
  if (!body.startsWith('{')) return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** The answer a fault gives in place of the emulator's; undefined for faults that let the emulator work first. */
function faultReply(fault: FaultKind): EmulatorReply | undefined {
  // Generic wording; an emulator gives its remote's own through Emulator.faultReply.
  const rate = JSON.stringify({ error: 'rate limit exceeded' });
  switch (fault) {
    case 'reset':
      return { status: 0, body: '' }; // never sent: the connection is closed instead
    case '429':
      return { status: 429, headers: { 'content-type': 'application/json', 'retry-after': '1' }, body: rate };
    case '429-bare':
      return { status: 429, headers: { 'content-type': 'application/json' }, body: rate };
    case 'ratetext':
      return { status: 429, headers: { 'content-type': 'application/json' }, body: rate };
    case '500':
      return { status: 500, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ errors: [{ code: 500, message: 'Internal server error' }] }) };
    case '502':
      return { status: 502, headers: { 'content-type': 'text/html' }, body: HTML_GATEWAY(502, 'Bad Gateway') };
    case '503':
      return { status: 503, headers: { 'content-type': 'text/html' }, body: HTML_GATEWAY(503, 'Service Temporarily Unavailable') };
    case '504':
      return { status: 504, headers: { 'content-type': 'text/html' }, body: HTML_GATEWAY(504, 'Gateway Time-out') };
    default:
      return undefined;
  }
}

/** What the server keeps while it runs: its options, the faults to inject, and the counts `stats` reports. */
interface SandboxState {
  options: SandboxOptions;
  faults: ReturnType<typeof parseFaults>;
  stats: SandboxStats;
  inFlight: number;
}

/** Serves every emulator on one loopback port. Never listens beyond loopback. */
export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const faults = parseFaults(options.faults);
  const stats: SandboxStats = { requests: 0, maxInFlight: 0, maxItemsPerRequest: 0, faults: {}, statuses: {}, calls: {} };
  const state: SandboxState = { options, faults, stats, inFlight: 0 };
  const server = createServer((req, res) => {
    handle(state, req, res).catch((err: Error) => {
      if (!res.headersSent) send(stats, res, 500, { 'content-type': 'text/plain' }, `sandbox error: ${err.message}\n`);
    });
  });
  server.keepAliveTimeout = 30_000;
  // Answers go out at once: with Nagle's algorithm a reply can wait on the client's delayed ACK, which adds
  // latency the real API does not have.
  server.on('connection', (socket) => socket.setNoDelay(true));
  const host = options.host ?? '127.0.0.1';
  await listen(server, options, host);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    server,
    emulators: options.emulators,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Listens on the asked port (any free one when none is asked); a port already taken is the person's to change. */
function listen(server: Server, options: SandboxOptions, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new UsageError(`Port ${options.port} on ${options.host ?? '127.0.0.1'} is already in use: choose another --port, or leave it out to take a free one.`, 'E_PORT') : err),
    );
    server.listen(options.port ?? 0, host, () => resolve());
  });
}

/** One request: an admin call, or a call to the emulator that serves its path (or a fault in its place). */
async function handle(state: SandboxState, req: IncomingMessage, res: ServerResponse) {
  const { options, stats } = state;
  const arrived = performance.now();
  const url = new URL(req.url ?? '/', 'http://sandbox');
  const body = await readBody(req);
  if (url.pathname.startsWith('/_sandbox/')) return admin(state, url.pathname, req.method ?? 'GET', body, res);
  const emulator = options.emulators.find((e) => e.handles(url.pathname));
  stats.requests++;
  const call = `${req.method ?? 'GET'} ${url.pathname}`;
  stats.calls[call] = (stats.calls[call] ?? 0) + 1;
  const isData = emulator?.faultable?.(url.pathname) ?? true;
  const json = parseJson(body);
  const request = { method: req.method ?? 'GET', path: url.pathname, query: url.search, headers: req.headers, body, json };
  if (emulator?.itemsIn) stats.maxItemsPerRequest = Math.max(stats.maxItemsPerRequest, emulator.itemsIn(request));
  state.inFlight++;
  stats.maxInFlight = Math.max(stats.maxInFlight, state.inFlight);
  try {
    const fault = emulator && isData ? state.faults.pick(`${req.method} ${url.pathname}`) : undefined;
    if (fault) stats.faults[fault] = (stats.faults[fault] ?? 0) + 1;
    // A fault that answers instead of the emulator leaves the remote's state untouched; reset-after, slow and
    // truncated answer after the emulator has done the work.
    const instead = !emulator ? { status: 404, headers: { 'content-type': 'text/plain' }, body: `no emulator serves ${url.pathname}\n` } : fault && (emulator.faultReply?.(fault) ?? faultReply(fault));
    const reply = instead || emulator!.handle(request);
    // The latency is the remote's whole answer time, counted from the request's arrival: the emulator's own work
    // happens inside it, as a real server's does, instead of being added on top.
    const left = (options.latencyMs ?? 0) - (performance.now() - arrived);
    if (left >= 1) await sleep(left);
    if (fault === 'reset' || fault === 'reset-after') return req.socket.destroy();
    if (fault === 'slow') await sleep(options.slowMs ?? 5_000);
    if (fault === 'truncated') return send(stats, res, reply.status, reply.headers ?? {}, reply.body.slice(0, Math.floor(reply.body.length / 2)));
    return send(stats, res, reply.status, reply.headers ?? {}, reply.body);
  } finally {
    state.inFlight--;
  }
}

/** Writes one answer (unless the connection is gone) and counts its status. */
function send(stats: SandboxStats, res: ServerResponse, status: number, headers: Record<string, string>, body: string) {
  if (res.destroyed) return;
  stats.statuses[status] = (stats.statuses[status] ?? 0) + 1;
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** The /_sandbox/ calls: the stats, a target's state, and seeding a target's records. */
function admin(state: SandboxState, path: string, method: string, body: string, res: ServerResponse) {
  const { stats } = state;
  const name = path.split('/')[2] ?? '';
  if (path === '/_sandbox/stats') return send(stats, res, 200, { 'content-type': 'application/json' }, JSON.stringify(stats));
  const emulator = state.options.emulators.find((e) => e.name === name);
  if (!emulator) return send(stats, res, 404, { 'content-type': 'text/plain' }, 'use /_sandbox/stats, /_sandbox/<target>/state or /_sandbox/<target>/seed\n');
  if (path.endsWith('/state')) return send(stats, res, 200, { 'content-type': 'application/json' }, JSON.stringify(emulator.snapshot()));
  if (path.endsWith('/seed') && method === 'POST' && emulator.seed) {
    emulator.seed(JSON.parse(body) as unknown[]);
    return send(stats, res, 200, { 'content-type': 'application/json' }, '{"ok":true}');
  }
  return send(stats, res, 404, { 'content-type': 'text/plain' }, 'unknown admin call\n');
}

/** The environment a run uses against a started sandbox: the person's, with every emulator's endpoint and credentials. */
export function sandboxEnvironment(sandbox: Sandbox, env: Record<string, string | undefined>): Record<string, string | undefined> {
  const out = { ...env };
  for (const e of sandbox.emulators) Object.assign(out, e.environment(sandbox.url));
  return out;
}
