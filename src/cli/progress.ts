import cliProgress from 'cli-progress';
import type { ProgressSink } from '../core/progress.js';
import type { Status } from '../core/types.js';

const short = (counts: Readonly<Partial<Record<Status, number>>>) =>
  Object.entries(counts)
    .filter(([, n]) => n)
    .map(([s, n]) => `${s} ${n}`)
    .join(' · ');

/** A bar with rows/s and counts when stderr is a terminal (rows done: a stream's length is not known ahead). */
export function createBarProgress(): ProgressSink {
  const bar = new cliProgress.SingleBar(
    {
      format: ' {value} rows | {speed} rows/s | {counts}',
      hideCursor: true,
      clearOnComplete: true,
      stream: process.stderr,
      fps: 5,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = 0;
  let drawing = false;
  return {
    start() {
      started = performance.now();
    },
    update(rows, counts) {
      // Drawn from the first row on: the lines printed before it (columns used) stay readable.
      if (!drawing) {
        drawing = true;
        bar.start(0, 0, { speed: '0', counts: '' });
      }
      const secs = (performance.now() - started) / 1000;
      bar.update(rows, { speed: secs > 0 ? (rows / secs).toFixed(0) : '0', counts: short(counts) });
    },
    stop() {
      if (drawing) bar.stop();
    },
  };
}

/** A plain line every few seconds, for cron and logs; `label` names what ran (Validate, Dry run (import)…). */
export function createLineProgress(label?: string, everyMs = 5000, write = (s: string) => process.stderr.write(s)): ProgressSink {
  let started = 0;
  let last = 0;
  return {
    start(info) {
      started = last = performance.now();
      write(`${label ?? info.operation} → ${info.target}: started\n`);
    },
    update(rows, counts) {
      const now = performance.now();
      if (now - last < everyMs) return;
      last = now;
      const secs = (now - started) / 1000;
      write(`${rows} rows done (${(rows / secs).toFixed(0)} rows/s) ${short(counts)}\n`);
    },
    stop() {},
  };
}
