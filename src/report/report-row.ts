
export type { RowResult } from '../core/types.js';
import type { RowResult } from '../core/types.js';

export const REPORT_COLUMNS = [
  'row',
  'line',
  'operation',
  'key',
  'status',
  'remote_id',
  'attempts',
  'http_status',
  'error_code',
  'error_message',
] as const;

/** Cells a spreadsheet would run as a formula are prefixed with an apostrophe (OWASP "CSV injection"). */
export function escapeFormula(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** One line of text per row: messages lose their newlines so a torn write can only cut the last line. */
function oneLine(text: string | undefined): string {
  if (!text) return '';
  return text.includes('\n') || text.includes('\r') ? text.replace(/[\r\n]+/g, ' ').trim() : text;
}

export function toReportRecord(r: RowResult): Record<(typeof REPORT_COLUMNS)[number], string | number> {
  return {
    row: r.row,
    line: r.line || '',
    operation: r.operation,
    key: oneLine(r.key),
    status: r.status,
    remote_id: oneLine(r.remoteId),
    attempts: r.attempts,
    http_status: r.httpStatus ?? '',
    error_code: oneLine(r.errorCode),
    error_message: oneLine(r.errorMessage),
  };
}

export const CSV_HEADER = REPORT_COLUMNS.join(',') + '\n';

const textCell = (v: string | undefined) => (v ? csvCell(escapeFormula(oneLine(v))) : '');

/** One CSV report line; built directly, as it runs once per input row. */
export function formatCsvLine(r: RowResult): string {
  return `${r.row},${r.line || ''},${r.operation},${textCell(r.key)},${r.status},${textCell(r.remoteId)},${r.attempts},${r.httpStatus ?? ''},${textCell(r.errorCode)},${textCell(r.errorMessage)}\n`;
}

/** One JSONL line: the report's columns, then any structured details (a plan's changes and payload). */
export function formatJsonLine(r: RowResult): string {
  return JSON.stringify(r.details ? { ...toReportRecord(r), ...r.details } : toReportRecord(r)) + '\n';
}
