#!/usr/bin/env node
// Shebang shim → the built CLI (npm ci runs `prepare`, which builds dist/).
import { main } from '../dist/cli/main.js';

// `sync-supporters state show | head`: a reader that stops early is not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

const code = await main(process.argv);
process.exitCode = code;
