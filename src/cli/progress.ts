import cliProgress from 'cli-progress';
import type { ProgressSink } from '../core/progress.js';
import type { Status } from '../core/types.js';

const short = (counts: Readonly<Partial<Record<Status, number>>>) =>
  Object.entries(counts)
    .filter(([, n]) => n)
    .map(([s, n]) => `${s} ${n}`)
    .join(' · ');

const num = (n: number) => Math.round(n).toLocaleString('en-US');

/** "1 h 04 min", "3 min 12 s", "40 s". */
export function formatEta(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${s} s`;
}

/**
 * What a progress display shows, whatever it looks like: rows done of the total (estimated from the bytes read
 * until the input's end, "~"), the percentage, rows a second and the time left at the pace of the last half minute,
 * and the calls' pace as a share of the account's ceiling.
 */
export class ProgressFigures {
  private started = 0;
  private totalRows?: number;
  private exact = false;
  private callsPerMinute?: number;
  private ceiling?: number;
  /** (time, rows) about a second apart, for the pace of the last half minute. */
  private readonly recent: Array<{ t: number; rows: number }> = [];

  start(now = performance.now()): void {
    this.started = now;
    this.recent.push({ t: now, rows: 0 });
  }

  total(rows: number, exact: boolean): void {
    this.totalRows = rows;
    this.exact = exact;
  }

  pace(callsPerMinute: number, ceiling: number | undefined): void {
    this.callsPerMinute = callsPerMinute;
    this.ceiling = ceiling;
  }

  /** The figures for `rows` done now: each part only once it can be known. */
  describe(rows: number, now = performance.now()): { done: string; percent?: string; speed: string; eta?: string; pace?: string } {
    const last = this.recent[this.recent.length - 1]!;
    if (now - last.t >= 1000) this.recent.push({ t: now, rows });
    while (this.recent.length > 2 && now - this.recent[0]!.t > 30_000) this.recent.shift();
    const first = this.recent[0]!;
    const secs = (now - first.t) / 1000;
    const rate = secs > 0 ? (rows - first.rows) / secs : 0;
    const overall = (now - this.started) / 1000 > 0 ? rows / ((now - this.started) / 1000) : 0;
    const total = this.totalRows !== undefined ? Math.max(this.totalRows, rows) : undefined;
    const out: ReturnType<ProgressFigures['describe']> = { done: total !== undefined ? `${num(rows)} of ${this.exact ? '' : '~'}${num(total)} rows` : `${num(rows)} rows`, speed: `${num(rate || overall)} rows/s` };
    if (total) out.percent = `${Math.min(100, Math.floor((100 * rows) / total))}%`;
    if (total !== undefined && rate > 0 && rows < total) out.eta = `ETA ${formatEta((total - rows) / rate)}`;
    // A run that calls nobody (validate, a dry run) has no pace to show.
    if (this.callsPerMinute !== undefined && (this.ceiling || this.callsPerMinute > 0)) out.pace = this.ceiling ? `pace ${Math.round((100 * this.callsPerMinute) / this.ceiling)}% of the ${num(this.ceiling)}/min ceiling` : `${num(this.callsPerMinute)} calls/min`;
    return out;
  }
}

/** A bar in a terminal: rows of the total, percentage, rows/s, ETA, the pace against the ceiling, counts. */
export function createBarProgress(stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr): ProgressSink {
  const figures = new ProgressFigures();
  const bar = new cliProgress.SingleBar(
    {
      // Payload names of our own: cli-progress fills {percent}, {eta} and {speed}-like tokens itself.
      format: ' {bar} {pct} {done} | {rate} | {left} | {pace} | {counts}',
      barsize: 20,
      hideCursor: true,
      clearOnComplete: true,
      stream,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let drawing = false;
  let total = 0;
  return {
    start() {
      figures.start();
    },
    total(rows, exact) {
      figures.total(rows, exact);
      total = rows;
      if (drawing) bar.setTotal(rows);
    },
    pace: (perMinute, ceiling) => figures.pace(perMinute, ceiling),
    update(rows, counts) {
      const f = figures.describe(rows);
      const payload = { done: f.done, pct: f.percent ?? '', rate: f.speed, left: f.eta ?? 'ETA …', pace: f.pace ?? '', counts: short(counts) };
      // Drawn from the first row on: the lines printed before it (columns used) stay readable.
      if (!drawing) {
        drawing = true;
        bar.start(Math.max(total, rows, 1), rows, payload);
      } else bar.update(rows, payload);
    },
    stop() {
      if (drawing) bar.stop();
    },
  };
}

/** A plain line every few seconds, for cron and logs, with the same figures; `label` names what ran. */
export function createLineProgress(label?: string, everyMs = 5000, write: (s: string) => unknown = (s: string) => process.stderr.write(s), clock = () => performance.now()): ProgressSink {
  const figures = new ProgressFigures();
  let last = 0;
  return {
    start(info) {
      figures.start(clock());
      last = clock();
      write(`${label ?? info.operation} → ${info.target}: started\n`);
    },
    total: (rows, exact) => figures.total(rows, exact),
    pace: (perMinute, ceiling) => figures.pace(perMinute, ceiling),
    update(rows, counts) {
      const now = clock();
      const f = figures.describe(rows, now);
      if (now - last < everyMs) return;
      last = now;
      write(`${[f.done + (f.percent ? ` (${f.percent})` : ''), f.speed, f.eta, f.pace, short(counts)].filter(Boolean).join(' · ')}\n`);
    },
    stop() {},
  };
}
