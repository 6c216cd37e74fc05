#!/usr/bin/env node
// Shebang shim → the built CLI (npm ci runs `prepare`, which builds dist/).
import { main } from '../dist/cli/main.js';

const code = await main(process.argv);
process.exitCode = code;
