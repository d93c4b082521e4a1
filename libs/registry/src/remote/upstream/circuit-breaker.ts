export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * Stops calling an upstream after `failureThreshold` consecutive failures, for `openMs`; then
 * lets a single probe through (half-open): its success closes the circuit, its failure opens it
 * for another `openMs`. State is kept as timestamps read on demand, no timers.
 */
export class CircuitBreaker {
  private readonly failureThreshold: number;
  private readonly openMs: number;
  private readonly now: () => number;
  private consecutiveFailures = 0;
  private openedAt: number | undefined;
  /** When the current half-open probe was let through; undefined when none is in flight. */
  private probeStartedAt: number | undefined;

  constructor(opts: { failureThreshold: number; openMs: number; now?: () => number }) {
    if (!(opts.failureThreshold >= 1)) throw new RangeError('failureThreshold must be at least 1');
    if (!(opts.openMs >= 0)) throw new RangeError('openMs must not be negative');
    this.failureThreshold = opts.failureThreshold;
    this.openMs = opts.openMs;
    this.now = opts.now ?? Date.now;
  }

  get state(): CircuitState {
    if (this.openedAt === undefined) return 'closed';
    return this.now() - this.openedAt >= this.openMs ? 'half-open' : 'open';
  }

  /** True when a request may go out; in half-open, true for one probe at a time. */
  canRequest(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open') return false;
    const now = this.now();
    // A probe whose outcome was never recorded (a caller bug) must not wedge the circuit: after
    // another openMs, the next caller probes instead.
    if (this.probeStartedAt !== undefined && now - this.probeStartedAt < this.openMs) return false;
    this.probeStartedAt = now;
    return true;
  }

  recordSuccess(): void {
    this.consecutiveFailures = 0;
    this.openedAt = undefined;
    this.probeStartedAt = undefined;
  }

  recordFailure(): void {
    const state = this.state;
    if (state === 'half-open') {
      this.open();
      return;
    }
    if (state === 'open') return;
    this.consecutiveFailures++;
    if (this.consecutiveFailures >= this.failureThreshold) this.open();
  }

  private open(): void {
    this.openedAt = this.now();
    this.probeStartedAt = undefined;
  }
}
