import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { closeAfterEach, csv, runInProcess, startSalsaSandbox, tempDir } from '../support/helpers.js';

// The exit code of a run made of two parts (an import and its mirror deletions; an undo's restores and its
// deletions) follows the same rule as any run: a row written with a part the remote did not apply is exit 1.

const closing = closeAfterEach();

describe('one exit rule for runs of two parts', () => {
  it('import --mirror: a row written with a value the remote did not apply exits 1, even when the mirror part succeeds', async () => {
    const sb = await startSalsaSandbox();
    closing(sb.sandbox);
    const dir = tempDir();
    const env = { ...sb.env, SYNC_SUPPORTERS_STATE: join(dir, 'state.db') };
    const first = join(dir, 'list.csv');
    writeFileSync(first, csv(['Email', 'First Name'], [['ann@example.org', 'Ann'], ['bo@example.org', 'Bo']]));
    expect((await runInProcess(['import', first, '--quiet'], { env })).code).toBe(0);
    // Bo left the list; Ann's row carries a custom value Salsa writes the supporter without (a warning).
    writeFileSync(first, csv(['Email', 'First Name', 'custom:Board Member'], [['ann@example.org', 'Ann', 'Yes']]));
    const res = await runInProcess(['import', first, '--mirror', '--yes', '--json', '-r', join(dir, 'm.csv')], { env });
    const summary = JSON.parse(res.stdout) as { exitCode: number; counts: Record<string, number> };
    expect(summary.counts).toMatchObject({ UPDATED: 1, DELETED: 1 });
    expect(res.stderr).toMatch(/1 row was written with a value the remote did not apply/);
    expect(summary.exitCode).toBe(1);
    expect(res.code).toBe(1);
  });

  it('undo: a record put back only in part (a phone Salsa cannot empty) exits 1, even when the undo also deletes what the import created', async () => {
    const sb = await startSalsaSandbox();
    closing(sb.sandbox);
    sb.salsa.seed!([{ firstName: 'Ann', contacts: [{ type: 'EMAIL', value: 'ann@example.org', status: 'OPT_IN' }] }]);
    const dir = tempDir();
    const input = join(dir, 'in.csv');
    writeFileSync(input, csv(['Email', 'First Name', 'Phone', 'Email Status'], [['ann@example.org', 'Anne', '555-0100', 'OPT_IN'], ['new@example.org', 'New', '', 'OPT_IN']]));
    const undoLog = join(dir, 'in.undo.jsonl');
    expect((await runInProcess(['import', input, '--undo-log', undoLog, '--no-state', '--quiet'], { env: sb.env })).code).toBe(0);
    const res = await runInProcess(['undo', undoLog, '--no-state', '--yes', '--json', '-r', join(dir, 'u.csv')], { env: sb.env });
    const summary = JSON.parse(res.stdout) as { exitCode: number; counts: Record<string, number> };
    expect(summary.counts).toMatchObject({ UPDATED: 1, DELETED: 1 });
    expect(summary.exitCode).toBe(1);
    expect(res.code).toBe(1);
  });
});
