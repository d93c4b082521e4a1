import { Readable } from 'node:stream';
import type { CircuitBreaker } from './circuit-breaker';

/** How to reach one upstream registry; one per remote repository. */
export interface UpstreamSettings {
  /** Base URL without a trailing slash, e.g. https://registry-1.docker.io or http://127.0.0.1:5000. */
  url: string;
  username?: string;
  password?: string;
  /** false: never follow a Bearer challenge (a Basic challenge is still answered). */
  enableTokenAuthentication: boolean;
  /** TCP (and TLS) connect timeout. */
  connectTimeoutMs: number;
  /**
   * Read timeout: waiting for the response headers, and the longest idle gap inside a body.
   * undici checks it on a coarse (~0.5 s) tick, so it may fire up to about a second late.
   */
  socketTimeoutMs: number;
  /**
   * Token realm hosts, besides the upstream's own origin, that may receive the configured
   * credentials, e.g. ['auth.docker.io']. An entry with a port ('host:5001') matches that port
   * only; without one it matches the host on any port.
   */
  tokenRealmAllowList: string[];
}

/** An upstream answer. `body` must be consumed or destroyed by the caller (it holds a connection). */
export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}

export interface UpstreamRequestOptions {
  /** What the token must grant, e.g. repository:library/nginx:pull (space-separated for several). */
  scope: string;
  /** Media types, sent as one comma-separated Accept header. */
  accept?: string[];
  /** Extra request headers (e.g. Range). Authorization is the client's own and is ignored here. */
  headers?: Record<string, string>;
}

export interface UpstreamLogger {
  warn(obj: object): void;
}

export interface UpstreamClientOptions {
  /** Extra attempts after the first on connection errors, timeouts and 500/502/503/504. Default 2. */
  maxRetries?: number;
  /** Base of the exponential backoff between attempts (base, 2×base, 4×base…). Default 200 ms. */
  backoffMs?: number;
  /** Default: 5 consecutive failed requests open it for 30 s. */
  breaker?: CircuitBreaker;
  logger?: UpstreamLogger;
  /** The clock for token expiry (and the default breaker). */
  now?: () => number;
  /** Most connections per origin; default unlimited (undici keeps idle ones alive for reuse). */
  connections?: number;
  /** Told of each request that failed (what the circuit breaker counts), e.g. for a metric. */
  onFailure?: () => void;
}
