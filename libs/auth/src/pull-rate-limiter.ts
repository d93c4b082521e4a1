import { Injectable } from '@nestjs/common';
import { WharfConfig } from '@wharf/config';
import { CountWindow, RequestCountQueries } from '@wharf/db';
import { RegistryError } from '@wharf/oci';
import { limitedAddress } from './client-address';
import { Clock } from './clock';
import { Principal } from './principal';
import { SlidingCounts, remaining, secondsUntilAllowed, windowAt } from './sliding-window';

/** Response headers: RateLimit-Limit and RateLimit-Remaining (and Retry-After on a refusal). */
export type PullLimitHeaders = Record<string, string>;

interface Budget {
  subject: string;
  limit: number;
  /** Whom the limit is for, in a refusal's message. */
  whose: string;
}

/**
 * Pull limits as Docker Hub has them: manifest GETs per user name, and per client address for
 * anonymous callers, in a window (`WHARF_PULL_LIMIT_*`), answered with `RateLimit-Limit` and
 * `RateLimit-Remaining` (`76;w=21600`) and refused past the limit with TOOMANYREQUESTS and
 * Retry-After. Counted in Postgres (request_counts) with the sliding window approximation, one
 * statement per GET, so every worker and host counts against the same limit. Admins are counted
 * like anyone (the limit protects the server whoever pulls); WHARF_PULL_LIMIT_USERS gives a
 * user, a CI account or an admin, its own figure or none.
 */
@Injectable()
export class PullRateLimiter {
  /** Whether any limit is set: when not, manifest requests never call this (no query at all). */
  readonly enabled: boolean;

  constructor(
    private readonly config: WharfConfig,
    private readonly clock: Clock,
    private readonly counts: RequestCountQueries,
  ) {
    const { authenticated, anonymous, users } = config.pullLimits;
    this.enabled = authenticated > 0 || anonymous > 0 || [...users.values()].some((limit) => limit > 0);
  }

  /** One manifest GET: counted, with the headers to answer; TOOMANYREQUESTS past the limit. Undefined for a caller without a limit. */
  async count(principal: Principal, clientAddress: string): Promise<PullLimitHeaders | undefined> {
    const budget = this.budgetOf(principal, clientAddress);
    if (!budget) return undefined;
    const { window, previousWeight } = this.windowFor(budget.subject);
    const counts = await this.counts.countIfWithin(window, previousWeight, budget.limit);
    if (counts.counted) return this.headers(budget.limit, remaining(budget.limit, counts, previousWeight));
    throw this.refusal(budget, counts, previousWeight);
  }

  /** A manifest HEAD: the headers, counting nothing (Docker Hub's way to see what is left). */
  async peek(principal: Principal, clientAddress: string): Promise<PullLimitHeaders | undefined> {
    const budget = this.budgetOf(principal, clientAddress);
    if (!budget) return undefined;
    const { window, previousWeight } = this.windowFor(budget.subject);
    return this.headers(budget.limit, remaining(budget.limit, await this.counts.peek(window), previousWeight));
  }

  private budgetOf(principal: Principal, clientAddress: string): Budget | undefined {
    const { authenticated, anonymous, users } = this.config.pullLimits;
    if (principal.username === undefined) {
      const address = limitedAddress(clientAddress);
      return anonymous > 0 ? { subject: `pull:address:${address}`, limit: anonymous, whose: `anonymous pulls from ${address}` } : undefined;
    }
    const limit = users.get(principal.username) ?? authenticated;
    return limit > 0 ? { subject: `pull:user:${principal.username}`, limit, whose: principal.username } : undefined;
  }

  private windowFor(subject: string): { window: CountWindow; previousWeight: number } {
    const seconds = this.config.pullLimits.windowSeconds;
    const position = windowAt(this.clock.now(), seconds);
    return {
      window: {
        subject,
        start: new Date(position.start),
        previousStart: new Date(position.previousStart),
        // A window's row serves as the previous one through the next window.
        expiresAt: new Date(position.start + 2 * seconds * 1000),
      },
      previousWeight: position.previousWeight,
    };
  }

  private headers(limit: number, left: number): PullLimitHeaders {
    const w = this.config.pullLimits.windowSeconds;
    return { 'RateLimit-Limit': `${limit};w=${w}`, 'RateLimit-Remaining': `${left};w=${w}` };
  }

  private refusal(budget: Budget, counts: SlidingCounts, previousWeight: number): RegistryError {
    const seconds = this.config.pullLimits.windowSeconds;
    const retryAfter = secondsUntilAllowed(budget.limit, counts, previousWeight, seconds);
    return new RegistryError(
      'TOOMANYREQUESTS',
      `pull rate limit reached: ${budget.limit} manifest requests per ${seconds} s for ${budget.whose}; retry in ${retryAfter} s`,
      undefined,
      { ...this.headers(budget.limit, 0), 'Retry-After': String(retryAfter) },
    );
  }
}
