#!/usr/bin/env node
// Shebang shim → the built CLI (npm ci runs `prepare`, which builds dist/).
import v8 from 'node:v8';
import { main } from '../dist/cli/main.js';

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
