import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startSandbox } from '../../src/sandbox/server.js';
import type { Emulator } from '../../src/sandbox/emulator-types.js';
import { createSalsaEmulator } from '../../src/targets/salsa/emulator.js';
import { closeAfterEach, csv, readReport, runInProcess, startLuminateSandbox, startSalsaSandbox, tempDir } from '../support/helpers.js';

// A year of event sign-ups exported from a form tool: people typed their email as they liked, so one person comes
// back as "rosa.diaz@…", "Rosa.Diaz@…" and "ROSA.DIAZ@…". The CRM already has some of them.

const closing = closeAfterEach();

const HEADER = ['Email Address', 'First Name', 'Last Name', 'Phone Number'];
const SIGNUPS = [
  ['rosa.diaz@example.org', 'Rosa', 'Diaz', ''],
  ['ann@example.org', 'Ann', 'Lee', ''],
  ['Rosa.Diaz@Example.ORG', 'Rosa', 'Díaz', '503-555-0123'],
  ['ANN@example.org', 'Ann', 'Lee-Smith', ''],
  ['ann@example.org', 'Ann', 'Lee-Smith', '503-555-0456'],
  ['bo@example.org', 'Bo', 'Chen', ''],
];

/** What each line of the report says, by line number. */
function lines(reportPath: string): Map<string, { status: string; message: string }> {
  return new Map(readReport(reportPath).map((r) => [String(r.line), { status: r.status!, message: r.error_message ?? '' }]));
}

describe('two rows whose emails differ only in case are one person, said on the row', () => {
  it('Salsa: each repeat says so on its line; the stored spelling is kept; the later row wins the rest', async () => {
    const sb = await startSalsaSandbox({ rateLimit: 100_000 });
    closing(sb.sandbox);
    const dir = tempDir();
    // Rosa is in the CRM already, spelled as she was first entered.
    writeFileSync(join(dir, 'crm.csv'), csv(['Email', 'First Name', 'Last Name'], [['rosa.diaz@example.org', 'Rosa', 'Diaz']]));
    expect((await runInProcess(['import', join(dir, 'crm.csv'), '--no-state', '--quiet'], { env: sb.env })).code).toBe(0);
    const input = join(dir, 'signups.csv');
    writeFileSync(input, csv(HEADER, SIGNUPS));

    const res = await runInProcess(['import', input, '--no-state', '--json'], { env: sb.env });
    expect(res.code).toBe(0);
    const report = lines(join(dir, 'signups.report.csv'));
    expect(report.size).toBe(6);
    expect(report.get('2')!.message).toBe('');
    expect(report.get('4')!.status).toBe('UPDATED');
    expect(report.get('4')!.message).toContain("same email as an earlier row of the file, spelled in another case: one supporter, its rows applied in file order");
    expect(report.get('4')!.message).toContain("the email keeps its record's spelling rosa.diaz@example.org (this row spells it Rosa.Diaz@Example.ORG)");
    expect(report.get('5')!.message).toContain('same email as an earlier row of the file, spelled in another case');
    expect(report.get('5')!.message).toContain("spelling ann@example.org (this row spells it ANN@example.org)");
    expect(report.get('6')!.message).toContain('same email as an earlier row of the file:');
    expect(report.get('6')!.message).not.toContain('case');
    expect(report.get('7')!.message).toBe('');

    // One supporter per person, each spelled as first stored, with the last row's values.
    const people = (sb.salsa.supporters() as Array<Record<string, unknown>>).map((s) => {
      const contacts = s.contacts as Array<{ type: string; value: string }>;
      return { email: contacts.find((c) => c.type === 'EMAIL')!.value, last: s.lastName, phone: contacts.find((c) => c.type === 'HOME_PHONE')?.value };
    });
    expect(people.sort((a, b) => a.email.localeCompare(b.email))).toEqual([
      { email: 'ann@example.org', last: 'Lee-Smith', phone: '503-555-0456' },
      { email: 'bo@example.org', last: 'Chen', phone: undefined },
      { email: 'rosa.diaz@example.org', last: 'Díaz', phone: '503-555-0123' },
    ]);
    const summary = JSON.parse(res.stdout);
    expect(summary.repeats).toEqual({ rows: 3, caseOnly: 2 });
    expect(summary.keptSpellings).toBe(2);
    expect(summary.notes.join('\n')).toContain('3 rows name supporters an earlier row of the file named (2 of them with the email spelled in another case)');
    // A plain import read no record for the first row of each person: it says what that means for their spelling.
    expect(summary.notes.join('\n')).toContain("a plain import reads no record before writing it: each person's first row went as the file spells its email");
  });

  it('validate says the same before anything is sent; a plan shows no email change', async () => {
    const sb = await startSalsaSandbox({ rateLimit: 100_000 });
    closing(sb.sandbox);
    const dir = tempDir();
    writeFileSync(join(dir, 'crm.csv'), csv(['Email', 'First Name'], [['Rosa.Diaz@Example.org', 'Rosa']]));
    expect((await runInProcess(['import', join(dir, 'crm.csv'), '--no-state', '--quiet'], { env: sb.env })).code).toBe(0);
    const input = join(dir, 'signups.csv');
    writeFileSync(input, csv(HEADER, SIGNUPS));

    expect((await runInProcess(['validate', input, '--quiet', '-r', join(dir, 'checked.csv')], { env: sb.env })).code).toBe(0);
    const checked = lines(join(dir, 'checked.csv'));
    expect([...checked.values()].map((l) => l.status)).toEqual(Array(6).fill('DRY_RUN'));
    expect(checked.get('4')!.message).toContain('same email as an earlier row of the file, spelled in another case');
    expect(checked.get('6')!.message).toContain('same email as an earlier row of the file:');
    // check, before a big run, counts them over the whole file.
    const preflight = await runInProcess(['check', input], { env: sb.env });
    expect(preflight.stdout).toMatch(/ok +same person +3 rows name supporters an earlier row of the file named \(2 with the email spelled in another case\)/);

    // The CRM spells Rosa's email with capitals; the file's lower-case first row is no change to it.
    const plan = join(dir, 'plan.jsonl');
    expect((await runInProcess(['import', input, '--no-state', '--plan', '-r', plan], { env: sb.env })).code).toBe(0);
    const planned = lines(plan);
    expect(planned.get('2')!.message).toContain("the email keeps its record's spelling Rosa.Diaz@Example.org (this row spells it rosa.diaz@example.org)");
    expect(planned.get('2')!.message).not.toMatch(/email: /);
    expect(planned.get('4')!.message).toMatch(/^same email as an earlier row of the file, spelled in another case: .*; lastName: "Diaz" → "Díaz"; .*the email keeps its record's spelling Rosa\.Diaz@Example\.org/);
    const applied = await runInProcess(['import', input, '--no-state', '--apply-plan', plan, '-r', join(dir, 'applied.csv'), '--json'], { env: sb.env });
    expect(applied.code).toBe(0);
    // The run that applies the plan says on its lines what the plan said of the same people.
    const appliedLines = lines(join(dir, 'applied.csv'));
    expect(appliedLines.get('4')).toEqual({ status: 'UPDATED', message: expect.stringMatching(/^same email as an earlier row of the file, spelled in another case: .*; the email keeps its record's spelling Rosa\.Diaz@Example\.org/) });
    expect(appliedLines.get('6')!.message).toContain('same email as an earlier row of the file:');
    expect(JSON.parse(applied.stdout).repeats).toEqual({ rows: 3, caseOnly: 2 });
    const emails = (sb.salsa.supporters() as Array<Record<string, unknown>>).map((s) => (s.contacts as Array<{ type: string; value: string }>).find((c) => c.type === 'EMAIL')!.value).sort();
    expect(emails).toEqual(['Rosa.Diaz@Example.org', 'ann@example.org', 'bo@example.org']);
  });

  it('Luminate: the repeat keeps the constituent\'s spelling too', async () => {
    const { lum, sandbox, env } = await startLuminateSandbox();
    closing(sandbox);
    lum.seed!([{ cons_id: '1001', 'email.primary_address': 'rosa.diaz@example.org', 'name.first': 'Rosa', 'name.last': 'Diaz' }]);
    const dir = tempDir();
    const input = join(dir, 'signups.csv');
    writeFileSync(input, csv(HEADER, SIGNUPS));
    const res = await runInProcess(['import', input, '-t', 'luminate', '--no-state'], { env });
    expect(res.code).toBe(0);
    const report = lines(join(dir, 'signups.report.csv'));
    expect(report.get('4')!.message).toContain('same email as an earlier row of the file, spelled in another case');
    expect(report.get('4')!.message).toContain("spelling rosa.diaz@example.org");
    const people = lum.constituents().map((c) => [c['email.primary_address'], c['name.last']]).sort();
    expect(people).toEqual([
      ['ann@example.org', 'Lee-Smith'],
      ['bo@example.org', 'Chen'],
      ['rosa.diaz@example.org', 'Díaz'],
    ]);
  });

  it('a resumed run still knows the people its earlier run wrote', async () => {
    // The first run's gateway fails whatever carries Rosa's capitalised spelling: that row is left FAILED.
    const salsa = createSalsaEmulator({ token: 't', rateLimit: 100_000 });
    let down = true;
    const flaky: Emulator = { ...salsa, handle: (req) => (down && req.body.includes('Example.ORG') ? { status: 503, body: '<html>503</html>' } : salsa.handle(req)) };
    const sandbox = closing(await startSandbox({ emulators: [flaky] }));
    const env = { SALSA_API_URL: sandbox.url, SALSA_API_TOKEN: 't' };
    const dir = tempDir();
    const input = join(dir, 'signups.csv');
    writeFileSync(input, csv(HEADER, SIGNUPS));
    expect((await runInProcess(['import', input, '--no-state', '-b', '1', '--retries', '1', '--quiet'], { env })).code).toBe(1);
    expect(lines(join(dir, 'signups.report.csv')).get('4')!.status).toBe('FAILED');
    down = false;
    const res = await runInProcess(['import', input, '--no-state', '--resume', '--json'], { env });
    expect(res.code).toBe(0);
    const line4 = lines(join(dir, 'signups.report.csv')).get('4')!;
    expect(line4.status).toBe('UPDATED');
    expect(line4.message).toContain('same email as an earlier row of the file, spelled in another case');
    expect(line4.message).toContain("the email keeps its record's spelling rosa.diaz@example.org");
    const emails = (salsa.supporters() as Array<Record<string, unknown>>).map((x) => (x.contacts as Array<{ type: string; value: string }>).find((c) => c.type === 'EMAIL')!.value).sort();
    expect(emails).toEqual(['ann@example.org', 'bo@example.org', 'rosa.diaz@example.org']);
    // Counted for the rows this run sent.
    expect(JSON.parse(res.stdout).repeats).toEqual({ rows: 1, caseOnly: 1 });
  });

  it('a record whose email another run respelled in case is no CONFLICT for undo; a plan\'s dropped values are said when it is applied', async () => {
    const sb = await startSalsaSandbox({ rateLimit: 100_000 });
    closing(sb.sandbox);
    const dir = tempDir();
    const run = async (...args: string[]) => (await runInProcess([...args, '--no-state', '--quiet'], { env: sb.env })).code;
    // A reviewed import that creates Dmitri, with a value Salsa cannot take (a gender it does not store): the plan
    // says so, and so does the run that applies it.
    writeFileSync(join(dir, 'a.csv'), csv(['Email', 'First Name', 'Gender'], [['dmitri.volkov@example.com', 'Dima', 'other']]));
    expect(await run('import', join(dir, 'a.csv'), '--plan')).toBe(0);
    expect(await run('import', join(dir, 'a.csv'), '--apply-plan', join(dir, 'a.plan.jsonl'), '--undo-log', join(dir, 'a.undo.jsonl'))).toBe(0);
    expect(lines(join(dir, 'a.report.csv')).get('2')).toEqual({ status: 'ADDED', message: expect.stringMatching(/^not sent: gender "other" is not one Salsa stores/) });
    // Another system's export respells the email, and changes nothing else.
    writeFileSync(join(dir, 'b.csv'), csv(['Email', 'First Name'], [['Dmitri.Volkov@Example.com', 'Dima']]));
    expect(await run('import', join(dir, 'b.csv'))).toBe(0);
    // Undoing the first import meets the respelled email: the same address, so the record is as the import left
    // it, not a CONFLICT, and the supporter it created is deleted.
    expect(await run('undo', join(dir, 'a.undo.jsonl'))).toBe(0);
    expect(lines(join(dir, 'a.undo.report.csv')).get('2')!.status).toBe('DELETED');
    expect(sb.salsa.supporters()).toEqual([]);
  });

  it('a run stopped before sending (no column names a key) leaves no undo log to refuse the corrected run', async () => {
    const { sandbox, env } = await startLuminateSandbox();
    closing(sandbox);
    const dir = tempDir();
    const log = join(dir, 'webhooks.undo.jsonl');
    writeFileSync(join(dir, 'webhooks.csv'), csv(['Ref', 'Given'], [['A-17', 'Rosa']]));
    const first = await runInProcess(['import', join(dir, 'webhooks.csv'), '-t', 'luminate', '--undo-log', log, '--no-state'], { env });
    expect(first.code).toBe(2);
    expect(first.stderr).toMatch(/no column maps to .*Nothing was sent/);
    expect(existsSync(log)).toBe(false);
    writeFileSync(join(dir, 'webhooks.csv'), csv(['Email', 'Given'], [['rosa.diaz@example.org', 'Rosa']]));
    expect((await runInProcess(['import', join(dir, 'webhooks.csv'), '-t', 'luminate', '--undo-log', log, '--no-state', '--quiet'], { env })).code).toBe(0);
    expect(existsSync(log)).toBe(true);
  });
});
