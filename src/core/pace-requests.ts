/**
 * Spreads requests evenly under a calls-per-minute ceiling instead of bursting into 429s.
 * Two guards: a fixed spacing of 60 s / rate between grants, and a sliding 60-second window that never holds more
 * than `rate` grants (so even after a pause the catch-up cannot exceed the limit in any window).
 * A 429 "call rate exceeded" pauses everyone and lowers the rate; successes bring it back step by step.
 */
export interface PacerClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: PacerClock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (ms <= 0 || signal?.aborted) return resolve();
      const t = setTimeout(done, ms);
      function done() {
        signal?.removeEventListener('abort', done);
        clearTimeout(t);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    }),
};

const WINDOW_MS = 60_000;
/** Allowance for clock and network jitter between our grant and the server's count. */
const WINDOW_MARGIN_MS = 150;
/** The sliding-window guard remembers at most this many grants; above it the window shrinks in proportion. */
const MAX_RING = 10_000;

export interface PacerStats {
  ceilingPerMinute?: number;
  granted: number;
  rateLimited: number;
  firstGrantAt?: number;
  lastGrantAt?: number;
}

export class RequestPacer {
  private readonly ceiling?: number;
  private rate?: number;
  private nextSlot = 0;
  private pausedUntil = 0;
  private readonly ring: number[];
  private ringPos = 0;
  /** No more than ring.length grants in any window this long (60 s when the ring holds a whole minute). */
  private readonly ringWindowMs: number;
  readonly stats: PacerStats;

  constructor(ratePerMinute: number | undefined, private readonly clock: PacerClock = realClock, startRate?: number) {
    this.ceiling = ratePerMinute && ratePerMinute > 0 ? ratePerMinute : undefined;
    this.rate = this.ceiling && startRate && startRate > 0 ? Math.min(this.ceiling, Math.max(startRate, this.ceiling * 0.25)) : this.ceiling;
    const size = this.ceiling ? Math.min(Math.ceil(this.ceiling), MAX_RING) : 0;
    this.ring = new Array<number>(size).fill(-Infinity);
    this.ringWindowMs = this.ceiling ? (WINDOW_MS * size) / this.ceiling : WINDOW_MS;
    this.stats = { ceilingPerMinute: this.ceiling, granted: 0, rateLimited: 0 };
  }

  /** The rate in force now (lower than the ceiling after 429s). */
  currentRate(): number | undefined {
    return this.rate;
  }

  /** Waits for this caller's slot. Slots are handed out in call order. */
  async acquire(signal?: AbortSignal): Promise<void> {
    const now = this.clock.now();
    let at = Math.max(now, this.pausedUntil);
    if (this.rate) {
      at = Math.max(at, this.nextSlot);
      // The grant `ceiling` places back must have left the window before this one enters it.
      const oldest = this.ring[this.ringPos]!;
      at = Math.max(at, oldest + this.ringWindowMs + (WINDOW_MARGIN_MS * this.ringWindowMs) / WINDOW_MS);
      this.ring[this.ringPos] = at;
      this.ringPos = (this.ringPos + 1) % this.ring.length;
      this.nextSlot = at + WINDOW_MS / this.rate;
    }
    this.stats.granted++;
    this.stats.firstGrantAt ??= at;
    this.stats.lastGrantAt = at;
    if (at > now) await this.clock.sleep(at - now, signal);
  }

  /** The remote said we are over its rate: pause everyone, and go slower for a while. */
  onRateLimited(pauseMs: number): void {
    this.stats.rateLimited++;
    const now = this.clock.now();
    this.pausedUntil = Math.max(this.pausedUntil, now + pauseMs);
    if (this.rate && this.ceiling) {
      this.rate = Math.max(this.ceiling * 0.25, this.rate * 0.8);
      this.nextSlot = Math.max(this.nextSlot, this.pausedUntil);
    }
  }

  /** A request went through: recover 2% of the ceiling, up to the ceiling. */
  onSuccess(): void {
    if (this.rate && this.ceiling && this.rate < this.ceiling) {
      this.rate = Math.min(this.ceiling, this.rate + this.ceiling * 0.02);
    }
  }
}
