import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, relative } from 'node:path';
import type { PaceSample, ReportSink, RunResult } from '../core/run-types.js';
import { STATUSES, SUCCESS_STATUSES, type Status } from '../core/statuses.js';
import type { RowResult } from '../core/types.js';

const GENERATOR = '<meta name="generator" content="sync-supporters summary page">';
/** Failure groups kept, and rows shown per group: the page stays small whatever the file's size. */
const MAX_GROUPS = 200;
const SAMPLES = 20;

/** `contacts.report.csv` → `contacts.report.html`, beside the report. */
export function pagePathOf(reportPath: string): string {
  return join(dirname(reportPath), `${basename(reportPath, extname(reportPath))}.html`);
}

interface Group {
  status: Status;
  reason: string;
  count: number;
  samples: Array<{ row: number; line: number; key: string; message: string }>;
}

/**
 * What the summary page needs of the report's rows, collected as they are written (in input order): counts by
 * status, and failures grouped by reason — a reason's quoted values and numbers set aside, so that 300 rows whose
 * email is invalid are one group — with the first rows of each. Bounded: at most 200 groups of 20 rows.
 */
export class PageCollector {
  readonly counts: Partial<Record<Status, number>> = {};
  private readonly groups = new Map<string, Group>();
  private otherFailures = 0;
  rows = 0;

  /** The report sink that also tells this collector every row it writes. */
  tap(sink: ReportSink): ReportSink {
    return {
      journal: (r) => sink.journal(r),
      write: (r) => {
        sink.write(r);
        this.add(r);
      },
      writeRaw: (line, status) => {
        sink.writeRaw(line, status);
        if (status) this.count(status);
      },
      flush: () => sink.flush(),
    };
  }

  private count(status: Status): void {
    this.rows++;
    this.counts[status] = (this.counts[status] ?? 0) + 1;
  }

  add(r: RowResult): void {
    this.count(r.status);
    // Success, a preview's DRY_RUN and a plan's outcomes are not failures (all in SUCCESS_STATUSES).
    if (SUCCESS_STATUSES.has(r.status)) return;
    const message = r.errorMessage ?? r.errorCode ?? '';
    // A value from the file may hold quotes itself: everything between the first and the last quote goes.
    const reason = message.replace(/".*"/g, '"…"').replace(/\b\d[\d.,:-]*\b/g, 'N').slice(0, 240) || '(no reason given)';
    const id = `${r.status}\u0000${reason}`;
    let g = this.groups.get(id);
    if (!g) {
      if (this.groups.size >= MAX_GROUPS) return void this.otherFailures++;
      this.groups.set(id, (g = { status: r.status, reason, count: 0, samples: [] }));
    }
    g.count++;
    if (g.samples.length < SAMPLES) g.samples.push({ row: r.row, line: r.line, key: r.key, message: message.slice(0, 400) });
  }

  /** The failure groups, largest first. */
  failureGroups(): Group[] {
    return [...this.groups.values()].sort((a, b) => b.count - a.count);
  }

  get ungrouped(): number {
    return this.otherFailures;
  }
}

/** What ran, for the page's first table. */
export interface PageFacts {
  title: string;
  input: string;
  target: string;
  account?: string;
  mode: string;
  reportPath: string;
  startedAt: Date;
  endedAt: Date;
  notes: string[];
  redact: (s: string) => string;
}

/**
 * Renders the page and writes it beside the report: a file there that this tool did not write is never replaced.
 * Personal data: readable by its owner only. Returns the run's note on it (where it is, or why it was not written).
 */
export function writeSummaryPage(f: PageFacts, result: RunResult, c: PageCollector): string {
  const path = pagePathOf(f.reportPath);
  if (existsSync(path) && !readFileSync(path, 'utf8').slice(0, 600).includes(GENERATOR)) return `summary page not written: ${path} exists and is not a page this tool wrote`;
  writeFileSync(path, renderSummaryPage(f, result, c), { mode: 0o600 });
  return `summary page: ${path}`;
}

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const num = (n: number) => n.toLocaleString('en-US');
const EXIT: Record<number, string> = { 0: 'every row succeeded', 1: 'some rows did not go through', 2: 'nothing was sent', 3: 'aborted', 130: 'interrupted' };

/** The page: one self-contained file (no script, font or image from anywhere), readable offline and printable. */
export function renderSummaryPage(f: PageFacts, result: RunResult, c: PageCollector): string {
  const r = f.redact;
  const input = relative(dirname(f.reportPath), f.input) || f.input;
  const link = (line: number) => (line > 0 && f.input !== '-' ? `<a href="${esc(encodeURI(input))}#line=${line}">${line}</a>` : line > 0 ? String(line) : '');
  const ran: Array<[string, string]> = [
    ['File', f.input === '-' ? 'stdin' : f.input],
    ['Target', f.target],
    ...(f.account ? ([['Account', f.account]] as Array<[string, string]>) : []),
    ['Mode', f.mode],
    ['Started', f.startedAt.toISOString()],
    ['Ended', `${f.endedAt.toISOString()} (${num(Math.round(result.durationMs / 100) / 10)} s)`],
    ['Exit status', `${result.exitCode}: ${EXIT[result.exitCode] ?? 'see the notes'}`],
    ['Report', f.reportPath],
  ];
  const counts = STATUSES.filter((s) => c.counts[s]).map((s) => `<tr><td>${s}</td><td class="n" data-status="${s}">${num(c.counts[s]!)}</td></tr>`).join('');
  const groups = c.failureGroups().map((g, i) => `<details id="g${i}"><summary><span class="n">${num(g.count)}</span> × <b>${esc(g.status)}</b> ${esc(r(g.reason))}</summary><table><tr><th>row</th><th>line</th><th>key</th><th>message</th></tr>${g.samples.map((s) => `<tr><td>${s.row}</td><td>${link(s.line)}</td><td>${esc(r(s.key))}</td><td>${esc(r(s.message))}</td></tr>`).join('')}</table>${g.count > g.samples.length ? `<p>and ${num(g.count - g.samples.length)} more rows for this reason: the report lists them all.</p>` : ''}</details>`).join('');
  const fieldTable = (title: string, rows: Record<string, number>) => Object.keys(rows).length === 0 ? '' : `<h2>${esc(title)}</h2><table class="fields"><tr><th>field</th><th>rows</th></tr>${Object.entries(rows).sort((a, b) => b[1] - a[1]).map(([k, n]) => `<tr><td>${esc(k)}</td><td class="n">${num(n)}</td></tr>`).join('')}</table>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">${GENERATOR}
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(r(f.title))}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:72em;padding:0 1em;color:#222}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.4em 0}td,th{border:1px solid #ddd;padding:.2em .6em;text-align:left;vertical-align:top}
td.n,span.n{text-align:right;font-variant-numeric:tabular-nums}details{margin:.3em 0}summary{cursor:pointer}
.ok{color:#176f2c}.bad{color:#a31515}svg{border:1px solid #ddd;background:#fafafa}
@media print{details{display:block}details>table{display:table}summary{list-style:none}}
</style></head><body>
<h1>${esc(r(f.title))}</h1>
<table class="ran">${ran.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(r(v))}</td></tr>`).join('')}</table>
<h2>Rows by status</h2>
<table class="counts"><tr><th>status</th><th>rows</th></tr>${counts}<tr><th>all rows</th><th class="n" id="total">${num(c.rows)}</th></tr></table>
<h2>Failures by reason</h2>
${groups || '<p class="ok">No row failed.</p>'}${c.ungrouped ? `<p>${num(c.ungrouped)} more failed rows for other reasons: the report lists them.</p>` : ''}
${fieldTable('Fields a plan would change', result.planFields)}${fieldTable('Kept as the records held them (update policy)', result.kept)}${fieldTable('Values rows went without', result.droppedValues)}
${Object.keys(result.memberships).length ? `<h2>Segment and group changes</h2><table><tr><th>change</th><th>rows</th></tr>${Object.entries(result.memberships).map(([k, n]) => `<tr><td>${esc(k)}</td><td class="n">${num(n ?? 0)}</td></tr>`).join('')}</table>` : ''}
<h2>Pace</h2>
${paceChart(result.pace ?? [], result.ceilingPerMinute)}
${f.notes.length ? `<h2>Notes</h2><ul>${f.notes.map((n) => `<li>${esc(r(n))}</li>`).join('')}</ul>` : ''}
</body></html>
`;
}

/** Calls a minute over the run against the account's ceiling, as an inline SVG (no script). */
function paceChart(samples: readonly PaceSample[], ceiling: number | undefined): string {
  if (samples.length < 2) return '<p>Too short a run to chart its pace.</p>';
  const rates: Array<{ t: number; perMinute: number }> = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    const dt = b.atMs - a.atMs;
    if (dt > 0) rates.push({ t: b.atMs, perMinute: ((b.calls - a.calls) / dt) * 60_000 });
  }
  if (rates.length === 0) return '<p>Too short a run to chart its pace.</p>';
  const w = 720;
  const h = 200;
  const top = Math.max(ceiling ?? 0, ...rates.map((p) => p.perMinute)) * 1.1 || 1;
  const end = samples[samples.length - 1]!.atMs || 1;
  const x = (t: number) => ((t / end) * (w - 50) + 45).toFixed(1);
  const y = (v: number) => (h - 20 - (v / top) * (h - 30)).toFixed(1);
  const line = rates.map((p) => `${x(p.t)},${y(p.perMinute)}`).join(' ');
  const ceil = ceiling ? `<line x1="45" x2="${w - 5}" y1="${y(ceiling)}" y2="${y(ceiling)}" stroke="#a31515" stroke-dasharray="4 3"/><text x="${w - 5}" y="${Number(y(ceiling)) - 4}" text-anchor="end" fill="#a31515" font-size="11">ceiling ${num(Math.round(ceiling))} calls/min</text>` : '';
  return `<svg width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="calls a minute over the run"><text x="4" y="12" font-size="11">calls/min</text><text x="${w - 5}" y="${h - 4}" text-anchor="end" font-size="11">${num(Math.round(end / 1000))} s</text>${ceil}<polyline fill="none" stroke="#1f5fa8" stroke-width="1.5" points="${line}"/></svg>`;
}
