import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/helpers.js';

// The layering docs/ARCHITECTURE.md draws, checked on every `npm test`: no import circles, a core that imports no
// target, mapping, report or source module, and targets that import no other target and nothing of the CLI.

const SRC = join(ROOT, 'src');
const files = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : f.endsWith('.ts') ? [join(dir, f)] : []));

/** module (relative to src, .ts) → the src modules it imports, type-only imports included. */
function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const file of files(SRC)) {
    const text = readFileSync(file, 'utf8');
    const deps = [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+'(\.[^']+)'/g), ...text.matchAll(/import\('(\.[^']+)'\)/g), ...text.matchAll(/new URL\('(\.[^']+)'/g)]
      .map((m) => relative(SRC, resolve(dirname(file), m[1]!)).replace(/\.js$/, '.ts'));
    g.set(relative(SRC, file), [...new Set(deps)]);
  }
  return g;
}

function cycles(g: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string) => {
    if (state.get(n) === 'done') return;
    if (state.get(n) === 'open') return void found.push([...stack.slice(stack.indexOf(n)), n]);
    state.set(n, 'open');
    stack.push(n);
    for (const d of g.get(n) ?? []) visit(d);
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of [...g.keys()].sort()) visit(n);
  return found;
}

describe('the import graph', () => {
  const g = graph();
  it('has no circles', () => {
    expect(cycles(g).map((c) => c.join(' → '))).toEqual([]);
  });
  it('core imports only core', () => {
    const bad = [...g].filter(([m]) => m.startsWith('core/')).flatMap(([m, deps]) => deps.filter((d) => !d.startsWith('core/')).map((d) => `${m} → ${d}`));
    expect(bad).toEqual([]);
  });
  it('jobs import nothing of the CLI, and touch neither the process\'s signals nor its exit code', () => {
    const bad = [...g].filter(([m]) => m.startsWith('jobs/')).flatMap(([m, deps]) => deps.filter((d) => d.startsWith('cli/')).map((d) => `${m} → ${d}`));
    expect(bad).toEqual([]);
    const touching = files(join(SRC, 'jobs')).filter((f) => /process\.(exit|on|once|off)\(|readline/.test(readFileSync(f, 'utf8'))).map((f) => relative(SRC, f));
    expect(touching).toEqual([]);
  });
  it('a target imports no other target and nothing of the CLI', () => {
    const bad = [...g]
      .filter(([m]) => m.startsWith('targets/') && m.split('/').length > 2)
      .flatMap(([m, deps]) => deps.filter((d) => d.startsWith('cli/') || (d.startsWith('targets/') && d.split('/').length > 2 && d.split('/')[1] !== m.split('/')[1])).map((d) => `${m} → ${d}`));
    expect(bad).toEqual([]);
  });
});
