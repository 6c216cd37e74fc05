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

/** Packs records for the main thread: whole SourceRecords, or one field at a time as a reader parses them. */
export interface Packer {
  pack(records: SourceRecord[]): PackedChunk;
  /** Starts a record; `withFields` false: it has none (a record that is only an error). */
  begin(row: number, line: number, withFields: boolean): void;
  field(key: string, value: string): void;
  end(error?: string, raw?: string[]): void;
  /** The records packed since the last take(), or undefined if none. */
  take(): PackedChunk | undefined;
  /** Every key packed so far, in the order first seen. */
  keys(): string[];
}

export function createPacker(): Packer {
  const keyIndex = new Map<string, number>();
  const allKeys: string[] = [];
  // Records of one file mostly share their keys in the same order: the last record's keys are tried first.
  const lastKeys: string[] = [];
  const lastIdx: number[] = [];
  let meta = new Int32Array(1 << 16);
  let used = 0;
  let parts: string[] = [];
  let newKeys: string[] = [];
  let fieldsAt = -1;
  let n = 0;
  const put = (v: number) => {
    if (used === meta.length) {
      const bigger = new Int32Array(meta.length * 2);
      bigger.set(meta);
      meta = bigger;
    }
    meta[used++] = v;
  };
  const packer: Packer = {
    begin(row, line, withFields) {
      put(row);
      put(line);
      fieldsAt = used;
      n = 0;
      put(withFields ? 0 : -1);
    },
    field(k, v) {
      let i = lastKeys[n] === k ? lastIdx[n] : keyIndex.get(k);
      if (i === undefined) {
        i = allKeys.length;
        keyIndex.set(k, i);
        allKeys.push(k);
        newKeys.push(k);
      }
      if (lastKeys[n] !== k) {
        lastKeys[n] = k;
        lastIdx[n] = i;
      }
      put(i);
      put(v.length);
      parts.push(v);
      n++;
    },
    end(error, raw) {
      if (meta[fieldsAt] === 0) meta[fieldsAt] = n;
      if (error !== undefined) {
        put(error.length);
        parts.push(error);
      } else put(-1);
      if (raw) {
        put(raw.length);
        for (const c of raw) {
          put(c.length);
          parts.push(c);
        }
      } else put(-1);
    },
    take() {
      if (used === 0) return undefined;
      const chunk = { meta: meta.slice(0, used), text: parts.join(''), newKeys };
      used = 0;
      parts = [];
      newKeys = [];
      return chunk;
    },
    pack(records) {
      for (const r of records) {
        packer.begin(r.row, r.line, r.fields !== undefined);
        if (r.fields) for (const k in r.fields) packer.field(k, r.fields[k]!);
        packer.end(r.error, r.raw);
      }
      return packer.take() ?? { meta: new Int32Array(0), text: '', newKeys: [] };
    },
    keys: () => allKeys,
  };
  return packer;
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
