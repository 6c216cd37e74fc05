/**
 * Scripted trouble for the sandbox (`--faults`), so retries, splits and resumes are tested in CI.
 * Spec: comma-separated `kind:probability` (random, seeded) or `kind*N` (the next N matching requests), plus
 * `seed=N` and `only=<text>` (faults only for requests whose "METHOD /path" contains it, e.g. only=DELETE). Kinds:
 *   429        rate exceeded, with Retry-After: 1
 *   429-bare   rate exceeded, no Retry-After
 *   ratetext   HTTP 200 whose body is the per-minute rate message
 *   500 502 503 504   gateway errors with an HTML body (500: JSON body, "non-recoverable")
 *   reset      connection closed before the request is processed
 *   reset-after  processed, then the connection is closed without an answer
 *   slow       processed, answered after --slow-ms (past the client's timeout)
 *   truncated  processed, the JSON answer cut in half
 */
import { UsageError } from '../core/errors.js';

export type FaultKind = '429' | '429-bare' | 'ratetext' | '500' | '502' | '503' | '504' | 'reset' | 'reset-after' | 'slow' | 'truncated';
const KINDS: FaultKind[] = ['429', '429-bare', 'ratetext', '500', '502', '503', '504', 'reset', 'reset-after', 'slow', 'truncated'];

interface Rule {
  kind: FaultKind;
  probability?: number;
  remaining?: number;
}

export interface FaultPlan {
  /** The fault for this request ("METHOD /path"), if any. Only data calls (not metrics) get faults. */
  pick(request: string): FaultKind | undefined;
  describe(): string;
}

/** Mulberry32: small, seeded, good enough to make fault runs repeatable. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function parseFaults(spec: string | undefined): FaultPlan {
  const rules: Rule[] = [];
  let seed = 1;
  let only: string | undefined;
  for (const part of (spec ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    let m: RegExpExecArray | null;
    if ((m = /^seed=(\d+)$/.exec(part))) seed = Number(m[1]);
    else if ((m = /^only=(.+)$/.exec(part))) only = m[1];
    else if ((m = /^([\w-]+):(0?\.\d+|1(?:\.0+)?|0)$/.exec(part)) && KINDS.includes(m[1] as FaultKind)) rules.push({ kind: m[1] as FaultKind, probability: Number(m[2]) });
    else if ((m = /^([\w-]+)\*(\d+)$/.exec(part)) && KINDS.includes(m[1] as FaultKind)) rules.push({ kind: m[1] as FaultKind, remaining: Number(m[2]) });
    else throw new UsageError(`bad fault "${part}": use kind:probability or kind*count with kinds ${KINDS.join(', ')}, plus seed=N, only=<path>`);
  }
  const random = seeded(seed);
  return {
    pick(request) {
      if (/metrics$/.test(request) || (only && !request.includes(only))) return undefined;
      for (const r of rules) {
        if (r.remaining !== undefined && r.remaining > 0) {
          r.remaining--;
          return r.kind;
        }
      }
      const roll = random();
      let acc = 0;
      for (const r of rules) {
        if (r.probability === undefined) continue;
        acc += r.probability;
        if (roll < acc) return r.kind;
      }
      return undefined;
    },
    describe: () => (rules.length ? rules.map((r) => (r.probability !== undefined ? `${r.kind}:${r.probability}` : `${r.kind}*${r.remaining}`)).join(',') : 'none'),
  };
}
