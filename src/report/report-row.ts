
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

/** A cell longer than this is cut (a 5 MB "email" must not make a 10 MB report line). */
export const MAX_CELL = 4096;

/**
 * One line of text per row: messages lose their newlines so a torn write can only cut the last line. A value over
 * MAX_CELL keeps its beginning and its end (where a message says what is wrong), and says how long it was.
 */
function oneLine(text: string | undefined): string {
  if (!text) return '';
  const flat = text.includes('\n') || text.includes('\r') ? text.replace(/[\r\n]+/g, ' ').trim() : text;
  return flat.length > MAX_CELL ? `${flat.slice(0, 1024)} […${flat.length - 1536} of ${flat.length} characters cut…] ${flat.slice(-512)}` : flat;
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
