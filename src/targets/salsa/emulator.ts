import { randomUUID } from 'node:crypto';
import type { Emulator, EmulatorReply, EmulatorRequest } from '../../sandbox/emulator-types.js';
import { METRICS_PATH, SEARCH_PATH, SUPPORTER_PATH } from './fields.js';
import { CallRate } from './emulator-rate.js';
import { customFieldsOf, searchSupporters, seedSupporters, writeSupporters, type SupporterStore } from './emulator-supporters.js';
import type { Obj } from './emulator-validate.js';
import { createSegmentStore, type Replies, type SegmentStore } from './segments-emulator.js';

export interface SalsaEmulatorOptions {
  token?: string;
  /** Calls a minute per token (metrics `rateLimit`). */
  rateLimit?: number;
  /**
   * How the limit is counted: over a sliding minute (the default), or in fixed windows this long holding the same
   * share of it (1000: a per-minute limit of 600 enforced as 10 calls in each second), as gateways often do.
   */
  rateWindowMs?: number;
  /**
   * Another integration on the same token (a website form, a nightly sync): its calls at this steady pace count in
   * the same limit, and are refused like anyone's when it is reached. Running for a minute already, unless it
   * starts `startAfterMs` after the emulator.
   */
  sharedWith?: { perMinute: number; startAfterMs?: number };
  maxBatchSize?: number;
  /** Custom fields that exist in this account, by name. */
  customFields?: string[];
  /** Segments (groups) that exist in this account, by name. */
  segments?: string[];
  /** Segments the API cannot manage (not CRM segments): their members calls answer 405 (the built-in sandbox has "All Supporters"). */
  notCrmSegments?: string[];
  now?: () => number;
}

/** The emulated account: its supporters and segments, its token and call limit. */
interface SalsaAccount extends SupporterStore {
  token: string;
  rateLimit: number;
  rate: CallRate;
  segments: SegmentStore;
}

const json = (status: number, body: unknown, headers?: Record<string, string>): EmulatorReply => ({ status, body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });

/**
 * An in-memory Salsa Engage account that answers as docs/VENDOR-APIS.md describes. It is strict on purpose: a lenient
 * emulator would hide the bugs real users hit.
 */
export function createSalsaEmulator(options: SalsaEmulatorOptions = {}): Emulator & { supporters(): Obj[]; segments(): Array<{ segmentId: string; name: string; type: string; members: string[] }>; countedSegmentSearches(): number; otherClient(): { sent: number; refused: number } } {
  const token = options.token ?? 'sandbox-salsa-token';
  const rateLimit = options.rateLimit ?? 300;
  const maxBatchSize = options.maxBatchSize ?? 20;
  const now = options.now ?? Date.now;
  // Custom fields are typed; values travel as strings. A value that does not fit its type is not applied, and the
  // answer hangs a `warnings` entry on that customFieldValue (the supporter itself is still written).
  const customFields = customFieldsOf(options.customFields ?? ['Volunteer', 'Favorite Campaign', 'Member Since:DATE', 'Donor Level:NUMBER', 'Board Member:BOOLEAN']);
  const supporters = new Map<string, Obj>();
  const segments = createSegmentStore({ maxBatchSize, names: options.segments ?? ['Spring Volunteers', 'Donors 2025', 'Volunteer', 'Volunteer Leads'], notCrm: options.notCrmSegments ?? [], supporterExists: (id) => supporters.has(id) });
  const rate = new CallRate(rateLimit, options.rateWindowMs ?? 60_000, options.sharedWith, now);
  const metrics = { totalAPICalls: 0, totalAPICallFailures: 0, supporterAdd: 0, supporterUpdate: 0, supporterDelete: 0, lastAPICall: '' };
  const account: SalsaAccount = { token, rateLimit, maxBatchSize, now, customFields, supporters, byEmail: new Map(), segments, rate, metrics };

  return {
    name: 'salsa',
    handles: (path) => path.startsWith('/api/integration/ext/v1/'),
    environment: (baseUrl) => ({ SALSA_API_URL: baseUrl, SALSA_API_TOKEN: token }),
    supporters: () => [...supporters.values()].map((s) => structuredClone(s)),
    segments: () => segments.list(),
    countedSegmentSearches: () => segments.countedSearches(),
    otherClient: () => ({ sent: rate.other.sent, refused: rate.other.refused }),
    snapshot: () => ({ supporters: [...supporters.values()], segments: segments.list(), metrics: { ...metrics, rateLimit, maxBatchSize } }),
    seed: (records) => seedSupporters(account, records as Obj[]),
    itemsIn,
    // Faults are for data calls; reading the limits is left alone (a run reads them once, before anything else).
    faultable: (path) => !path.endsWith('/metrics'),
    faultReply,
    handle: (req) => handle(account, req),
  };
}

/** How many supporters (or identifiers, or segment members) a call carries. */
function itemsIn(req: EmulatorRequest): number {
  const j = (req.json ?? undefined) as { payload?: { supporters?: unknown[]; identifiers?: unknown[] } } | undefined;
  return j?.payload?.supporters?.length ?? j?.payload?.identifiers?.length ?? (j?.payload as { supporterIds?: unknown[] } | undefined)?.supporterIds?.length ?? 0;
}

/** Salsa's own wording of an injected rate fault. */
function faultReply(kind: string): EmulatorReply | undefined {
  const rate = JSON.stringify({ errors: [{ code: 429, message: 'Call rate has been exceeded' }] });
  if (kind === '429') return { status: 429, headers: { 'content-type': 'application/json', 'retry-after': '1' }, body: rate };
  if (kind === '429-bare') return { status: 429, headers: { 'content-type': 'application/json' }, body: rate };
  // The vendor's own clients see the per-minute message inside an HTTP 200 (docs/VENDOR-APIS.md).
  if (kind === 'ratetext') return { status: 200, headers: { 'content-type': 'text/plain' }, body: 'Your per minute call rate has been exceeded. Please try again later.' };
  return undefined;
}

/** Salsa's answer envelope around a payload (and, for an error, its errors). */
function envelope(account: SalsaAccount, payload: unknown, extra: Obj = {}) {
  return { id: randomUUID(), timestamp: new Date(account.now()).toISOString(), header: { processingTime: 1, serverId: 'sandbox' }, payload, ...extra };
}

/** An error answer; it counts in the metrics' failures. */
function errorReply(account: SalsaAccount, status: number, message: string, headers?: Record<string, string>): EmulatorReply {
  account.metrics.totalAPICallFailures++;
  return json(status, envelope(account, undefined, { errors: [{ id: randomUUID(), code: status, message }] }), headers);
}

/** One call: the token and the call limit first, then metrics, segments, the supporters search or supporters. */
function handle(account: SalsaAccount, req: EmulatorRequest): EmulatorReply {
  const { metrics, rate } = account;
  const r: Replies = { ok: (p) => json(200, envelope(account, p)), error: (status, message) => errorReply(account, status, message) };
  const path = req.path.replace(/\/{2,}/g, '/').replace(/\/$/, '');
  const auth = req.headers.authtoken;
  if (auth !== account.token) return r.error(401, 'Invalid or missing authToken');
  const t = account.now();
  rate.replayOther(t);
  if (!rate.admit(t)) return r.error(429, 'Call rate has been exceeded');
  metrics.totalAPICalls++;
  metrics.lastAPICall = new Date(t).toISOString();
  if (path === METRICS_PATH && req.method === 'GET') {
    // currentRateLimit: what is left of the minute's calls for this token, whoever made them (assumed: the
    // vendor does not document it; docs/VENDOR-APIS.md).
    return r.ok({ rateLimit: account.rateLimit, maxBatchSize: account.maxBatchSize, currentRateLimit: rate.left(), ...metrics });
  }
  let body = req.json as Obj | undefined;
  if (body === undefined) {
    try {
      body = JSON.parse(req.body) as Obj;
    } catch {
      return r.error(400, 'The request body is not valid JSON');
    }
  }
  const payload = body?.payload as Obj | undefined;
  const segmentReply = account.segments.handle(path, req.method, payload, r);
  if (segmentReply) return segmentReply;
  if (path === SEARCH_PATH && req.method === 'POST') {
    if (!payload || typeof payload !== 'object') return r.error(400, 'The request has no payload');
    return searchSupporters(account, payload, r);
  }
  if (path !== SUPPORTER_PATH) return r.error(404, `No such endpoint: ${req.method} ${path}`);
  return writeSupporters(account, req.method, payload, r);
}
