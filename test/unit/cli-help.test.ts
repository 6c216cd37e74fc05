import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runInProcess } from '../support/helpers.js';

describe('start-up: the answers bin/ gives without loading the CLI', () => {
  it('the top-level --help written at build time is what the CLI prints, and --version is the package version', async () => {
    const live = await runInProcess(['--help']);
    expect(live.code).toBe(0);
    expect(readFileSync(join(ROOT, 'dist/cli/help.txt'), 'utf8')).toBe(live.stdout);
    expect(live.stdout).toMatch(/^Usage: sync-supporters \[options\] \[command\]/);
    const version = await runInProcess(['--version']);
    expect(version.stdout.trim()).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  });
});
