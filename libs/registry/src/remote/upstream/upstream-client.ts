import { Logger } from '@nestjs/common';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import { CircuitBreaker, CircuitState } from './circuit-breaker';
import { realmMayReceiveCredentials } from './token-realm-policy';
import { UpstreamUnavailableError } from './upstream-unavailable.error';
import { FetchedToken, UpstreamTokenCache } from './upstream-token-cache';
import { UpstreamClientOptions, UpstreamLogger, UpstreamRequestOptions, UpstreamResponse, UpstreamSettings } from './upstream-settings';
import { AuthChallenge, parseWwwAuthenticate } from './www-authenticate';

type Method = 'GET' | 'HEAD';

const RETRYABLE_STATUSES = new Set([500, 502, 503, 504]);
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;
/** A 401 body is kept in memory while a token is fetched, so it is capped. */
const MAX_CHALLENGE_BODY = 64 * 1024;
const MAX_TOKEN_RESPONSE = 1024 * 1024;
const DEFAULT_TOKEN_LIFETIME_S = 60;
const USER_AGENT = 'wharf-upstream';
const UNDICI_TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
/** undici errors that mean our own request was malformed: a bug to surface, not an outage. */
const UNDICI_CALLER_ERRORS = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED']);

interface RawResponse extends UpstreamResponse {
  url: URL;
}

/**
 * HTTP client for one upstream registry (a remote repository's source): pooled keep-alive
 * connections with connect/read timeouts, the registry auth dance (Bearer token from the realm
 * the upstream names, or Basic), redirects to blob CDNs without leaking Authorization, bounded
 * retries with exponential backoff, and a circuit breaker so a dead upstream fails fast.
 */
export class UpstreamClient {
  private readonly agent: Agent;
  private readonly base: URL;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly maxRetries: number;
  private readonly backoffMs: number;
  private readonly breaker: CircuitBreaker;
  private readonly logger: UpstreamLogger;
  private readonly onFailure: () => void;
  private readonly tokens: UpstreamTokenCache;
  private readonly basicAuthorization: string | undefined;
  /** Set once the upstream asked for Basic: later requests send it up front. */
  private upstreamWantsBasic = false;
  private closed = false;

  constructor(
    private readonly settings: UpstreamSettings,
    options: UpstreamClientOptions = {},
  ) {
    let base: URL;
    try {
      base = new URL(settings.url);
    } catch {
      throw new TypeError('upstream url is not a valid URL');
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new TypeError('upstream url must be http or https');
    if (!(settings.connectTimeoutMs > 0) || !(settings.socketTimeoutMs > 0)) throw new RangeError('upstream timeouts must be positive');
    this.base = base;
    this.origin = base.origin; // never carries userinfo
    this.basePath = base.pathname.replace(/\/+$/, '');
    const now = options.now ?? Date.now;
    this.maxRetries = Math.max(0, options.maxRetries ?? 2);
    this.backoffMs = Math.max(0, options.backoffMs ?? 200);
    this.breaker = options.breaker ?? new CircuitBreaker({ failureThreshold: 5, openMs: 30_000, now });
    this.logger = options.logger ?? new Logger(UpstreamClient.name);
    this.onFailure = options.onFailure ?? (() => undefined);
    this.tokens = new UpstreamTokenCache(now);
    this.basicAuthorization =
      settings.username !== undefined && settings.username !== '' ? `Basic ${Buffer.from(`${settings.username}:${settings.password ?? ''}`).toString('base64')}` : undefined;
    this.agent = new Agent({
      connect: { timeout: settings.connectTimeoutMs },
      headersTimeout: settings.socketTimeoutMs,
      bodyTimeout: settings.socketTimeoutMs,
      ...(options.connections !== undefined ? { connections: options.connections } : {}),
    });
  }

  /** `path` like /v2/library/nginx/manifests/1.27; `scope` like repository:library/nginx:pull (what the token must grant). */
  async request(method: Method, path: string, options: UpstreamRequestOptions): Promise<UpstreamResponse> {
    if (!path.startsWith('/')) throw new TypeError(`upstream path must start with '/': ${path}`);
    this.assertOpen();
    if (!this.breaker.canRequest()) {
      throw new UpstreamUnavailableError(`upstream ${this.origin} is unavailable (circuit open)`, {
        reason: 'circuit-open',
        upstream: this.origin,
      });
    }
    let response: UpstreamResponse;
    try {
      response = await this.requestWithRetries(method, path, options);
    } catch (err) {
      this.recordFailure(method, path);
      throw err;
    }
    if (response.status >= 500) this.recordFailure(method, path);
    else this.breaker.recordSuccess();
    // undici emits 'error' (aborted) when a body is destroyed unread, which is how callers are
    // told to drop one; without a listener that would crash the process. Readers still see
    // errors through pipeline(), for await and their own 'error' listeners.
    response.body.on('error', ignore);
    return response;
  }

  /** The circuit breaker's state: not `closed` while failing fast or waiting to probe. */
  get circuitState(): CircuitState {
    return this.breaker.state;
  }

  /** Closes pooled connections once in-flight responses are consumed; later requests fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.agent.close();
  }

  private async requestWithRetries(method: Method, path: string, options: UpstreamRequestOptions): Promise<UpstreamResponse> {
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) this.assertOpen();
      let response: UpstreamResponse;
      try {
        response = await this.attempt(method, path, options);
      } catch (err) {
        if (!(err instanceof UpstreamUnavailableError) || !err.retryable || attempt >= this.maxRetries) throw err;
        this.logger.warn({ msg: 'upstream request failed, retrying', upstream: this.origin, method, path, attempt: attempt + 1, error: err.message });
        await sleep(this.backoff(attempt));
        continue;
      }
      // Retry only while nothing has been handed to the caller: the 5xx body is ours to drop.
      if (!RETRYABLE_STATUSES.has(response.status) || attempt >= this.maxRetries) return response;
      this.logger.warn({ msg: 'upstream answered with a server error, retrying', upstream: this.origin, method, path, attempt: attempt + 1, status: response.status });
      await discard(response.body);
      await sleep(this.backoff(attempt));
    }
  }

  private backoff(attempt: number): number {
    return this.backoffMs * 2 ** attempt;
  }

  /** One attempt: send with what we know of the upstream's auth, answer one 401 challenge, follow redirects. */
  private async attempt(method: Method, path: string, options: UpstreamRequestOptions): Promise<UpstreamResponse> {
    let authorization = this.authorizationUpFront(options.scope);
    let challengeAnswered = false;
    for (;;) {
      const response = await this.follow(method, this.upstreamUrl(path), options, authorization);
      // Only the upstream itself may challenge: a 401 from a CDN never gets our credentials.
      if (response.status !== 401 || response.url.origin !== this.origin || challengeAnswered) return toResponse(response);
      challengeAnswered = true;
      const answer = await this.answerChallenge(response, options.scope, authorization);
      if ('response' in answer) return answer.response;
      authorization = answer.authorization;
    }
  }

  /** Concatenated, not resolved: a path like //other.host/x must not leave the upstream. */
  private upstreamUrl(path: string): URL {
    const url = new URL(this.origin + this.basePath + path);
    if (url.origin !== this.origin) throw new TypeError(`upstream path leaves the upstream: ${path}`);
    return url;
  }

  private authorizationUpFront(scope: string): string | undefined {
    const token = this.settings.enableTokenAuthentication ? this.tokens.peek(scope) : undefined;
    if (token !== undefined) return `Bearer ${token}`;
    if (this.upstreamWantsBasic) return this.basicAuthorization;
    return undefined;
  }

  private async answerChallenge(challenged: RawResponse, scope: string, sent: string | undefined): Promise<{ authorization: string } | { response: UpstreamResponse }> {
    const challenges = parseWwwAuthenticate(challenged.headers['www-authenticate']);
    const bearer = this.settings.enableTokenAuthentication ? challenges.find((c) => c.scheme === 'bearer' && c.params.realm) : undefined;
    if (bearer) {
      if (sent?.startsWith('Bearer ')) this.tokens.invalidate(scope, sent.slice('Bearer '.length));
      // Keep the 401 to hand back if the realm refuses us, but release its connection first.
      const body = await this.readCapped(challenged.body, MAX_CHALLENGE_BODY, challenged.url, true);
      const refused: UpstreamResponse = { status: challenged.status, headers: challenged.headers, body: Readable.from([body ?? Buffer.alloc(0)], { objectMode: false }) };
      const token = await this.tokens.obtain(scope, () => this.fetchToken(bearer, scope));
      return token === undefined ? { response: refused } : { authorization: `Bearer ${token}` };
    }
    const basic = challenges.some((c) => c.scheme === 'basic');
    if (basic && this.basicAuthorization !== undefined && sent !== this.basicAuthorization) {
      this.upstreamWantsBasic = true;
      await discard(challenged.body);
      return { authorization: this.basicAuthorization };
    }
    return { response: toResponse(challenged) };
  }

  private async fetchToken(challenge: AuthChallenge, scope: string): Promise<FetchedToken | undefined> {
    let realm: URL;
    try {
      realm = new URL(challenge.params.realm);
    } catch {
      this.logger.warn({ msg: 'upstream token realm is not a valid URL', upstream: this.origin });
      return undefined;
    }
    if (realm.protocol !== 'http:' && realm.protocol !== 'https:') {
      this.logger.warn({ msg: 'upstream token realm is not http(s)', upstream: this.origin, realm: realm.protocol });
      return undefined;
    }
    if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
    for (const s of (challenge.params.scope || scope).split(/\s+/).filter(Boolean)) realm.searchParams.append('scope', s);

    const headers: Record<string, string> = { 'user-agent': USER_AGENT, accept: 'application/json' };
    if (this.basicAuthorization !== undefined) {
      if (realmMayReceiveCredentials(realm, this.base, this.settings.tokenRealmAllowList)) {
        headers.authorization = this.basicAuthorization;
      } else {
        this.logger.warn({
          msg: 'token realm is not the upstream nor allow-listed: asking it for an anonymous token',
          upstream: this.origin,
          realm: realm.origin,
        });
      }
    }
    const answer = await this.send(realm, 'GET', headers);
    if (answer.status !== 200) {
      await discard(answer.body);
      this.logger.warn({ msg: 'upstream token realm refused the token request', upstream: this.origin, realm: realm.origin, status: answer.status });
      return undefined;
    }
    const raw = await this.readCapped(answer.body, MAX_TOKEN_RESPONSE, realm, false);
    let json: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      json = raw === undefined ? {} : JSON.parse(raw.toString('utf8'));
    } catch {
      json = {};
    }
    const token = typeof json?.token === 'string' && json.token ? json.token : typeof json?.access_token === 'string' ? json.access_token : '';
    if (!token) {
      this.logger.warn({ msg: 'upstream token realm answered without a token', upstream: this.origin, realm: realm.origin });
      return undefined;
    }
    const expiresIn = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : DEFAULT_TOKEN_LIFETIME_S;
    return { token, lifetimeMs: expiresIn * 1000 };
  }

  /** Sends and follows redirects; Authorization goes only to the upstream's own origin. */
  private async follow(method: Method, start: URL, options: UpstreamRequestOptions, authorization: string | undefined): Promise<RawResponse> {
    let url = start;
    for (let hop = 0; ; hop++) {
      const response = await this.send(url, method, this.headersFor(url, options, authorization));
      const location = firstHeader(response.headers.location);
      if (!REDIRECT_STATUSES.has(response.status) || !location) return response;
      await discard(response.body);
      if (hop >= MAX_REDIRECTS) {
        throw new UpstreamUnavailableError(`upstream ${this.origin}: more than ${MAX_REDIRECTS} redirects for ${method} ${start.pathname}`, {
          reason: 'protocol',
          upstream: this.origin,
        });
      }
      let next: URL | undefined;
      try {
        next = new URL(location, url);
      } catch {
        next = undefined;
      }
      if (!next || (next.protocol !== 'http:' && next.protocol !== 'https:')) {
        throw new UpstreamUnavailableError(`upstream ${this.origin}: unusable redirect for ${method} ${start.pathname}`, {
          reason: 'protocol',
          upstream: this.origin,
        });
      }
      url = next;
    }
  }

  private headersFor(url: URL, options: UpstreamRequestOptions, authorization: string | undefined): Record<string, string> {
    const headers: Record<string, string> = { 'user-agent': USER_AGENT };
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      const key = name.toLowerCase();
      if (key === 'authorization' || key === 'host') continue;
      headers[key] = value;
    }
    if (options.accept?.length) headers.accept = options.accept.join(', ');
    if (authorization !== undefined && url.origin === this.origin) headers.authorization = authorization;
    return headers;
  }

  private async send(url: URL, method: Method, headers: Record<string, string>): Promise<RawResponse> {
    try {
      const {
        statusCode,
        headers: responseHeaders,
        body,
      } = await this.agent.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method,
        headers,
      });
      return { status: statusCode, headers: responseHeaders, body, url };
    } catch (err) {
      throw this.unavailable(err, method, url);
    }
  }

  /** Reads a small body whole; over `limit`, keeps the start (`truncate`) or gives undefined. */
  private async readCapped(body: Readable, limit: number, url: URL, truncate: boolean): Promise<Buffer | undefined> {
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        if (size + chunk.length > limit) {
          body.destroy();
          if (!truncate) return undefined;
          chunks.push(chunk.subarray(0, limit - size));
          break;
        }
        chunks.push(chunk);
        size += chunk.length;
      }
    } catch (err) {
      throw this.unavailable(err, 'GET', url);
    }
    return Buffer.concat(chunks);
  }

  private unavailable(err: unknown, method: Method, url: URL): Error {
    const code = (err as { code?: unknown } | undefined)?.code;
    if (typeof code === 'string' && UNDICI_CALLER_ERRORS.has(code)) return err as Error;
    const timeout = typeof code === 'string' && UNDICI_TIMEOUT_CODES.has(code);
    // origin + pathname only: query strings of signed CDN URLs and realms stay out of messages.
    const what = typeof code === 'string' ? code : ((err as Error | undefined)?.message ?? String(err));
    return new UpstreamUnavailableError(`${method} ${url.origin}${url.pathname}: ${timeout ? 'timed out' : 'failed'} (${what})`, {
      reason: timeout ? 'timeout' : 'network',
      upstream: this.origin,
      retryable: true,
      cause: err,
    });
  }

  private recordFailure(method: Method, path: string): void {
    this.onFailure();
    const before = this.breaker.state;
    this.breaker.recordFailure();
    if (before !== 'open' && this.breaker.state === 'open') {
      this.logger.warn({ msg: 'upstream circuit opened: failing fast', upstream: this.origin, method, path });
    }
  }

  private assertOpen(): void {
    if (this.closed) {
      throw new UpstreamUnavailableError(`upstream client for ${this.origin} is closed`, { reason: 'closed', upstream: this.origin });
    }
  }
}

function ignore(): void {}

function toResponse(raw: RawResponse): UpstreamResponse {
  return { status: raw.status, headers: raw.headers, body: raw.body };
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Drops a body we will not hand over; undici's dump() keeps the connection reusable when it is short. */
async function discard(body: Readable): Promise<void> {
  const dump = (body as Readable & { dump?: (opts?: { limit: number }) => Promise<void> }).dump;
  try {
    if (typeof dump === 'function') await dump.call(body, { limit: 64 * 1024 });
    else body.destroy();
  } catch {
    body.destroy();
  }
}
