import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCsvSource, detectDelimiter } from '../../src/sources/csv-source.js';
import { isUtf8 } from 'node:buffer';
import { createJsonlSource, parseJsonlText } from '../../src/sources/jsonl-source.js';
import type { Source, SourceRecord } from '../../src/core/types.js';

/** Feeds bytes in small chunks, so records and line ends fall across chunk borders. */
function bytes(input: string | Buffer, chunk = 7): AsyncIterable<Buffer> {
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input);
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunk) parts.push(buf.subarray(i, i + chunk));
  return Readable.from(parts);
}

async function all(source: Source): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  for await (const r of source) out.push(r);
  return out;
}

describe('CSV source', () => {
  it('keeps each record with its row and starting line across BOM, CRLF, blank lines, quoted newlines', async () => {
    const text = '\uFEFFEmail,Name\r\na@x.org,A\r\n\r\n"b@x.org","Line1\r\nLine2"\r\nc@x.org,"Smith, Jr."\r\n';
    const recs = await all(createCsvSource(bytes(text), { name: 't.csv' }));
    expect(recs.map((r) => [r.row, r.line, r.fields])).toEqual([
      [1, 2, { Email: 'a@x.org', Name: 'A' }],
      [2, 4, { Email: 'b@x.org', Name: 'Line1\r\nLine2' }],
      [3, 6, { Email: 'c@x.org', Name: 'Smith, Jr.' }],
    ]);
  });

  it('detects ; and tab delimiters', async () => {
    expect(detectDelimiter('a;b;c\n1;2;3')).toBe(';');
    expect(detectDelimiter('a\tb\n')).toBe('\t');
    expect(detectDelimiter('"x;y",b,c\n')).toBe(',');
    const recs = await all(createCsvSource(bytes('Email;Name\nq@x.org;Q\n'), { name: 't' }));
    expect(recs[0]!.fields).toEqual({ Email: 'q@x.org', Name: 'Q' });
  });

  it('makes a wrong column count an INVALID record and reads on', async () => {
    const recs = await all(createCsvSource(bytes('a,b\n1,2\n1,2,3\n4\n5,6\n'), { name: 't' }));
    expect(recs.map((r) => [r.row, r.line, r.error ?? 'ok'])).toEqual([
      [1, 2, 'ok'],
      [2, 3, 'expected 2 columns, found 3 (an unquoted delimiter inside a value?)'],
      [3, 4, 'expected 2 columns, found 1 (a truncated line?)'],
      [4, 5, 'ok'],
    ]);
  });

  it('accepts empty trailing cells that spreadsheets add', async () => {
    const recs = await all(createCsvSource(bytes('a,b\n1,2,,\n'), { name: 't' }));
    expect(recs[0]!.fields).toEqual({ a: '1', b: '2' });
  });

  it('reports an unclosed quote at the line where it opens, and reads the rows after it', async () => {
    const recs = await all(createCsvSource(bytes('a,b\n1,2\n"3,4\n5,6\n7,8\n'), { name: 't' }));
    expect(recs.map((r) => [r.row, r.line, r.fields ?? r.error])).toEqual([
      [1, 2, { a: '1', b: '2' }],
      [2, 3, expect.stringMatching(/quote opened on this line is never closed/)],
      [3, 4, { a: '5', b: '6' }],
      [4, 5, { a: '7', b: '8' }],
    ]);
  });

  it('skips an oversized field as INVALID and reads on, holding no more than the limit', async () => {
    const big = 'x'.repeat(200_000);
    for (const cell of [big, `"${big}"`]) {
      const text = `a,b\n1,2\n3,${cell}\n4,5\n"6",7\n`;
      const recs = await all(createCsvSource(bytes(text, 4096), { name: 't', maxRecordBytes: 10_000 }));
      expect(recs.map((r) => [r.row, r.line, r.fields ?? r.error])).toEqual([
        [1, 2, { a: '1', b: '2' }],
        [2, 3, expect.stringMatching(/larger than 0\.01 MiB/)],
        [3, 4, { a: '4', b: '5' }],
        [4, 5, { a: '6', b: '7' }],
      ]);
    }
  });

  it('a million columns in one row is one INVALID row', async () => {
    const text = `a,b\n${','.repeat(1_000_000)}x\n1,2\n`;
    const recs = await all(createCsvSource(bytes(text, 65536), { name: 't' }));
    expect(recs.map((r) => r.error ?? 'ok')).toEqual(['expected 2 columns, found 1000001 (an unquoted delimiter inside a value?)', 'ok']);
  });

  it('names a row of only delimiters instead of sending it', async () => {
    const recs = await all(createCsvSource(bytes('a,b\n,\n1,2\n'), { name: 't' }));
    expect(recs.map((r) => r.error ?? 'ok')).toEqual(['the row is empty (only delimiters)', 'ok']);
  });

  it('names invalid UTF-8 and NUL bytes, and suggests --encoding latin1', async () => {
    const latin1 = Buffer.concat([Buffer.from('a,b\n'), Buffer.from([0x4a, 0xfc, 0x72, 0x67]), Buffer.from(',x\n1,\u0000\n')]);
    const recs = await all(createCsvSource(bytes(latin1), { name: 't' }));
    expect(recs[0]!.error).toMatch(/column "a" is not valid UTF-8.*--encoding latin1/);
    expect(recs[1]!.error).toMatch(/column "b" contains a NUL byte/);
    const decoded = await all(createCsvSource(bytes(latin1.subarray(0, 12)), { name: 't', encoding: 'latin1' }));
    expect(decoded[0]!.fields!.a).toBe('Jürg');
  });

  it('refuses duplicate headers, empty input and header-only input', async () => {
    await expect(all(createCsvSource(bytes('Email,Name,email\n1,2,3\n'), { name: 'd.csv' }))).rejects.toThrow(/names column "email" twice \(columns 1 and 3\)/);
    await expect(all(createCsvSource(bytes(''), { name: 'e.csv' }))).rejects.toThrow(/empty/);
    await expect(all(createCsvSource(bytes('a,b\n'), { name: 'h.csv' }))).rejects.toThrow(/header but no data rows/);
  });

  it('any CSV that csv-stringify writes reads back to the same rows and line numbers (property)', async () => {
    const cell = fc.string({ unit: fc.constantFrom('a', 'b', ' ', ',', '"', '\n', '\r\n', ';', 'é', '7'), maxLength: 6 });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.array(fc.array(cell, { minLength: 4, maxLength: 4 }), { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 40 }), async (width, rows, chunk) => {
        const header = Array.from({ length: width }, (_, i) => `c${i}`);
        // A row of one empty cell is a blank line, which every CSV reader skips; keep the data meaningful.
        const data = rows.map((r) => r.slice(0, width)).filter((r) => r.some((v) => v.trim() !== ''));
        fc.pre(data.length > 0);
        const text = stringify([header, ...data], { quoted_match: /[\r\n;]|^\s|\s$/, delimiter: ',' });
        const recs = await all(createCsvSource(bytes(text, chunk), { name: 'p', delimiter: ',' }));
        expect(recs.map((r) => r.fields)).toEqual(data.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]]))));
        // Line numbers: the line where each record starts, counting the newlines inside quoted fields before it.
        let line = 2;
        const lines: number[] = [];
        for (const r of data) {
          lines.push(line);
          line += 1 + r.join('').split('\n').length - 1;
        }
        expect(recs.map((r) => r.line)).toEqual(lines);
      }),
      { numRuns: 150 },
    );
  });
});

describe('JSONL source', () => {
  it('reads objects, flattens nesting, skips blank lines, and keeps line numbers', async () => {
    const text = '{"email":"a@x.org","address":{"city":"Austin"}}\n\n{"email":"b@x.org","n":3,"ok":true,"x":null}\r\n';
    const recs = await all(createJsonlSource(bytes(text), { name: 't' }));
    expect(recs.map((r) => [r.row, r.line, r.fields])).toEqual([
      [1, 1, { email: 'a@x.org', 'address.city': 'Austin' }],
      [2, 3, { email: 'b@x.org', n: '3', ok: 'true', x: '' }],
    ]);
  });

  it('makes arrays, numbers, bad JSON and a truncated last line INVALID with a reason', async () => {
    const text = '[1,2]\n42\n{"a":\n{"email":"ok@x.org"}\n{"email":"cut';
    const recs = await all(createJsonlSource(bytes(text, 5), { name: 't' }));
    expect(recs.map((r) => [r.line, r.error?.slice(0, 24) ?? 'ok'])).toEqual([
      [1, 'is an array, not a JSON '],
      [2, 'is a number, not a JSON '],
      [3, 'is not valid JSON (Unexp'],
      [4, 'ok'],
      [5, 'is not valid JSON (Unter'],
    ]);
  });

  it('names invalid UTF-8 and escaped NULs in a JSONL line', async () => {
    const bad = Buffer.concat([Buffer.from('{"name":"J'), Buffer.from([0xfc]), Buffer.from('rg"}\n{"name":"a\\u0000b"}\n{"name":"ok"}\n')]);
    const recs = await all(createJsonlSource(bytes(bad), { name: 't' }));
    expect(recs.map((r) => r.error ?? 'ok')).toEqual([expect.stringMatching(/not valid UTF-8.*--encoding latin1/), 'field "name" contains a NUL byte (binary data?)', 'ok']);
  });

  it('gives the same records line by line as cut from whole chunks, wherever the chunks end (property)', async () => {
    const maxLineBytes = 60;
    const lineArb = fc.oneof(
      fc.record({ email: fc.emailAddress(), name: fc.string({ unit: 'grapheme', maxLength: 8 }) }).map((o) => Buffer.from(JSON.stringify(o))),
      fc.constantFrom('', '  \t', '{"a":', '[1]', '{"n":"x\\u0000y"}', `{"long":"${'z'.repeat(80)}"}`, '{"e":"\u00e9"}').map((t) => Buffer.from(t)),
      fc.constant(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xfc, 0x22, 0x7d])), // {"a":"<0xfc>"}: not UTF-8
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(lineArb, fc.boolean()), { minLength: 1, maxLength: 30 }), fc.boolean(), fc.boolean(), fc.integer({ min: 1, max: 400 }), async (lines, bom, finalNewline, chunk) => {
        const parts: Buffer[] = bom ? [Buffer.from([0xef, 0xbb, 0xbf])] : [];
        lines.forEach(([b, crlf], i) => parts.push(b, Buffer.from(i < lines.length - 1 || finalNewline ? (crlf ? '\r\n' : '\n') : '')));
        const input = Buffer.concat(parts);
        // The reference: every line on its own, as bytes.
        const expected: Array<[number, number, unknown]> = [];
        let row = 0;
        let body = bom ? input.subarray(3) : input;
        const raw: Buffer[] = [];
        for (let nl = body.indexOf(10); nl !== -1; nl = body.indexOf(10)) {
          raw.push(body.subarray(0, nl));
          body = body.subarray(nl + 1);
        }
        if (body.length > 0) raw.push(body);
        raw.forEach((b, i) => {
          const l = b.length > 0 && b[b.length - 1] === 13 ? b.subarray(0, -1) : b;
          if (b.length > maxLineBytes) return expected.push([++row, i + 1, 'too long']);
          if (/^[ \t]*$/.test(l.toString('latin1'))) return;
          const p = isUtf8(l) ? parseJsonlText(l.toString()) : { error: 'is not valid UTF-8 (if the file came from Excel, re-run with --encoding latin1)' };
          expected.push([++row, i + 1, p.fields ?? p.error]);
        });
        if (row === 0) return;
        const got = await all(createJsonlSource(bytes(input, chunk), { name: 't', maxLineBytes }));
        expect(got.map((r) => [r.row, r.line, r.fields ?? (r.error?.startsWith('is longer than') ? 'too long' : r.error)])).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('does not hold an oversized line in memory', async () => {
    const big = `{"email":"${'x'.repeat(5000)}"}`;
    const recs = await all(createJsonlSource(bytes(`${big}\n{"email":"a@x.org"}\n`, 300), { name: 't', maxLineBytes: 1000 }));
    expect(recs[0]!.error).toMatch(/longer than 1000 bytes/);
    expect(recs[1]!.fields).toEqual({ email: 'a@x.org' });
    // A byte order mark is no part of line 1, even when it arrives a byte at a time.
    const exact = `{"email":"${'y'.repeat(988)}"}`; // 1,000 bytes: at the limit, not over it
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${exact}\n`)]);
    const one = await all(createJsonlSource(bytes(withBom, 1), { name: 't', maxLineBytes: 1000 }));
    expect(one.map((r) => r.error ?? r.fields!.email!.length)).toEqual([988]);
  });
});
