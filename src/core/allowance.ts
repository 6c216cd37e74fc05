import type { RunContext } from './run-context.js';

/** What is left of a shared token is read again every 5 s while calls are made… */
export const ALLOWANCE_EVERY_MS = 5_000;
/**
 * …once at least this many calls were made since the last read, so reading costs at most 2% of the calls (0.2% at
 * 6,000 a minute, 1% at 1,200, 2% at 300 and below) and another integration starting mid-run is seen within ~5 s.
 */
export const ALLOWANCE_MIN_CALLS = 50;
/** Sooner while the others' use is changing, or after a throttle. */
export const ALLOWANCE_SOON_MS = 3_000;

/**
 * Keeps the pace in step with what other integrations (a website form, a nightly donor sync) use of a shared
 * token. The remote's count of calls left in its minute (Salsa metrics' currentRateLimit, read at connect) is read
 * again every 5 s once 50 calls were made — sooner (3 s) after a throttle or while the others' use is changing. The
 * others' use is what the minute holds beyond this client's own calls; while they have been calling for less than a
 * minute that count understates their pace, so the growth between two reads is taken as their pace when it says
 * more. What is left for this client is the limit minus their pace. A read is a call like any other (a pacer slot,
 * a concurrency slot): at most 2% of the calls.
 */
export class AllowanceWatch {
  private calls = 0;
  private lastAt: number;
  private soon = false;
  private reading = false;
  private prev?: { at: number; others: number };
  reads = 0;

  constructor(private readonly ctx: RunContext) {
    this.lastAt = ctx.clock.now();
  }

  /** A call of the run has its answer. */
  afterCall(throttled: boolean): void {
    const { ctx } = this;
    const session = ctx.options.session;
    const limit = ctx.pacer.stats.ceilingPerMinute;
    if (!session?.readAllowance || !limit || ctx.stop) return;
    this.calls++;
    if (throttled) this.soon = true;
    const since = ctx.clock.now() - this.lastAt;
    const due = (since >= ALLOWANCE_EVERY_MS && this.calls >= ALLOWANCE_MIN_CALLS) || (this.soon && since >= ALLOWANCE_SOON_MS);
    if (!due || this.reading) return;
    this.reading = true;
    this.calls = 0;
    this.soon = false;
    ctx.dispatch(async () => {
      try {
        await ctx.pacer.acquire(ctx.stopController.signal);
        if (ctx.stop) return;
        ctx.calls++;
        this.reads++;
        const left = await session.readAllowance!(ctx.stopController.signal);
        if (left === undefined) return;
        const at = ctx.clock.now();
        const others = Math.max(0, limit - left - ctx.pacer.grantsInLastMinute());
        const growth = this.prev ? ((others - this.prev.others) * 60_000) / Math.max(1_000, at - this.prev.at) : 0;
        const pace = Math.max(others, growth);
        // Changing (someone started or stopped): look again sooner. Our own calls in flight blur the count by a few.
        if (this.prev && Math.abs(others - this.prev.others) > Math.max(10, limit * 0.01)) this.soon = true;
        this.prev = { at, others };
        ctx.pacer.setAllowance(limit - pace);
      } catch {
        // Not read: the pace stays as it is (a throttle still teaches it).
      } finally {
        this.reading = false;
        this.lastAt = ctx.clock.now();
      }
    });
  }
}
