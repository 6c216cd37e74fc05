// npm run bench [-- ceiling segment policy latency migrations pacing faults startup install local memory]: prints a table of figures, each measured in one run on loopback.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, createReadStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse';
import { Agent, request } from 'undici';
import { startSandbox } from '../dist/sandbox/server.js';
import { createSalsaEmulator } from '../dist/targets/salsa/emulator.js';
import { createLuminateEmulator } from '../dist/targets/luminate/emulator.js';
import { generate, generatedEmail } from './generate.js';

const ROOT = new URL('..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/sync-supporters.js');
const dir = mkdtempSync(join(tmpdir(), 'sync-bench-'));
const only = new Set(process.argv.slice(2));
const want = (name) => only.size === 0 || only.has(name);
const rows = [];

function cli(args, env = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', join(ROOT, 'bench/max-rss.js'), BIN, ...args], {
      env: { PATH: process.env.PATH, SYNC_SUPPORTERS_STATE: join(dir, `state-${Math.random().toString(36).slice(2)}.db`), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const rss = /BENCH_MAX_RSS_KB=(\d+)/.exec(stderr);
      let summary;
      try {
        summary = JSON.parse(stdout);
      } catch {
        return reject(new Error(`no JSON summary (exit ${code}):\n${stderr.slice(-2000)}`));
      }
      resolve({ code, summary, wallMs: performance.now() - started, maxRssMb: rss ? Number(rss[1]) / 1024 : NaN });
    });
  });
}

const fmt = (n, d = 0) => Number(n).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
function record(measure, figure, target, ok, detail) {
  rows.push({ measure, figure, target, ok: ok ? 'yes' : 'NO', detail });
  console.error(`  ${measure}: ${figure} (target ${target}) ${ok ? 'ok' : 'BELOW TARGET'}`);
}

async function ceiling() {
  const n = 20_000;
  const rateLimit = 6000;
  // 1: a file with an email status column (one call per batch); 1b: a first import of new supporters without one,
  // where each batch of creations gets a second call setting their status (never left to the account's default).
  for (const withStatus of [true, false]) {
    const file = join(dir, `ceiling-${withStatus}.csv`);
    await generate(file, n, 'csv', { withStatus });
    const salsa = createSalsaEmulator({ token: 'bench', rateLimit, maxBatchSize: 20 });
    const sb = await startSandbox({ emulators: [salsa], latencyMs: 20 });
    try {
      const r = await cli(['import', file, '-c', '8', '--json', '--quiet', '-r', join(dir, `ceiling-${withStatus}.report.csv`)], { SALSA_API_URL: sb.url, SALSA_API_TOKEN: 'bench' });
      // The pace between the first and the last call, against rateLimit × maxBatchSize; rows per call as they were.
      const ceilingRowsPerSec = (rateLimit * 20) / 60;
      const callShare = (100 * r.summary.achievedPerMinute) / rateLimit;
      const achieved = (r.summary.achievedPerMinute * (n / r.summary.calls)) / 60;
      const share = (100 * achieved) / ceilingRowsPerSec;
      const got429 = sb.stats.statuses['429'] ?? 0;
      if (withStatus) {
        record('1. ceiling: Salsa import, 6,000 calls/min × 20, 20 ms latency', `${fmt(share, 1)}% of ${fmt(ceilingRowsPerSec)} rows/s, ${got429} × 429`, '≥ 97%, 0 × 429', share >= 97 && got429 === 0, `${n} rows with an email status column, ${r.summary.calls} calls, ${fmt(n / (r.summary.durationMs / 1000))} rows/s over the whole run incl. start-up`);
      } else {
        record('1b. ceiling, first import with no status column', `${fmt(share, 1)}% of ${fmt(ceilingRowsPerSec)} rows/s (calls at ${fmt(callShare, 1)}% of the call ceiling), ${got429} × 429`, 'calls ≥ 97%, 0 × 429', callShare >= 97 && got429 === 0, `${n} new supporters, ${r.summary.calls} calls: each batch of creations gets a second call setting OPT_OUT`);
      }
    } finally {
      await sb.close();
    }
  }
}

/**
 * 1c: the same import with --segment: each batch of written supporters is then also one members call, which shares
 * the per-minute budget. The figure: calls against the call ceiling (the pacer's job), and rows against the rows
 * ceiling (what a person sees: about half, as each batch costs two calls).
 */
async function ceilingWithSegment() {
  const n = 20_000;
  const rateLimit = 6000;
  const file = join(dir, 'ceiling-segment.csv');
  await generate(file, n, 'csv', { withStatus: true });
  const salsa = createSalsaEmulator({ token: 'bench', rateLimit, maxBatchSize: 20, segments: ['Spring Volunteers'] });
  const sb = await startSandbox({ emulators: [salsa], latencyMs: 20 });
  try {
    const r = await cli(['import', file, '-c', '8', '--segment', 'Spring Volunteers', '--json', '--quiet', '-r', join(dir, 'ceiling-segment.report.csv')], { SALSA_API_URL: sb.url, SALSA_API_TOKEN: 'bench' });
    const ceilingRowsPerSec = (rateLimit * 20) / 60;
    const callShare = (100 * r.summary.achievedPerMinute) / rateLimit;
    const share = (100 * ((r.summary.achievedPerMinute * (n / r.summary.calls)) / 60)) / ceilingRowsPerSec;
    const got429 = sb.stats.statuses['429'] ?? 0;
    const members = salsa.segments()[0].members.length;
    record('1c. ceiling with --segment (one segment)', `${fmt(share, 1)}% of ${fmt(ceilingRowsPerSec)} rows/s (calls at ${fmt(callShare, 1)}% of the call ceiling), ${got429} × 429`, 'calls ≥ 97%, 0 × 429, every row a member', callShare >= 97 && got429 === 0 && members === (r.summary.counts.ADDED ?? 0) + (r.summary.counts.UPDATED ?? 0), `${r.summary.calls} calls of which ${r.summary.membershipCalls} members calls; ${members} members`);
  } finally {
    await sb.close();
  }
}

/**
 * 1d: what an update policy costs. The same 10,000 existing supporters imported plain (one PUT a batch) and with
 * --update if-empty (each batch read first: one search and one PUT, 19 rows a batch so one search answers them all),
 * each at the account's ceiling. Figure: rows a minute with the policy as a share of the plain import's.
 */
async function policyCost() {
  const n = Number(process.env.BENCH_POLICY_ROWS ?? 10_000);
  const rateLimit = 6000;
  const file = join(dir, 'policy.csv');
  await generate(file, n, 'csv', { withStatus: true });
  // Each run has an account of its own, seeded directly (a seeding run would use up the token's minute).
  const people = Array.from({ length: n }, (_, i) => ({ firstName: 'Someone', contacts: [{ type: 'EMAIL', value: generatedEmail(i), status: 'OPT_IN' }] }));
  const run = async (name, extra) => {
    const salsa = createSalsaEmulator({ token: 'bench', rateLimit, maxBatchSize: 20 });
    salsa.seed(people);
    const sb = await startSandbox({ emulators: [salsa], latencyMs: 20 });
    try {
      const r = await cli(['import', file, '-c', '8', '--json', '--quiet', '--no-state', '-r', join(dir, `policy-${name}.report.csv`), ...extra], { SALSA_API_URL: sb.url, SALSA_API_TOKEN: 'bench' });
      return { ...r, got429: sb.stats.statuses['429'] ?? 0 };
    } finally {
      await sb.close();
    }
  };
  const plain = await run('plain', []);
  const policy = await run('if-empty', ['--update', 'if-empty']);
  const rowsPerMinute = (r) => r.summary.achievedPerMinute * (n / r.summary.calls);
  const share = (100 * rowsPerMinute(policy)) / rowsPerMinute(plain);
  const got429 = plain.got429 + policy.got429;
  const callShare = (r) => fmt((100 * r.summary.achievedPerMinute) / rateLimit, 1);
  record('1d. update policy (--update if-empty) against a plain import, both at the ceiling', `${fmt(share, 1)}% of the plain import's rows a minute (${fmt(rowsPerMinute(policy))} vs ${fmt(rowsPerMinute(plain))}), ${got429} × 429`, '≈ 50% (a read and a write a batch), 0 × 429', share >= 45 && got429 === 0, `${n} existing supporters; calls: plain ${plain.summary.calls} at ${callShare(plain)}% of the call ceiling, with the policy ${policy.summary.calls} at ${callShare(policy)}%; ${JSON.stringify(policy.summary.counts)}`);
}

/**
 * 6: pacing against remotes that do not count as the pacer does, and a token shared with another integration.
 * 6a: the per-minute limit enforced in 1-second windows (600/min = 10 calls in each second); 6b: a 1,200/min token
 * of which another client uses 480/min all along (what is left: 720); 6c: the same, the other client starting 8 s
 * into the run. Figures: calls a minute against the ceiling (6a) or against what is left (6b, 6c), throttled calls
 * of ours, and the other client's calls refused.
 */
async function pacing() {
  const env = (sb) => ({ SALSA_API_URL: sb.url, SALSA_API_TOKEN: 'bench' });
  {
    const rateLimit = 600;
    const n = 4_000; // 200 calls: 20 s at the ceiling
    const file = join(dir, 'pace-fine.csv');
    await generate(file, n, 'csv', { withStatus: true });
    const salsa = createSalsaEmulator({ token: 'bench', rateLimit, maxBatchSize: 20, rateWindowMs: 1000 });
    const sb = await startSandbox({ emulators: [salsa], latencyMs: 20 });
    try {
      const r = await cli(['import', file, '-c', '8', '--json', '--quiet', '--no-state', '-r', join(dir, 'pace-fine.report.csv')], env(sb));
      const share = (100 * r.summary.achievedPerMinute) / rateLimit;
      const ours = sb.stats.statuses['429'] ?? 0;
      record('6a. pacing: per-minute limit counted in 1-second windows (600/min, -c 8)', `${fmt(share, 1)}% of the ceiling, ${ours} × 429`, '≥ 95%, ≤ 2 × 429', share >= 95 && ours <= 2, `${n} rows, ${r.summary.calls} calls; ${JSON.stringify(r.summary.counts)}`);
    } finally {
      await sb.close();
    }
  }
  for (const startAfterMs of [undefined, 8000]) {
    const rateLimit = 1200;
    const otherPerMinute = 480;
    const n = startAfterMs ? 10_000 : 7_000; // 350 calls: ~30 s at the 720/min left (6c: 8 s of 1,200, then ~28 s)
    const file = join(dir, `pace-shared-${startAfterMs ?? 0}.csv`);
    await generate(file, n, 'csv', { withStatus: true });
    // The other integration has been calling for a minute already (6b), or starts 8 s into the run (6c).
    const salsa = createSalsaEmulator({ token: 'bench', rateLimit, maxBatchSize: 20, sharedWith: { perMinute: otherPerMinute, startAfterMs } });
    const created = Date.now();
    const ourCalls = [];
    const spy = { ...salsa, handle: (req) => (req.method === 'PUT' && ourCalls.push(Date.now()), salsa.handle(req)) };
    const sb = await startSandbox({ emulators: [spy], latencyMs: 20 });
    try {
      const r = await cli(['import', file, '-c', '8', '--json', '--quiet', '--no-state', '-r', join(dir, `pace-shared-${startAfterMs ?? 0}.report.csv`)], env(sb));
      const o = salsa.otherClient();
      const left = rateLimit - otherPerMinute;
      const ours = sb.stats.statuses['429'] ?? 0;
      if (!startAfterMs) {
        const share = (100 * r.summary.achievedPerMinute) / left;
        record('6b. shared token: another client uses 480 of 1,200/min', `${fmt(share, 1)}% of the ${left}/min left, ${ours} × 429 ours, ${o.refused} of the other's ${o.sent} calls refused`, '≥ 90%, ≤ 3 × 429, the other never refused', share >= 90 && ours <= 3 && o.refused === 0, `${r.summary.calls} calls; ${JSON.stringify(r.summary.counts)}`);
      } else {
        // How soon after the other started our pace (over 5 s) came down to what is left, and what it was after.
        const rateOver = (from, to) => (ourCalls.filter((t) => t >= from && t < to).length * 60_000) / (to - from);
        const started = created + startAfterMs;
        let adapted;
        for (let t = started; t + 5000 <= ourCalls.at(-1); t += 500) if (rateOver(t, t + 5000) <= left * 1.02) { adapted = t - started; break; }
        const after = adapted === undefined ? NaN : (100 * rateOver(started + adapted, ourCalls.at(-1))) / left;
        record('6c. shared token, the other client starting 8 s into the run', `pace down to what is left ${adapted === undefined ? 'never' : `${fmt(adapted / 1000, 1)} s`} after it started, then ${fmt(after, 1)}% of the ${left}/min left; ${ours} × 429 ours, ${o.refused} of the other's ${o.sent} calls refused`, 'within seconds, ≥ 90%, ≤ 3 × 429, the other never refused', adapted !== undefined && adapted <= 15_000 && after >= 90 && ours <= 3 && o.refused === 0, `${r.summary.calls} calls; ${JSON.stringify(r.summary.counts)}`);
      }
    } finally {
      await sb.close();
    }
  }
}

/**
 * 7: goodput under faults: the case-1 import with 5% of calls answered 503 and 2% reset. The figure is rows written
 * a minute at the remote while the run is under way (from the 10% to the 90% row written), against the ceiling; the
 * detail gives the whole run's (first to last call), which also carries the start and the last retries' waits.
 */
async function faults() {
  // 60 s: the refunds of 503s must hold once the remote's minute has come round (they once did not).
  const n = 120_000;
  const rateLimit = 6000;
  const file = join(dir, 'faults.csv');
  await generate(file, n, 'csv', { withStatus: true });
  const salsa = createSalsaEmulator({ token: 'bench', rateLimit, maxBatchSize: 20 });
  let written = 0;
  const marks = {};
  const spy = {
    ...salsa,
    handle(req) {
      const reply = salsa.handle(req);
      if (req.method === 'PUT' && reply.status === 200) {
        written += salsa.itemsIn(req);
        for (const q of [10, 90]) if (marks[q] === undefined && written >= (n * q) / 100) marks[q] = { at: performance.now(), written };
      }
      return reply;
    },
  };
  const sb = await startSandbox({ emulators: [spy], latencyMs: 20, faults: '503:0.05,reset:0.02,seed=7' });
  try {
    const r = await cli(['import', file, '-c', '8', '--json', '--quiet', '--no-state', '-r', join(dir, 'faults.report.csv')], { SALSA_API_URL: sb.url, SALSA_API_TOKEN: 'bench' });
    const ceilingRowsPerSec = (rateLimit * 20) / 60;
    const steady = (marks[90].written - marks[10].written) / ((marks[90].at - marks[10].at) / 1000);
    const share = (100 * steady) / ceilingRowsPerSec;
    const whole = (r.summary.achievedPerMinute * ((r.summary.counts.ADDED ?? 0) / r.summary.calls)) / 60;
    record('7. goodput with 5% 503 and 2% resets (6,000/min × 20)', `${fmt(share, 1)}% of ${fmt(ceilingRowsPerSec)} rows/s written while under way (${fmt((100 * whole) / ceilingRowsPerSec, 1)}% over the whole run), ${sb.stats.statuses['429'] ?? 0} × 429`, '≥ 95%', share >= 95, `${n} rows, ${r.summary.calls} calls (calls at ${fmt((100 * r.summary.achievedPerMinute) / rateLimit, 1)}% of the ceiling); faults ${JSON.stringify(sb.stats.faults)}; ${JSON.stringify(r.summary.counts)}`);
  } finally {
    await sb.close();
  }
}

/**
 * 5: what --plan and --undo-log cost, against a plain import of the same file at the same ceiling (6,000 calls/min
 * × 20, 20 ms): a plan reads each batch's supporters (one search call a batch, nothing sent); an import with an undo
 * log reads them and then writes them (two calls a batch). Rows per minute, as a share of the plain import's.
 */
async function migrations() {
  const n = 10_000;
  const rateLimit = 6000;
  const file = join(dir, 'migration.csv');
  await generate(file, n, 'csv', { withStatus: true });
  const rowsPerMinute = (r) => r.summary.achievedPerMinute * (n / r.summary.calls);
  // Each run on its own sandbox holding the supporters the earlier runs left: one remote's minute would still hold
  // the earlier run's calls, which the tool cannot tell from another integration's and paces under.
  let supporters = [];
  let got429 = 0;
  const run = async (args) => {
    const salsa = createSalsaEmulator({ token: 'bench', rateLimit, maxBatchSize: 20 });
    salsa.seed(supporters);
    const sb = await startSandbox({ emulators: [salsa], latencyMs: 20 });
    try {
      const r = await cli([...args, '-c', '8', '--json', '--quiet', '--no-state'], { SALSA_API_URL: sb.url, SALSA_API_TOKEN: 'bench' });
      supporters = salsa.supporters();
      got429 += sb.stats.statuses['429'] ?? 0;
      return r;
    } finally {
      await sb.close();
    }
  };
  const plain = await run(['import', file, '-r', join(dir, 'm-plain.report.csv')]);
  const plan = await run(['import', file, '--plan', '-r', join(dir, 'm.plan.jsonl')]);
  const undo = await run(['import', file, '--undo-log', join(dir, 'm.undo.jsonl'), '-r', join(dir, 'm-undo.report.csv')]);
  const base = rowsPerMinute(plain);
  const planShare = (100 * rowsPerMinute(plan)) / base;
  const undoShare = (100 * rowsPerMinute(undo)) / base;
  record('5a. --plan: rows a minute vs a plain import at the ceiling', `${fmt(planShare, 1)}% (${fmt(rowsPerMinute(plan))} vs ${fmt(base)} rows/min), ${got429} × 429`, '≈ 100% (one read call a batch instead of one write)', planShare >= 95 && got429 === 0, `${n} rows, ${plan.summary.calls} calls; ${JSON.stringify(plan.summary.counts)}`);
  record('5b. import --undo-log: rows a minute vs a plain import', `${fmt(undoShare, 1)}% (${fmt(rowsPerMinute(undo))} vs ${fmt(base)} rows/min), ${got429} × 429`, '≈ 50% (a read and a write a batch)', undoShare >= 47 && got429 === 0, `${undo.summary.calls} calls; ${JSON.stringify(undo.summary.counts)}`);
}

/**
 * What a bare HTTP client gets from the same sandbox: `c` workers sending ready-made bodies back to back.
 * This is the loopback harness's own ceiling (timers, one emulator thread), against which the tool is compared.
 */
async function bareClient(url, c, n, makeRequest) {
  const agent = new Agent({ connections: c });
  let i = 0;
  const started = performance.now();
  async function worker() {
    while (i < n) {
      const k = i++;
      const { path, init } = makeRequest(k);
      const r = await request(url + path, { ...init, dispatcher: agent });
      await r.body.text();
    }
  }
  await Promise.all(Array.from({ length: c }, worker));
  await agent.close();
  return n / ((performance.now() - started) / 1000);
}

async function latency() {
  const latencyMs = 50;
  const c = 8;
  {
    const n = 20_000;
    const file = join(dir, 'latency.csv');
    // With an email status column: one call per batch, as in case 1 (case 1b shows a first import without one).
    await generate(file, n, 'csv', { withStatus: true });
    const salsa = createSalsaEmulator({ token: 'bench', rateLimit: 1e9, maxBatchSize: 20 });
    const sb = await startSandbox({ emulators: [salsa], latencyMs });
    try {
      const r = await cli(['import', file, '-c', String(c), '--json', '--quiet', '-r', join(dir, 'latency.report.csv')], { SALSA_API_URL: sb.url, SALSA_API_TOKEN: 'bench' });
      const ideal = (c * 20) / (latencyMs / 1000);
      // Steady pace between the first and the last request (start-up is not a property of the pace).
      const achieved = (r.summary.achievedPerMinute * (n / r.summary.calls)) / 60;
      const supporter = (k, j) => ({ firstName: 'Ann', lastName: 'Lee', dateOfBirth: '1980-01-02T12:00:00.000Z', address: { addressLine1: '1 Main St', city: 'Austin', state: 'TX', postalCode: '78701' }, contacts: [{ type: 'EMAIL', value: `bare${k}-${j}@example.org` }, { type: 'HOME_PHONE', value: '(555) 555-1234' }] });
      const bare = 20 * (await bareClient(sb.url, c, 500, (k) => ({ path: '/api/integration/ext/v1/supporters', init: { method: 'PUT', headers: { authToken: 'bench', 'content-type': 'application/json' }, body: JSON.stringify({ payload: { supporters: Array.from({ length: 20 }, (_, j) => supporter(k, j)) } }) } })));
      record(
        `2a. latency bound: Salsa, no rate limit, ${latencyMs} ms, -c ${c}`,
        `${fmt((100 * achieved) / ideal, 1)}% of ${fmt(ideal)} rows/s nominal; ${fmt((100 * achieved) / bare, 1)}% of a bare HTTP client on the same sandbox`,
        '≥ 90%',
        achieved / ideal >= 0.9,
        `${fmt(achieved)} rows/s steady (${fmt(n / (r.summary.durationMs / 1000))} over the whole run); bare undici client with ready bodies: ${fmt(bare)} rows/s (${fmt((100 * bare) / ideal, 1)}% of nominal)`,
      );
    } finally {
      await sb.close();
    }
  }
  {
    const n = 2_000;
    const file = join(dir, 'latency-lum.csv');
    await generate(file, n);
    const lum = createLuminateEmulator();
    const sb = await startSandbox({ emulators: [lum], latencyMs });
    try {
      const env = lum.environment(sb.url);
      const r = await cli(['import', file, '-t', 'luminate', '-c', String(c), '--json', '--quiet', '-r', join(dir, 'latency-lum.report.csv')], env);
      const ideal = c / (latencyMs / 1000);
      const achieved = r.summary.achievedPerMinute / 60;
      const form = (k) => new URLSearchParams({ method: 'createOrUpdate', v: '1.0', response_format: 'json', api_key: env.LUMINATE_API_KEY, login_name: env.LUMINATE_LOGIN_NAME, login_password: env.LUMINATE_LOGIN_PASSWORD, primary_email: `bare${k}@example.org`, 'email.primary_address': `bare${k}@example.org`, 'name.first': 'Ann' }).toString();
      const bare = await bareClient(env.LUMINATE_API_URL, c, 400, (k) => ({ path: '/SRConsAPI', init: { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form(k) } }));
      record(
        `2b. latency bound: Luminate, ${latencyMs} ms, -c ${c}`,
        `${fmt((100 * achieved) / ideal, 1)}% of ${fmt(ideal)} rows/s nominal; ${fmt((100 * achieved) / bare, 1)}% of a bare HTTP client on the same sandbox`,
        '≥ 90%',
        achieved / ideal >= 0.9,
        `${fmt(achieved)} rows/s steady (${fmt(n / (r.summary.durationMs / 1000))} over the whole run); bare undici client: ${fmt(bare)} rows/s (${fmt((100 * bare) / ideal, 1)}% of nominal)`,
      );
    } finally {
      await sb.close();
    }
  }
}

async function bareCsv(file) {
  const t = performance.now();
  let n = 0;
  for await (const _ of createReadStream(file, { highWaterMark: 256 * 1024 }).pipe(parse({ bom: true }))) n++;
  return { ms: performance.now() - t, n };
}

async function bareJsonl(file) {
  const t = performance.now();
  let n = 0;
  let rest = '';
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 256 * 1024 })) {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop();
    for (const l of lines) if (l) (JSON.parse(l), n++);
  }
  return { ms: performance.now() - t, n };
}

async function local() {
  const n = 1_000_000;
  let csvBareMs = 0;
  for (const format of ['csv', 'jsonl']) {
    const file = join(dir, `local.${format}`);
    await generate(file, n, format);
    // Best of two, interleaved: this machine's speed drifts by tens of percent between minutes, and a ratio of
    // two one-shot timings would carry that drift.
    const bareOnce = () => (format === 'csv' ? bareCsv(file) : bareJsonl(file));
    const validateOnce = () => cli(['validate', file, '--json', '--quiet', '-r', join(dir, `local-${format}.report.csv`)]);
    const b1 = await bareOnce();
    const v1 = await validateOnce();
    const b2 = await bareOnce();
    const v2 = await validateOnce();
    const bare = b1.ms <= b2.ms ? b1 : b2;
    const r = v1.summary.durationMs <= v2.summary.durationMs ? v1 : v2;
    if (format === 'csv') csvBareMs = bare.ms;
    const ratio = r.summary.durationMs / bare.ms;
    const vsCsv = format === 'jsonl' ? `; ${fmt(r.summary.durationMs / csvBareMs, 2)}× the bare csv-parse pass over the same rows as CSV` : '';
    record(`3. local: validate 1,000,000 ${format.toUpperCase()} rows`, `${fmt(n / (r.summary.durationMs / 1000))} rows/s, ${fmt(ratio, 2)}× the bare ${format === 'csv' ? 'csv-parse' : 'JSON.parse'} pass${vsCsv}`, '≤ 2×', ratio <= 2, `best of 2: bare pass ${fmt(bare.ms / 1000, 2)} s, validate ${fmt(r.summary.durationMs / 1000, 2)} s, peak RSS ${fmt(r.maxRssMb)} MB`);
    rmSync(file);
  }
}

/** The emulator runs in its own process so that its store does not count in the importer's memory. */
function sandboxProcess() {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'sandbox', '--rate-limit', '1000000000'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const url = /SALSA_API_URL=(\S+)/.exec(out);
      const token = /SALSA_API_TOKEN=(\S+)/.exec(out);
      if (url && token) resolve({ child, env: { SALSA_API_URL: url[1], SALSA_API_TOKEN: token[1] } });
    });
    child.on('error', reject);
  });
}

async function memory() {
  const figures = [];
  for (const n of [100_000, 1_000_000]) {
    const file = join(dir, `mem-${n}.csv`);
    await generate(file, n);
    const { child, env } = await sandboxProcess();
    try {
      const r = await cli(['import', file, '-c', '8', '--json', '--quiet', '-r', join(dir, `mem-${n}.report.csv`)], env);
      figures.push({ n, rss: r.maxRssMb, rowsPerSec: n / (r.summary.durationMs / 1000), counts: r.summary.counts });
    } finally {
      child.kill('SIGINT');
    }
    rmSync(file);
  }
  const [small, large] = figures;
  const growth = (large.rss / small.rss - 1) * 100;
  record('4. memory: peak RSS of import, 100,000 vs 1,000,000 rows', `${fmt(small.rss)} MB vs ${fmt(large.rss)} MB (${growth >= 0 ? '+' : ''}${fmt(growth, 1)}%)`, 'larger within 20%, < 200 MB', growth <= 20 && large.rss < 200, `${fmt(small.rowsPerSec)} and ${fmt(large.rowsPerSec)} rows/s with no latency; ${JSON.stringify(large.counts)}`);
}

/**
 * 8: start-up. Paired runs, interleaved (this machine's speed drifts between seconds): a bare `node -e 0`, then the
 * CLI's --version, --help and a validate of the 300-row example; medians of 15 rounds, as ratios to the bare start.
 */
function startup() {
  const time = (args) => {
    const t = performance.now();
    const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'ignore', env: { PATH: process.env.PATH, SYNC_SUPPORTERS_STATE: join(dir, 'startup.db') } });
    if (r.error) throw r.error;
    return performance.now() - t;
  };
  const runs = { bare: [], version: [], help: [], validate: [] };
  for (let i = 0; i < 15; i++) {
    const report = join(dir, `startup-${i}.report.csv`);
    runs.bare.push(time(['-e', '0']));
    runs.version.push(time([BIN, '--version']));
    runs.help.push(time([BIN, '--help']));
    runs.validate.push(time([BIN, 'validate', join(ROOT, 'fixtures/contacts.csv'), '--quiet', '-r', report]));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const bare = median(runs.bare);
  const ratio = (k) => median(runs[k]) / bare;
  record('8a. start-up: --version and --help against a bare `node -e 0`', `${fmt(ratio('version'), 2)}× and ${fmt(ratio('help'), 2)}×`, '≤ 1.3×', ratio('version') <= 1.3 && ratio('help') <= 1.3, `medians of 15 paired runs: bare ${fmt(bare)} ms, --version ${fmt(median(runs.version))} ms, --help ${fmt(median(runs.help))} ms`);
  record('8b. start-up: validate of the 300-row example', `${fmt(ratio('validate'), 2)}× the bare start`, '≤ 2×', ratio('validate') <= 2, `median ${fmt(median(runs.validate))} ms against ${fmt(bare)} ms: loads commander, csv-parse and the mapping, reads the file twice (the date survey, then the rows) and writes an fsynced report`);
}

/**
 * 9: install. `npm ci` of this project's lockfile in an empty folder (packages from the npm cache where it has them;
 * no build: `prepare` needs the sources), against installing the binding it replaced, better-sqlite3, whose
 * prebuilt binary is not reachable here, so that npm compiles SQLite. Wall time and the CPU of npm and its children.
 */
function install() {
  const npm = (cwd, args) => {
    const t = performance.now();
    // bash's `times` prints the CPU its children used: npm, node-gyp, the compiler.
    const r = spawnSync('bash', ['-c', `npm ${args} --no-audit --no-fund --prefer-offline >/dev/null 2>&1; rc=$?; times; exit $rc`], { cwd, encoding: 'utf8' });
    const wallMs = performance.now() - t;
    const cpu = r.stdout.trim().split('\n').at(-1).split(/\s+/).map((x) => { const m = /(\d+)m([\d.]+)s/.exec(x); return m ? Number(m[1]) * 60 + Number(m[2]) : 0; });
    return { ok: r.status === 0, wallMs, cpuSec: cpu[0] + cpu[1] };
  };
  const ours = join(dir, 'install-ours');
  mkdirSync(ours);
  for (const f of ['package.json', 'package-lock.json']) copyFileSync(join(ROOT, f), join(ours, f));
  const a = npm(ours, 'ci --ignore-scripts');
  const theirs = join(dir, 'install-better-sqlite3');
  mkdirSync(theirs);
  const b = npm(theirs, 'install better-sqlite3@^12 --foreground-scripts');
  if (!a.ok || !b.ok) {
    record('9. install: npm ci', 'not measured', 'no compile', false, `npm failed (${a.ok ? '' : 'npm ci of the lockfile'}${!a.ok && !b.ok ? ', ' : ''}${b.ok ? '' : 'better-sqlite3'}): is the npm registry reachable?`);
    return;
  }
  record('9. install: npm ci of the lockfile, against installing better-sqlite3 alone', `${fmt(a.wallMs / 1000, 1)} s wall, ${fmt(a.cpuSec, 1)} s CPU; better-sqlite3 alone ${fmt(b.wallMs / 1000, 1)} s, ${fmt(b.cpuSec, 1)} s CPU (${fmt(b.cpuSec / a.cpuSec, 1)}×)`, 'nothing compiled', a.cpuSec < b.cpuSec / 2, 'the whole dependency tree (libsql prebuilt from the registry) against the one package that compiles SQLite when its prebuilt binary cannot be fetched');
}

console.error(`sync-supporters bench on ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}, ${fmt(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
try {
  if (want('ceiling')) await ceiling();
  if (want('ceiling') || want('segment')) await ceilingWithSegment();
  if (want('ceiling') || want('policy')) await policyCost();
  if (want('latency')) await latency();
  if (want('migrations')) await migrations();
  if (want('pacing')) await pacing();
  if (want('faults')) await faults();
  if (want('startup')) startup();
  if (want('install')) install();
  if (want('local')) await local();
  if (want('memory')) await memory();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log('\n| measure | figure | target | met | detail |\n| --- | --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.measure} | ${r.figure} | ${r.target} | ${r.ok} | ${r.detail} |`);
