import { Readable } from 'node:stream';
import { runSync, type ReportSink, type RunOptions } from '../../src/core/run-sync.js';
import type { AttemptOutcome, Operation, TargetSession } from '../../src/core/types.js';
import { createRowMapper } from '../../src/mapping/mapper.js';
import type { RowResult } from '../../src/report/report-row.js';
import { createCsvSource } from '../../src/sources/csv-source.js';
import { salsaTarget } from '../../src/targets/salsa/index.js';
import { csv } from './helpers.js';

export class MemoryReport implements ReportSink {
  rows: RowResult[] = [];
  journaled: RowResult[] = [];
  raw: string[] = [];
  journal(r: RowResult) {
    this.journaled.push(r);
  }
  write(r: RowResult) {
    this.rows.push(r);
  }
  writeRaw(line: string) {
    this.raw.push(line);
  }
  flush() {}
}

/** Wraps a session to watch what the core sends: batch contents and what is in flight at once. */
export function watch(session: TargetSession) {
  const seen = { batches: [] as unknown[][], maxInFlight: 0, overlaps: [] as string[] };
  let inFlight = 0;
  const busy = new Map<string, number>();
  const keysOf = (p: unknown) => {
    const s = p as { supporterId?: string; contacts?: Array<{ type: string; value: string }> };
    return [s.supporterId, s.contacts?.find((c) => c.type === 'EMAIL')?.value.toLowerCase()].filter(Boolean) as string[];
  };
  const wrapped: TargetSession = {
    limits: session.limits,
    close: () => session.close(),
    async send(op: Operation, payloads: unknown[]): Promise<AttemptOutcome> {
      seen.batches.push(payloads);
      inFlight++;
      seen.maxInFlight = Math.max(seen.maxInFlight, inFlight);
      const keys = payloads.flatMap(keysOf);
      for (const k of keys) {
        if (busy.get(k)) seen.overlaps.push(k);
        busy.set(k, (busy.get(k) ?? 0) + 1);
      }
      try {
        return await session.send(op, payloads);
      } finally {
        inFlight--;
        for (const k of keys) busy.set(k, busy.get(k)! - 1);
      }
    },
  };
  return { session: wrapped, seen };
}

export async function runRows(header: string[], rows: string[][], options: Partial<RunOptions> & { session?: TargetSession }) {
  const report = new MemoryReport();
  const source = createCsvSource(Readable.from([Buffer.from(csv(header, rows))]), { name: 'test.csv' });
  const result = await runSync({
    operation: 'upsert',
    mode: 'send',
    source,
    target: salsaTarget,
    mapper: createRowMapper(salsaTarget, undefined, 'test.csv'),
    concurrency: 4,
    batchSize: 20,
    retry: { maxAttempts: 6, baseDelayMs: 2, maxDelayMs: 10, maxRetryAfterMs: 60_000 },
    report,
    // These tests are about the sending mechanics, one call per batch: a created supporter's second call (its email
    // status, when the row gives none) has tests of its own (test/e2e/vendor-faithful.test.ts).
    prepare: { newEmailStatus: 'account-default' },
    ...options,
  });
  return { result, report };
}
