/** A token answer from a realm: the token and how long it is valid for. */
export interface FetchedToken {
  token: string;
  lifetimeMs: number;
}

/** Tokens are used until this long before they expire (at most half their lifetime). */
export const TOKEN_SAFETY_MARGIN_MS = 10_000;
const MAX_ENTRIES = 1000;

/**
 * Bearer tokens of one upstream, per scope, kept until their expiry minus a safety margin
 * (expiry is a timestamp read against the injected clock, no timers). Concurrent requests for
 * the same scope share one token fetch.
 */
export class UpstreamTokenCache {
  private readonly entries = new Map<string, { token: string; expiresAt: number }>();
  private readonly pending = new Map<string, Promise<string | undefined>>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A still-valid token for the scope, if any. */
  peek(scope: string): string | undefined {
    const entry = this.entries.get(scope);
    if (!entry) return undefined;
    if (this.now() < entry.expiresAt) return entry.token;
    this.entries.delete(scope);
    return undefined;
  }

  /** Drops the scope's token; with `token`, only if it is still that one (a concurrent refresh wins). */
  invalidate(scope: string, token?: string): void {
    const entry = this.entries.get(scope);
    if (entry && (token === undefined || entry.token === token)) this.entries.delete(scope);
  }

  /** The cached token, or the result of `fetch` (shared with concurrent callers); undefined when refused. */
  obtain(scope: string, fetch: () => Promise<FetchedToken | undefined>): Promise<string | undefined> {
    const cached = this.peek(scope);
    if (cached !== undefined) return Promise.resolve(cached);
    const inFlight = this.pending.get(scope);
    if (inFlight) return inFlight;
    const promise = (async () => {
      try {
        const fetched = await fetch();
        if (!fetched) return undefined;
        const margin = Math.min(TOKEN_SAFETY_MARGIN_MS, fetched.lifetimeMs / 2);
        this.store(scope, { token: fetched.token, expiresAt: this.now() + fetched.lifetimeMs - margin });
        return fetched.token;
      } finally {
        this.pending.delete(scope);
      }
    })();
    this.pending.set(scope, promise);
    return promise;
  }

  private store(scope: string, entry: { token: string; expiresAt: number }): void {
    this.entries.delete(scope); // re-insert so Map order is oldest-first
    this.entries.set(scope, entry);
    if (this.entries.size <= MAX_ENTRIES) return;
    const now = this.now();
    for (const [key, value] of this.entries) if (value.expiresAt <= now) this.entries.delete(key);
    for (const key of this.entries.keys()) {
      if (this.entries.size <= MAX_ENTRIES) break;
      this.entries.delete(key);
    }
  }
}
