import { Injectable } from '@nestjs/common';
import { WharfConfig } from '@wharf/config';
import { RegistryError } from '@wharf/oci';
import { Clock } from './clock';

/**
 * Limits password guessing without letting one party's failures lock out another (429 with
 * Retry-After). Failures are counted in a sliding window three ways:
 * - per (user name, address) pair, up to `loginMaxFailures`: the guesser, or the misconfigured
 *   CI job, is refused; the same user elsewhere and other users at that address are not;
 * - per user name over all addresses (`loginMaxFailuresPerUser`, higher): once reached, every
 *   address that has failed for that name is refused, so guesses spread over many addresses
 *   get one each per window, while the owner at an address that never failed still gets in;
 * - per address over all user names (`loginMaxFailuresPerAddress`, higher still): once
 *   reached, every name that has failed from there is refused (password spraying), while a
 *   user who has not failed from that address (the rest of an office behind one NAT) is not.
 * So a (user, address) pair without failures is never refused. Kept per instance, in memory:
 * the failure times are the record, no timers; a restart forgets them, which only ever errs on
 * the side of allowing.
 */
@Injectable()
export class LoginRateLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly config: WharfConfig,
    private readonly clock: Clock,
  ) {}

  /** `username` is undefined for a bare access token, which counts as the name "". */
  assertAllowed(username: string | undefined, clientAddress: string): void {
    const now = this.clock.now();
    const keys = keysOf(username, clientAddress);
    const pair = this.recent(keys.pair, now);
    if (pair.length === 0) return;
    const retryAfter = Math.max(
      this.secondsUntilUnder(pair, this.config.loginMaxFailures, now),
      // A crowd of failures for the name or at the address refuses this pair until either the
      // crowd thins out or this pair's own failures leave the window.
      Math.min(this.secondsUntilUnder(pair, 1, now), this.secondsUntilUnder(this.recent(keys.user, now), this.config.loginMaxFailuresPerUser, now)),
      Math.min(this.secondsUntilUnder(pair, 1, now), this.secondsUntilUnder(this.recent(keys.address, now), this.config.loginMaxFailuresPerAddress, now)),
    );
    if (retryAfter > 0) {
      throw new RegistryError('TOOMANYREQUESTS', `too many failed logins: retry in ${retryAfter} s`, undefined, { 'Retry-After': String(retryAfter) });
    }
  }

  recordFailure(username: string | undefined, clientAddress: string): void {
    const now = this.clock.now();
    for (const key of Object.values(keysOf(username, clientAddress))) {
      this.failures.set(key, [...this.recent(key, now), now]);
    }
    if (this.failures.size > 100_000) this.prune(now);
  }

  /** The owner got in from here: this pair's failures are forgiven (the crowds' counts stay). */
  recordSuccess(username: string, clientAddress: string): void {
    this.failures.delete(keysOf(username, clientAddress).pair);
  }

  /** Seconds until fewer than `limit` of these failure times are inside the window; 0 when already. */
  private secondsUntilUnder(times: number[], limit: number, now: number): number {
    if (times.length < limit) return 0;
    const oldestCounted = times[times.length - limit];
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

function keysOf(username: string | undefined, clientAddress: string): { pair: string; user: string; address: string } {
  const name = username ?? '';
  return { pair: `pair:${name}\0${clientAddress}`, user: `user:${name}`, address: `ip:${clientAddress}` };
}
