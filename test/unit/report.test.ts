import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatCsvLine, formatJsonLine } from '../../src/report/report-row.js';
import { readPreviousResults } from '../../src/report/resume-reader.js';

const base = { row: 1, line: 2, operation: 'upsert' as const, attempts: 1 };

describe('report rows', () => {
  it('escapes cells a spreadsheet would run as a formula, and keeps each row on one line', () => {
    const line = formatCsvLine({ ...base, key: '=HYPERLINK("http://x","click")', status: 'INVALID', errorMessage: '+1 error\non two lines', errorCode: '@x' });
    expect(line).toBe(`1,2,upsert,"'=HYPERLINK(""http://x"",""click"")",INVALID,,1,,'@x,'+1 error on two lines\n`);
    expect(formatCsvLine({ ...base, key: '-5', status: 'ADDED' })).toContain(",'-5,");
    // JSONL is read by programs, not spreadsheets: values stay exactly as they are.
    expect(JSON.parse(formatJsonLine({ ...base, key: '=1+1', status: 'ADDED' })).key).toBe('=1+1');
  });
});

describe('resume reader', () => {
  it('keeps final answers, drops retryable ones and a torn last line, and merges the journal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'resume-'));
    const report = join(dir, 'r.csv');
    writeFileSync(report, 'row,line,operation,key,status,remote_id,attempts,http_status,error_code,error_message\n1,2,upsert,a@x.org,ADDED,id-1,1,200,,\n2,3,upsert,b@x.org,FAILED,,6,503,,gave up\n3,4,upsert,c@x.org,INVA');
    writeFileSync(`${report}.journal`, '4,5,upsert,d@x.org,UPDATED,id-4,2,200,,\n5,6,upsert,e@x.org,NOT_ATTEMPTED,,0,,,stopped\n6,7,ups');
    const { previous: prev } = await readPreviousResults(report);
    expect([...prev.entries()].map(([row, p]) => [row, p.status])).toEqual([
      [1, 'ADDED'],
      [4, 'UPDATED'],
    ]);
    expect(prev.get(4)!.line).toBe('4,5,upsert,d@x.org,UPDATED,id-4,2,200,,');
  });
});

describe('resume reader', () => {
  it('splits a report line exactly as csv-parse does (quotes, doubled quotes, empty cells, commas inside)', async () => {
    const fc = (await import('fast-check')).default;
    const { parse } = await import('csv-parse/sync');
    const { splitCsvLine } = await import('../../src/report/resume-reader.js');
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme-ascii' }).filter((s) => !/[\r\n]/.test(s)), { minLength: 1, maxLength: 12 }), (cells) => {
        const line = cells.map((c) => (/[",]/.test(c) || c === '' ? `"${c.replace(/"/g, '""')}"` : c)).join(',');
        expect(splitCsvLine(line)).toEqual(parse(line, { relax_column_count: true })[0]);
      }),
      { numRuns: 2000 },
    );
    expect(splitCsvLine('1,2,"torn')).toBeUndefined();
  });
});
