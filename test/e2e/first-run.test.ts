import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { csv, tempDir, ROOT, runInProcess, startSalsaSandbox, type TestSandbox } from '../support/helpers.js';

let running: TestSandbox | undefined;
afterEach(async () => {
  await running?.sandbox.close();
  running = undefined;
});

describe('first run: init, mapping files, failed rows', () => {
  it('init proposes a mapping from headers and values, shows samples, and writes a file the tool accepts', async () => {
    const dir = tempDir();
    const file = join(dir, 'crm-export.csv');
    writeFileSync(file, csv(['Contact', 'Given', 'Family Name', 'Mob', 'Postcode', 'Born On', 'Newsletter?', 'Sex', 'Favourite Colour'], [
      ['ann@example.org', 'Ann', 'Lee', '+1 (555) 201-3344', '97201', '31/12/1980', 'Y', 'F'],
      ['bob@example.org', 'Bob', 'Ray', '555 201 9988', '78701', '02/03/1975', 'N', 'M'],
    ].map((r) => [...r, 'blue'])));
    const out = join(dir, 'mapping.json');
    const res = await runInProcess(['init', file, '--yes', '-o', out]);
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/Contact\s+→ email\s+values look like email addresses\s+"ann@example\.org", "bob@example\.org"/);
    expect(res.stderr).toContain('Newsletter? is an opt-in column (yes means the person agreed): "Y" → the person is OPTED IN; "N" → the person is OPTED OUT');
    expect(res.stderr).toMatch(/Favourite Colour: not a standard field: to send it, add \{"name": "<Salsa Engage custom field>", "column": "Favourite Colour"\} under "customFields"/);
    const mapping = JSON.parse(readFileSync(out, 'utf8'));
    expect(mapping.fields).toMatchObject({
      email: 'Contact',
      firstName: 'Given',
      cellPhone: 'Mob',
      postalCode: 'Postcode',
      dateOfBirth: { column: 'Born On', transform: [{ date: 'DD/MM/YYYY' }] },
      emailStatus: { column: 'Newsletter?', consent: 'opt-in' },
      gender: 'Sex', // a known header; Salsa's own checks read M/F
    });
    // The written mapping validates the file: no row is INVALID, and the birth date is not shifted.
    const v = await runInProcess(['validate', file, '-m', out, '--json', '-r', join(dir, 'v.report.jsonl')]);
    expect(JSON.parse(v.stdout).counts).toEqual({ DRY_RUN: 2 });
    expect((await runInProcess(['init', file, '--yes', '-o', out])).stderr).toMatch(/already exists: .*--force/);
    expect((await runInProcess(['init', file, '-o', join(dir, 'other.json')])).stderr).toMatch(/run with --yes/);
  });

  it('a bad mapping file stops with exit 2 naming the key and the line, before any row is read', async () => {
    const dir = tempDir();
    const map = join(dir, 'm.json');
    writeFileSync(map, '{\n  "fields": {\n    "email": "Email",\n    "firstname": "First Name"\n  }\n}\n');
    const res = await runInProcess(['import', join(ROOT, 'fixtures/contacts.csv'), '-m', map, '--sandbox']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/m\.json, line 4: "firstname" is not a Salsa Engage field \(known: supporterId, email/);
    writeFileSync(map, '{ "fields": { "email": { "column": "E-mail" } } }');
    const missing = await runInProcess(['import', join(ROOT, 'fixtures/contacts.csv'), '-m', map, '--sandbox']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/The mapping names "E-mail" \(.*m\.json line 1\), not a column of .*contacts\.csv \(its columns: Email, First Name/);
  });

  it('--failed writes the rows that did not succeed in the input format plus sync_error; fixed, that file re-runs as it is', async () => {
    running = await startSalsaSandbox({ rateLimit: 100_000 });
    const dir = tempDir();
    const failed = join(dir, 'failed.csv');
    const res = await runInProcess(['import', join(ROOT, 'fixtures/contacts.csv'), '-r', join(dir, 'r.csv'), '--failed', failed], { env: running.env });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/failed rows: .*failed\.csv \(3; fix them there and re-run that file as it is\)/);
    const text = readFileSync(failed, 'utf8');
    // Written as the input is (its CRLF line endings), so a spreadsheet opens it alike.
    const lines = text.trim().split('\r\n');
    expect(lines[0]).toBe('Email,First Name,Last Name,Address 1,Address 2,City,State,Zip,Phone,Date of Birth,Gender,External ID,Notes,sync_error');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(/^maria\.garcia@example,James,.*,"line 13: INVALID: email ""maria\.garcia@example"" is not a valid email address"$/);
    // A person fixes the rows in a spreadsheet, and re-runs that very file.
    const fixed = text
      .replace('maria.garcia@example,', 'maria.garcia@example.org,')
      .replace(/\n,José/, '\njose.rossi@example.org,José')
      .replace(',,extra,', ',,');
    writeFileSync(failed, fixed);
    const rerun = await runInProcess(['import', failed, '--json'], { env: running.env });
    expect(JSON.parse(rerun.stdout)).toMatchObject({ rows: 3, counts: { ADDED: 3 }, exitCode: 0 });
    expect(rerun.stderr).not.toMatch(/Columns not used: .*sync_error/);
  });

  it('every command has --help with examples', async () => {
    for (const cmd of ['import', 'delete', 'validate', 'init', 'sandbox', 'state']) {
      const res = await runInProcess([cmd, '--help']);
      expect(res.code, cmd).toBe(0);
      expect(res.stdout, cmd).toMatch(/Example/);
    }
  });
});
