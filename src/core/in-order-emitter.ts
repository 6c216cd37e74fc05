import type { ProgressSink } from './progress.js';
import type { Finished, ReportSink } from './run-types.js';
import type { SourceRecord, Status } from './types.js';
import { SUCCESS_STATUSES } from './statuses.js';

/**
 * Writes finished rows to the report in input order, whatever order they finish in (a reorder buffer holds the
 * early ones), counts them, and hands each failed row's input to the failed-rows file at its turn.
 */
export class InOrderEmitter {
  readonly counts: Partial<Record<Status, number>> = {};
  /** The next row number the report is waiting for. */
  nextToEmit: number;
  private readonly finished = new Map<number, Finished>();
  /** Input records of rows that failed, until their turn in input order. */
  private readonly failedInputs = new Map<number, SourceRecord>();

  constructor(
    private readonly report: ReportSink,
    private readonly progress: ProgressSink,
    private readonly onFailure: ((record: SourceRecord, result: { status: Status; errorMessage?: string }) => void) | undefined,
    firstRow: number,
  ) {
    this.nextToEmit = firstRow;
  }

  /** Keeps a failed row's input until the row's turn in input order (only when a failed-rows file is written). */
  keepInput(input: SourceRecord | undefined, status: Status): void {
    if (input && this.onFailure && !SUCCESS_STATUSES.has(status)) this.failedInputs.set(input.row, input);
  }

  emit(item: Finished): void {
    this.counts[item.status] = (this.counts[item.status] ?? 0) + 1;
    if (item.row === this.nextToEmit && this.finished.size === 0) {
      // The common case in order: no reorder buffer.
      this.write(item);
      this.nextToEmit++;
      this.progress.update(this.nextToEmit - 1, this.counts);
      return;
    }
    this.finished.set(item.row, item);
    while (this.finished.has(this.nextToEmit)) {
      const f = this.finished.get(this.nextToEmit)!;
      this.finished.delete(this.nextToEmit);
      this.write(f);
      this.nextToEmit++;
    }
    this.progress.update(this.nextToEmit - 1, this.counts);
  }

  private write(item: Finished): void {
    if ('raw' in item) this.report.writeRaw(item.raw, item.status);
    else this.report.write(item);
    const input = this.onFailure ? this.failedInputs.get(item.row) : undefined;
    if (input) {
      this.failedInputs.delete(item.row);
      this.onFailure!(input, 'raw' in item ? { status: item.status, errorMessage: 'from the earlier run (see the report)' } : item);
    }
  }
}
