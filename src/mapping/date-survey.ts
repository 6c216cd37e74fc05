import { UsageError } from '../core/errors.js';
import type { Source } from '../core/types.js';
import type { RowMapper } from './mapper.js';
import { dateEvidence } from './values.js';

/** ISO values seen with no D/M/Y value among them, after which a column is taken as ISO and reading stops. */
const ISO_ENOUGH = 1000;

interface Tally {
  field: string;
  column: string;
  nonEmpty: number;
  iso: number;
  yearless: number;
  numeric: number;
  ambiguous?: { value: string; line: number };
}

/**
 * Settles the day/month order of each date column from the column itself, before any row is sent: the first value
 * that reads only one way (31/12/1980) settles it for every row. A column whose D/M/Y values all read both ways is
 * refused with exit 2 and the fix (never guessed row by row); a column with no years at all (Mailchimp's Birthday
 * "03/15") is not sent. Reads only as far as it must: to the first settling value, or 1,000 ISO dates and no other.
 * Returns notes for the summary.
 */
export async function surveyDateColumns(source: Source, mapper: RowMapper, inputName: string): Promise<string[]> {
  let tallies: Tally[] | undefined;
  const notes: string[] = [];
  for await (const chunk of source.chunks()) {
    if (!tallies) {
      mapper.bind(source.columns(), source.fixedColumns, chunk);
      tallies = mapper.dateColumns().map((d) => ({ field: d.field, column: d.columns[0]!, nonEmpty: 0, iso: 0, yearless: 0, numeric: 0 }));
    }
    for (const record of chunk) {
      if (!record.fields) continue;
      for (const t of tallies) {
        const v = (record.fields[t.column] ?? '').trim();
        if (v === '') continue;
        t.nonEmpty++;
        const e = dateEvidence(v);
        if (e === 'iso') t.iso++;
        else if (e === 'yearless') t.yearless++;
        else if (e === 'ambiguous') {
          t.numeric++;
          t.ambiguous ??= { value: v, line: record.line };
        } else if (e === 'dmy' || e === 'mdy') {
          mapper.settleDate(t.field, e);
          notes.push(`dates in "${t.column}" are read ${e === 'dmy' ? 'day-first (DD/MM/YYYY)' : 'month-first (MM/DD/YYYY)'}, as "${v}" (line ${record.line}) shows; a row whose date does not fit goes without it, and says so`);
          t.nonEmpty = -1; // settled
        }
      }
      tallies = tallies.filter((t) => t.nonEmpty >= 0);
      if (tallies.every((t) => t.iso >= ISO_ENOUGH && t.numeric === 0 && t.yearless === 0)) return notes;
    }
  }
  for (const t of tallies ?? []) {
    if (t.nonEmpty > 0 && t.yearless === t.nonEmpty) {
      mapper.settleDate(t.field, 'drop');
      notes.push(`"${t.column}" has no years (e.g. day and month only), so it is not sent as ${t.field}`);
    } else if (t.ambiguous) {
      throw new UsageError(
        `${inputName}: every date in column "${t.column}" can be read day-first or month-first (e.g. "${t.ambiguous.value}" on line ${t.ambiguous.line}), ` +
          `so its order cannot be told from the file. Say which: --date-order dmy (day first) or --date-order mdy (month first), ` +
          `or in the mapping {"column": "${t.column}", "transform": {"date": "DD/MM/YYYY"}}. Nothing was sent.`,
        'E_DATE_ORDER',
      );
    }
  }
  return notes;
}
