import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { csv, readReport, runInProcess, closeAfterEach, startLuminateSandbox, startSalsaSandbox, tempDir, type TestSandbox } from '../support/helpers.js';

// Putting imported people into segments (Salsa) and groups (Luminate): from --segment, from a tags column, and
// taken out with --remove-segment; what each row's report line says; a membership failure and its resume.

let running: TestSandbox | undefined;
const closing = closeAfterEach();

const SEGMENTS = ['Spring Volunteers', 'Volunteer', 'Donor 2025', 'Volunteer Leads', 'Donors 2024'];
const PEOPLE = [
  ['ann@example.org', 'Ann', 'Volunteer, Donor 2025'],
  ['bo@example.org', 'Bo', 'Volunteer'],
  ['cy@example.org', 'Cy', ''],
  ['di@example.org', 'Di', 'Donor 2025'],
];
const MAPPING = JSON.stringify({ fields: { segments: { column: 'TAGS', separator: ',' } } });

function files(people = PEOPLE) {
  const dir = tempDir();
  const input = join(dir, 'volunteers.csv');
  writeFileSync(input, csv(['Email Address', 'First Name', 'TAGS'], people));
  const map = join(dir, 'map.json');
  writeFileSync(map, MAPPING);
  return { dir, input, map, report: join(dir, 'volunteers.report.csv') };
}

/** Segment name → the emails of its members, as the sandbox holds them. */
function membersByName(sb: TestSandbox): Record<string, string[]> {
  const emailOf = new Map(sb.salsa.supporters().map((s) => [String(s.supporterId), String((s.contacts as Array<{ type: string; value: string }>).find((c) => c.type === 'EMAIL')!.value)]));
  return Object.fromEntries(sb.salsa.segments().map((s) => [s.name, s.members.map((id) => emailOf.get(id) ?? id).sort()]));
}

describe('segments (Salsa): --segment, a tags column, --remove-segment', () => {
  it('puts every row in the flag\'s segment and its own tags, takes people out, and says per row what was done', async () => {
    running = await startSalsaSandbox({ segments: SEGMENTS });
    closing(running.sandbox);
    const f = files();
    // An earlier import put Ann and Bo in "Volunteer Leads".
    const before = join(f.dir, 'leads.csv');
    writeFileSync(before, csv(['Email Address'], [['ann@example.org'], ['bo@example.org']]));
    expect((await runInProcess(['import', before, '--segment', 'Volunteer Leads', '--no-state'], { env: running.env })).code).toBe(0);
    expect(membersByName(running)['Volunteer Leads']).toEqual(['ann@example.org', 'bo@example.org']);

    const res = await runInProcess(['import', f.input, '-m', f.map, '--segment', 'Spring Volunteers', '--remove-segment', 'Volunteer Leads', '--no-state'], { env: running.env });
    expect(res.stderr).not.toMatch(/internal error/);
    expect(res.code).toBe(0);
    expect(membersByName(running)).toEqual({
      'Spring Volunteers': ['ann@example.org', 'bo@example.org', 'cy@example.org', 'di@example.org'],
      Volunteer: ['ann@example.org', 'bo@example.org'],
      'Donor 2025': ['ann@example.org', 'di@example.org'],
      'Volunteer Leads': [],
      'Donors 2024': [],
    });
    const report = readReport(f.report);
    expect(report.map((r) => [r.key, r.status, r.error_message])).toEqual([
      ['ann@example.org', 'UPDATED', 'segments: added to "Spring Volunteers", "Volunteer", "Donor 2025"; removed from "Volunteer Leads"'],
      ['bo@example.org', 'UPDATED', 'segments: added to "Spring Volunteers", "Volunteer"; removed from "Volunteer Leads"'],
      ['cy@example.org', 'ADDED', 'segments: added to "Spring Volunteers"; not in "Volunteer Leads"'],
      ['di@example.org', 'ADDED', 'segments: added to "Spring Volunteers", "Donor 2025"; not in "Volunteer Leads"'],
    ]);
    expect(res.stderr).toMatch(/segment memberships: 8 added, 2 removed, 2 not members \(nothing to remove\) \(\d+ calls of their own\)/);
    // One call per segment and change carried every row (4 rows < maxBatchSize).
    expect(running.sandbox.stats.calls['PUT /api/integration/ext/v1/segments/members']).toBe(1 + 3);
    expect(running.sandbox.stats.calls['DELETE /api/integration/ext/v1/segments/members']).toBe(1);
  });

  it('with --changed-only, rows UNCHANGED since the last sync still join the segment the flag names (by their stored id)', async () => {
    running = await startSalsaSandbox({ segments: SEGMENTS });
    closing(running.sandbox);
    const f = files();
    const state = join(f.dir, 'state.db');
    expect((await runInProcess(['import', f.input, '--state', state], { env: running.env })).code).toBe(0);
    const puts = running.sandbox.stats.calls['PUT /api/integration/ext/v1/supporters'] ?? 0;
    const res = await runInProcess(['import', f.input, '--state', state, '--changed-only', '--segment', 'Donors 2024', '-r', join(f.dir, 'again.csv')], { env: running.env });
    expect(res.code).toBe(0);
    const report = readReport(join(f.dir, 'again.csv'));
    expect(report.map((r) => r.status)).toEqual(['UNCHANGED', 'UNCHANGED', 'UNCHANGED', 'UNCHANGED']);
    expect(report[0]!.error_message).toBe('same as last synced; not sent; segments: added to "Donors 2024"');
    expect(running.sandbox.stats.calls['PUT /api/integration/ext/v1/supporters'] ?? 0).toBe(puts);
    expect(membersByName(running)['Donors 2024']).toEqual(['ann@example.org', 'bo@example.org', 'cy@example.org', 'di@example.org']);
  });

  it('an unknown or ambiguous segment name stops the run before anything is sent (exit 2), naming the close ones', async () => {
    running = await startSalsaSandbox({ segments: [...SEGMENTS, 'Donors 2024'] });
    closing(running.sandbox);
    const f = files();
    const res = await runInProcess(['import', f.input, '--segment', 'Spring Volunteer', '--json'], { env: running.env });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/error \[E_SEGMENT\]: --segment "Spring Volunteer": no segment is named "Spring Volunteer" \(close: "Spring Volunteers"/);
    expect(JSON.parse(res.stdout).error.code).toBe('E_SEGMENT');
    const ambiguous = await runInProcess(['import', f.input, '--segment', 'Donors 2024'], { env: running.env });
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toMatch(/"Donors 2024" is ambiguous: 2 segments have that name \(ids [\w-]+, [\w-]+\); name it by id/);
    expect(running.salsa.supporters()).toEqual([]);
    expect(running.sandbox.stats.calls['PUT /api/integration/ext/v1/supporters']).toBeUndefined();
    expect(existsSync(f.report)).toBe(false);
    // By id, the same segment is unambiguous.
    const id = running.salsa.segments().find((s) => s.name === 'Donors 2024')!.segmentId;
    expect((await runInProcess(['import', f.input, '--segment', id, '--no-state'], { env: running.env })).code).toBe(0);
    expect(running.salsa.segments().find((s) => s.segmentId === id)!.members).toHaveLength(4);
  });

  it('a tag that names no segment makes its row INVALID (nothing sent for it), naming the close ones; the others go', async () => {
    running = await startSalsaSandbox({ segments: ['Volunteer', 'Donors 2025'] });
    closing(running.sandbox);
    const f = files();
    const res = await runInProcess(['import', f.input, '-m', f.map, '--no-state'], { env: running.env });
    expect(res.code).toBe(1);
    const report = readReport(f.report);
    expect(report.map((r) => r.status)).toEqual(['INVALID', 'ADDED', 'ADDED', 'INVALID']);
    expect(report[0]!.error_message).toBe('no segment is named "Donor 2025" (close: "Donors 2025"); names must match exactly, or give the segment\'s id (nothing was sent for this row)');
    expect(running.salsa.supporters()).toHaveLength(2);
  });

  it('check names the segments a run would use, before a run: an unknown flag is FAIL (exit 2), unknown tags are counted', async () => {
    running = await startSalsaSandbox({ segments: ['Spring Volunteers', 'Volunteer', 'Donors 2025'] });
    closing(running.sandbox);
    const f = files();
    const res = await runInProcess(['check', f.input, '-m', f.map, '--segment', 'Spring Volunteer', '--remove-segment', 'Volunteer', '--json'], { env: running.env });
    expect(res.code).toBe(2);
    const segments = (JSON.parse(res.stdout).checks as Array<{ check: string; ok: boolean; detail: string }>).filter((c) => c.check === 'segments');
    expect(segments).toEqual([
      { check: 'segments', ok: false, severity: 'fail', detail: '--segment "Spring Volunteer": no segment is named "Spring Volunteer" (close: "Spring Volunteers", "Volunteer"); names must match exactly, or give the segment\'s id' },
      { check: 'segments', ok: true, detail: '--remove-segment "Volunteer": segment "Volunteer" (' + running.salsa.segments().find((x) => x.name === 'Volunteer')!.segmentId + ')' },
      { check: 'segments', ok: false, severity: 'problem', detail: '2 of the first 4 rows name a segment the account does not have; they would be INVALID: 2 × "Donor 2025" (close: "Donors 2025")' },
    ]);
    const fixed = await runInProcess(['check', f.input, '--segment', 'Spring Volunteers'], { env: running.env });
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toMatch(/ok {4}segments +--segment "Spring Volunteers": segment "Spring Volunteers" \(/);
    expect(running.salsa.supporters()).toEqual([]); // read-only
    expect(running.salsa.segments().every((x) => x.members.length === 0)).toBe(true);
  });

  it('a membership call that keeps failing leaves its rows FAILED (exit 1); --resume sends the memberships, not the supporters', async () => {
    running = await startSalsaSandbox({ segments: SEGMENTS, faults: '503*1,only=PUT /api/integration/ext/v1/segments/members' });
    closing(running.sandbox);
    const f = files();
    const failed = join(f.dir, 'failed.csv');
    const first = await runInProcess(['import', f.input, '-m', f.map, '--segment', 'Spring Volunteers', '--retries', '0', '--failed', failed, '--no-state', '-c', '1'], { env: running.env });
    expect(first.code).toBe(1);
    const report = readReport(f.report);
    // Written, but not in every segment: not a clean success. remote_id says which supporter it is.
    expect(report.map((r) => [r.status, r.error_code])).toEqual([
      ['FAILED', 'MEMBERSHIP'],
      ['FAILED', 'MEMBERSHIP'],
      ['FAILED', 'MEMBERSHIP'],
      ['FAILED', 'MEMBERSHIP'],
    ]);
    expect(report.every((r) => /^[\w-]{36}$/.test(r.remote_id!))).toBe(true);
    expect(report[2]!.error_message).toMatch(/^ADDED, but 1 of its 1 segment change failed \(--resume sends it again, not the supporter\); segments: failed "Spring Volunteers" \(HTTP 503/);
    expect(report[0]!.error_message).toMatch(/segments: added to "Volunteer", "Donor 2025"; failed "Spring Volunteers"/);
    expect(first.stdout + first.stderr).toMatch(/--resume/);
    expect(existsSync(failed)).toBe(true);
    expect(running.salsa.supporters()).toHaveLength(4);
    expect(membersByName(running)['Spring Volunteers']).toEqual([]);

    const supporterPuts = running.sandbox.stats.calls['PUT /api/integration/ext/v1/supporters'];
    const memberPuts = running.sandbox.stats.calls['PUT /api/integration/ext/v1/segments/members']!;
    const resumed = await runInProcess(['import', f.input, '-m', f.map, '--segment', 'Spring Volunteers', '--resume', '--no-state'], { env: running.env });
    expect(resumed.code).toBe(0);
    expect(running.sandbox.stats.calls['PUT /api/integration/ext/v1/supporters']).toBe(supporterPuts);
    // Only "Spring Volunteers" was open: one call for the four rows.
    expect(running.sandbox.stats.calls['PUT /api/integration/ext/v1/segments/members']).toBe(memberPuts + 1);
    const after = readReport(f.report);
    // Each row reads as the supporter's own call did then, with every segment it is now in.
    expect(after.map((r) => r.status)).toEqual(['ADDED', 'ADDED', 'ADDED', 'ADDED']);
    expect(after[0]!.error_message).toBe('segments: added to "Spring Volunteers", "Volunteer", "Donor 2025"');
    expect(membersByName(running)['Spring Volunteers']).toEqual(['ann@example.org', 'bo@example.org', 'cy@example.org', 'di@example.org']);
  });

  it('a segment that is not a CRM segment (405) fails once and clearly: no further call for it, every row says why; the rest go', async () => {
    running = await startSalsaSandbox({ segments: SEGMENTS, notCrmSegments: ['All Supporters'], maxBatchSize: 5 });
    closing(running.sandbox);
    const dir = tempDir();
    const input = join(dir, 'many.csv');
    writeFileSync(input, csv(['Email', 'First Name'], Array.from({ length: 23 }, (_, i) => [`p${i}@example.org`, `P${i}`])));
    const report = join(dir, 'many.report.csv');
    const res = await runInProcess(['import', input, '--segment', 'All Supporters', '--segment', 'Volunteer', '-r', report, '--json'], { env: running.env });
    expect(JSON.parse(res.stdout)).toMatchObject({ exitCode: 1, counts: { FAILED: 23 } });
    const lines = readReport(report);
    expect(lines.every((l) => l.error_code === 'MEMBERSHIP' && /not a CRM segment: the API cannot change the members of "All Supporters"/.test(l.error_message))).toBe(true);
    expect(res.stderr).toMatch(/not a CRM segment: the API cannot change the members of "All Supporters" \(HTTP 405\): one call was refused, and no other was made for it/);
    expect(res.stderr.match(/not a CRM segment/g)!.length).toBe(1);
    // Every supporter is written and in the CRM segment; the segment listing asked for no member counts.
    expect(membersByName(running).Volunteer).toHaveLength(23);
    expect(running.salsa.countedSegmentSearches()).toBe(0);
    // One refused members call at most per batch in flight when the refusal came: far fewer than the 5 batches.
    expect(running.sandbox.stats.statuses[405] ?? 0).toBeLessThanOrEqual(4);
  });

  it('--dry-run says per row which segments it would join, after checking the names against the account', async () => {
    running = await startSalsaSandbox({ segments: SEGMENTS });
    closing(running.sandbox);
    const f = files();
    const res = await runInProcess(['import', f.input, '-m', f.map, '--segment', 'Spring Volunteers', '--dry-run', '--no-state'], { env: running.env });
    expect(res.code).toBe(0);
    const report = readReport(join(f.dir, 'volunteers.dry-run.report.csv'));
    expect(report[0]!.error_message).toBe('segments: would add to "Spring Volunteers", "Volunteer", "Donor 2025"');
    expect(running.sandbox.stats.calls['PUT /api/integration/ext/v1/segments/members']).toBeUndefined();
    expect(running.sandbox.stats.calls['POST /api/integration/ext/v1/segments/search']).toBeGreaterThan(0);
  });
});

describe('groups and interests (Luminate): the same flags and field, in the row\'s own createOrUpdate', () => {
  it('carries add_group_ids, add_interest_ids and remove_group_ids; a name (Luminate cannot look one up) stops the run', async () => {
    const { lum, sandbox, env } = await startLuminateSandbox();
    closing(sandbox);
    const dir = tempDir();
    const input = join(dir, 'people.csv');
    writeFileSync(input, csv(['Email', 'First Name', 'Groups to join'], [['ann@example.org', 'Ann', '2001; interest:77'], ['bo@example.org', 'Bo', '']]));
    const map = join(dir, 'map.json');
    writeFileSync(map, JSON.stringify({ fields: { segments: { column: 'Groups to join', separator: ';' } } }));
    const res = await runInProcess(['import', input, '-t', 'luminate', '-m', map, '--segment', '1234', '--segment', 'interest:55', '--remove-segment', '1500', '--no-state'], { env });
    expect(res.stderr).not.toMatch(/internal error/);
    expect(res.code).toBe(0);
    const byEmail = new Map(lum.constituents().map((c) => [c['email.primary_address'], c]));
    expect(byEmail.get('ann@example.org')?.groups).toBe('1234,2001');
    expect(byEmail.get('ann@example.org')?.interests).toBe('55,77');
    expect(byEmail.get('bo@example.org')?.groups).toBe('1234');
    const report = readReport(join(dir, 'people.report.csv'));
    expect(report[0]!.error_message).toBe('groups: added to "group 1234", "interest 55", "group 2001", "interest 77"; removed from "group 1500"');

    const named = await runInProcess(['import', input, '-t', 'luminate', '--segment', 'Spring Volunteers', '--no-state'], { env });
    expect(named.code).toBe(2);
    expect(named.stderr).toMatch(/--segment "Spring Volunteers": "Spring Volunteers" is not a group id: Luminate's API cannot find a group by name/);
  });
});
