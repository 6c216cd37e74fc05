import type { FoundRecord, IdentityKind, LookupOutcome } from '../../core/types.js';
import { normaliseEmail } from '../../mapping/values.js';
import { tryJson, type HttpReply } from '../http.js';
import { classifySalsaReply } from './reply.js';
import { emailOf, toBackup } from './flat.js';

type Obj = Record<string, unknown>;


const IDENTIFIER_TYPE: Record<IdentityKind, string> = { id: 'SUPPORTER_ID', email: 'EMAIL_ADDRESS', externalId: 'EXTERNAL_ID' };
function label(s: Obj): string {
  const name = [s.firstName, s.lastName].filter((x) => typeof x === 'string' && x).join(' ');
  const email = emailOf(s);
  return [name || '(no name)', email ? `<${email}>` : ''].filter(Boolean).join(' ');
}

/**
 * POST …/supporters/search for one kind of identifier, paging until a short page.
 * One email may return more than one supporter: every match is kept.
 */
export async function searchSupporters(post: (body: string) => Promise<{ ok: true; reply: HttpReply } | { ok: false; reason: string }>, kind: IdentityKind, values: string[], pageSize: number, nextCall?: () => Promise<void>): Promise<LookupOutcome> {
  const records = new Map<string, FoundRecord[]>(values.map((v) => [v, []]));
  const keyOf = (v: string) => (kind === 'email' ? normaliseEmail(v) : v);
  const index = new Map(values.map((v) => [keyOf(v), v]));
  for (let offset = 0; ; ) {
    if (offset > 0) await nextCall?.();
    const r = await post(JSON.stringify({ payload: { identifiers: values, identifierType: IDENTIFIER_TYPE[kind], offset, count: pageSize } }));
    if (!r.ok) return { kind: 'retry', reason: r.reason };
    // A truncated or HTML answer is not JSON: classified below like any other reply, never thrown.
    const json = (tryJson(r.reply.text) ?? {}) as { payload?: { total?: number; count?: number; supporters?: Obj[] } };
    const page = json.payload?.supporters;
    if (r.reply.status !== 200 || !Array.isArray(page)) {
      const classified = classifySalsaReply(r.reply, 0);
      if (classified.kind === 'results') return { kind: 'retry', reason: `unexpected search answer (HTTP ${r.reply.status})`, httpStatus: r.reply.status };
      return classified;
    }
    for (const s of page) {
      if (s.result !== undefined && s.result !== 'FOUND') continue;
      const matched = kind === 'id' ? String(s.supporterId) : kind === 'email' ? normaliseEmail(emailOf(s) ?? '') : String(s.externalSystemId ?? '');
      const asked = index.get(matched);
      if (asked === undefined) continue;
      const list = records.get(asked)!;
      if (!list.some((x) => x.remoteId === s.supporterId)) list.push({ remoteId: String(s.supporterId), label: label(s), backup: toBackup(s), modifiedAt: typeof s.lastModified === 'string' ? s.lastModified : undefined, email: emailOf(s) });
    }
    offset += page.length;
    // Page until a page comes back shorter than asked for: production answers do not always carry `total` (when one
    // does, it saves the last, empty page).
    const total = json.payload?.total;
    if (page.length < pageSize || (typeof total === 'number' && offset >= total)) break;
  }
  return { kind: 'found', records };
}
