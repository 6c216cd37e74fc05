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

/** The source, also saying how far into its input it has read (Source.bytes). */
export function withBytes(source: Source, bytes: () => { read: number; total?: number }): Source {
  return { ...source, bytes, [Symbol.asyncIterator]: () => source[Symbol.asyncIterator]() };
}
