import { randomUUID } from 'node:crypto';
import type { EmulatorReply } from '../../sandbox/emulator-types.js';
import { SEGMENT_MEMBERS_PATH, SEGMENT_MEMBERS_SEARCH_PATH, SEGMENT_SEARCH_PATH } from './fields.js';

type Obj = Record<string, unknown>;

export interface Segment {
  segmentId: string;
  name: string;
  type: string;
  members: Set<string>;
  /** A CRM segment, whose members the API may change. */
  crm: boolean;
}

/** How a call is answered: the emulator wraps a payload in its envelope, and counts an error as a failed call. */
export interface Replies {
  ok(payload: unknown): EmulatorReply;
  error(status: number, message: string): EmulatorReply;
}

/** The account's segments, and what the calls on them need to know. */
interface SegmentState {
  segments: Map<string, Segment>;
  maxBatchSize: number;
  supporterExists(id: string): boolean;
  /** Searches that computed member counts (the vendor's clients turn them off: they slow the call down). */
  countedSearches: number;
}

/**
 * Salsa's segments (groups) in the emulator, as the vendor's clients use them (docs/VENDOR-APIS.md): a search that
 * pages through all segments or finds them by SEGMENT_ID, members added (PUT) or removed (DELETE) a batch of
 * supporterIds at a time, and a member search. Each supporter comes back with a result; the vendor's names for them
 * are not documented, so the emulator answers in the supporters call's words: ADDED (now a member), UPDATED (was
 * one already), DELETED (removed), NOT_FOUND (no such supporter, or not a member to remove).
 */
export function createSegmentStore(options: { maxBatchSize: number; names: string[]; supporterExists(id: string): boolean; notCrm?: string[] }) {
  const state: SegmentState = { segments: new Map(), maxBatchSize: options.maxBatchSize, supporterExists: options.supporterExists, countedSearches: 0 };
  const add = (name: string, crm = true) => {
    const s: Segment = { segmentId: randomUUID(), name, type: crm ? 'CUSTOM' : 'DEFAULT', members: new Set(), crm };
    state.segments.set(s.segmentId, s);
    return s;
  };
  for (const n of options.names) add(n);
  // Segments the API cannot manage (not CRM segments): their members calls answer 405 "Method not allowed".
  for (const n of options.notCrm ?? []) add(n, false);

  return {
    add,
    countedSearches: () => state.countedSearches,
    list: () => [...state.segments.values()].map((s) => ({ ...view(s), members: [...s.members].sort() })),
    /** Forgets a deleted supporter's memberships. */
    forget(supporterId: string) {
      for (const s of state.segments.values()) s.members.delete(supporterId);
    },
    /** The answer for a segments path, or undefined when the path is not one of them. */
    handle: (path: string, method: string, payload: Obj | undefined, r: Replies): EmulatorReply | undefined => handle(state, path, method, payload, r),
  };
}

/** What createSegmentStore makes: the account's segments and the calls on them. */
export type SegmentStore = ReturnType<typeof createSegmentStore>;

const view = (s: Segment) => ({ segmentId: s.segmentId, name: s.name, type: s.type });

function page<T>(items: T[], payload: Obj, maxBatchSize: number) {
  const offset = Math.max(0, Number(payload.offset ?? 0));
  const count = Math.min(Math.max(1, Number(payload.count ?? 20)), maxBatchSize);
  // Like the supporters search: count and the page, no total (page until a short page).
  return { offset, count, items: items.slice(offset, offset + count) };
}

const tooMany = (n: number, maxBatchSize: number, r: Replies) => (n > maxBatchSize ? r.error(429, `Requested batch size exceeds the allowed size of: ${maxBatchSize}`) : undefined);

/** Routes a segments call: the segment search, or a call on one segment's members. */
function handle(state: SegmentState, path: string, method: string, payload: Obj | undefined, r: Replies): EmulatorReply | undefined {
  if (path !== SEGMENT_SEARCH_PATH && path !== SEGMENT_MEMBERS_PATH && path !== SEGMENT_MEMBERS_SEARCH_PATH) return undefined;
  if (!payload || typeof payload !== 'object') return r.error(400, 'The request has no payload');
  if (path === SEGMENT_SEARCH_PATH) return searchSegments(state, method, payload, r);
  const segment = state.segments.get(String(payload.segmentId ?? ''));
  if (!segment) return r.error(400, `No segment with segmentId ${String(payload.segmentId ?? '(none)')}`);
  if (path === SEGMENT_MEMBERS_SEARCH_PATH) {
    if (method !== 'POST') return r.error(405, `Method ${method} is not allowed here`);
    const p = page([...segment.members].sort(), payload, state.maxBatchSize);
    return r.ok({ offset: p.offset, count: p.items.length, supporters: p.items.map((supporterId) => ({ supporterId })) });
  }
  return changeMembers(state, segment, method, payload, r);
}

/** The segment search: a page of all segments, or those the identifiers name. */
function searchSegments(state: SegmentState, method: string, payload: Obj, r: Replies): EmulatorReply {
  if (method !== 'POST') return r.error(405, `Method ${method} is not allowed here`);
  const ids = payload.identifiers;
  if (ids !== undefined) {
    if (!Array.isArray(ids) || payload.identifierType !== 'SEGMENT_ID') return r.error(400, 'segment search needs identifiers with identifierType SEGMENT_ID');
    const refused = tooMany(ids.length, state.maxBatchSize, r);
    if (refused) return refused;
  }
  const found = ids ? (ids as string[]).map((id) => state.segments.get(String(id))).filter((s): s is Segment => !!s) : [...state.segments.values()];
  const counts = payload.includeMemberCounts !== false;
  if (counts) state.countedSearches++;
  const p = page(found, payload, state.maxBatchSize);
  const items = p.items.map((s) => ({ ...view(s), ...(counts ? { totalMembers: s.members.size } : {}), result: 'FOUND' }));
  // Engage leaves empty fields out of its answers: an empty page has no segments list at all.
  return r.ok(items.length > 0 ? { offset: p.offset, count: items.length, segments: items } : { offset: p.offset, count: 0 });
}

/** Adds (PUT) or removes (DELETE) a batch of supporters to or from one segment. */
function changeMembers(state: SegmentState, segment: Segment, method: string, payload: Obj, r: Replies): EmulatorReply {
  if (method !== 'PUT' && method !== 'DELETE') return r.error(405, `Method ${method} is not allowed here`);
  if (!segment.crm) return r.error(405, 'Method not allowed');
  const ids = payload.supporterIds;
  if (!Array.isArray(ids) || ids.some((x) => typeof x !== 'string')) return r.error(400, 'payload.supporterIds must be a list of supporter ids');
  const refused = tooMany(ids.length, state.maxBatchSize, r);
  if (refused) return refused;
  const results = (ids as string[]).map((supporterId) => {
    if (!state.supporterExists(supporterId)) return { supporterId, result: 'NOT_FOUND' };
    if (method === 'PUT') {
      const had = segment.members.has(supporterId);
      segment.members.add(supporterId);
      return { supporterId, result: had ? 'UPDATED' : 'ADDED' };
    }
    return { supporterId, result: segment.members.delete(supporterId) ? 'DELETED' : 'NOT_FOUND' };
  });
  return r.ok({ segmentId: segment.segmentId, supporters: results });
}
