import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readReport, runCli, runInProcess, startSalsaSandbox, tempDir, type TestSandbox } from '../support/helpers.js';

// Files as real exports and hostile hands make them: every record delimiter, binary files, escape bytes in a
// header, absurd nesting. Each ends as rows a person can act on, or one clear exit 2 — never a stack trace.

let sb: TestSandbox | undefined;
afterEach(async () => {
  await sb?.sandbox.close();
  sb = undefined;
});

const rows = (n: number) => Array.from({ length: n }, (_, i) => `p${i}@example.org,P${i}`);

describe('line endings', () => {
  it('a CRLF header with rows alternating CRLF and LF gives one report line per row, each at its own line', async () => {
    sb = await startSalsaSandbox();
    const dir = tempDir();
    const file = join(dir, 'mixed.csv');
    writeFileSync(file, 'Email,First Name\r\n' + rows(10).map((r, i) => r + (i % 2 === 0 ? '\r\n' : '\n')).join(''));
    const res = await runInProcess(['import', file, '--json'], { env: sb.env });
    expect(JSON.parse(res.stdout)).toMatchObject({ rows: 10, counts: { ADDED: 10 }, exitCode: 0 });
    expect(readReport(join(dir, 'mixed.report.csv')).map((r) => [r.row, r.line, r.key])).toEqual(rows(10).map((r, i) => [String(i + 1), String(i + 2), r.split(',')[0]]));
    expect(sb.salsa.supporters().map((s) => s.firstName).sort()).toEqual(rows(10).map((r) => r.split(',')[1]).sort());
  });

  it('a CR-only file (old Mac exports) numbers every line, and a bad row in it is reported at its own line', async () => {
    const dir = tempDir();
    const file = join(dir, 'cr.csv');
    writeFileSync(file, ['Email,First Name', ...rows(3), '"broken,row', ...rows(6).slice(3)].join('\r') + '\r');
    const res = await runInProcess(['validate', file, '--quiet']);
    expect(res.code).toBe(1);
    expect(readReport(join(dir, 'cr.validate.report.csv')).map((r) => [r.line, r.status, r.key])).toEqual([
      ['2', 'DRY_RUN', 'p0@example.org'],
      ['3', 'DRY_RUN', 'p1@example.org'],
      ['4', 'DRY_RUN', 'p2@example.org'],
      ['5', 'INVALID', ''],
      ['6', 'DRY_RUN', 'p3@example.org'],
      ['7', 'DRY_RUN', 'p4@example.org'],
      ['8', 'DRY_RUN', 'p5@example.org'],
    ]);
  });
});

describe('input that is not a contact file', () => {
  it('binary data, an .xlsx saved as .csv, or UTF-16 is exit 2 before any row, saying what to do (also on stdin)', async () => {
    const dir = tempDir();
    const cases: Array<[string, Buffer, RegExp]> = [
      ['noise.csv', Buffer.from(Array.from({ length: 30_000 }, (_, i) => (i * 7919) % 256)), /is not a CSV or JSONL text file: \d+ of its first \d+ bytes are control bytes/],
      ['book.csv', Buffer.concat([Buffer.from([0x50, 0x4b, 3, 4]), Buffer.alloc(500, 65)]), /looks like an Excel workbook \(\.xlsx\).*save it as "CSV UTF-8"/],
      ['unicode.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Email\tName\r\n', 'utf16le')]), /UTF-16 text/],
    ];
    for (const [name, bytes, message] of cases) {
      const file = join(dir, name);
      writeFileSync(file, bytes);
      const res = await runInProcess(['validate', file]);
      expect(res.code, name).toBe(2);
      expect(res.stderr).toMatch(message);
    }
    // stdin: the same check on the first bytes, in a real process.
    const piped = await runCli(['validate', '-', '--format', 'csv', '-r', join(dir, 'stdin.report.csv')], { stdin: cases[0]![1].toString('latin1') });
    expect(piped.code).toBe(2);
    expect(piped.stderr).toMatch(/stdin is not a CSV or JSONL text file/);
  });

  it('terminal escape bytes in a header are shown escaped, never sent to the terminal raw', async () => {
    const dir = tempDir();
    const file = join(dir, 'esc.csv');
    writeFileSync(file, 'Email,\x1b[2JFirst\x07 Name,\u202eevil\nx@example.org,X,Y\n');
    const res = await runInProcess(['validate', file]);
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('\\x1b[2JFirst\\x07 Name');
    expect(res.stderr).toContain('\\u{202e}evil');
    expect(res.stderr).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f\u202e]/);
  });

  it('a JSONL line nested 50,000 levels deep is one INVALID row; the rows around it are read, sending or not', async () => {
    sb = await startSalsaSandbox();
    const dir = tempDir();
    const file = join(dir, 'deep.jsonl');
    writeFileSync(file, '{"email":"a@example.org"}\n' + '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000) + '\n{"email":"b@example.org","address":{"city":"Austin"}}\n');
    const checked = await runInProcess(['validate', file, '--quiet']);
    expect(checked.code).toBe(1);
    const sent = await runInProcess(['import', file, '--json'], { env: sb.env });
    expect(JSON.parse(sent.stdout)).toMatchObject({ rows: 3, counts: { ADDED: 2, INVALID: 1 }, exitCode: 1 });
    for (const report of ['deep.validate.report.csv', 'deep.report.csv']) {
      expect(readReport(join(dir, report)).map((r) => [r.line, r.status, r.error_message.replace(/ levels deep.*/, '')])).toEqual([
        ['1', expect.stringMatching(/DRY_RUN|ADDED/), ''],
        ['2', 'INVALID', 'line 2: nests objects more than 32'],
        // Its city alone is no whole address: a preview says it would be held back; a creation sends it.
        ['3', expect.stringMatching(/DRY_RUN|ADDED/), report.includes('validate') ? expect.stringMatching(/^address not sent: not a whole address/) : ''],
      ]);
    }
  });
});

describe('an abort is always explained', () => {
  it('--quiet with a rejected token exits 3 and still says why', async () => {
    sb = await startSalsaSandbox();
    const dir = tempDir();
    const file = join(dir, 'c.csv');
    writeFileSync(file, 'Email\na@example.org\n');
    const res = await runInProcess(['import', file, '--quiet'], { env: { ...sb.env, SALSA_API_TOKEN: 'not-the-token' } });
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/^ABORTED: .*token.*\(report: .*c\.report\.csv\)\n$/);
    expect(res.stderr).not.toContain('not-the-token');
  });
});
