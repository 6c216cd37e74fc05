#!/usr/bin/env node
// Shebang shim → the built CLI (npm ci runs `prepare`, which builds dist/).
import { readFileSync } from 'node:fs';

// `--version` needs nothing but the version: answered before anything else is loaded (start-up time).
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
  process.exit(0);
}
// The top-level `--help` is text written at build time (scripts/build-help.mjs), the same the CLI prints.
if (args.length === 1 && (args[0] === '--help' || args[0] === '-h')) {
  try {
    process.stdout.write(readFileSync(new URL('../dist/cli/help.txt', import.meta.url), 'utf8'));
    process.exit(0);
  } catch {
    // not built yet: the CLI prints it
  }
}
const { default: v8 } = await import('node:v8');
const { main } = await import('../dist/cli/main.js');

// Between full collections V8 lets the old generation grow to ~4x what is live when a program allocates fast, as
// this one does (~10 KB a row when sending). At 2x, peak memory is ~35 MB lower (300k-row import: 177-184 ->
// 147-148 MB) for more, smaller full collections (bench/RESULTS.md). V8 reads this flag at each collection.
v8.setFlagsFromString('--heap-growing-percent=100');

// `sync-supporters state show | head`: a reader that stops early is not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

const code = await main(process.argv);
process.exitCode = code;
