import { Injectable } from '@nestjs/common';
import { WharfConfig } from '@wharf/config';
import { RegistryError } from '@wharf/oci';
import { Clock } from './clock';

/**
 * Refuses logins after too many failures for one user name or from one client address within
 * a sliding window (429 with Retry-After). Kept per instance, in memory: the failure times are
 * the record, no timers; a restart forgets them, which only ever errs on the side of allowing.
 */
@Injectable()
export class LoginRateLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly config: WharfConfig,
    private readonly clock: Clock,
  ) {}

  assertAllowed(username: string | undefined, clientAddress: string): void {
    const retryAfter = Math.max(this.retryAfter(`ip:${clientAddress}`), username ? this.retryAfter(`user:${username}`) : 0);
    if (retryAfter > 0) {
      throw new RegistryError('TOOMANYREQUESTS', `too many failed logins: retry in ${retryAfter} s`, undefined, { 'Retry-After': String(retryAfter) });
    }
  }

  recordFailure(username: string | undefined, clientAddress: string): void {
    const now = this.clock.now();
    for (const key of [`ip:${clientAddress}`, ...(username ? [`user:${username}`] : [])]) {
      this.failures.set(key, [...this.recent(key, now), now]);
    }
    if (this.failures.size > 100_000) this.prune(now);
  }

  recordSuccess(username: string): void {
    this.failures.delete(`user:${username}`);
  }

  /** Seconds until the oldest failure in a full window leaves it; 0 when under the limit. */
  private retryAfter(key: string): number {
    const now = this.clock.now();
    const recent = this.recent(key, now);
    if (recent.length < this.config.loginMaxFailures) return 0;
    const oldestCounted = recent[recent.length - this.config.loginMaxFailures];
    return Math.max(1, Math.ceil((oldestCounted + this.config.loginWindowSeconds * 1000 - now) / 1000));
  }

  private recent(key: string, now: number): number[] {
    const windowStart = now - this.config.loginWindowSeconds * 1000;
    return (this.failures.get(key) ?? []).filter((t) => t > windowStart);
  }

  private prune(now: number): void {
    for (const key of [...this.failures.keys()]) {
      if (this.recent(key, now).length === 0) this.failures.delete(key);
    }
  }
}
