import type { AttemptOutcome, GroupRef, MembershipChange } from '../../core/types.js';
import { tryJson, type HttpReply } from '../http.js';
import { classifySalsaReply } from './reply.js';

type Post = (body: string) => Promise<{ ok: true; reply: HttpReply } | { ok: false; reason: string }>;

/**
 * Every segment of the account (POST …/segments/search without identifiers), paging until a short page as the
 * supporters search does (docs/VENDOR-APIS.md "Segments"). A segment is named by its `name`; its id is `segmentId`.
 */
export async function listSegments(post: Post, pageSize: number, nextCall?: () => Promise<void>): Promise<{ kind: 'found'; groups: GroupRef[] } | Exclude<AttemptOutcome, { kind: 'results' }>> {
  const groups: GroupRef[] = [];
  for (let offset = 0; ; ) {
    if (offset > 0) await nextCall?.();
    // Without member counts: counting "really slows this call down" (the vendor's own clients turn it off).
    const r = await post(JSON.stringify({ payload: { offset, count: pageSize, includeMemberCounts: false } }));
    if (!r.ok) return { kind: 'retry', reason: r.reason };
    const json = (tryJson(r.reply.text) ?? {}) as { payload?: { total?: number; count?: number; segments?: Array<Record<string, unknown>> } };
    // Engage leaves empty fields out of its answers: a page without a segments list is an empty page.
    const page = r.reply.status === 200 && json.payload && json.payload.segments === undefined ? [] : json.payload?.segments;
    if (r.reply.status !== 200 || !Array.isArray(page)) {
      const classified = classifySalsaReply(r.reply, 0);
      if (classified.kind === 'results') return { kind: 'retry', reason: `unexpected segments search answer (HTTP ${r.reply.status})`, httpStatus: r.reply.status };
      return classified;
    }
    for (const s of page) {
      if (typeof s.segmentId === 'string' && typeof s.name === 'string') groups.push({ id: s.segmentId, label: s.name, ...(typeof s.type === 'string' ? { type: s.type } : {}) });
    }
    offset += page.length;
    const total = json.payload?.total;
    if (page.length < pageSize || (typeof total === 'number' && offset >= total)) break;
  }
  return { kind: 'found', groups };
}

/**
 * Adds supporters to one segment (PUT …/segments/members) or removes them (DELETE, same body): one result per
 * supporter, in the supporters call's words (ADDED, UPDATED = was a member, DELETED, NOT_FOUND).
 */
export async function sendSegmentMembers(send: (method: 'PUT' | 'DELETE', body: string) => ReturnType<Post>, change: MembershipChange, segmentId: string, supporterIds: string[]): Promise<AttemptOutcome> {
  const r = await send(change === 'add' ? 'PUT' : 'DELETE', JSON.stringify({ payload: { segmentId, supporterIds } }));
  if (!r.ok) return { kind: 'retry', reason: r.reason };
  return classifySalsaReply(r.reply, supporterIds.length);
}
