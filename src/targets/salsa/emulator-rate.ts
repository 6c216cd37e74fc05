/**
 * The emulated account's call limit for its token: calls a minute, counted over a sliding minute or in shorter
 * windows holding their share of it, and another integration's calls on the same token counted in it too.
 */
export class CallRate {
  /** Call times of the last minute (the sliding count, and what metrics reports left). */
  private readonly window: number[] = [];
  private readonly recentSecond: number[] = [];
  private readonly rateLimit: number;
  private readonly rateWindowMs: number;
  private readonly perWindow: number;
  // The other integration's calls, replayed up to each moment a request arrives (so they compete in order).
  readonly other = { sent: 0, refused: 0, next: Infinity, every: 0 };

  constructor(rateLimit: number, rateWindowMs: number, sharedWith: { perMinute: number; startAfterMs?: number } | undefined, now: () => number) {
    this.rateLimit = rateLimit;
    this.rateWindowMs = rateWindowMs;
    this.perWindow = Math.max(1, Math.floor((rateLimit * rateWindowMs) / 60_000));
    const other = this.other;
    if (sharedWith && sharedWith.perMinute > 0) {
      other.every = 60_000 / sharedWith.perMinute;
      const t0 = now();
      if (sharedWith.startAfterMs !== undefined) other.next = t0 + sharedWith.startAfterMs;
      else for (let t = t0 - 60_000 + other.every; t <= t0; t += other.every) this.window.push(t); // its last minute
      if (sharedWith.startAfterMs === undefined) other.next = t0 + other.every;
    }
  }

  /** Counts one call at `t` against the limit: false when it is over (the caller is refused). */
  admit(t: number): boolean {
    const { window, recentSecond } = this;
    while (window.length > 0 && window[0]! <= t - 60_000) window.shift();
    if (this.rateWindowMs < 60_000) {
      // A sliding window of rateWindowMs holding its share of the minute's limit.
      while (recentSecond.length > 0 && recentSecond[0]! <= t - this.rateWindowMs) recentSecond.shift();
      if (recentSecond.length >= this.perWindow) return false;
      recentSecond.push(t);
    } else if (window.length >= this.rateLimit) return false;
    window.push(t);
    return true;
  }

  /** Replays the other integration's calls due by `t`, each admitted or refused like anyone's. */
  replayOther(t: number): void {
    const other = this.other;
    for (; other.next <= t; other.next += other.every) {
      other.sent++;
      if (!this.admit(other.next)) other.refused++;
    }
  }

  /** The calls left of the last minute's limit. */
  left(): number {
    return Math.max(0, this.rateLimit - this.window.length);
  }
}
