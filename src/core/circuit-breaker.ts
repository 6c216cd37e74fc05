/**
 * Stops a run that can no longer do any good: when most recent requests ended in failures that retries did not
 * cure (server down for minutes, every request refused), going on only burns quota and time.
 */
export class CircuitBreaker {
  private readonly outcomes: boolean[] = [];
  private lastFailure = '';

  constructor(
    private readonly window = 20,
    private readonly minSamples = 10,
    private readonly failureRatio = 0.8,
  ) {}

  record(ok: boolean, reason?: string): void {
    this.outcomes.push(ok);
    if (this.outcomes.length > this.window) this.outcomes.shift();
    if (!ok && reason) this.lastFailure = reason;
  }

  /** Why the run should stop, or undefined. */
  tripped(): string | undefined {
    if (this.outcomes.length < this.minSamples) return undefined;
    const failures = this.outcomes.filter((ok) => !ok).length;
    if (failures / this.outcomes.length < this.failureRatio) return undefined;
    return (
      `${failures} of the last ${this.outcomes.length} requests failed even after retries ` +
      `(last: ${this.lastFailure}); stopping instead of going through the rest of the file. ` +
      'Fix the cause, then re-run with --resume.'
    );
  }
}
