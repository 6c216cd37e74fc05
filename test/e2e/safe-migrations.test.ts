import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, csv, readReport, runInProcess, closeAfterEach, startLuminateSandbox, startSalsaSandbox, tempDir, type TestSandbox } from '../support/helpers.js';

// A migration previewed field by field (--plan), sent exactly as reviewed (--apply-plan), and undone (undo).

let running: TestSandbox | undefined;
const closing = closeAfterEach();

const HEADER = ['Email', 'First Name', 'Last Name', 'Street', 'Street 2', 'City', 'State', 'Email Status'];
/** What the CRM holds before the migration. */
const EXISTING = [
  ['ann@example.org', 'Ann', 'Lee', '1 Elm Rd', 'Apt 3', 'Boston', 'MA', 'OPT_IN'],
  ['bo@example.org', 'Bo', 'Chen', '2 Pine St', '', 'Portland', 'OR', 'OPT_IN'],
  ['cy@example.org', 'Cy', 'Diaz', '', '', '', '', 'OPT_OUT'],
  ['di@example.org', 'Di', 'Evans', '4 Oak Ave', '', 'Austin', 'TX', 'OPT_IN'],
];
/** The migration file: changes to three, one unchanged, two new people. */
const MIGRATION = [
  ['ann@example.org', 'Anne', 'Lee', '9 New St', '', 'Cambridge', 'MA', 'OPT_IN'], // name, street, line 2 erased, city
  ['bo@example.org', 'Bo', 'Chen', '2 Pine St', '', 'Portland', 'OR', 'OPT_OUT'], // unsubscribed
  ['cy@example.org', 'Cyrus', 'Diaz', '5 Bay Rd', '', 'Miami', 'FL', 'OPT_OUT'], // name, and an address where none was
  ['di@example.org', 'Di', 'Evans', '4 Oak Ave', '', 'Austin', 'TX', 'OPT_IN'], // the same
  ['eve@example.org', 'Eve', 'Fox', '', '', '', '', 'OPT_IN'],
  ['fay@example.org', 'Fay', 'Gold', '', '', '', '', ''],
];

/** A key twice: an update, then another (which also unsubscribes); a creation, then an update. */
const KEY_TWICE = [
  ['ann@example.org', 'Anne', 'Lee', '', '', '', '', 'OPT_IN'],
  ['gus@example.org', 'Gus', 'Hill', '', '', '', '', 'OPT_IN'],
  ['ann@example.org', 'Annabel', 'Lee-Smith', '', '', '', '', 'OPT_OUT'],
  ['gus@example.org', 'Gustav', 'Hill', '', '', '', '', 'OPT_IN'],
];

/** The store as a person compares it: by supporterId, without the server's lastModified, "" as absent. */
function storeOf(sb: TestSandbox): Record<string, unknown> {
  const clean = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(clean);
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (k === 'lastModified' || x === '' || x === undefined) continue;
        const c = clean(x);
        if (c && typeof c === 'object' && !Array.isArray(c) && Object.keys(c).length === 0) continue;
        out[k] = c;
      }
      return out;
    }
    return v;
  };
  return Object.fromEntries(sb.salsa.supporters().map((s) => [String(s.supporterId), clean(s)]));
}

/** Field → value of every supporter, flat, by email: what changed between two stores, as "email field". */
function changedFields(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const flat = (s: Record<string, unknown>) => {
    const out: Record<string, string> = {};
    for (const f of ['firstName', 'lastName']) if (s[f]) out[f] = String(s[f]);
    for (const [k, v] of Object.entries((s.address as Record<string, string>) ?? {})) out[k] = v;
    for (const c of (s.contacts as Array<{ type: string; value: string; status?: string }>) ?? []) {
      if (c.type === 'EMAIL') {
        out.email = c.value;
        if (c.status) out.emailStatus = c.status;
      }
    }
    return out;
  };
  const byEmail = (store: Record<string, unknown>) => new Map(Object.values(store).map((s) => [flat(s as Record<string, unknown>).email!, flat(s as Record<string, unknown>)]));
  const a = byEmail(before);
  const b = byEmail(after);
  const out: string[] = [];
  for (const [email, now] of b) {
    const was = a.get(email);
    if (!was) continue;
    for (const f of new Set([...Object.keys(was), ...Object.keys(now)])) if ((was[f] ?? '') !== (now[f] ?? '')) out.push(`${email} ${f}`);
  }
  return out.sort();
}

async function setup(rows = MIGRATION) {
  running = await startSalsaSandbox({ rateLimit: 100_000 });
    closing(running.sandbox);
  const dir = tempDir();
  const existing = join(dir, 'crm.csv');
  writeFileSync(existing, csv(HEADER, EXISTING));
  expect((await runInProcess(['import', existing, '--no-state', '--quiet'], { env: running.env })).code).toBe(0);
  const input = join(dir, 'migration.csv');
  writeFileSync(input, csv(HEADER, rows));
  return { dir, input, env: running.env, sb: running };
}

describe('safe migrations (Salsa): --plan, --undo-log, undo, --apply-plan', () => {
  it('--plan lists exactly the fields the import then changes; undo leaves the store exactly as before, created supporters gone', async () => {
    const { dir, input, env, sb } = await setup();
    const before = storeOf(sb);

    const planned = await runInProcess(['import', input, '--plan', '--no-state'], { env });
    expect(planned.code).toBe(0);
    expect(sb.sandbox.stats.calls['PUT /api/integration/ext/v1/supporters']).toBe(1); // only the setup's
    const plan = readReport(join(dir, 'migration.plan.jsonl')) as unknown as Array<{ key: string; status: string; error_message: string; changes: Array<{ field: string; old: string; new: string }> }>;
    expect(plan.map((p) => [p.key, p.status])).toEqual([
      ['ann@example.org', 'UPDATE'],
      ['bo@example.org', 'UPDATE'],
      ['cy@example.org', 'UPDATE'],
      ['di@example.org', 'NO_CHANGE'],
      ['eve@example.org', 'CREATE'],
      ['fay@example.org', 'CREATE'],
    ]);
    expect(plan[0]!.error_message).toBe('firstName: "Ann" → "Anne"; addressLine1: "1 Elm Rd" → "9 New St"; addressLine2: "Apt 3" → ""; city: "Boston" → "Cambridge"');
    expect(plan[5]!.error_message).toContain('emailStatus: "" → "OPT_OUT"'); // what its second call would set
    expect(planned.stderr).toMatch(/plan: 2 to create, 3 to update, 1 with no change; updates per field — firstName: 2 rows, addressLine1: 2 rows, city: 2 rows, addressLine2: 1 row, emailStatus: 1 row, state: 1 row/);
    // 5 rows to write, one call; fay is created without a status (a second call); applying reads the batch first.
    expect(planned.stderr).toMatch(/the import would make about 2 calls: \d+ s at the account's ceiling of 100,000 calls a minute; applying this plan reads each batch first: about 3 calls/);

    const imported = await runInProcess(['import', input, '--undo-log', '--no-state'], { env });
    expect(imported.code).toBe(0);
    expect(imported.stderr).toMatch(/undo log: .*migration\.undo\.jsonl/);
    const after = storeOf(sb);
    // The plan named exactly what the import changed, field for field.
    const plannedFields = plan.flatMap((p) => (p.status === 'UPDATE' ? p.changes.map((c) => `${p.key} ${c.field}`) : [])).sort();
    expect(changedFields(before, after)).toEqual(plannedFields);
    expect(Object.keys(after)).toHaveLength(6);

    const undone = await runInProcess(['undo', join(dir, 'migration.undo.jsonl'), '--no-state'], { env });
    expect(undone.stderr).not.toMatch(/internal error/);
    expect(undone.code).toBe(0);
    expect(storeOf(sb)).toEqual(before);
    const report = readReport(join(dir, 'migration.undo.report.csv'));
    expect(report.map((r) => [r.key, r.operation, r.status])).toEqual([
      ['ann@example.org', 'upsert', 'UPDATED'],
      ['bo@example.org', 'upsert', 'UPDATED'],
      ['cy@example.org', 'upsert', 'UPDATED'],
      ['di@example.org', 'upsert', 'UNCHANGED'],
      ['eve@example.org', 'delete', 'DELETED'],
      ['fay@example.org', 'delete', 'DELETED'],
    ]);
    expect(report[0]!.error_message).toBe('puts back firstName, addressLine1, addressLine2, city');
    expect(undone.stderr).toMatch(/backup of the 2 supporters the undo deletes: /);
  });

  it('undo refuses a record changed again since the import (CONFLICT, left as it is); --force puts it back', async () => {
    const { dir, input, env, sb } = await setup();
    const before = storeOf(sb);
    expect((await runInProcess(['import', input, '--undo-log', '--no-state'], { env })).code).toBe(0);
    // Someone edits Ann after the migration.
    const edit = join(dir, 'edit.csv');
    writeFileSync(edit, csv(['Email', 'First Name'], [['ann@example.org', 'Annie']]));
    expect((await runInProcess(['import', edit, '--no-state', '--quiet'], { env })).code).toBe(0);

    const preview = await runInProcess(['undo', join(dir, 'migration.undo.jsonl'), '--dry-run', '--no-state'], { env });
    expect(preview.code).toBe(1);
    const previewed = readReport(join(dir, 'migration.undo.dry-run.report.csv'));
    expect(previewed[0]!.status).toBe('CONFLICT');
    expect(previewed[1]!.status).toBe('UPDATE');
    expect(previewed[1]!.error_message).toBe('emailStatus: "OPT_OUT" → "OPT_IN"');
    expect(previewed[4]!.status).toBe('DRY_RUN');
    expect(Object.keys(storeOf(sb))).toHaveLength(6); // the preview changed nothing

    const undone = await runInProcess(['undo', join(dir, 'migration.undo.jsonl'), '--no-state'], { env });
    expect(undone.code).toBe(1);
    const report = readReport(join(dir, 'migration.undo.report.csv'));
    expect(report[0]!.status).toBe('CONFLICT');
    expect(report[0]!.error_message).toBe('changed since the import: firstName is "Annie", expected "Anne"; not sent (--force puts it back anyway)');
    expect(undone.stderr).toMatch(/1 supporter changed again since the import: not overwritten/);
    const ann = Object.values(storeOf(sb)).find((s) => (s as { firstName?: string }).firstName === 'Annie');
    expect(ann).toBeDefined();

    const forced = await runInProcess(['undo', join(dir, 'migration.undo.jsonl'), '--force', '--no-state', '-r', join(dir, 'forced.csv')], { env });
    expect(forced.code).toBe(0);
    expect(storeOf(sb)).toEqual(before);
  });

  it('a record modified between plan and apply is refused and reported; the rest is sent exactly as planned', async () => {
    const { dir, input, env, sb } = await setup();
    expect((await runInProcess(['import', input, '--plan', '--no-state', '--quiet'], { env })).code).toBe(0);
    const edit = join(dir, 'edit.csv');
    writeFileSync(edit, csv(['Email', 'First Name'], [['cy@example.org', 'Cyril']]));
    expect((await runInProcess(['import', edit, '--no-state', '--quiet'], { env })).code).toBe(0);

    const applied = await runInProcess(['import', input, '--apply-plan', join(dir, 'migration.plan.jsonl'), '--no-state'], { env });
    expect(applied.code).toBe(1);
    const report = readReport(join(dir, 'migration.report.csv'));
    expect(report.map((r) => r.status)).toEqual(['UPDATED', 'UPDATED', 'CONFLICT', 'UNCHANGED', 'ADDED', 'ADDED']);
    expect(report[2]!.error_message).toBe('changed since the plan was made: firstName is "Cyril", expected "Cy"; not sent (make a new plan and review it)');
    expect(Object.values(storeOf(sb)).some((s) => (s as { firstName?: string }).firstName === 'Cyril')).toBe(true);
    // Applying a plan always keeps an undo log.
    expect(existsSync(join(dir, 'migration.undo.jsonl'))).toBe(true);

    // A plan of another version of the file is refused before anything is sent.
    writeFileSync(input, csv(HEADER, MIGRATION.slice(0, 2)));
    const stale = await runInProcess(['import', input, '--apply-plan', join(dir, 'migration.plan.jsonl'), '--no-state', '-r', join(dir, 'again.csv')], { env });
    expect(stale.code).toBe(2);
    expect(stale.stderr).toMatch(/error \[E_PLAN\]: --apply-plan .*: .*migration\.csv is not the file the plan was made from/);
  });

  it('a key twice in the migration (an update, then another; a creation, then an update): one undo per record, back to the start', async () => {
    const { dir, input, env, sb } = await setup(KEY_TWICE);
    const before = storeOf(sb);
    expect((await runInProcess(['import', input, '--undo-log', '--no-state', '--quiet'], { env })).code).toBe(0);
    const undone = await runInProcess(['undo', join(dir, 'migration.undo.jsonl'), '--no-state'], { env });
    expect(undone.code).toBe(0);
    expect(storeOf(sb)).toEqual(before);
    const report = readReport(join(dir, 'migration.undo.report.csv'));
    expect(report.map((r) => [r.key, r.status])).toEqual([['ann@example.org', 'UPDATED'], ['gus@example.org', 'DELETED']]);
    expect(report[0]!.error_message).toBe('puts back firstName, lastName, emailStatus');
  });

  it('a key twice: the plan reads the second row against the first as planned, and applying it sends both, no CONFLICT', async () => {
    const { dir, input, env, sb } = await setup(KEY_TWICE);
    expect((await runInProcess(['import', input, '--plan', '--no-state', '--quiet'], { env })).code).toBe(0);
    const plan = readReport(join(dir, 'migration.plan.jsonl')) as unknown as Array<{ key: string; status: string; error_message: string }>;
    expect(plan.map((p) => [p.key, p.status, p.error_message])).toEqual([
      ['ann@example.org', 'UPDATE', 'firstName: "Ann" → "Anne"'],
      ['gus@example.org', 'CREATE', expect.stringContaining('firstName: "" → "Gus"')],
      ['ann@example.org', 'UPDATE', `same email as an earlier row of the file: one supporter, its rows applied in file order; firstName: "Anne" → "Annabel"; lastName: "Lee" → "Lee-Smith"; emailStatus: "OPT_IN" → "OPT_OUT"`],
      ['gus@example.org', 'UPDATE', `same email as an earlier row of the file: one supporter, its rows applied in file order; firstName: "Gus" → "Gustav"`],
    ]);
    const applied = await runInProcess(['import', input, '--apply-plan', join(dir, 'migration.plan.jsonl'), '--no-state'], { env });
    expect(applied.code).toBe(0);
    expect(readReport(join(dir, 'migration.report.csv')).map((r) => r.status)).toEqual(['UPDATED', 'ADDED', 'UPDATED', 'UPDATED']);
    const names = Object.values(storeOf(sb)).map((x) => `${(x as { firstName: string }).firstName} ${(x as { lastName: string }).lastName}`).sort();
    expect(names).toEqual(['Annabel Lee-Smith', 'Bo Chen', 'Cy Diaz', 'Di Evans', 'Gustav Hill']);
  });

  it('a mapping that names a custom field in another case: the plan shows its real old value, and undo puts it back', async () => {
    running = await startSalsaSandbox({ rateLimit: 100_000 });
    closing(running.sandbox);
    const dir = tempDir();
    const crm = join(dir, 'crm.csv');
    writeFileSync(crm, csv(['Email', 'Email Status', 'Vol'], [['ann@example.org', 'OPT_IN', 'yes']]));
    const crmMap = join(dir, 'crm.json');
    writeFileSync(crmMap, JSON.stringify({ fields: { email: 'Email', emailStatus: 'Email Status' }, customFields: [{ name: 'Volunteer', column: 'Vol' }] }));
    expect((await runInProcess(['import', crm, '-m', crmMap, '--no-state', '--quiet'], { env: running.env })).code).toBe(0);
    const before = storeOf(running);
    const input = join(dir, 'vol.csv');
    writeFileSync(input, csv(['Email', 'Vol'], [['ann@example.org', 'no']]));
    const map = join(dir, 'map.json');
    writeFileSync(map, JSON.stringify({ fields: { email: 'Email' }, customFields: [{ name: 'volunteer', column: 'Vol' }] }));
    expect((await runInProcess(['import', input, '-m', map, '--plan', '--no-state', '--quiet'], { env: running.env })).code).toBe(0);
    expect(readReport(join(dir, 'vol.plan.jsonl')).map((r) => r.error_message)).toEqual(['custom:Volunteer: "yes" → "no"']);
    expect((await runInProcess(['import', input, '-m', map, '--undo-log', '--no-state', '--quiet'], { env: running.env })).code).toBe(0);
    expect(storeOf(running)).not.toEqual(before);
    const undone = await runInProcess(['undo', join(dir, 'vol.undo.jsonl'), '--no-state', '--quiet'], { env: running.env });
    expect(undone.code).toBe(0);
    expect(readReport(join(dir, 'vol.undo.report.csv')).map((r) => [r.status, r.error_message])).toEqual([['UPDATED', 'puts back custom:Volunteer']]);
    expect(storeOf(running)).toEqual(before);
  });

  it('kill -9 during undo, then --resume completes it: the store ends as before the import', async () => {
    const many = Array.from({ length: 120 }, (_, i) => [`p${i}@example.org`, `P${i}`, 'Last', '', '', '', '', 'OPT_IN']);
    running = await startSalsaSandbox({ rateLimit: 100_000, maxBatchSize: 4, latencyMs: 15 });
    closing(running.sandbox);
    const env = running.env;
    const dir = tempDir();
    const existing = join(dir, 'crm.csv');
    writeFileSync(existing, csv(HEADER, many));
    expect((await runInProcess(['import', existing, '--no-state', '--quiet'], { env })).code).toBe(0);
    const before = storeOf(running);
    const input = join(dir, 'migration.csv');
    writeFileSync(input, csv(HEADER, many.map((r) => [r[0]!, `${r[1]}-new`, ...r.slice(2)])));
    expect((await runInProcess(['import', input, '--undo-log', '--no-state', '--quiet'], { env })).code).toBe(0);

    const log = join(dir, 'migration.undo.jsonl');
    const report = join(dir, 'migration.undo.report.csv');
    const killed = await new Promise<NodeJS.Signals | null>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'undo', log, '-c', '2', '--no-state', '--quiet'], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'ignore' });
      const poll = setInterval(() => {
        if (existsSync(`${report}.journal`) && statSync(`${report}.journal`).size > 2000) {
          clearInterval(poll);
          child.kill('SIGKILL');
        }
      }, 5);
      child.on('close', (_code, sig) => {
        clearInterval(poll);
        resolve(sig);
      });
    });
    expect(killed).toBe('SIGKILL');
    const partly = Object.values(storeOf(running)).filter((s) => String((s as { firstName: string }).firstName).endsWith('-new')).length;
    expect(partly).toBeGreaterThan(0);
    expect(partly).toBeLessThan(120);

    const resumed = await runInProcess(['undo', log, '--resume', '--no-state'], { env });
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/resumed from .*records already had a final answer/);
    expect(storeOf(running)).toEqual(before);
    const lines = readReport(report);
    expect(lines.map((r) => Number(r.row))).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    // Rows put back by the killed run whose answer was lost read UNCHANGED ("already holds…"), never CONFLICT.
    expect(lines.filter((r) => r.status !== 'UPDATED' && r.status !== 'UNCHANGED')).toEqual([]);
  });
});

describe('safe migrations (Luminate)', () => {
  it('plans and undoes updates by cons_id; a created constituent cannot be deleted through the API and is listed', async () => {
    const { lum, sandbox, env } = await startLuminateSandbox();
    closing(sandbox);
    const dir = tempDir();
    const existing = join(dir, 'crm.csv');
    writeFileSync(existing, csv(['Email', 'First Name', 'Street', 'City', 'Zip'], [['ann@example.org', 'Ann', '1 Elm St', 'Boston', '02108'], ['bo@example.org', 'Bo', '', '', '']]));
    expect((await runInProcess(['import', existing, '-t', 'luminate', '--no-state', '--quiet'], { env })).code).toBe(0);
    const snapshot = () => JSON.parse(JSON.stringify(lum.constituents().map((c) => { const { interactions: _i, ...rest } = c; return rest; })));
    const before = snapshot();
    const input = join(dir, 'migration.csv');
    // A whole address (street, city, zip) replaces the stored one; a city alone would not be sent over it.
    writeFileSync(input, csv(['Email', 'First Name', 'Street', 'City', 'Zip'], [['ann@example.org', 'Anne', '2 Oak Ave', 'Cambridge', '02139'], ['bo@example.org', 'Bo', '5 Pine St', 'Portland', '97201'], ['cy@example.org', 'Cy', '', '', '']]));

    const planned = await runInProcess(['import', input, '-t', 'luminate', '--plan', '--no-state'], { env });
    expect(planned.code).toBe(0);
    const plan = readFileSync(join(dir, 'migration.plan.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { status: string; error_message: string });
    expect(plan.map((p) => p.status)).toEqual(['UPDATE', 'UPDATE', 'CREATE']);
    expect(plan[0]!.error_message).toBe('name.first: "Ann" → "Anne"; primary_address.street1: "1 Elm St" → "2 Oak Ave"; primary_address.city: "Boston" → "Cambridge"; primary_address.zip: "02108" → "02139"');
    expect(plan[1]!.error_message).toBe('primary_address.street1: "" → "5 Pine St"; primary_address.city: "" → "Portland"; primary_address.zip: "" → "97201"');

    expect((await runInProcess(['import', input, '-t', 'luminate', '--undo-log', '--no-state', '--quiet'], { env })).code).toBe(0);
    const cy = lum.constituents().find((c) => c['email.primary_address'] === 'cy@example.org')!;
    const undone = await runInProcess(['undo', join(dir, 'migration.undo.jsonl'), '--no-state'], { env });
    expect(undone.code).toBe(1);
    const report = readReport(join(dir, 'migration.undo.report.csv'));
    expect(report.map((r) => r.status)).toEqual(['UPDATED', 'UPDATED', 'INVALID']);
    expect(report[2]!.error_message).toBe(`created by the import (cons_id ${cy.cons_id}), and Luminate Online's API cannot delete: delete it in the admin`);
    expect(undone.stderr).toContain(`1 constituents created by the import cannot be deleted through Luminate Online's API: ${cy.cons_id}`);
    // Updated constituents are as they were (Bo's address emptied again); Cy is still there.
    const now = snapshot().filter((c: Record<string, string>) => c.cons_id !== cy.cons_id).map((c: Record<string, string>) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== '')));
    expect(now).toEqual(before);
  });
});
