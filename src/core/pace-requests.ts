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

/**
 * The grants that count against the remote's window, oldest first, at most `size` + slack of them: the sliding-window
 * guard asks when the `size`-th most recent one leaves the window. A call the remote never counted (refund) or a slot
 * never used is taken out, so it frees room for another call at once — and for good, not only until the positions
 * come round again.
 */
class GrantWindow {
  private times: number[] = [];
  private head = 0;
  constructor(
    readonly size: number,
    private readonly windowMs: number,
  ) {}

  /** The earliest moment a new grant keeps at most `size` in any window (0 when there is room now). */
  earliest(): number {
    const n = this.times.length - this.head;
    if (this.size === 0 || n < this.size) return 0;
    return this.times[this.times.length - this.size]! + this.windowMs + (WINDOW_MARGIN_MS * this.windowMs) / WINDOW_MS;
  }

  add(at: number): void {
    const t = this.times;
    let i = t.length;
    while (i > this.head && t[i - 1]! > at) i--;
    if (i === t.length) t.push(at);
    else t.splice(i, 0, at);
    // Older than the window, or beyond what the guard can need (size, plus room for grants taken out later).
    while (this.head < t.length && (t[this.head]! <= at - this.windowMs - WINDOW_MARGIN_MS || t.length - this.head > this.size + 256)) this.head++;
    if (this.head > 4096 && this.head * 2 > t.length) {
      this.times = t.slice(this.head);
      this.head = 0;
    }
  }

  /** Takes out a grant (the most recent one at that time); false if it is no longer held. */
  remove(at: number, lookBack = Infinity): boolean {
    const t = this.times;
    for (let i = t.length - 1, seen = 0; i >= this.head && seen < lookBack; i--, seen++) {
      if (t[i] === at) {
        t.splice(i, 1);
        return true;
      }
    }
    return false;
  }

  /** Grants in (now - ms, now]. */
  countSince(now: number, ms: number): number {
    let n = 0;
    for (let i = this.times.length - 1; i >= this.head; i--) {
      const x = this.times[i]!;
      if (x <= now - ms) break;
      if (x <= now) n++;
    }
    return n;
  }
}

export interface PacerStats {
  ceilingPerMinute?: number;
  granted: number;
  rateLimited: number;
  /** Throttles that lowered the pace (several 429s for calls already in flight count once). */
  throttles: number;
  firstGrantAt?: number;
  lastGrantAt?: number;
}

/** How the pace learns (tests and the bench read them; nothing else should need to). */
export const PACING = {
  /** After a throttle, settle this far under the rate at which it happened… */
  settle: 0.97,
  /** …and for this long probe no higher than `memory` of that rate (the limit is remembered, not retried at once). */
  memoryMs: 60_000,
  memory: 0.99,
  /** Never below this share of the ceiling, whatever the throttles. */
  floor: 0.1,
  /** Without a throttle for this long, probe upward by `probeStep` of the allowance. */
  probeEveryMs: 5_000,
  probeStep: 0.01,
  /**
   * A pause after a 429 without Retry-After: two call spacings at the pace in force (the oldest counted call leaves
   * a remote's window by then, whatever its length), at least this long, doubling while throttles keep coming.
   */
  firstPauseMs: 200,
  /** Throttles closer together than this are one episode (the pause doubles). */
  episodeMs: 10_000,
  /** When another client uses the token, leave this much of what is left unused (never crowd it out). */
  sharedMargin: 0.95,
};

/**
 * Paces every call of a run to what the remote allows this client now. Three rates:
 * - `ceiling`: the published limit (metrics' rateLimit, or --rate);
 * - `allowance`: what is left for this client when the token is shared (metrics' currentRateLimit plus this
 *   client's own calls in the last minute, re-read during the run: src/core/allowance.ts);
 * - `rate`, the pace in force: the allowance, lowered after a throttle to just under the rate at which it happened
 *   and probed back up slowly (1% of the allowance every 5 s without one), never straight back to the rate that was
 *   throttled. Remotes that count in finer windows than a minute (a second) are met this way.
 * A 429 pauses everyone (Retry-After when given, else 1 s, doubling while they keep coming); a caller that was
 * already waiting for its slot looks again after the pause, so no call goes out into a known throttle. 429s for
 * calls that were in flight when the pace was lowered do not lower it again.
 */
export class RequestPacer {
  private readonly ceiling?: number;
  private allowance?: number;
  private rate?: number;
  private nextSlot = 0;
  private pausedUntil = 0;
  /** No more than `size` grants in any window of its length (60 s, shorter in proportion for huge limits). */
  private readonly grants: GrantWindow;
  /** Bumped at every throttle: a caller that slept through one takes a new slot. */
  private epoch = 0;
  private lastThrottleAt = -Infinity;
  /** The rate the last throttle happened at. */
  private throttledAt = Infinity;
  private lastProbeAt = 0;
  private pauseMs = PACING.firstPauseMs;
  /**
   * Time given back by calls the remote never counted (refund), in ms: later grants come that much sooner, at most
   * half a spacing each (never a burst), so the calls the remote counts keep the pace in force.
   */
  private credit = 0;
  /** Grant times of the last few seconds, to know the rate a throttle happened at. */
  private readonly recent: number[] = [];
  readonly stats: PacerStats;

  constructor(ratePerMinute: number | undefined, private readonly clock: PacerClock = realClock, startRate?: number) {
    this.ceiling = ratePerMinute && ratePerMinute > 0 ? ratePerMinute : undefined;
    const size = this.ceiling ? Math.min(Math.ceil(this.ceiling), MAX_RING) : 0;
    this.grants = new GrantWindow(size, this.ceiling ? (WINDOW_MS * size) / this.ceiling : WINDOW_MS);
    this.stats = { ceilingPerMinute: this.ceiling, granted: 0, rateLimited: 0, throttles: 0 };
    if (this.ceiling) this.setAllowance(startRate && startRate > 0 ? startRate : this.ceiling);
  }

  /** The rate in force now (lower than the ceiling after throttles, or when the token is shared). */
  currentRate(): number | undefined {
    return this.rate;
  }

  /** What the remote says is left for this client (calls a minute): the pace follows it, within the ceiling. */
  setAllowance(perMinute: number): void {
    if (!this.ceiling || !(perMinute > 0)) return;
    const left = Math.min(this.ceiling, perMinute);
    // All of it when the token is ours; a margin when someone else uses it too, so their calls are never the ones refused.
    const usable = left >= this.ceiling * 0.98 ? this.ceiling : left * PACING.sharedMargin;
    const floor = this.ceiling * PACING.floor;
    const before = this.allowance;
    this.allowance = Math.max(floor, usable);
    // Lower at once; higher only as far as the pace has not learned a lower limit meanwhile.
    if (this.rate === undefined || before === undefined || this.allowance < this.rate) this.rate = this.allowance;
    else if (this.rate >= before * 0.999) this.rate = this.allowance;
  }

  /** Calls granted in the last minute (what this client itself used of the token). */
  grantsInLastMinute(): number {
    return this.grants.countSince(this.clock.now(), WINDOW_MS);
  }

  /**
   * A call already made outside the pacer (reading the limits at connect): it counts in the remote's windows, so the
   * next grant keeps its distance from it (a gateway counting per second would refuse the first calls otherwise).
   */
  noteCall(): void {
    if (!this.rate) return;
    const at = this.clock.now();
    this.grants.add(at);
    this.nextSlot = Math.max(this.nextSlot, at + WINDOW_MS / this.rate);
  }

  /** Waits for this caller's slot (slots are handed out in call order); returns when it was granted. */
  async acquire(signal?: AbortSignal): Promise<number> {
    for (;;) {
      let held = false;
      const now = this.clock.now();
      const epoch = this.epoch;
      let at = Math.max(now, this.pausedUntil);
      if (this.rate) {
        at = Math.max(at, this.nextSlot);
        // The grant `ceiling` places back must have left the window before this one enters it.
        at = Math.max(at, this.grants.earliest());
        this.grants.add(at);
        held = true;
        const spacing = WINDOW_MS / this.rate;
        const early = Math.min(this.credit, spacing / 2);
        this.credit -= early;
        this.nextSlot = at + spacing - early;
      }
      if (at > now) await this.clock.sleep(at - now, signal);
      if (this.epoch !== epoch && !signal?.aborted) {
        // A throttle while this caller slept: its slot was handed out before the pace was lowered. Give it back (it
        // was never used) and take a new one.
        if (held) this.grants.remove(at);
        continue;
      }
      this.stats.granted++;
      this.stats.firstGrantAt ??= at;
      this.stats.lastGrantAt = at;
      this.recent.push(at);
      if (this.recent.length > 512) this.recent.splice(0, 256);
      return at;
    }
  }

  /**
   * The remote said we are over its rate. `grantedAt`: when the throttled call was granted; a call granted before
   * the pace was last lowered was already in flight, and says nothing new about the new pace.
   */
  onRateLimited(retryAfterMs?: number, grantedAt?: number): void {
    this.stats.rateLimited++;
    const now = this.clock.now();
    if (grantedAt !== undefined && grantedAt <= this.lastThrottleAt) return;
    this.stats.throttles++;
    const firstPause = Math.min(1_000, Math.max(PACING.firstPauseMs, this.rate ? (2 * WINDOW_MS) / this.rate : 0));
    this.pauseMs = now - this.lastThrottleAt < PACING.episodeMs ? Math.min(this.pauseMs * 2, 30_000) : firstPause;
    const pause = retryAfterMs !== undefined ? retryAfterMs : this.pauseMs;
    this.pausedUntil = Math.max(this.pausedUntil, now + pause);
    this.lastThrottleAt = now;
    this.lastProbeAt = now;
    this.credit = 0;
    this.epoch++;
    if (this.rate && this.ceiling) {
      // Just under the rate at which it happened: the pace in force, or what was really sent if that was less.
      const happenedAt = Math.min(this.rate, this.observedRate(now));
      this.throttledAt = happenedAt;
      this.rate = Math.max(this.ceiling * PACING.floor, happenedAt * PACING.settle);
      // Every caller waiting for a slot takes a new one after the pause (see acquire).
      this.nextSlot = this.pausedUntil;
    }
  }

  /**
   * A call the remote did not count (a gateway's 502/503/504 answered before it): its place in the minute's window
   * is freed, and the spacing tightens by as much over the next calls, so failed calls do not eat the budget. If the
   * remote did count them after all, its 429s lower the pace as any throttle does.
   */
  refund(grantedAt: number): void {
    if (!this.rate) return;
    // Its slot's worth of time back, up to a second's worth of calls banked.
    if (this.grants.remove(grantedAt, 256)) this.credit = Math.min(this.credit + WINDOW_MS / this.rate, 1_000);
  }

  /** A call went through: without a throttle for a while, probe upward a little, never above the allowance. */
  onSuccess(): void {
    if (!this.rate || !this.allowance || this.rate >= this.allowance) return;
    const now = this.clock.now();
    if (now - this.lastProbeAt < PACING.probeEveryMs) return;
    this.lastProbeAt = now;
    // Not back to the rate that was throttled, while that is recent.
    const cap = now - this.lastThrottleAt < PACING.memoryMs ? Math.min(this.allowance, this.throttledAt * PACING.memory) : this.allowance;
    if (this.rate < cap) this.rate = Math.min(cap, this.rate + this.allowance * PACING.probeStep);
  }

  /** Calls a minute actually granted over the last few seconds (the rate a throttle happened at). */
  private observedRate(now: number): number {
    const span = 5_000;
    let n = 0;
    let first = now;
    for (let i = this.recent.length - 1; i >= 0 && this.recent[i]! > now - span; i--) {
      n++;
      first = this.recent[i]!;
    }
    if (n < 4) return Infinity; // too few to say: the pace in force stands
    return ((n - 1) / Math.max(1, now - first)) * 60_000;
  }
}
