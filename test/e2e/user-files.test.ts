import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { csv, readReport, runInProcess, startSalsaSandbox, tempDir, type TestSandbox } from '../support/helpers.js';

// The user's files are sacred: no output may land on an input, a mapping or another output; a real run's report
// is never replaced by a preview; two runs never share a report; personal data is readable by its owner only.

let sb: TestSandbox | undefined;
afterEach(async () => {
  await sb?.sandbox.close();
  sb = undefined;
});

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const people = (n: number) => Array.from({ length: n }, (_, i) => [`p${i}@example.org`, `P${i}`]);

function contactsFile(dir: string, name = 'contacts.csv', n = 5) {
  const file = join(dir, name);
  writeFileSync(file, csv(['Email', 'First Name'], people(n)));
  return file;
}

describe('an output never lands on an input, a mapping or another output', () => {
  it('-r naming the input (any spelling, a symlink) is refused with exit 2 and the input is intact, for import, validate and --dry-run', async () => {
    sb = await startSalsaSandbox();
    const dir = tempDir();
    const file = contactsFile(dir, 'same.csv');
    const before = sha(file);
    symlinkSync(file, join(dir, 'link.csv'));
    for (const args of [
      ['import', file, '-r', file],
      ['import', file, '-r', join(dir, '.', 'same.csv')],
      ['import', file, '-r', join(dir, 'link.csv')],
      ['validate', file, '-r', file],
      ['import', file, '--dry-run', '-r', file],
    ]) {
      const res = await runInProcess(args, { env: sb.env });
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.stderr).toMatch(/Refusing to write the report to .*same\.csv.*: that is the input, and writing would destroy it\. Choose another path with --report/);
      expect(sha(file)).toBe(before);
    }
    expect(sb.salsa.supporters()).toHaveLength(0);
    // A script gets the refusal with its stable code.
    const json = await runInProcess(['import', file, '-r', file, '--json'], { env: sb.env });
    expect(JSON.parse(json.stdout)).toEqual({ error: { code: 'E_OUTPUT_CLASH', message: expect.stringMatching(/^Refusing to write the report/) }, exitCode: 2 });
    expect(json.stderr).toMatch(/^error \[E_OUTPUT_CLASH\]: Refusing/);
  });

  it('-r naming the mapping (or a file that is not a report: a typo for -m) is refused; --overwrite replaces a non-report deliberately', async () => {
    const dir = tempDir();
    const file = contactsFile(dir);
    const map = join(dir, 'mymap.json');
    writeFileSync(map, JSON.stringify({ fields: { email: 'Email' } }));
    const before = sha(map);
    const clash = await runInProcess(['validate', file, '-m', map, '-r', map]);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toMatch(/that is the mapping file/);
    const typo = await runInProcess(['validate', file, '-r', map]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/mymap\.json exists and is not a sync-supporters report, so it was not replaced.*a typo for -m\/--map\?.*--overwrite/);
    expect(sha(map)).toBe(before);
    const notes = join(dir, 'notes.csv');
    writeFileSync(notes, 'my own notes\n');
    expect((await runInProcess(['validate', file, '-r', notes, '--overwrite', '--quiet'])).code).toBe(0);
    expect(readReport(notes)).toHaveLength(5);
  });

  it('--failed naming the input, or the report, is refused before anything is written', async () => {
    sb = await startSalsaSandbox();
    const dir = tempDir();
    const file = join(dir, 'iter.csv');
    writeFileSync(file, csv(['Email', 'First Name'], [...people(3), ['not-an-email', 'X']]));
    const before = sha(file);
    const onInput = await runInProcess(['import', file, '--failed', file], { env: sb.env });
    expect(onInput.code).toBe(2);
    expect(onInput.stderr).toMatch(/Refusing to write the failed-rows file to .*iter\.csv: that is the input.*--failed/);
    const report = join(dir, 'out.report.csv');
    const onReport = await runInProcess(['import', file, '-r', report, '--failed', report], { env: sb.env });
    expect(onReport.code).toBe(2);
    expect(onReport.stderr).toMatch(/Refusing to write the failed-rows file to .*out\.report\.csv: that is the report/);
    expect(sha(file)).toBe(before);
    expect(existsSync(report)).toBe(false);
    expect(sb.salsa.supporters()).toHaveLength(0);
    // A file at --failed that is not a failed-rows file (someone's notes) is replaced only deliberately.
    const notes = join(dir, 'notes.csv');
    writeFileSync(notes, 'my,own\nnotes,here\n');
    const onNotes = await runInProcess(['import', file, '--failed', notes], { env: sb.env });
    expect(onNotes.code).toBe(2);
    expect(onNotes.stderr).toMatch(/notes\.csv exists and is not the failed-rows file written by sync-supporters, so it was not replaced.*--overwrite/);
    expect(readFileSync(notes, 'utf8')).toBe('my,own\nnotes,here\n');
    // The state database cannot be the input either.
    const onState = await runInProcess(['import', file, '--state', file], { env: sb.env });
    expect(onState.code).toBe(2);
    expect(onState.stderr).toMatch(/the local state .*: that is the input/);
  });

  it('a missing or unusable report folder is exit 2 before anything is sent, not a stack trace', async () => {
    sb = await startSalsaSandbox();
    const dir = tempDir();
    const file = contactsFile(dir);
    const res = await runInProcess(['import', file, '-r', join(dir, 'nodir', 'x', 'report.csv')], { env: sb.env });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/Cannot write the report .*report\.csv: the folder .*nodir\/x does not exist\. Create the folder, or choose another path with --report/);
    expect(res.stderr).not.toMatch(/\n\s+at /);
    const asFolder = await runInProcess(['import', file, '-r', dir], { env: sb.env });
    expect(asFolder.code).toBe(2);
    expect(asFolder.stderr).toMatch(/is a folder/);
    expect(sb.salsa.supporters()).toHaveLength(0);
  });
});

describe("a real run's report is never replaced by a preview", () => {
  it('after an aborted import, validate and --dry-run write their own reports; --resume then sends every unsent row', async () => {
    sb = await startSalsaSandbox();
    const dir = tempDir();
    const file = contactsFile(dir, 'big.csv', 40);
    const report = join(dir, 'big.report.csv');
    // The token is refused: every row is NOT_ATTEMPTED, exit 3, as after an interrupt.
    const aborted = await runInProcess(['import', file, '--quiet'], { env: { ...sb.env, SALSA_API_TOKEN: 'wrong' } });
    expect(aborted.code).toBe(3);
    const real = sha(report);
    expect(readReport(report).every((r) => r.status === 'NOT_ATTEMPTED')).toBe(true);

    expect((await runInProcess(['validate', file, '--quiet'])).code).toBe(0);
    expect((await runInProcess(['import', file, '--dry-run', '--quiet'])).code).toBe(0);
    expect(readReport(join(dir, 'big.validate.report.csv'))).toHaveLength(40);
    expect(readReport(join(dir, 'big.dry-run.report.csv')).every((r) => r.status === 'DRY_RUN')).toBe(true);
    expect(sha(report)).toBe(real);

    const explicit = await runInProcess(['import', file, '--dry-run', '-r', report]);
    expect(explicit.code).toBe(2);
    expect(explicit.stderr).toMatch(/big\.report\.csv is the report of a real run .*; a import --dry-run would replace it/);
    expect(sha(report)).toBe(real);

    const resumed = await runInProcess(['import', file, '--resume', '--json'], { env: sb.env });
    expect(JSON.parse(resumed.stdout)).toMatchObject({ counts: { ADDED: 40 }, exitCode: 0 });
    expect(sb.salsa.supporters()).toHaveLength(40);
  });

  it('--resume refuses the report of a validate or dry run', async () => {
    sb = await startSalsaSandbox();
    const dir = tempDir();
    const file = contactsFile(dir);
    const report = join(dir, 'preview.report.csv');
    expect((await runInProcess(['import', file, '--dry-run', '-r', report, '--quiet'])).code).toBe(0);
    const res = await runInProcess(['import', file, '--resume', '-r', report], { env: sb.env });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/Cannot resume: .*preview\.report\.csv is the report of a import --dry-run, which sent nothing/);
    expect(sb.salsa.supporters()).toHaveLength(0);
    const validateResume = await runInProcess(['validate', file, '--resume']);
    expect(validateResume.code).toBe(2);
    expect(validateResume.stderr).toMatch(/a validate sends nothing, so there is nothing to resume/);
  });

  it('a second real run keeps the first run\'s report beside it, named by its start time', async () => {
    sb = await startSalsaSandbox();
    const dir = tempDir();
    const file = contactsFile(dir);
    expect((await runInProcess(['import', file, '--quiet'], { env: sb.env })).code).toBe(0);
    const first = readFileSync(join(dir, 'contacts.report.csv'), 'utf8');
    const second = await runInProcess(['import', file], { env: sb.env });
    expect(second.code).toBe(0);
    const kept = readdirSync(dir).filter((f) => /^contacts\.\d{4}-\d\d-\d\dT[\d-]+Z\.report\.csv$/.test(f));
    expect(kept).toHaveLength(1);
    expect(readFileSync(join(dir, kept[0]!), 'utf8')).toBe(first);
    expect(second.stderr).toContain(`the earlier report at this path was kept as ${join(dir, kept[0]!)}`);
    expect(readReport(join(dir, 'contacts.report.csv')).map((r) => r.status)).toEqual(Array(5).fill('UPDATED'));
  });
});

describe('a run that stops before sending leaves the earlier report where it was', () => {
  it('a usage error after the earlier real report was set aside puts it back', async () => {
    sb = await startSalsaSandbox();
    const dir = tempDir();
    const file = contactsFile(dir);
    expect((await runInProcess(['import', file, '--quiet'], { env: sb.env })).code).toBe(0);
    const report = join(dir, 'contacts.report.csv');
    const before = sha(report);
    const map = join(dir, 'map.json');
    writeFileSync(map, JSON.stringify({ fields: { email: 'No Such Column' } }));
    const res = await runInProcess(['import', file, '-m', map], { env: sb.env });
    expect(res.code).toBe(2);
    expect(sha(report)).toBe(before);
    expect(readdirSync(dir).filter((f) => /\d{4}-\d\d-\d\dT/.test(f))).toEqual([]);
  });
});

describe('two runs at once, and who may read the files', () => {
  it('a second run on the same report is refused while the first holds it; a lock left by a dead process is taken over', async () => {
    sb = await startSalsaSandbox();
    const dir = tempDir();
    const file = contactsFile(dir);
    const lock = join(dir, 'contacts.report.csv.lock');
    // Held by a live process (this test's own), as a cron job still running would hold it.
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: (await import('node:os')).hostname(), startedAt: '2026-11-23T02:00:00.000Z', command: 'import contacts.csv' }));
    const busy = await runInProcess(['import', file], { env: sb.env });
    expect(busy.code).toBe(2);
    expect(busy.stderr).toMatch(/Another sync-supporters run is writing .*contacts\.report\.csv \(import contacts\.csv, pid \d+, started 2026-11-23T02:00:00\.000Z\)\. Wait for it to finish, or give this run its own --report/);
    expect(sb.salsa.supporters()).toHaveLength(0);
    // A killed run's lock: its pid is gone.
    writeFileSync(lock, JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import('node:os')).hostname(), startedAt: 'x', command: 'import' }));
    expect((await runInProcess(['import', file, '--quiet'], { env: sb.env })).code).toBe(0);
    expect(existsSync(lock)).toBe(false);
    expect(sb.salsa.supporters()).toHaveLength(5);
  });

  it('report, failed rows, run record and state are readable by their owner only', async () => {
    sb = await startSalsaSandbox();
    const dir = tempDir();
    const file = join(dir, 'c.csv');
    writeFileSync(file, csv(['Email'], [['a@example.org'], ['bad']]));
    const state = join(dir, 'st', 'state.db');
    const failed = join(dir, 'failed.csv');
    expect((await runInProcess(['import', file, '--failed', failed, '--state', state, '--quiet'], { env: sb.env })).code).toBe(1);
    for (const f of [join(dir, 'c.report.csv'), join(dir, 'c.report.csv.run.json'), failed, state]) {
      expect((statSync(f).mode & 0o777).toString(8), f).toBe('600');
    }
    expect((statSync(join(dir, 'st')).mode & 0o777).toString(8)).toBe('700');
  });
});

describe('init writes only where it may', () => {
  it('-o in a missing folder, or onto the input, is exit 2 with what to do', async () => {
    const dir = tempDir();
    const file = contactsFile(dir);
    const before = sha(file);
    const missing = await runInProcess(['init', file, '--yes', '-o', join(dir, 'nodir', 'm.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/Cannot write the mapping .*m\.json: the folder .*nodir does not exist/);
    const onInput = await runInProcess(['init', file, '--yes', '--force', '-o', file]);
    expect(onInput.code).toBe(2);
    expect(onInput.stderr).toMatch(/Refusing to write the mapping to .*contacts\.csv: that is the input/);
    expect(sha(file)).toBe(before);
    mkdirSync(join(dir, 'maps'));
    expect((await runInProcess(['init', file, '--yes', '-o', join(dir, 'maps', 'm.json')])).code).toBe(0);
  });
});
