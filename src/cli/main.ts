import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { CommanderError } from 'commander';
import type { CommandIO } from './io.js';
import { buildProgram } from './program.js';

/** The environment, completed by `.env` in the working directory (the real environment wins). Node's own parser. */
export function loadEnv(cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): Record<string, string | undefined> {
  let fromFile: Record<string, string> = {};
  try {
    fromFile = parseEnv(readFileSync(join(cwd, '.env'), 'utf8')) as Record<string, string>;
  } catch {
    // No .env: the environment alone.
  }
  return { ...fromFile, ...env };
}

/** The one top-level catch: typed errors become their exit status and one readable message, never a stack. */
export async function main(argv: string[] = process.argv, given?: CommandIO): Promise<number> {
  // Tests pass their own streams and environment to run the CLI in their process; people get the real ones.
  const io: CommandIO = given ?? { env: loadEnv(), stdout: process.stdout, stderr: process.stderr };
  // What only a failure needs is loaded when one happens (start-up time).
  const failure = async () => ({ ...(await import('../core/errors.js')), ...(await import('../core/redact.js')), ...(await import('./printable.js')), ...(await import('../targets/index.js')) });
  io.argv ??= argv.slice(2);
  let code = 0;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2;
    }
    // With --json a script gets the failure as JSON too, with its stable code; people get it on stderr.
    const json = argv.includes('--json');
    const { allSecrets, createRedactor, printable, SyncError } = await failure();
    const redact = createRedactor(allSecrets(io.env));
    if (err instanceof SyncError && err.code !== 'E_INTERNAL') {
      io.stderr.write(`error [${err.code}]: ${printable(redact(err.message))}\n`);
      if (json) io.stdout.write(JSON.stringify({ error: { code: err.code, message: redact(err.message) }, exitCode: err.exitCode }) + '\n');
      return err.exitCode;
    }
    io.stderr.write(`internal error: ${printable(redact((err as Error)?.stack ?? String(err)))}\nThis is a bug in sync-supporters; please report it with the command you ran.\n`);
    if (json) io.stdout.write(JSON.stringify({ error: { code: 'E_INTERNAL', message: redact((err as Error)?.message ?? String(err)) }, exitCode: 70 }) + '\n');
    return 70;
  }
}
