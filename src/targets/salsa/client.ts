import { randomUUID } from 'node:crypto';
import { RunAbortedError } from '../../core/errors.js';
import type { AttemptOutcome, ConnectOptions, Operation, TargetSession } from '../../core/types.js';
import { checkEndpoint, createHttp, tryJson } from '../http.js';
import { classifySalsaReply } from './reply.js';
import { METRICS_PATH, SEARCH_PATH, SEGMENT_MEMBERS_PATH, SEGMENT_SEARCH_PATH, SUPPORTER_PATH } from './fields.js';
import { searchSupporters } from './lookup.js';
import { listSegments, sendSegmentMembers } from './segments.js';

export { DEFAULT_SALSA_URL } from './fields.js';
import { DEFAULT_SALSA_URL } from './fields.js';
/** Vendor overview: 300 calls a minute, 20 items a call; metrics is the authority when it answers. */
export const DEFAULT_RATE = 300;
export const DEFAULT_BATCH = 20;

export interface SalsaMetrics {
  rateLimit?: number;
  maxBatchSize?: number;
  currentRateLimit?: number;
}

/** Connects to one Salsa account: reads its limits from metrics, then sends batches. */
export async function connectSalsa(options: ConnectOptions): Promise<TargetSession> {
  const base = checkEndpoint(options.env.SALSA_API_URL || DEFAULT_SALSA_URL, 'SALSA_API_URL');
  const token = options.env.SALSA_API_TOKEN ?? '';
  const http = createHttp(options.concurrency + 1, options.timeoutMs, options.trace);
  const url = (path: string) => new URL(base.pathname.replace(/\/$/, '') + path, base);
  const headers = { authToken: token, 'content-type': 'application/json', accept: 'application/json' };
  const notes: string[] = [];

  let metrics: SalsaMetrics | undefined;
  const got = await http.send(url(METRICS_PATH), { method: 'GET', headers });
  if (got.ok && (got.reply.status === 401 || got.reply.status === 403)) {
    await http.close();
    throw new RunAbortedError(`Salsa refused the API token (HTTP ${got.reply.status}) when reading metrics. Check SALSA_API_TOKEN.`, 'E_AUTH');
  }
  if (got.ok && got.reply.status === 200) {
    const payload = (tryJson(got.reply.text) as { payload?: SalsaMetrics } | undefined)?.payload;
    if (payload) metrics = payload;
  }
  if (!metrics) notes.push(`could not read Salsa metrics (${got.ok ? `HTTP ${got.reply.status}` : got.reason}); assuming ${DEFAULT_BATCH} per batch and ${DEFAULT_RATE} calls a minute`);
  const positive = (n: unknown) => (typeof n === 'number' && n > 0 ? n : undefined);
  const maxBatchSize = positive(metrics?.maxBatchSize) ?? DEFAULT_BATCH;
  const rateLimit = positive(metrics?.rateLimit) ?? DEFAULT_RATE;
  // currentRateLimit is read as what is available now when it is lower (inferred, not documented): the run starts
  // at that pace and recovers toward rateLimit as calls go through.
  const current = positive(metrics?.currentRateLimit);
  // The metrics call itself is one of the minute's calls: only what others used says the token is shared (and
  // under 2% of the limit, the pacer runs at the ceiling anyway).
  const startRatePerMinute = current && current + 1 < rateLimit * 0.98 ? current + 1 : undefined;
  if (startRatePerMinute) notes.push(`Salsa reports ${current} of ${rateLimit} calls a minute available now (another integration may be using the token); starting at that pace`);

  return {
    notes,
    // A search that fills its page (maxBatchSize) must ask for the next one, which is usually empty: asking for one
    // identity fewer gets a short page, the end, in one call (an email shared by two supporters still pages on).
    limits: { maxBatchSize, lookupBatchSize: Math.max(1, maxBatchSize - 1), ratePerMinute: rateLimit, startRatePerMinute, defaultConcurrency: 4, fromRemote: !!metrics, currentRatePerMinute: current },
    async send(operation: Operation, payloads: unknown[]): Promise<AttemptOutcome> {
      // A delete row may name several supporters ({supporterIds}); they go out as items and come back as one answer.
      const groups = payloads.map((p) => ((p as { supporterIds?: string[] }).supporterIds ?? [p]) as unknown[]);
      const items = groups.flat().map((x) => (typeof x === 'string' ? { supporterId: x } : x));
      const body = JSON.stringify({ header: { refId: randomUUID() }, payload: { supporters: items } });
      const r = await http.send(url(SUPPORTER_PATH), { method: operation === 'delete' ? 'DELETE' : 'PUT', headers, body });
      if (!r.ok) return { kind: 'retry', reason: r.reason };
      const outcome = classifySalsaReply(r.reply, items.length);
      if (outcome.kind !== 'results' || items.length === payloads.length) return outcome;
      let i = 0;
      const results = groups.map((g) => {
        const part = outcome.results.slice(i, (i += g.length));
        const failed = part.find((x) => x.status !== 'DELETED');
        return failed ?? { status: 'DELETED' as const, remoteId: part.map((x) => x.remoteId).join(' ') };
      });
      return { ...outcome, results };
    },
    // A lookup only reads: an interrupt abandons it (a write in flight is always waited for).
    lookup: (kind, values, signal, nextCall) => searchSupporters((body) => http.send(url(SEARCH_PATH), { method: 'POST', headers, body, signal }), kind, values, maxBatchSize, nextCall),
    async readAllowance(signal) {
      const r = await http.send(url(METRICS_PATH), { method: 'GET', headers, signal });
      if (!r.ok || r.reply.status !== 200) return undefined;
      const left = (tryJson(r.reply.text) as { payload?: SalsaMetrics } | undefined)?.payload?.currentRateLimit;
      return typeof left === 'number' && left >= 0 ? left : undefined;
    },
    listGroups: (signal, nextCall) => listSegments((body) => http.send(url(SEGMENT_SEARCH_PATH), { method: 'POST', headers, body, signal }), maxBatchSize, nextCall),
    // A write: never abandoned in flight (its answer says what happened).
    sendMembership: (change, segmentId, ids) => sendSegmentMembers((method, body) => http.send(url(SEGMENT_MEMBERS_PATH), { method, headers, body }), change, segmentId, ids),
    close: () => http.close(),
  };
}
