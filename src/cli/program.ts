import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { DEFAULT_STATE_PATH } from '../state/paths.js';
import { TARGET_NAMES as NAMES } from '../targets/names.js';
import type { InitOptions } from './commands/init.js';
import type { CheckOptions } from './commands/check.js';
import type { UndoOptions } from './commands/undo.js';
import type { DataCommand } from '../jobs/data-job-types.js';
import type { CommandIO, DataCommandOptions } from './io.js';

/*
 * The command line as commander sees it: every command, its options, help texts and examples. Each command's
 * action loads its module when it runs, so --help and --version load none of them (start-up time).
 */

const TARGET_NAMES = NAMES.join(' or ');
/** The package's own version: one source for `--version` here and in bin/ (which answers it without loading this). */
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;


const EXAMPLES: Record<DataCommand, string> = {
  import: `
Examples:
  $ sync-supporters import contacts.csv --sandbox            try it against the built-in emulator
  $ SALSA_API_TOKEN=… sync-supporters import contacts.csv     add or update supporters in Salsa Engage
  $ sync-supporters import contacts.jsonl -m mapping.json -r out.report.jsonl
  $ sync-supporters import contacts.csv --resume               send only what the last run did not finish
  $ cat export.csv | sync-supporters import - --format csv --json
  $ sync-supporters import volunteers.csv --segment "Spring Volunteers"   everyone also joins that segment
  $ sync-supporters import migration.csv --plan                 what would change, field by field (sends nothing)
  $ sync-supporters import migration.csv --apply-plan migration.plan.jsonl   send exactly the reviewed plan
  $ sync-supporters undo migration.undo.jsonl                   put back what that import changed

Exit status: 0 all rows succeeded · 1 some rows did not · 2 nothing sent (usage, credentials, input)
             3 aborted (credentials refused, or too many failures) · 130 interrupted`,
  delete: `
Rows name supporters by supporterId, email or external id (columns matched as for import). Emails and external
ids are looked up first; one that matches nobody is NOT_FOUND, one that matches several is not deleted unless
--all-matches. Before deleting, the records are written to a JSONL backup that import reads back.

Examples:
  $ sync-supporters delete leavers.csv --dry-run               preview: the report lists who would be deleted
  $ sync-supporters delete leavers.csv                          delete (at most 100 without --max-deletes/--yes)
  $ sync-supporters delete leavers.csv --max-deletes 500        after checking the preview
  $ sync-supporters import leavers.report.deleted-….jsonl       undo: re-import the backup`,
  validate: `
Examples:
  $ sync-supporters validate contacts.csv                       map and check every row; send nothing
  $ sync-supporters validate contacts.csv -m mapping.json -r checked.report.csv`,
};

function addDataOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('-t, --target <target>', `${TARGET_NAMES} (default: $SYNC_TARGET, else salsa)`))
    .option('-m, --map <file.json>', 'column → field mapping file (default: match well-known headers)')
    .addOption(new Option('--format <format>', 'input format (default: from the extension; required for -)').choices(['csv', 'jsonl']))
    .option('-r, --report <file>', 'per-row report, .csv or .jsonl (default: <input>.report.csv beside the input; validate and --dry-run: <input>.validate.report.csv / .dry-run.report.csv). A real run\'s report is never replaced: an earlier one is kept as <input>.<its start time>.report.csv')
    .option('--resume', "continue an interrupted run from its report: finished rows are not sent again")
    .option('--json', 'print the run summary as one JSON object on stdout')
    .option('--no-html', 'do not write <report>.html, the run\'s summary page (counts, failures grouped by reason, pace)')
    .option('--quiet', 'no progress and no human summary')
    .option('--delimiter <char>', 'CSV delimiter (default: detected among , ; and tab)')
    .option('--encoding <name>', 'input encoding: utf8 (default) or latin1 (Excel exports)')
    .option('--failed <file>', 'also write the rows that did not succeed, in the input\'s format and columns plus sync_error')
    .option('--new-email-status <status>', 'Salsa: the email status a supporter the run creates gets when its row has none: OPT_OUT (default), OPT_IN or account-default. Existing supporters keep theirs; a row\'s own status is always sent as given. SMS: OPT_OUT unless the row says')
    .option('--empty <skip|clear>', 'what an empty cell does: skip (default: not sent, the stored value stays) or clear (the stored value is cleared; a mapping field can say "empty": "clear" alone). Keys and, for Salsa, phones and emails are never cleared')
    .option('--address <complete|replace>', 'Salsa keeps the parts of a stored address a request leaves out: complete (default) sends a partial address (no street or no city) only to supporters the run creates, and a whole one with its empty parts cleared; replace sends every row\'s address to everyone, clearing the parts it lacks')
    .option('--strict-values', 'a value that cannot be used (a date that is not one, a gender the target does not store) makes its row INVALID; by default the row goes without that value and its report line says so')
    .option('--date-order <dmy|mdy>', 'how to read 05/03/1975 in date columns: dmy (5 March) or mdy (May 3) (default: told from the column\'s own values; an undecidable column stops the run)')
    .option('--overwrite', 'replace an existing --report or --failed file that sync-supporters did not write (never an input, a mapping or a real run\'s report)');
}

/** What only a command that talks to the remote takes (import, delete): validate sends nothing, so it has none of these. */
function addNetworkOptions(cmd: Command): Command {
  return cmd
    .option('-c, --concurrency <n>', 'requests in flight at most (default: 4)')
    .option('-b, --batch-size <n>', "supporters per request (Salsa; capped by the account's maxBatchSize)")
    .option('--rate <n>', "requests per minute at most (default: the API's reported limit)")
    .option('--dry-run', 'everything but the remote calls')
    .option('--sandbox', 'start the built-in emulator and run against it; needs no credentials')
    .option('--sandbox-faults <spec>', 'with --sandbox: inject faults, e.g. "503:0.1,429:0.05,reset:0.02"')
    .option('--sandbox-latency <ms>', 'with --sandbox: every answer takes this long (from the request\'s arrival)')
    .option('--timeout <seconds>', 'per-request timeout (default: 60)')
    .option('--retries <n>', 'retries per request after the first attempt (default: 5)')
    .option('--trace <file>', 'append every request to the CRM and its answer to this file, one JSON line each (method, URL, status, time, bodies; credentials masked; readable by you only): evidence for a first real run or a support question')
    .option('--state <path>', `local state of what was synced (default: ${DEFAULT_STATE_PATH})`)
    .option('--no-state', 'keep no local state');
}

export function buildProgram(io: CommandIO, setExit: (code: number) => void): Command {
  const program = new Command();
  program
    .name('sync-supporters')
    .description('Make Salsa Engage supporters or Luminate Online constituents agree with a CSV or JSONL file, with a per-row report.')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    // One width whatever the terminal: the top-level help is also written at build time (scripts/build-help.mjs).
    .configureHelp({ helpWidth: 100 })
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  addDataCommands(program, io, setExit);
  addInitCommand(program, io, setExit);
  addUndoCommand(program, io, setExit);
  addCheckCommand(program, io, setExit);
  addStateCommands(program, io, setExit);
  addSandboxCommand(program, io, setExit);
  return program;
}

/** Repeatable flags collect their values in order. */
const collect = (value: string, previous: string[] = []) => [...previous, value];

/** import, delete and validate: the same options, each command its own. */
function addDataCommands(program: Command, io: CommandIO, setExit: (code: number) => void): void {
  const dataCommand = (name: DataCommand, description: string) => {
    const base = addDataOptions(program.command(`${name} <file>`).description(description));
    const cmd = name === 'validate' ? base : addNetworkOptions(base);
    cmd.addHelpText('after', EXAMPLES[name]);
    // Each command loads what it needs when it runs: --help and --version load none of it (start-up time).
    cmd.action(async (file: string, opts: DataCommandOptions) => setExit(await (await import('./commands/data.js')).runDataCommand(name, file, opts, io)));
    return cmd;
  };
  const withGroups = (cmd: Command) =>
    cmd
      .option('--segment <name|id>', 'also make every supporter the run adds or updates a member of this segment (Salsa: exact name or segmentId, resolved once at start; Luminate: a group id, or interest:<id>). Repeat for more; a mapping field "segments" names them per row', collect)
      .option('--remove-segment <name|id>', 'take every supporter the run adds or updates out of this segment (as --segment; a mapping field "removeSegments" per row)', collect);
  withGroups(dataCommand('import', 'add or update one supporter/constituent per row (file, or - for stdin)'))
    .option('--plan', 'read every row\'s record and report what the import would do — CREATE, UPDATE with each field old → new, NO_CHANGE — sending nothing (writes <input>.plan.jsonl)')
    .option('--apply-plan <plan.jsonl>', 'send exactly what a reviewed --plan of this file said, refusing (CONFLICT) rows whose record changed since; writes an undo log')
    .option('--undo-log [file]', 'before each batch, write the prior values of every record it changes (default <input>.undo.jsonl beside the report); `sync-supporters undo <file>` puts them back')
    .option('--update <always|if-empty|never|if-newer>', 'when a value in the file may replace one the record holds: always (default), if-empty (only fill what the record has empty), never (only on records the run creates), if-newer (when the row is newer than the record, by --newer-column). Each record is read first; a mapping field\'s own "update" wins; consent keeps its own rule')
    .option('--newer-column <column>', 'with --update if-newer: the file\'s column saying when each row last changed (2025-03-14T09:30:00Z)')
    .option('--changed-only', 'send only rows that changed since this tool last synced them (others are UNCHANGED)')
    .option('--full', 'send every row, even unchanged ones (the opposite of --changed-only)')
    .option('--mirror', 'then delete the supporters this tool synced earlier that the file no longer has (Salsa)')
    .option('--max-deletes <n>', 'with --mirror: refuse to delete more than this without --yes (default: 100)')
    .option('--yes', 'with --mirror: delete even above --max-deletes, without asking')
    .option('--backup <file.jsonl>', 'with --mirror: where to write the records before deleting them');
  const del = dataCommand('delete', 'delete the supporters the rows name (by supporterId, email or external id)');
  del
    .option('--all-matches', 'when an email or external id matches several supporters, delete all of them (default: none, reported)')
    .option('--max-deletes <n>', 'refuse to delete more supporters than this without --yes (default: 100)')
    .option('--yes', 'delete even above --max-deletes, without asking')
    .option('--backup <file.jsonl>', 'where to write the records before deleting them (default: beside the report)');
  withGroups(dataCommand('validate', 'map and check every row locally; send nothing'));
}

/** init: a mapping proposed from the header and a sample. */
function addInitCommand(program: Command, io: CommandIO, setExit: (code: number) => void): void {
  program
    .command('init <file>')
    .description('propose a mapping file from the header and a sample of rows, show it, and write it')
    .addOption(new Option('-t, --target <target>', `${TARGET_NAMES} (default: $SYNC_TARGET, else salsa)`))
    .option('-o, --out <file>', 'where to write the mapping (default: mapping.json)')
    .option('--yes', 'write the proposal without asking (for scripts)')
    .option('--force', 'replace an existing mapping file')
    .option('--update <always|if-empty|never|if-newer>', 'write this update policy into the mapping: may the file\'s values replace what existing records hold (asked when not given)')
    .option('--newer-column <column>', 'with --update if-newer: the column saying when each row last changed (default: a column named like "Updated At")')
    .addOption(new Option('--format <format>', 'input format (default: from the extension)').choices(['csv', 'jsonl']))
    .option('--delimiter <char>', 'CSV delimiter (default: detected)')
    .option('--encoding <name>', 'utf8 (default) or latin1')
    .addHelpText('after', '\nExamples:\n  $ sync-supporters init export.csv                 show the proposal and ask before writing mapping.json\n  $ sync-supporters init export.csv -t luminate --yes -o luminate-map.json')
    .action(async (file: string, opts: InitOptions) => setExit(await (await import('./commands/init.js')).runInit(file, opts, io)));
}

/** undo: what an import with --undo-log changed, put back. */
function addUndoCommand(program: Command, io: CommandIO, setExit: (code: number) => void): void {
  program
    .command('undo <undo-log>')
    .description('put back what an import with --undo-log changed: updated records get their prior values, created ones are deleted (Salsa)')
    .option('-r, --report <file>', 'per-record report (default: <name>.undo.report.csv beside the log)')
    .option('--dry-run', 'read every record and report what the undo would change, sending nothing')
    .option('--force', 'also overwrite (or delete) records changed again since the import (default: CONFLICT, left as they are)')
    .option('--resume', 'continue an interrupted undo from its report')
    .option('--max-deletes <n>', 'refuse to delete more created records than this without --yes (default: 100)')
    .option('--yes', 'delete even above --max-deletes, without asking')
    .option('--backup <file.jsonl>', 'where to write the created records before deleting them (default: beside the report)')
    .option('-c, --concurrency <n>', 'requests in flight at most')
    .option('--rate <n>', 'requests per minute at most (default: the account\'s limit)')
    .option('--timeout <seconds>', 'per-request timeout (default: 60)')
    .option('--retries <n>', 'retries per request after the first attempt (default: 5)')
    .option('--trace <file>', 'append every request to the CRM and its answer to this file (JSON lines, credentials masked)')
    .option('--state <path>', `local state to keep in step (default: ${DEFAULT_STATE_PATH})`)
    .option('--no-state', 'keep no local state')
    .option('--json', 'print the summary as one JSON object on stdout')
    .option('--quiet', 'no progress and no human summary')
    .option('--no-html', 'do not write <report>.html, the summary page')
    .addHelpText('after', '\nExit status: 0 every record put back · 1 some were not (CONFLICT, failures) · 2 nothing was sent · 130 interrupted\n\nExamples:\n  $ sync-supporters import migration.csv --undo-log\n  $ sync-supporters undo migration.undo.jsonl --dry-run\n  $ sync-supporters undo migration.undo.jsonl')
    .action(async (log: string, opts: UndoOptions) => setExit(await (await import('./commands/undo.js')).runUndoCommand(log, opts, io)));
}

/** check: the read-only preflight. */
function addCheckCommand(program: Command, io: CommandIO, setExit: (code: number) => void): void {
  program
    .command('check [file]')
    .description('read-only preflight against the real account (or --sandbox): credentials, limits, the time the file will take, the site\'s fields against the mapping')
    .addOption(new Option('-t, --target <target>', `${TARGET_NAMES} (default: $SYNC_TARGET, else salsa)`))
    .option('-m, --map <file.json>', 'the mapping to check (default: match well-known headers)')
    .addOption(new Option('--format <format>', 'input format (default: from the extension)').choices(['csv', 'jsonl']))
    .option('--delimiter <char>', 'CSV delimiter (default: detected)')
    .option('--encoding <name>', 'utf8 (default) or latin1')
    .option('--sample <n>', 'also look up the first N rows: how many would update, how many would create')
    .option('--segment <name|id>', 'check that this segment (group) exists, as import --segment would resolve it; repeatable', collect)
    .option('--remove-segment <name|id>', 'the same for import --remove-segment; repeatable', collect)
    .option('--sandbox', 'check against the built-in emulator')
    .option('--trace <file>', 'append every request to the CRM and its answer to this file (JSON lines, credentials masked)')
    .option('--json', 'the result as one JSON object on stdout')
    .addHelpText('after', '\nThe result is printed on stdout.\nExit status: 0 a run would go through · 1 it would run, but some rows would not go through as written (WARN) · 2 it would not (FAIL)\n\nExamples:\n  $ sync-supporters check contacts.csv --sample 50\n  $ sync-supporters check volunteers.csv -m mailchimp-map.json --segment "Spring Volunteers"\n  $ sync-supporters check contacts.csv -t luminate -m luminate-map.json --json')
    .action(async (file: string | undefined, opts: CheckOptions) => setExit(await (await import('./commands/check.js')).runCheck(file, opts, io)));
}

/** state show / state forget. */
function addStateCommands(program: Command, io: CommandIO, setExit: (code: number) => void): void {
  const stateCmd = program
    .command('state')
    .description('show or forget what this tool remembers of earlier syncs')
    .addHelpText('after', '\nExamples:\n  $ sync-supporters state show\n  $ sync-supporters state forget -t salsa --account "https://api.salsalabs.org#1a2b3c4d5e6f"');
  stateCmd
    .command('show')
    .description('rows remembered per target, account and last status')
    .option('--state <path>', `the state database (default: ${DEFAULT_STATE_PATH})`)
    .action(async (opts: { state?: string }) => {
      const { openStateDb } = await import('../state/sqlite-state.js');
      const db = openStateDb(opts.state ?? (io.env.SYNC_SUPPORTERS_STATE || DEFAULT_STATE_PATH));
      try {
        const rows = db.summary();
        if (rows.length === 0) io.stdout.write(`${db.path}: nothing synced yet\n`);
        else {
          io.stdout.write(`${db.path}\n`);
          for (const r of rows) io.stdout.write(`  ${r.target}  ${r.account}  ${r.status} ${r.rows}  (last ${r.last})\n`);
        }
      } finally {
        await db.close();
      }
      setExit(0);
    });
  stateCmd
    .command('forget')
    .description('forget one target (or one of its accounts): the next --changed-only run sends everything, and --mirror will not delete what it forgot')
    .requiredOption('-t, --target <target>', TARGET_NAMES)
    .option('--account <id>', 'only this account (as `state show` prints it)')
    .option('--state <path>', `the state database (default: ${DEFAULT_STATE_PATH})`)
    .action(async (opts: { target: string; account?: string; state?: string }) => {
      const { openStateDb } = await import('../state/sqlite-state.js');
      const db = openStateDb(opts.state ?? (io.env.SYNC_SUPPORTERS_STATE || DEFAULT_STATE_PATH));
      try {
        const n = db.forget(opts.target, opts.account);
        io.stdout.write(`forgot ${n} row${n === 1 ? '' : 's'} of ${opts.target}${opts.account ? ` account ${opts.account}` : ''}\n`);
      } finally {
        await db.close();
      }
      setExit(0);
    });
}

/** sandbox: the local emulator of both APIs, until Ctrl-C. */
function addSandboxCommand(program: Command, io: CommandIO, setExit: (code: number) => void): void {
  program
    .command('sandbox')
    .description('run the local emulator of both APIs (prints its URL and the credentials it accepts)')
    .option('--port <n>', 'port on 127.0.0.1 (default: a free one)')
    .option('--latency <ms>', 'every answer takes this long from the request\'s arrival, the emulator\'s work included')
    .option('--faults <spec>', 'inject faults: kind:probability or kind*count, e.g. "503:0.1,429*2,seed=7"')
    .option('--slow-ms <ms>', 'how long a "slow" fault holds its answer (default: 5000)')
    .option('--rate-limit <n>', 'Salsa calls a minute per token (default: 300)')
    .option('--max-batch-size <n>', 'Salsa supporters per call (default: 20)')
    .addHelpText('after', '\nExample:\n  $ sync-supporters sandbox --port 8787 --faults "503:0.1,429:0.05"\n  then, in another shell, use the printed SALSA_API_URL and SALSA_API_TOKEN.')
    .action(async (opts: Record<string, string | undefined>) => {
      const { createEmulators } = await import('../targets/index.js');
      const { intOption } = await import('./options.js');
      const { startSandbox } = await import('../sandbox/server.js');
      const emulators = await createEmulators({
        rateLimit: intOption(opts.rateLimit, '--rate-limit', 1),
        maxBatchSize: intOption(opts.maxBatchSize, '--max-batch-size', 1),
      });
      const sandbox = await startSandbox({
        emulators,
        port: intOption(opts.port, '--port', 0, 65535),
        latencyMs: intOption(opts.latency, '--latency', 0),
        slowMs: intOption(opts.slowMs, '--slow-ms', 0),
        faults: opts.faults,
      });
      io.stdout.write(`sandbox listening on ${sandbox.url}\n`);
      io.stdout.write('point a run at it with this environment:\n');
      for (const e of sandbox.emulators) for (const [k, v] of Object.entries(e.environment(sandbox.url))) io.stdout.write(`  ${k}=${v}\n`);
      io.stdout.write('press Ctrl-C to stop\n');
      await new Promise<void>((resolve) => {
        const stop = () => void sandbox.close().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      setExit(0);
    });
}
