import type { Source, SourceRecord } from './types.js';

/** Builds a Source from a generator of record chunks; iterating it record by record is a convenience. */
export function chunkedSource(columns: () => readonly string[], chunks: () => AsyncGenerator<SourceRecord[]>, fixedColumns: boolean, delimiter?: () => string | undefined): Source {
  return {
    columns,
    fixedColumns,
    delimiter,
    chunks,
    async *[Symbol.asyncIterator]() {
      for await (const chunk of chunks()) yield* chunk;
    },
  };
}
