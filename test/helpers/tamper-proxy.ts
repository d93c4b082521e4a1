// An HTTP proxy on a free loopback port placed between Wharf and an upstream registry: a remote
// repository's `url` points at the proxy, which forwards every request to `target` (streaming
// both ways, method, headers and body preserved, Host rewritten to the target's). It records
// every request, and can be told to misbehave: flip a byte of a response body, answer with a
// fixed status (503, 429 with Retry-After...), delay, cut a body short, or go down altogether
// (its listener closed: connection refused) and come back on the same port.
//
// The upstream's WWW-Authenticate realm still names the token server directly, not the proxy.
import * as http from 'node:http';

/** Matches a request's path and query: a RegExp, or a string the path and query must contain. */
export type RequestPattern = RegExp | string;

export interface RuleOptions {
  /** Only requests with this method (case-insensitive); omitted matches every method. */
  method?: string;
  /** Apply to the first `times` matching requests only, then stop; omitted means every one. */
  times?: number;
}

export interface RespondOptions extends RuleOptions {
  /** Sent as the Retry-After header (seconds, or an HTTP date). */
  retryAfter?: number | string;
  /** The body; default a Distribution-style `{"errors":[...]}` naming the status. Not sent to HEAD. */
  body?: string | Buffer | object;
  headers?: Record<string, string>;
}

export interface CorruptOptions extends RuleOptions {
  /** Which body byte to flip (XOR 0xff). Default: the middle one when Content-Length is known, else the first. */
  offset?: number;
}

/** A rule in force; `remove()` lifts it early. */
export interface TamperRule {
  readonly kind: 'respond' | 'delay' | 'corrupt' | 'truncate';
  /** How many requests it has applied to so far. */
  readonly hits: number;
  remove(): void;
}

export interface ProxiedRequest {
  method: string;
  /** Path and query, as the client sent them. */
  url: string;
  /** The path alone. */
  path: string;
  /** The request headers as received (before the Host rewrite). */
  headers: http.IncomingHttpHeaders;
  /** The Authorization header the client sent, if any (to assert what credentials reach the upstream). */
  authorization: string | undefined;
  /** The status sent to the client; undefined until known. 502 when the target could not be reached. */
  status: number | undefined;
  /** The rules that applied to it. */
  tampered: Array<TamperRule['kind']>;
  /** The error forwarding met (target unreachable, client gone...), if any. */
  error?: string;
}

export interface TamperProxy {
  /** `127.0.0.1:PORT`, the form image references use. */
  host: string;
  /** `http://127.0.0.1:PORT`: what a remote repository's `url` is set to. */
  url: string;
  port: number;
  /** The origin requests are forwarded to (`http://127.0.0.1:UPSTREAM`); may be changed at any time. */
  target: string;
  /** Every request received, in arrival order (recorded on arrival, so refused ones count too). */
  requests: ProxiedRequest[];
  /** Whether the listener is open (false between down() and up()). */
  readonly isUp: boolean;
  /** Requests with this method (omitted or '*' for any) whose path and query match `pattern` (omitted for any). */
  matching(method?: string, pattern?: RequestPattern): ProxiedRequest[];
  /** `matching(method, pattern).length`, e.g. `countMatching('GET', /\/blobs\//)`. */
  countMatching(method?: string, pattern?: RequestPattern): number;
  clearRequests(): void;
  /** Answers matching requests with `status` instead of forwarding them. */
  respond(pattern: RequestPattern, status: number, options?: RespondOptions): TamperRule;
  /** Holds matching requests `ms` milliseconds before handling them (forwarding or a respond() rule). */
  delay(pattern: RequestPattern, ms: number, options?: RuleOptions): TamperRule;
  /** Flips one byte of the body of matching 2xx responses (length unchanged). */
  corrupt(pattern: RequestPattern, options?: CorruptOptions): TamperRule;
  /** Sends the first `bytes` bytes of matching responses' bodies, then destroys the connection. */
  truncate(pattern: RequestPattern, bytes: number, options?: RuleOptions): TamperRule;
  /** Lifts every rule. */
  clearRules(): void;
  /** Closes the listener and every open connection: new connections are refused. */
  down(): Promise<void>;
  /** Listens again on the same port. No-op when up. */
  up(): Promise<void>;
  /** Final cleanup: closes everything. */
  stop(): Promise<void>;
}

export interface TamperProxyOptions {
  /** Listen on this port (default: any free one). */
  port?: number;
  /**
   * Rewrite absolute Location headers that point at the target so they point at the proxy
   * (upload sessions), keeping clients on the proxy. Default true.
   */
  rewriteLocation?: boolean;
}

// Headers that describe one hop, not the message: never forwarded.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'upgrade']);

interface Rule {
  kind: TamperRule['kind'];
  pattern: RequestPattern;
  method?: string;
  remaining: number;
  hits: number;
  status?: number;
  respond?: RespondOptions;
  ms?: number;
  offset?: number;
  bytes?: number;
}

function patternMatches(pattern: RequestPattern | undefined, url: string): boolean {
  if (pattern === undefined) return true;
  if (typeof pattern === 'string') return url.includes(pattern);
  pattern.lastIndex = 0;
  return pattern.test(url);
}

function methodMatches(expected: string | undefined, method: string): boolean {
  return expected === undefined || expected === '*' || expected.toUpperCase() === method.toUpperCase();
}

export async function startTamperProxy(target: string, options: TamperProxyOptions = {}): Promise<TamperProxy> {
  const rules: Rule[] = [];
  const requests: ProxiedRequest[] = [];
  const rewriteLocation = options.rewriteLocation ?? true;
  let listening = false;

  /** The rules of `kind` that apply to this request, consuming one of their `times`. */
  const take = (kind: Rule['kind'], method: string, url: string): Rule | undefined => {
    const rule = rules.find((r) => r.kind === kind && r.remaining > 0 && methodMatches(r.method, method) && patternMatches(r.pattern, url));
    if (!rule) return undefined;
    rule.remaining -= 1;
    rule.hits += 1;
    return rule;
  };

  const addRule = (rule: Omit<Rule, 'remaining' | 'hits'> & { times?: number }): TamperRule => {
    const stored: Rule = { ...rule, remaining: rule.times ?? Number.POSITIVE_INFINITY, hits: 0 };
    rules.push(stored);
    return {
      kind: stored.kind,
      get hits() {
        return stored.hits;
      },
      remove: () => {
        const i = rules.indexOf(stored);
        if (i >= 0) rules.splice(i, 1);
      },
    };
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const record: ProxiedRequest = {
      method,
      url,
      path: url.split('?')[0],
      headers: req.headers,
      authorization: req.headers.authorization,
      status: undefined,
      tampered: [],
    };
    requests.push(record);

    const delayRule = take('delay', method, url);
    if (delayRule) {
      record.tampered.push('delay');
      await new Promise((resolve) => setTimeout(resolve, delayRule.ms));
    }

    const respondRule = take('respond', method, url);
    if (respondRule) {
      record.tampered.push('respond');
      req.resume();
      const status = respondRule.status!;
      const opts = respondRule.respond ?? {};
      const body =
        opts.body === undefined
          ? Buffer.from(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: `tamper proxy answered ${status}`, detail: null }] }))
          : Buffer.isBuffer(opts.body)
            ? opts.body
            : Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
      const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(body.length), ...(opts.headers ?? {}) };
      if (opts.retryAfter !== undefined) headers['retry-after'] = String(opts.retryAfter);
      record.status = status;
      res.writeHead(status, headers);
      res.end(method === 'HEAD' ? undefined : body);
      return;
    }

    const targetUrl = new URL(proxy.target);
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
    }
    headers.host = targetUrl.host;

    const upstreamReq = http.request({
      protocol: targetUrl.protocol,
      hostname: targetUrl.hostname,
      port: targetUrl.port,
      method,
      path: url,
      headers,
      // No pooled connections: they would go stale when the target restarts.
      agent: false,
    });
    res.on('close', () => {
      if (!res.writableFinished) upstreamReq.destroy();
    });
    // Set once a truncate rule cuts the body: the errors that follow are ours, not the target's.
    let cut = false;
    upstreamReq.on('error', (error) => {
      if (cut) return;
      record.error = String(error);
      if (!res.headersSent) {
        record.status = 502;
        const body = JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: `tamper proxy: ${error.message}`, detail: null }] });
        res.writeHead(502, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
        res.end(body);
      } else {
        res.destroy();
      }
    });
    upstreamReq.on('response', (upstreamRes) => {
      const status = upstreamRes.statusCode ?? 502;
      record.status = status;
      const responseHeaders: http.OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(upstreamRes.headers)) {
        if (!HOP_BY_HOP.has(name) && value !== undefined) responseHeaders[name] = value;
      }
      const location = responseHeaders.location;
      if (rewriteLocation && typeof location === 'string' && location.startsWith(targetUrl.origin)) {
        responseHeaders.location = proxy.url + location.slice(targetUrl.origin.length);
      }

      const hasBody = method !== 'HEAD' && status !== 204 && status !== 304;
      const corruptRule = hasBody && status >= 200 && status < 300 ? take('corrupt', method, url) : undefined;
      const truncateRule = hasBody ? take('truncate', method, url) : undefined;
      let flipAt: number | undefined;
      if (corruptRule) {
        record.tampered.push('corrupt');
        const length = Number(upstreamRes.headers['content-length']);
        flipAt = corruptRule.offset ?? (Number.isFinite(length) && length > 0 ? Math.floor(length / 2) : 0);
      }
      if (truncateRule) record.tampered.push('truncate');

      res.writeHead(status, upstreamRes.statusMessage, responseHeaders);
      upstreamRes.on('error', () => {
        if (!cut) res.destroy();
      });
      if (flipAt === undefined && !truncateRule) {
        upstreamRes.pipe(res);
        return;
      }
      // Tampered bodies are copied chunk by chunk, flipping the byte at `flipAt` and cutting
      // the connection once `limit` bytes have been sent.
      const limit = truncateRule?.bytes;
      let position = 0;
      upstreamRes.on('data', (chunk: Buffer) => {
        if (cut) return;
        const start = position;
        position += chunk.length;
        let out = chunk;
        if (flipAt !== undefined && flipAt >= start && flipAt < position) {
          out = Buffer.from(chunk);
          out[flipAt - start] ^= 0xff;
        }
        if (limit !== undefined && position >= limit) {
          cut = true;
          upstreamRes.destroy();
          res.write(out.subarray(0, Math.max(0, limit - start)), () => res.destroy());
          return;
        }
        if (!res.write(out)) {
          upstreamRes.pause();
          res.once('drain', () => upstreamRes.resume());
        }
      });
      upstreamRes.on('end', () => res.end());
    });
    req.pipe(upstreamReq);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  });

  const listen = (port: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      server.once('error', onError);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', onError);
        listening = true;
        resolve();
      });
    });

  const close = async (): Promise<void> => {
    if (!listening) return;
    listening = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  };

  await listen(options.port ?? 0);
  const port = (server.address() as { port: number }).port;
  const host = `127.0.0.1:${port}`;

  const proxy: TamperProxy = {
    host,
    url: `http://${host}`,
    port,
    target: target.replace(/\/+$/, ''),
    requests,
    get isUp() {
      return listening;
    },
    matching: (method, pattern) => requests.filter((r) => methodMatches(method, r.method) && patternMatches(pattern, r.url)),
    countMatching: (method, pattern) => proxy.matching(method, pattern).length,
    clearRequests: () => {
      requests.length = 0;
    },
    respond: (pattern, status, opts = {}) => addRule({ kind: 'respond', pattern, method: opts.method, times: opts.times, status, respond: opts }),
    delay: (pattern, ms, opts = {}) => addRule({ kind: 'delay', pattern, method: opts.method, times: opts.times, ms }),
    corrupt: (pattern, opts = {}) => addRule({ kind: 'corrupt', pattern, method: opts.method, times: opts.times, offset: opts.offset }),
    truncate: (pattern, bytes, opts = {}) => addRule({ kind: 'truncate', pattern, method: opts.method, times: opts.times, bytes }),
    clearRules: () => {
      rules.length = 0;
    },
    down: close,
    up: async () => {
      if (!listening) await listen(port);
    },
    stop: close,
  };
  return proxy;
}
