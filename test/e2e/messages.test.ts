import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { closeAfterEach, csv, runInProcess, startSalsaSandbox, tempDir } from '../support/helpers.js';

// What a person reads: the first thing said is the thing to do, and scripts get what people get.

const closing = closeAfterEach();

describe('messages', () => {
  it('an .xlsx is refused with "save it as CSV UTF-8" first, not a --format hint', async () => {
    const file = join(tempDir(), 'contacts.xlsx');
    writeFileSync(file, 'not really a workbook');
    const res = await runInProcess(['import', file, '--sandbox']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/contacts\.xlsx is an Excel workbook: open it and save it as "CSV UTF-8"/);
    expect(res.stderr).not.toMatch(/--format/);
  });

  it('--json carries the notes the human summary shows (what rows went without, files written)', async () => {
    const sb = await startSalsaSandbox();
    closing(sb.sandbox);
    const dir = tempDir();
    const file = join(dir, 'g.csv');
    writeFileSync(file, csv(['Email', 'Gender'], [['a@example.org', 'non-binary'], ['b@example.org', 'F']]));
    const res = await runInProcess(['import', file, '--json', '--quiet', '--failed', join(dir, 'failed.csv')], { env: sb.env });
    const summary = JSON.parse(res.stdout) as { notes: string[] };
    expect(summary.notes).toEqual(expect.arrayContaining([expect.stringMatching(/rows that went without a value that could not be used: gender 1/), expect.stringMatching(/failed rows: none/)]));
    expect(res.stdout).not.toContain(sb.token);
  });

  it("init's next command is quoted for a shell when a path has spaces or parentheses", async () => {
    const dir = tempDir();
    const file = join(dir, 'Sign-up (Responses).csv');
    writeFileSync(file, csv(['Email', 'First name'], [['a@example.org', 'A']]));
    const res = await runInProcess(['init', file, '--yes', '-o', join(dir, 'map.json')]);
    expect(res.code).toBe(0);
    expect(res.stderr).toContain(`sync-supporters validate '${file}' -t salsa -m ${join(dir, 'map.json')}`);
  });

  it('after a stop, the summary counts the rows done, not the rows read', async () => {
    const sb = await startSalsaSandbox();
    closing(sb.sandbox);
    const file = join(tempDir(), 'two.csv');
    writeFileSync(file, csv(['Email'], [['a@example.org'], ['b@example.org']]));
    const res = await runInProcess(['import', file], { env: { ...sb.env, SALSA_API_TOKEN: 'not-the-token' } });
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/Import → Salsa Engage: 0 of 2 rows done \(the other 2 NOT_ATTEMPTED\) in [\d.]+ s \(0 rows\/s\)/);
  });
});
