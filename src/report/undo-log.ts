import { closeSync, existsSync, fsyncSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import type { UndoEntry, UndoSink } from '../core/run-sync.js';
import { openPrivate } from './report-writer.js';

/** The first line of an undo log: what run it belongs to. */
export interface UndoHeader {
  type: 'header';
  version: 1;
  target: string;
  /** The account (no secret in it), so an undo runs against the account the import wrote to. */
  account: string;
  input: string;
  report: string;
  startedAt: string;
}

export type UndoLine = UndoHeader | ({ type: 'before' } & UndoEntry) | { type: 'created'; row: number; remoteId: string };

/**
 * The undo journal of an import (`--undo-log`): before each batch is sent, every record it writes as it was, synced
 * to disk before the batch goes; then each record the run created. Append-only, one JSON object a line, readable by
 * its owner only. A resumed import appends to it (the first entry for a row is the one before any attempt).
 */
export class UndoLogWriter implements UndoSink {
  private readonly fd: number;
  /** This run made the file, and has written nothing in it but its header. */
  private onlyHeader = false;

  constructor(readonly path: string, header: Omit<UndoHeader, 'type' | 'version'>, resume: boolean) {
    const existed = existsSync(path);
    if (existed && !resume) {
      throw new UsageError(`${path} holds the undo log of an earlier run, so it was not replaced: undo that run first (sync-supporters undo ${path}), or give another --undo-log path. Nothing was sent.`, 'E_OUTPUT_EXISTS');
    }
    if (existed) {
      const first = readFileSync(path, 'utf8').split('\n', 1)[0] ?? '';
      let h: Partial<UndoHeader> = {};
      try {
        h = JSON.parse(first) as UndoHeader;
      } catch {
        // not ours: refused below
      }
      if (h.type !== 'header' || h.target !== header.target || h.account !== header.account) {
        throw new UsageError(`${path} is not the undo log of this run (another target, account or file): give another --undo-log path. Nothing was sent.`, 'E_OUTPUT_EXISTS');
      }
    }
    try {
      this.fd = openPrivate(path, 'a');
    } catch (err) {
      throw new UsageError(`Cannot write the undo log ${path}: ${(err as NodeJS.ErrnoException).code ?? err}. Choose another path with --undo-log.`, 'E_REPORT', { cause: err });
    }
    if (!existed) {
      this.write([{ type: 'header', version: 1, ...header }]);
      this.onlyHeader = true;
    }
  }

  before(entries: UndoEntry[]): void {
    this.write(entries.map((e) => ({ type: 'before' as const, ...e })));
  }

  created(row: number, remoteId: string): void {
    this.write([{ type: 'created', row, remoteId }]);
  }

  private write(lines: UndoLine[]): void {
    this.onlyHeader = false;
    writeSync(this.fd, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    // On disk before the batch it describes is sent: a crash can never leave a write without its prior values.
    fsyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }

  /**
   * Closed, and removed if this run made it and wrote no record in it (a run stopped before sending, by a mapping
   * that names no key, say): an empty log would only refuse the corrected run's --undo-log.
   */
  discardIfEmpty(): void {
    const empty = this.onlyHeader;
    this.close();
    if (empty) rmSync(this.path, { force: true });
  }
}

/** Where an import's undo log goes by default: beside its report, `<name>.undo.jsonl`. */
export function undoLogPathFor(reportPath: string): string {
  return reportPath.replace(/(\.report)?\.(csv|jsonl|ndjson|json)$/i, '') + '.undo.jsonl';
}
