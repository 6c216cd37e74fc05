import type { SourceRecord } from '../core/types.js';

/**
 * Records as they cross from the reader's worker thread to the main thread: every string of a chunk joined into
 * one, and a table of numbers saying where each value starts and ends. Cloning one string and transferring one
 * buffer costs the receiving thread far less than cloning thousands of small objects; it then cuts the values out.
 *
 * Per record, in `meta`: row, line, field count (-1: none), (key index, value length) per field, error length
 * (-1: none), raw cell count (-1: none), the length of each raw cell. Key names are sent once, in `newKeys`.
 */
export interface PackedChunk {
  meta: Int32Array;
  text: string;
  newKeys: string[];
}

export function createPacker() {
  const keyIndex = new Map<string, number>();
  // Records of one file mostly share their keys in the same order: the last record's keys are tried first.
  let lastKeys: string[] = [];
  let lastIdx: number[] = [];
  let meta = new Int32Array(1 << 16);
  let used = 0;
  const put = (n: number) => {
    if (used === meta.length) {
      const bigger = new Int32Array(meta.length * 2);
      bigger.set(meta);
      meta = bigger;
    }
    meta[used++] = n;
  };
  return function pack(records: SourceRecord[]): PackedChunk {
    used = 0;
    const parts: string[] = [];
    const newKeys: string[] = [];
    for (const r of records) {
      put(r.row);
      put(r.line);
      if (r.fields) {
        const at = used;
        put(0);
        let n = 0;
        for (const k in r.fields) {
          let i = lastKeys[n] === k ? lastIdx[n] : keyIndex.get(k);
          if (i === undefined) {
            i = keyIndex.size;
            keyIndex.set(k, i);
            newKeys.push(k);
          }
          if (lastKeys[n] !== k) {
            lastKeys[n] = k;
            lastIdx[n] = i;
          }
          const v = r.fields[k]!;
          put(i);
          put(v.length);
          parts.push(v);
          n++;
        }
        meta[at] = n;
      } else put(-1);
      if (r.error !== undefined) {
        put(r.error.length);
        parts.push(r.error);
      } else put(-1);
      if (r.raw) {
        put(r.raw.length);
        for (const c of r.raw) {
          put(c.length);
          parts.push(c);
        }
      } else put(-1);
    }
    return { meta: meta.slice(0, used), text: parts.join(''), newKeys };
  };
}

/**
 * The receiving side, a few records at a time: rows are made into objects only when the caller is ready for them,
 * so a chunk waiting its turn stays one string and one buffer. `keys` is every key name received so far, in order.
 */
export function unpacker(chunk: PackedChunk, keys: string[]) {
  const { meta, text } = chunk;
  let m = 0;
  let at = 0;
  const take = (len: number) => text.slice(at, (at += len));
  return {
    get done() {
      return m >= meta.length;
    },
    next(max: number): SourceRecord[] {
      const out: SourceRecord[] = [];
      while (m < meta.length && out.length < max) {
        const rec: SourceRecord = { row: meta[m++]!, line: meta[m++]! };
        const nFields = meta[m++]!;
        if (nFields >= 0) {
          const fields: Record<string, string> = {};
          for (let i = 0; i < nFields; i++) {
            const k = keys[meta[m++]!]!;
            fields[k] = take(meta[m++]!);
          }
          rec.fields = fields;
        }
        const errLen = meta[m++]!;
        if (errLen >= 0) rec.error = take(errLen);
        const nRaw = meta[m++]!;
        if (nRaw >= 0) {
          const raw: string[] = [];
          for (let i = 0; i < nRaw; i++) raw.push(take(meta[m++]!));
          rec.raw = raw;
        }
        out.push(rec);
      }
      return out;
    },
  };
}
