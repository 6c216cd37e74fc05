#!/usr/bin/env node
// Shebang shim → the built CLI (npm ci runs `prepare`, which builds dist/). CommonJS on purpose (bin/package.json): Node
// starts a CommonJS entry without setting up its ES module loader, so --version and --help cost next to nothing over a
// bare `node` start (bench case 8a); every other command loads the ES module CLI.
'use strict';
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const args = process.argv.slice(2);
// `--version` needs nothing but the version.
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${JSON.parse(readFileSync(join(__dirname, '../package.json'), 'utf8')).version}\n`);
  process.exit(0);
}
// The top-level `--help` is text written at build time (scripts/build-help.mjs), the same the CLI prints.
if (args.length === 1 && (args[0] === '--help' || args[0] === '-h')) {
  let help;
  try {
    help = readFileSync(join(__dirname, '../dist/cli/help.txt'), 'utf8');
  } catch {
    // not built yet: the CLI prints it
  }
  if (help !== undefined) {
    process.stdout.write(help);
    process.exit(0);
  }
}

// Between full collections V8 lets the old generation grow to ~4x what is live when a program allocates fast, as
// this one does (~10 KB a row when sending). At 2x, peak memory is ~35 MB lower (300k-row import: 177-184 ->
// 147-148 MB) for more, smaller full collections (bench/RESULTS.md). V8 reads this flag at each collection.
require('node:v8').setFlagsFromString('--heap-growing-percent=100');

// `sync-supporters state show | head`: a reader that stops early is not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

import('../dist/cli/main.js').then(async ({ main }) => {
  process.exitCode = await main(process.argv);
});
