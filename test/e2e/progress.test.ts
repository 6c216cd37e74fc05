import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLineProgress } from '../../src/cli/progress.js';
import { BIN, csv, tempDir } from '../support/helpers.js';

const SCRIPT = '/usr/bin/script';
if (!existsSync(SCRIPT)) console.warn(`terminal progress test SKIPPED: no ${SCRIPT} (util-linux) to give the run a terminal`);

describe('progress', () => {
  it.skipIf(!existsSync(SCRIPT))('in a terminal: rows of the total, percent, rows/s, ETA and the pace against the ceiling', () => {
    const dir = tempDir();
    const file = join(dir, 'people.csv');
    writeFileSync(file, csv(['Email', 'First Name', 'Email Status'], Array.from({ length: 120 }, (_, i) => [`p${i}@example.org`, `P${i}`, 'OPT_IN'])));
    const out = join(dir, 'terminal.txt');
    // `script` gives the run a pseudo-terminal, as a person's shell would, and records what it drew.
    const cmd = `${process.execPath} ${BIN} import ${file} --sandbox --no-state --sandbox-latency 30 -c 1`;
    const r = spawnSync(SCRIPT, ['-qfec', cmd, out], { env: { PATH: process.env.PATH ?? '', SYNC_SUPPORTERS_STATE: join(dir, 'state.db') }, encoding: 'utf8' });
    expect(r.status).toBe(0);
    const frames = readFileSync(out, 'utf8').split(/\r|\n|\x1b\[1G/).filter((l) => l.includes(' rows |'));
    expect(frames.length).toBeGreaterThan(2);
    const middle = frames.find((l) => /\b\d+% \d+ of ~?120 rows \| \d+ rows\/s \| ETA \d+ s/.test(l));
    expect(middle, frames.join('\n')).toBeDefined();
    expect(frames.some((l) => /pace \d+% of the 300\/min ceiling/.test(l))).toBe(true);
  });

  it('without a terminal (cron): a line every few seconds with the same figures', () => {
    const lines: string[] = [];
    let now = 0;
    const p = createLineProgress('Import', 5000, (s) => void lines.push(s), () => now);
    p.start({ operation: 'import', target: 'Salsa Engage' });
    p.total!(42_000, false);
    p.pace!(5820, 6000);
    now = 1000;
    p.update(700, {}); // too soon for a line
    now = 6000;
    p.update(4200, { ADDED: 4100, INVALID: 100 });
    // 4,200 rows in 6 s: 700 rows/s; 37,800 rows left at that pace: 54 s.
    expect(lines).toEqual(['Import → Salsa Engage: started\n', '4,200 of ~42,000 rows (10%) · 700 rows/s · ETA 54 s · pace 97% of the 6,000/min ceiling · ADDED 4100 · INVALID 100\n']);
    now = 11_000;
    p.total!(42_100, true);
    p.update(7700, { ADDED: 7600, INVALID: 100 });
    expect(lines.at(-1)).toBe('7,700 of 42,100 rows (18%) · 700 rows/s · ETA 49 s · pace 97% of the 6,000/min ceiling · ADDED 7600 · INVALID 100\n');
  });
});
