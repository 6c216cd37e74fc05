import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FailedRowsWriter } from '../../src/report/failed-rows.js';

describe('failed-rows file', () => {
  it('keeps the input delimiter and values, pads a short row so sync_error keeps its own column, keeps a long row whole', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'failed-')), 'f.csv');
    const w = new FailedRowsWriter(path, 'csv', () => ['Email', 'Name', 'City'], () => ';');
    w.add({ row: 1, line: 2, fields: { Email: 'a@x', Name: 'Ng;Jr', City: 'Austin' } }, { status: 'INVALID', errorMessage: 'email "a@x" is not valid' });
    w.add({ row: 2, line: 3, raw: ['b@x.org'], error: 'expected 3 columns' }, { status: 'INVALID', errorMessage: 'line 3: expected 3 columns, found 1' });
    w.add({ row: 3, line: 4, raw: ['c@x.org', 'C', 'Boston', 'extra'], error: 'expected 3 columns' }, { status: 'INVALID', errorMessage: 'line 4: expected 3 columns, found 4' });
    w.close();
    expect(readFileSync(path, 'utf8').split('\n')).toEqual([
      'Email;Name;City;sync_error',
      'a@x;"Ng;Jr";Austin;"line 2: INVALID: email ""a@x"" is not valid"',
      'b@x.org;;;line 3: INVALID: expected 3 columns, found 1',
      'c@x.org;C;Boston;extra;line 4: INVALID: expected 3 columns, found 4',
      '',
    ]);
  });
});
