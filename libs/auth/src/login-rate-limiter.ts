import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { WharfConfig } from '@wharf/config';
import { RequestCountQueries } from '@wharf/db';
import { RegistryError } from '@wharf/oci';
import { Clock } from './clock';

const CLEAN_TRUST_MS = 2_000;
const CLEAN_PAIRS_LIMIT = 10_000;

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
 * So a (user, address) pair without failures is never refused. The failure times are kept in
 * Postgres (request_counts, at the millisecond), so every worker and host counts the same
 * failures: N hosts no longer give a guesser N times the tries. No timers: the times are the
 * record, and a sweep deletes what has left the window.
 *
 * A pair that got in here with no failures left is trusted for CLEAN_TRUST_MS without asking
 * Postgres again, so a client sending Basic credentials on every request costs a query every
 * two seconds, not one per request (which halved such requests' throughput). A failure here
 * ends the trust at once; failures on other instances are seen when it lapses, so at most one
 * attempt per instance escapes the check after another instance's failures.
 */
@Injectable()
export class LoginRateLimiter {
  /** Pair key -> when a check here last found it without failures (or forgave them), then got in. */
  private readonly clean = new Map<string, number>();

  constructor(
    private readonly config: WharfConfig,
    private readonly clock: Clock,
    private readonly counts: RequestCountQueries,
  ) {}

  /**
   * Runs one credential check for `username` at `clientAddress` unless that pair is refused
   * (TOOMANYREQUESTS): a null answer is counted as a failure; any other answer forgives the
   * pair's failures (not the crowds'). `username` undefined is a bare access token, which counts
   * as the name "" and forgives nothing: "" stands for every token tried from that address.
   */
  async attempt<T>(username: string | undefined, clientAddress: string, verify: () => Promise<T | null>): Promise<T | null> {
    const keys = keysOf(username, clientAddress);
    const checkedAt = this.clock.now();
    const trusted = checkedAt - (this.clean.get(keys.pair) ?? Number.NEGATIVE_INFINITY) < CLEAN_TRUST_MS;
    const pairHasFailures = trusted ? false : await this.assertAllowed(keys);
    const result = await verify();
    if (result === null) {
      this.clean.delete(keys.pair);
      await this.counts.add([keys.pair, keys.user, keys.address], new Date(this.clock.now()), this.expiry());
      return result;
    }
    // Only a pair with failures has anything to forgive: a login needs one query, not two.
    const forgiving = username !== undefined && pairHasFailures;
    if (forgiving) await this.counts.forget(keys.pair);
    // Trust runs from the last check, so a pair that keeps getting in is still asked about every CLEAN_TRUST_MS.
    if (!trusted && (forgiving || !pairHasFailures)) this.trust(keys.pair, checkedAt);
    return result;
  }

  private trust(pair: string, at: number): void {
    if (this.clean.size >= CLEAN_PAIRS_LIMIT) this.clean.clear();
    this.clean.set(pair, at);
  }

  /** Throws when the pair is refused now; answers whether it has failures in the window. */
  private async assertAllowed(keys: Keys): Promise<boolean> {
    const now = this.clock.now();
    const { loginMaxFailures, loginMaxFailuresPerUser, loginMaxFailuresPerAddress } = this.config;
    const questions = [
      { subject: keys.pair, n: 1 },
      { subject: keys.pair, n: loginMaxFailures },
      { subject: keys.user, n: loginMaxFailuresPerUser },
      { subject: keys.address, n: loginMaxFailuresPerAddress },
    ];
    const answers = await this.counts.nthNewest(questions, new Date(now - this.config.loginWindowSeconds * 1000));
    // When the n-th newest failure of a key happened: the key is at its limit until it leaves the window.
    const nth = (subject: string, n: number) => answers.find((a) => a.subject === subject && a.n === n)?.at.getTime();
    const newestOfPair = nth(keys.pair, 1);
    if (newestOfPair === undefined) return false;
    const secondsUntilGone = (at: number | undefined) => (at === undefined ? 0 : Math.max(1, Math.ceil((at + this.config.loginWindowSeconds * 1000 - now) / 1000)));
    const untilPairClean = secondsUntilGone(newestOfPair);
    const retryAfter = Math.max(
      secondsUntilGone(nth(keys.pair, loginMaxFailures)),
      // A crowd of failures for the name or at the address refuses this pair until either the
      // crowd thins out or this pair's own failures leave the window.
      Math.min(untilPairClean, secondsUntilGone(nth(keys.user, loginMaxFailuresPerUser))),
      Math.min(untilPairClean, secondsUntilGone(nth(keys.address, loginMaxFailuresPerAddress))),
    );
    if (retryAfter > 0) {
      throw new RegistryError('TOOMANYREQUESTS', `too many failed logins: retry in ${retryAfter} s`, undefined, { 'Retry-After': String(retryAfter) });
    }
    return true;
  }

  private expiry(): Date {
    return new Date(this.clock.now() + this.config.loginWindowSeconds * 1000);
  }
}

interface Keys {
  pair: string;
  user: string;
  address: string;
}

/**
 * The three keys of a login attempt. The name is hashed: it is whatever a client sent (any
 * length, any bytes, sometimes a password typed into the wrong field), so it is stored neither
 * as is nor in a form that could fail to store.
 */
function keysOf(username: string | undefined, clientAddress: string): Keys {
  const name = createHash('sha256')
    .update(username ?? '')
    .digest('base64url');
  return { pair: `login:pair:${name}:${clientAddress}`, user: `login:user:${name}`, address: `login:address:${clientAddress}` };
}
