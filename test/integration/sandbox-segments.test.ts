import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startSalsaSandbox, type TestSandbox } from '../support/helpers.js';

// The sandbox serves Salsa's segment calls as the vendor's clients use them, behind the same token, minute budget,
// batch size and injected faults as every other call (groundwork for putting imported people into segments).

let sb: TestSandbox | undefined;
afterEach(async () => {
  await sb?.sandbox.close();
  sb = undefined;
});

async function call(method: 'POST' | 'PUT' | 'DELETE', path: string, payload: unknown, token = sb!.token) {
  const res = await request(`${sb!.sandbox.url}/api/integration/ext/v1${path}`, { method, headers: { authToken: token, 'content-type': 'application/json' }, body: JSON.stringify({ payload }) });
  const text = await res.body.text();
  return { status: res.statusCode, json: text.startsWith('{') ? (JSON.parse(text) as { payload?: Record<string, unknown>; errors?: Array<{ message: string }> }) : undefined, text };
}

describe('the sandbox serves Salsa segments', () => {
  it('pages through all segments (no total: page until a short one) and finds them by SEGMENT_ID', async () => {
    sb = await startSalsaSandbox({ segments: ['A', 'B', 'C'] });
    const pages: string[][] = [];
    for (let offset = 0; ; offset += 2) {
      const r = await call('POST', '/segments/search', { offset, count: 2 });
      const segs = (r.json!.payload!.segments ?? []) as Array<{ name: string; segmentId: string; result: string }>;
      expect(r.json!.payload!.total).toBeUndefined();
      pages.push(segs.map((s) => s.name));
      if (segs.length < 2) break;
    }
    expect(pages).toEqual([['A', 'B'], ['C']]);
    const b = sb.salsa.segments().find((s) => s.name === 'B')!;
    // Member counts unless asked without them (as the vendor's clients ask: counting slows the call down).
    const byId = await call('POST', '/segments/search', { identifiers: [b.segmentId], identifierType: 'SEGMENT_ID', offset: 0, count: 20 });
    expect(byId.json!.payload!.segments).toEqual([{ segmentId: b.segmentId, name: 'B', type: 'CUSTOM', totalMembers: 0, result: 'FOUND' }]);
    const lean = await call('POST', '/segments/search', { identifiers: [b.segmentId], identifierType: 'SEGMENT_ID', offset: 0, count: 20, includeMemberCounts: false });
    expect(lean.json!.payload!.segments).toEqual([{ segmentId: b.segmentId, name: 'B', type: 'CUSTOM', result: 'FOUND' }]);
    // Engage leaves empty fields out: a page past the end has no segments list at all.
    expect((await call('POST', '/segments/search', { offset: 10, count: 2 })).json!.payload).toEqual({ offset: 10, count: 0 });
  });

  it('adds and removes members a batch at a time, each supporter with a result; lists members; refuses too large a batch and an unknown segment', async () => {
    sb = await startSalsaSandbox({ segments: ['Spring Volunteers'], maxBatchSize: 3 });
    sb.salsa.seed!([{ supporterId: 's1', firstName: 'A' }, { supporterId: 's2', firstName: 'B' }]);
    const seg = sb.salsa.segments()[0]!.segmentId;
    const added = await call('PUT', '/segments/members', { segmentId: seg, supporterIds: ['s1', 's2', 'nobody'] });
    expect(added.json!.payload!.supporters).toEqual([{ supporterId: 's1', result: 'ADDED' }, { supporterId: 's2', result: 'ADDED' }, { supporterId: 'nobody', result: 'NOT_FOUND' }]);
    const again = await call('PUT', '/segments/members', { segmentId: seg, supporterIds: ['s1'] });
    expect(again.json!.payload!.supporters).toEqual([{ supporterId: 's1', result: 'UPDATED' }]);
    const removed = await call('DELETE', '/segments/members', { segmentId: seg, supporterIds: ['s2', 's2'] });
    expect(removed.json!.payload!.supporters).toEqual([{ supporterId: 's2', result: 'DELETED' }, { supporterId: 's2', result: 'NOT_FOUND' }]);
    expect(sb.salsa.segments()[0]!.members).toEqual(['s1']);
    const listed = await call('POST', '/segments/members/search', { segmentId: seg, offset: 0, count: 3 });
    expect(listed.json!.payload!.supporters).toEqual([{ supporterId: 's1' }]);
    const big = await call('PUT', '/segments/members', { segmentId: seg, supporterIds: ['s1', 's2', 's1', 's2'] });
    expect(big.status).toBe(429);
    expect(big.text).toMatch(/Requested batch size exceeds the allowed size of: 3/);
    const unknown = await call('PUT', '/segments/members', { segmentId: 'no-such-segment', supporterIds: ['s1'] });
    expect(unknown.status).toBe(400);
  });

  it('the same token and injected faults apply', async () => {
    sb = await startSalsaSandbox({ segments: ['A'], faults: '503*1,only=segments' });
    // A fault answers before the account sees the call, as a gateway in front of it would.
    expect((await call('POST', '/segments/search', { offset: 0, count: 20 })).status).toBe(503);
    expect((await call('POST', '/segments/search', { offset: 0, count: 20 })).status).toBe(200);
    expect((await call('POST', '/segments/search', { offset: 0, count: 20 }, 'wrong')).status).toBe(401);
  });
});
