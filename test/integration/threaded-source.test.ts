import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Source, SourceRecord } from '../../src/core/types.js';
import { createPacker, unpacker } from '../../src/sources/record-packing.js';
// The worker thread runs built code: this test uses the build that `npm test` makes first.
// @ts-expect-error dist has no type declarations
import { openSource as openBuilt } from '../../dist/sources/index.js';

const openSource = openBuilt as (path: string, options?: { format?: string; delimiter?: string; encoding?: BufferEncoding; parseOnWorker?: boolean }) => Promise<Source>;
const dir = mkdtempSync(join(tmpdir(), 'sync-threaded-'));

async function read(path: string, parseOnWorker: boolean, options: { encoding?: BufferEncoding } = {}) {
  const source = await openSource(path, { ...options, parseOnWorker });
  const records: SourceRecord[] = [];
  for await (const chunk of source.chunks()) records.push(...chunk);
  return { records, columns: [...source.columns()], delimiter: source.delimiter?.() };
}

async function failure(path: string, parseOnWorker: boolean) {
  try {
    await read(path, parseOnWorker);
  } catch (err) {
    const e = err as Error & { code?: string; exitCode?: number };
    return { name: e.name, message: e.message, code: e.code, exitCode: e.exitCode };
  }
  return undefined;
}

describe('parsing on a worker thread', () => {
  it('gives the same records, columns and delimiter as parsing in the main thread, bad rows included', async () => {
    const rows = ['Email;First Name;Notes'];
    for (let i = 0; i < 6000; i++) rows.push(`p${i}@example.org;Zoë ${i};"multi\nline ""${i}"""`);
    rows.splice(10, 0, 'bad@example.org;only two');
    rows.splice(20, 0, 'x@example.org;1;2;3;4');
    rows.splice(4000, 0, '"never closed;a;b');
    const csv = join(dir, 'tricky.csv');
    writeFileSync(csv, Buffer.concat([Buffer.from(rows.join('\r\n') + '\n'), Buffer.from([0xff, 0x3b, 0x61, 0x3b, 0x62, 0x0a])]));
    const inThread = await read(csv, false);
    const onWorker = await read(csv, true);
    expect(inThread.records.length).toBeGreaterThan(6000);
    expect(inThread.records.filter((r) => r.error).length).toBeGreaterThanOrEqual(4);
    expect(onWorker).toEqual(inThread);
    expect(onWorker.delimiter).toBe(';');

    const lines = ['{"email":"a@x.org","name":{"first":"A"}}', 'not json', '', '{"email":"b@x.org","tags":["x","y"],"extra":1}'];
    for (let i = 0; i < 9000; i++) lines.push(JSON.stringify({ email: `j${i}@x.org`, ['k' + (i % 7)]: 'v', note: 'ü'.repeat(i % 40) }));
    // Past the first 256 KB read: a NUL escape, a repeated dotted name, an empty object, nulls and numbers, a line of
    // spaces, an array of objects, and a line that is not UTF-8.
    lines.splice(7000, 0, '{"email":"n@x.org","v":"a\\u0000b"}', '{"a.b":"1","a":{"b":"2"},"c":null,"d":2.5,"e":false}', '{}', '   ', '{"tags":[{"x":1},"y"]}');
    const jsonl = join(dir, 'tricky.jsonl');
    writeFileSync(jsonl, Buffer.concat([Buffer.from(lines.join('\n') + '\n'), Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d, 0x0a]), Buffer.from('{"last":"x"}')]));
    const j1 = await read(jsonl, false);
    const j2 = await read(jsonl, true);
    expect(j2).toEqual(j1);
    expect(j1.records).toHaveLength(9009);
    expect(j1.records.filter((r) => r.error).map((r) => r.error!.slice(0, 18))).toEqual(['is not valid JSON ', 'field "v" contains', 'is not valid UTF-8']);
    expect(j1.records.find((r) => r.fields?.['a.b'])?.fields).toEqual({ 'a.b': '2', c: '', d: '2.5', e: 'false' });
    expect(j2.columns).toContain('k6');
  });

  it('ends with the same message and exit code for a file that cannot be used', async () => {
    const headerOnly = join(dir, 'header-only.csv');
    writeFileSync(headerOnly, 'Email,Name\n');
    const dupes = join(dir, 'dupes.csv');
    writeFileSync(dupes, 'Email,email\n');
    for (const path of [headerOnly, dupes]) {
      const expected = await failure(path, false);
      expect(expected?.exitCode).toBe(2);
      expect(await failure(path, true)).toEqual(expected);
    }
  });

  it('packs and unpacks any records unchanged (property)', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 12 });
    const record = fc.record(
      { fields: fc.option(fc.dictionary(fc.constantFrom('Email', 'Name', 'address.city', 'Ünï'), text), { nil: undefined }), error: fc.option(text, { nil: undefined }), raw: fc.option(fc.array(text, { maxLength: 4 }), { nil: undefined }) },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.array(fc.array(record, { maxLength: 20 }), { maxLength: 4 }), fc.integer({ min: 1, max: 30 }), (chunks, slice) => {
        const packer = createPacker();
        const keys: string[] = [];
        let row = 0;
        for (const chunk of chunks) {
          const records: SourceRecord[] = chunk.map((r) => {
            const rec: SourceRecord = { row: ++row, line: row * 2 };
            if (r.fields) rec.fields = r.fields;
            if (r.error !== undefined) rec.error = r.error;
            if (r.raw) rec.raw = r.raw;
            return rec;
          });
          const packed = packer.pack(records);
          keys.push(...packed.newKeys);
          const out: SourceRecord[] = [];
          for (const u = unpacker(packed, keys); !u.done; ) out.push(...u.next(slice));
          expect(out).toEqual(records);
        }
      }),
    );
  });
});
