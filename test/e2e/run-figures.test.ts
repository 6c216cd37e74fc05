import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { closeAfterEach, csv, readReport, runInProcess, startSalsaSandbox, tempDir } from '../support/helpers.js';

// What a run says of itself: attempts that count retries only, each note said once, options that apply.

const closing = closeAfterEach();

describe('what a run says of itself', () => {
  it('attempts count the requests that carried the row (1 without a fault), not a created supporter\'s second call; a note said before the run is not repeated after it', async () => {
    const sb = await startSalsaSandbox({ rateLimit: 100_000 });
    closing(sb.sandbox);
    const dir = tempDir();
    const file = join(dir, 'people.csv');
    // No status column: each batch of creations gets a second call. A street without a city: a partial address.
    writeFileSync(file, csv(['Email', 'First Name', 'Street'], [['a@example.org', 'A', '1 Elm Rd'], ['b@example.org', 'B', '']]));
    const res = await runInProcess(['import', file, '--no-state', '--json'], { env: sb.env });
    expect(res.code).toBe(0);
    const report = readReport(join(dir, 'people.report.csv'));
    expect(report.map((r) => [r.status, r.attempts])).toEqual([['ADDED', '1'], ['ADDED', '1']]);
    expect(JSON.parse(res.stdout).calls).toBe(2); // the write and the second call
    // The address note: said once before the run (and kept in --json's notes), not again in the summary.
    const addressNote = /addresses go only to supporters this run creates/g;
    expect(res.stderr.match(addressNote)).toHaveLength(1);
    expect(JSON.parse(res.stdout).notes.some((n: string) => n.includes('addresses go only to supporters this run creates'))).toBe(true);
  });

  it('validate --help lists no option of a run that talks to the remote', async () => {
    const res = await runInProcess(['validate', '--help']);
    expect(res.code).toBe(0);
    for (const flag of ['--concurrency', '--rate', '--sandbox', '--timeout', '--retries', '--trace', '--no-state', '--dry-run']) expect(res.stdout).not.toMatch(new RegExp(`^\\s+(-\\w, )?${flag}\\b`, 'm'));
    expect(res.stdout).toContain('--map');
    const imp = await runInProcess(['import', '--help']);
    for (const flag of ['--concurrency', '--rate', '--sandbox', '--timeout', '--retries', '--update', '--no-html']) expect(imp.stdout).toContain(flag);
  });

  it('a mobile number without an SMS status never opts anyone in to texts: an existing supporter does not get it, a new one gets it opted out', async () => {
    const sb = await startSalsaSandbox({ rateLimit: 100_000 });
    closing(sb.sandbox);
    const dir = tempDir();
    writeFileSync(join(dir, 'crm.csv'), csv(['Email', 'First Name', 'Email Status'], [['jack@example.org', 'Jack', 'OPT_OUT']]));
    expect((await runInProcess(['import', join(dir, 'crm.csv'), '--no-state', '--quiet'], { env: sb.env })).code).toBe(0);
    const file = join(dir, 'mobiles.csv');
    writeFileSync(file, csv(['Email', 'Mobile'], [['jack@example.org', '503-555-1410'], ['new@example.org', '503-555-1411']]));
    const res = await runInProcess(['import', file, '--no-state', '--quiet'], { env: sb.env });
    expect(res.code).toBe(0);
    const report = readReport(join(dir, 'mobiles.report.csv'));
    expect(report.map((r) => r.status)).toEqual(['UPDATED', 'ADDED']);
    expect(report[0]!.error_message).toMatch(/^cellPhone not sent: the row gives no SMS status/);
    const cells = new Map((sb.salsa.supporters() as Array<{ contacts: Array<{ type: string; value: string; status?: string }> }>).map((s) => [s.contacts.find((c) => c.type === 'EMAIL')!.value, s.contacts.find((c) => c.type === 'CELL_PHONE')]));
    expect(cells.get('jack@example.org')).toBeUndefined();
    expect(cells.get('new@example.org')).toMatchObject({ value: '503-555-1411', status: 'OPT_OUT' });
  });
});
