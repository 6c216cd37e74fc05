import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { closeMatches, describeMemberships, directoryOf, doneInMessage, rowMemberships } from '../../src/core/memberships.js';
import type { Membership } from '../../src/core/types.js';
import { formatCsvLine } from '../../src/report/report-row.js';
import { readPreviousResults } from '../../src/report/resume-reader.js';

const NOUN = { one: 'segment', many: 'segments' };
const seg = (id: string, label: string) => ({ id, label });

describe('segment names', () => {
  const dir = directoryOf([seg('s1', 'Spring Volunteers'), seg('s2', 'Volunteer'), seg('s3', 'Donors 2025'), seg('s4', 'Leads'), seg('s5', 'Leads')], NOUN);

  it('resolves an id or an exact name; never a near one, which it names instead', () => {
    expect(dir.resolve('s3')).toEqual({ group: seg('s3', 'Donors 2025') });
    expect(dir.resolve('Volunteer')).toEqual({ group: seg('s2', 'Volunteer') });
    expect(dir.resolve('volunteer')).toEqual({ error: 'no segment is named "volunteer" (close: "Volunteer", "Spring Volunteers"); names must match exactly, or give the segment\'s id' });
    expect(dir.resolve('Donor 2025')).toEqual({ error: expect.stringContaining('(close: "Donors 2025")') });
    expect(dir.resolve('Leads')).toEqual({ error: 'segment "Leads" is ambiguous: 2 segments have that name (ids s4, s5); name it by id' });
    // Nothing close: a short list is shown whole.
    expect(dir.resolve('Gala')).toEqual({ error: expect.stringContaining('(the account has "Spring Volunteers", "Volunteer", "Donors 2025", "Leads", "Leads")') });
  });

  it('finds close names by case, punctuation, containment and a few edits, nearest first', () => {
    expect(closeMatches('spring-volunteers', ['Spring Volunteers', 'Autumn'])).toEqual(['Spring Volunteers']);
    expect(closeMatches('Donr 2025', ['Donors 2025', 'Donors 2024', 'Board'])).toEqual(['Donors 2025']);
    expect(closeMatches('Donors 2026', ['Donors 2025', 'Donors 2024', 'Board'])).toEqual(['Donors 2024', 'Donors 2025']);
    expect(closeMatches('Board', ['Donors 2025'])).toEqual([]);
  });

  it("a row's changes: the flags', then its own, without repeats; added and removed at once is the row's mistake", () => {
    const flags: Membership[] = [{ change: 'add', group: seg('s1', 'Spring Volunteers') }];
    const r = rowMemberships(flags, { add: ['Volunteer', 'Spring Volunteers', 's2'], remove: [] }, dir, NOUN);
    expect(r).toEqual({ memberships: [flags[0], { change: 'add', group: seg('s2', 'Volunteer') }] });
    expect(rowMemberships(flags, { add: [], remove: ['s1'] }, dir, NOUN)).toEqual({ error: 'segment "Spring Volunteers" is both added and removed for this row; say one (nothing was sent for this row)' });
    expect(rowMemberships([], { add: ['Gala', 'Volunteer'], remove: [] }, dir, NOUN)).toEqual({ error: expect.stringMatching(/^no segment is named "Gala".*\(nothing was sent for this row\)$/) });
  });
});

describe("the report's wording of group changes", () => {
  const m = (label: string, change: 'add' | 'remove' = 'add'): Membership => ({ change, group: { id: label, label } });

  it('reads back what it wrote, whatever the names hold (quotes, commas, semicolons, parentheses)', () => {
    const odd = 'Board; "Inner", circle (2025)';
    const text = describeMemberships('segments', [
      { membership: m('Volunteer'), outcome: 'added' },
      { membership: m(odd), outcome: 'already' },
      { membership: m('Old', 'remove'), outcome: 'removed' },
      { membership: m('Gone', 'remove'), outcome: 'not-member' },
      { membership: m('Leads'), outcome: 'failed', reason: 'HTTP 503 from Salsa (Service Unavailable) after 6 attempts' },
    ]);
    expect(text).toBe('segments: added to "Volunteer"; already in "Board; \\"Inner\\", circle (2025)"; removed from "Old"; not in "Gone"; failed "Leads" (HTTP 503 from Salsa Service Unavailable after 6 attempts)');
    expect([...doneInMessage(`ADDED, but 1 of its 5 segment changes failed; ${text}`)]).toEqual([
      ['Volunteer', 'added'],
      [odd, 'already'],
      ['Old', 'removed'],
      ['Gone', 'not-member'],
    ]);
  });

  it('--resume reads a row written but not in all its segments, from the report or from the journal of a killed run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'membership-'));
    const report = join(dir, 'r.csv');
    const line = (row: number, status: 'FAILED' | 'UPDATED', remoteId: string, errorMessage: string, errorCode?: string) =>
      formatCsvLine({ row, line: row + 1, operation: 'upsert', key: `p${row}@x.org`, status, remoteId, attempts: 2, errorCode, errorMessage });
    writeFileSync(report, 'row,line,operation,key,status,remote_id,attempts,http_status,error_code,error_message\n' +
      line(1, 'FAILED', 'id-1', 'ADDED, but 1 of its 2 segment changes failed (--resume sends it again, not the supporter); segments: added to "A"; failed "B" (HTTP 503)', 'MEMBERSHIP'));
    // The journal of a killed run: row 2 written, its segment changes not sent; row 3 the same, then finished.
    writeFileSync(`${report}.journal`, [
      line(2, 'FAILED', 'id-2', 'UPDATED; its segment changes are not sent yet', 'MEMBERSHIP'),
      line(3, 'FAILED', 'id-3', 'ADDED; its segment changes are not sent yet', 'MEMBERSHIP'),
      line(3, 'UPDATED', 'id-3', 'segments: added to "A"'),
    ].join(''));
    const { previous, pending } = await readPreviousResults(report);
    expect([...pending.entries()]).toEqual([
      [1, { remoteId: 'id-1', status: 'ADDED', done: new Map([['A', 'added']]) }],
      [2, { remoteId: 'id-2', status: 'UPDATED', done: new Map() }],
    ]);
    expect([...previous.keys()]).toEqual([3]);
  });
});

describe('a segments column', () => {
  it('is split by its separator, each name trimmed; a value map applies to each name ("" leaves one out, an unmapped one is the row\'s error)', async () => {
    const { createRowMapper } = await import('../../src/mapping/mapper.js');
    const { parseMapping } = await import('../../src/mapping/mapping-file.js');
    const { salsaTarget } = await import('../../src/targets/salsa/index.js');
    const mapperFor = (fields: object) => {
      const m = createRowMapper(salsaTarget, parseMapping({ fields }, '', 'map.json', salsaTarget), 'in.csv');
      m.bind(['Email', 'Tags', 'Leave']);
      return m;
    };
    const plain = mapperFor({ segments: 'Tags', removeSegments: { column: 'Leave', separator: '|' } });
    expect(plain.map({ Email: 'a@x.org', Tags: ' Volunteer,  Donor 2025 ,', Leave: 'Old|Older' })).toEqual({ mapped: { fields: { email: 'a@x.org' }, custom: [], groups: { add: ['Volunteer', 'Donor 2025'], remove: ['Old', 'Older'] } } });
    expect(plain.map({ Email: 'a@x.org', Tags: '', Leave: '' })).toEqual({ mapped: { fields: { email: 'a@x.org' }, custom: [] } });
    const mapped = mapperFor({ segments: { column: 'Tags', map: { volunteer: 'Volunteer', prospect: '' } } });
    expect(mapped.map({ Email: 'a@x.org', Tags: 'volunteer, Prospect', Leave: '' })).toEqual({ mapped: { fields: { email: 'a@x.org' }, custom: [], groups: { add: ['Volunteer'], remove: [] } } });
    expect(mapped.map({ Email: 'a@x.org', Tags: 'volunteer, donor', Leave: '' })).toEqual({ error: 'segments (from "Tags"): "donor" is not one of the mapped names (volunteer, prospect); map it, or map it to "" to leave it out' });
    // Never matched from a header: a Tags column joins segments only when a mapping says so.
    const auto = createRowMapper(salsaTarget, undefined, 'in.csv');
    auto.bind(['Email', 'segments', 'Tags']);
    expect(auto.matches().map((x) => x.field)).toEqual(['email']);
  });
});
