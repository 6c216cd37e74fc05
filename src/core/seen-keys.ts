import type { IdentityKind, MappedRow, Target } from './target.js';

/** Identity kinds apart in the table (an email and an id that read the same are not one). */
const KIND_SEED: Record<IdentityKind, number> = { id: 1, email: 2, externalId: 3 };

/**
 * Whether an earlier row named the same record as this one — by its email (case folded), where it has one, else by
 * the identity the target finds it by — and whether the email was spelled in another case. Remembers this row's.
 */
export function seeRow(seen: SeenKeys, target: Pick<Target, 'emailField' | 'identify'>, row: MappedRow): { kind: IdentityKind; caseOnly: boolean } | undefined {
  const email = target.emailField ? row.fields[target.emailField]?.trim() : undefined;
  const identity = email ? { kind: 'email' as const, value: email } : target.identify(row);
  if ('error' in identity) return undefined;
  const earlier = seen.see(KIND_SEED[identity.kind], identity.value.trim(), identity.kind === 'email');
  return earlier && { kind: identity.kind, caseOnly: identity.kind === 'email' && !earlier.sameSpelling };
}

/** Slots a page holds (two 32-bit words each), and how many may be used before it splits (linear probing stays short). */
const PAGE_SLOTS = 512;
const PAGE_FULL = 410;
/**
 * Pages are taken from chunks that are never freed: tables grown by copying fragmented the heap (+63 MB of RSS for
 * 17 MB of tables at a million identities, measured), and a new buffer per split made V8 collect more often.
 */
const CHUNK_PAGES = 64;

/**
 * Every identity a run has met (an email, an id), to say on a row's line that an earlier row names the same person
 * — and whether its email was spelled in another case. A million rows must not cost a million strings: each identity
 * is kept in 8 bytes — a 48-bit hash of its matching form (kind and lower-cased value) and a 16-bit hash of its
 * spelling — in fixed pages of an extendible hash table (a full page splits in two by one more bit of the hash).
 * Pages fill evenly and split together: 8–20 bytes an identity, 17 MB at a million. (With the earlier row's line
 * too, 12 bytes a slot, 25 MB: the memory benchmark's 1M-row import grew 20% over its 100k one, its bound.)
 * Two different identities share a 48-bit hash about once in 500 runs of a million rows (a wrong "same person" note;
 * a case-only repeat is read before it is written, and the read decides); two spellings of one identity share a
 * 16-bit hash once in 65,536 pairs — then a case difference goes unsaid, never an invented one.
 */
export class SeenKeys {
  private readonly chunks: Uint32Array[] = [];
  private pages = 0;
  /** Per page: its local depth (hash bits that name it) and slots used. */
  private readonly depthOf: number[] = [];
  private readonly used: number[] = [];
  /** Page by the top `depth` bits of the hash. */
  private directory = new Int32Array(1);
  private depth = 0;
  private readonly hash = new Uint32Array(3);
  /** A page's identities while it splits (one buffer for the run: a new one per split made V8 collect 3× as often). */
  private readonly scratch = new Uint32Array(PAGE_SLOTS * 2);

  constructor() {
    this.newPage(0);
  }

  /**
   * Remembers the identity, and says whether an earlier row named it (and whether it was spelled the same way).
   * `kind` keeps kinds apart (an email and an id that read the same are not one identity); `value` is as the row
   * gives it (trimmed); `foldCase`: identities that differ only in case are one (emails).
   */
  see(kind: number, value: string, foldCase: boolean): { sameSpelling: boolean } | undefined {
    const h = this.hash;
    hashIdentity(value, kind, foldCase, h);
    const a = h[0]!;
    const top = (h[1]! & 0xffff0000) >>> 0;
    // (A slot of two zero words is empty: an identity that would hash so takes another spelling bit.)
    const word = (top | (h[2]! & 0xffff) | (a === 0 && top === 0 ? 1 : 0)) >>> 0;
    for (;;) {
      const page = this.directory[this.depth === 0 ? 0 : a >>> (32 - this.depth)]!;
      const s = this.chunks[(page / CHUNK_PAGES) | 0]!;
      const base = (page % CHUNK_PAGES) * PAGE_SLOTS * 2;
      for (let i = a & (PAGE_SLOTS - 1); ; i = (i + 1) & (PAGE_SLOTS - 1)) {
        const at = base + i * 2;
        const held = s[at + 1]!;
        if (held !== 0 || s[at] !== 0) {
          if (s[at] === a && ((held & 0xffff0000) >>> 0) === top) return { sameSpelling: held === word };
          continue;
        }
        if (this.used[page]! < PAGE_FULL || this.depthOf[page]! >= 24) {
          // (410 identities sharing 24 bits of hash do not happen but by design; then the page fills, and past that
          // an identity is not remembered: a repeat goes unsaid, nothing else.)
          if (this.used[page]! >= PAGE_SLOTS - 1) return undefined;
          s[at] = a;
          s[at + 1] = word;
          this.used[page]!++;
          return undefined;
        }
        break;
      }
      this.split(page, a);
    }
  }

  private newPage(depth: number): number {
    if (this.pages % CHUNK_PAGES === 0) this.chunks.push(new Uint32Array(CHUNK_PAGES * PAGE_SLOTS * 2));
    this.depthOf.push(depth);
    this.used.push(0);
    return this.pages++;
  }

  /** The page's identities shared between it and a new page, by one more bit of their hash. */
  private split(page: number, a: number): void {
    const d = this.depthOf[page]!;
    if (d === this.depth) {
      const wider = new Int32Array(this.directory.length * 2);
      for (let i = 0; i < wider.length; i++) wider[i] = this.directory[i >> 1]!;
      this.directory = wider;
      this.depth++;
    }
    const other = this.newPage(d + 1);
    this.depthOf[page] = d + 1;
    // The directory's entries for the page are one run (those that start with its d bits): its upper half is the new page's.
    const span = 2 ** (this.depth - d);
    const start = d === 0 ? 0 : (a >>> (32 - d)) * span;
    this.directory.fill(other, start + span / 2, start + span);
    const s = this.chunks[(page / CHUNK_PAGES) | 0]!;
    const base = (page % CHUNK_PAGES) * PAGE_SLOTS * 2;
    const entries = this.scratch;
    entries.set(s.subarray(base, base + PAGE_SLOTS * 2));
    s.fill(0, base, base + PAGE_SLOTS * 2);
    this.used[page] = 0;
    for (let at = 0; at < entries.length; at += 2) {
      const a = entries[at]!;
      const word = entries[at + 1]!;
      if (a === 0 && word === 0) continue;
      const to = (a >>> (31 - d)) & 1 ? other : page;
      const t = this.chunks[(to / CHUNK_PAGES) | 0]!;
      const tb = (to % CHUNK_PAGES) * PAGE_SLOTS * 2;
      let i = a & (PAGE_SLOTS - 1);
      while (t[tb + i * 2] !== 0 || t[tb + i * 2 + 1] !== 0) i = (i + 1) & (PAGE_SLOTS - 1);
      t[tb + i * 2] = a;
      t[tb + i * 2 + 1] = word;
      this.used[to]!++;
    }
  }
}

/**
 * In one pass over `s`: two independent 32-bit hashes of its matching form (FNV-1a and a murmur3-style mix; ASCII
 * letters folded to lower case when `fold`, as emails are compared) into out[0] and out[1], and a hash of its
 * spelling as given into out[2]. `seed` starts them all. A letter beyond ASCII is folded as toLowerCase folds it.
 */
function hashIdentity(s: string, seed: number, fold: boolean, out: Uint32Array): void {
  let a = 0x811c9dc5 ^ seed;
  let b = 0x5bd1e995 ^ seed;
  let c = 0x2545f491 ^ seed;
  let beyondAscii = false;
  for (let i = 0; i < s.length; i++) {
    let ch = s.charCodeAt(i);
    c = Math.imul(c ^ ch, 0x01000193);
    if (fold) {
      if (ch >= 65 && ch <= 90) ch |= 32;
      else if (ch > 127) beyondAscii = true;
    }
    a = Math.imul(a ^ ch, 0x01000193);
    b = Math.imul(b ^ Math.imul(ch, 0xcc9e2d51), 0x1b873593);
    b = (b << 13) | (b >>> 19);
  }
  if (beyondAscii) {
    hashIdentity(s.toLowerCase(), seed, false, out);
    out[2] = mix(c);
    return;
  }
  out[0] = a;
  out[1] = mix(b);
  out[2] = mix(c);
}

/** murmur3's finaliser: every input bit reaches every output bit (FNV's low bits alone are weak). */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
