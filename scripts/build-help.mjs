// Writes dist/cli/help.txt: the top-level `--help` exactly as the CLI prints it, so that bin/ answers `--help`
// without loading the CLI (start-up time). test/unit/cli-help.test.ts checks it is still what the CLI prints.
import { writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { main } from '../dist/cli/main.js';

let text = '';
const out = new PassThrough();
out.on('data', (d) => (text += d));
await main(['node', 'sync-supporters', '--help'], { env: {}, stdout: out, stderr: out });
await new Promise((r) => setImmediate(r));
writeFileSync(new URL('../dist/cli/help.txt', import.meta.url), text);
