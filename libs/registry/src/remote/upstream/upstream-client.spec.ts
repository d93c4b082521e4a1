import { createServer, IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { CircuitBreaker } from './circuit-breaker';
import { UpstreamClient } from './upstream-client';
import { UpstreamClientOptions, UpstreamSettings } from './upstream-settings';
import { UpstreamUnavailableError } from './upstream-unavailable.error';

/** A real HTTP server on loopback that records what it was sent. */
interface TestServer {
  origin: string;
  port: number;
  seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders }>;
  handle: (req: IncomingMessage, res: ServerResponse) => void;
  close(): Promise<void>;
}

const servers: TestServer[] = [];
const clients: UpstreamClient[] = [];

async function startServer(handle: TestServer['handle']): Promise<TestServer> {
  const server: Server = createServer((req, res) => {
    ts.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    ts.handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const ts: TestServer = {
    origin: `http://127.0.0.1:${port}`,
    port,
    seen: [],
    handle,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(ts);
  return ts;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

const ALICE = `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;

function makeClient(settings: Partial<UpstreamSettings> & { url: string }, options: UpstreamClientOptions = {}): UpstreamClient {
  const client = new UpstreamClient(
    { enableTokenAuthentication: true, connectTimeoutMs: 2000, socketTimeoutMs: 2000, tokenRealmAllowList: [], ...settings },
    { backoffMs: 1, logger: { warn: () => undefined }, ...options },
  );
  clients.push(client);
  return client;
}

async function text(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** An upstream that wants `Bearer <token>` and challenges with the given realm. */
function bearerUpstream(realm: () => string, validTokens: () => string[]): TestServer['handle'] {
  return (req, res) => {
    const auth = req.headers.authorization ?? '';
    if (req.url?.startsWith('/v2/') && validTokens().some((t) => auth === `Bearer ${t}`)) {
      return json(res, 200, { ok: req.url });
    }
    const image = /^\/v2\/(.+)\/manifests\//.exec(req.url ?? '')?.[1] ?? 'x';
    json(
      res,
      401,
      { errors: [{ code: 'UNAUTHORIZED' }] },
      {
        'www-authenticate': `Bearer realm="${realm()}",service="test-registry",scope="repository:${image}:pull"`,
      },
    );
  };
}

/** A token server issuing `tok-<n>`; records whether credentials came with each call. */
function tokenRealm(issued: string[], expiresIn?: number): TestServer['handle'] {
  return (_req, res) => {
    const token = `tok-${issued.length + 1}`;
    issued.push(token);
    json(res, 200, { token, ...(expiresIn ? { expires_in: expiresIn } : {}) });
  };
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('UpstreamClient auth', () => {
  it('does the token dance with credentials sent to a same-origin realm, and joins Accept', async () => {
    const issued: string[] = [];
    const upstream = await startServer((req, res) => {
      if (req.url?.startsWith('/token')) return tokenRealm(issued, 300)(req, res);
      bearerUpstream(
        () => `${upstream.origin}/token`,
        () => issued,
      )(req, res);
    });
    const client = makeClient({ url: upstream.origin, username: 'alice', password: 's3cret' });

    const res = await client.request('GET', '/v2/library/nginx/manifests/1.27', {
      scope: 'repository:library/nginx:pull',
      accept: ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'],
    });

    expect(res.status).toBe(200);
    expect(JSON.parse(await text(res.body))).toEqual({ ok: '/v2/library/nginx/manifests/1.27' });
    expect(upstream.seen.map((r) => r.url.split('?')[0])).toEqual(['/v2/library/nginx/manifests/1.27', '/token', '/v2/library/nginx/manifests/1.27']);
    const [first, tokenCall, retried] = upstream.seen;
    expect(first.headers.authorization).toBeUndefined();
    expect(tokenCall.headers.authorization).toBe(ALICE);
    const query = new URL(tokenCall.url, upstream.origin).searchParams;
    expect(query.get('service')).toBe('test-registry');
    expect(query.getAll('scope')).toEqual(['repository:library/nginx:pull']);
    expect(retried.headers.authorization).toBe('Bearer tok-1');
    expect(retried.headers.accept).toBe('application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json');
  });

  it('asks a foreign realm for an anonymous token, but sends credentials when it is allow-listed', async () => {
    const issued: string[] = [];
    const realm = await startServer(tokenRealm(issued));
    const upstream = await startServer(
      bearerUpstream(
        () => `${realm.origin}/token`,
        () => issued,
      ),
    );

    const stranger = makeClient({ url: upstream.origin, username: 'alice', password: 's3cret', tokenRealmAllowList: ['auth.docker.io', '127.0.0.1:1'] });
    const res1 = await stranger.request('GET', '/v2/a/manifests/1', { scope: 'repository:a:pull' });
    expect(res1.status).toBe(200);
    await text(res1.body);
    expect(realm.seen).toHaveLength(1);
    expect(realm.seen[0].headers.authorization).toBeUndefined();

    const trusted = makeClient({ url: upstream.origin, username: 'alice', password: 's3cret', tokenRealmAllowList: [`127.0.0.1:${realm.port}`] });
    const res2 = await trusted.request('GET', '/v2/a/manifests/1', { scope: 'repository:a:pull' });
    expect(res2.status).toBe(200);
    await text(res2.body);
    expect(realm.seen).toHaveLength(2);
    expect(realm.seen[1].headers.authorization).toBe(ALICE);
  });

  it('caches the token per scope and fetches a new one after it expires', async () => {
    let t = 1_000_000;
    const issued: string[] = [];
    const realm = await startServer(tokenRealm(issued)); // no expires_in: 60 s
    const upstream = await startServer(
      bearerUpstream(
        () => `${realm.origin}/token`,
        () => issued,
      ),
    );
    const client = makeClient({ url: upstream.origin }, { now: () => t });
    const get = async (image: string) => {
      const res = await client.request('GET', `/v2/${image}/manifests/1`, { scope: `repository:${image}:pull` });
      await text(res.body);
      return res.status;
    };

    expect(await get('a')).toBe(200);
    expect(realm.seen).toHaveLength(1);
    upstream.seen.length = 0;

    expect(await get('a')).toBe(200);
    expect(realm.seen).toHaveLength(1); // no token call
    expect(upstream.seen).toHaveLength(1); // and no 401 round trip: the token went up front
    expect(upstream.seen[0].headers.authorization).toBe('Bearer tok-1');

    expect(await get('b')).toBe(200); // another scope, another token
    expect(realm.seen).toHaveLength(2);
    expect(new URL(realm.seen[1].url, realm.origin).searchParams.get('scope')).toBe('repository:b:pull');

    t += 45_000; // still inside 60 s minus the margin
    expect(await get('a')).toBe(200);
    expect(realm.seen).toHaveLength(2);

    t += 10_000; // 55 s: within the safety margin, refreshed
    upstream.seen.length = 0;
    expect(await get('a')).toBe(200);
    expect(realm.seen).toHaveLength(3);
    expect(upstream.seen.map((r) => r.headers.authorization)).toEqual([undefined, 'Bearer tok-3']);
  });

  it('fetches a new token once when the upstream rejects a cached one', async () => {
    const issued: string[] = [];
    let valid: string[] = [];
    const realm = await startServer(tokenRealm(issued, 300));
    const upstream = await startServer(
      bearerUpstream(
        () => `${realm.origin}/token`,
        () => valid,
      ),
    );
    const client = makeClient({ url: upstream.origin });
    valid = ['tok-1'];
    await text((await client.request('GET', '/v2/a/manifests/1', { scope: 'repository:a:pull' })).body);
    valid = ['tok-2']; // the upstream rotated its keys
    upstream.seen.length = 0;
    const res = await client.request('GET', '/v2/a/manifests/1', { scope: 'repository:a:pull' });
    expect(res.status).toBe(200);
    await text(res.body);
    expect(upstream.seen.map((r) => r.headers.authorization)).toEqual(['Bearer tok-1', 'Bearer tok-2']);
  });

  it('hands back the upstream 401 when the realm refuses, and throws when the realm is unreachable', async () => {
    const realm = await startServer((_req, res) => json(res, 403, { details: 'no' }));
    let realmUrl = `${realm.origin}/token`;
    const upstream = await startServer(
      bearerUpstream(
        () => realmUrl,
        () => [],
      ),
    );
    const client = makeClient({ url: upstream.origin }, { maxRetries: 0 });

    const res = await client.request('GET', '/v2/a/manifests/1', { scope: 'repository:a:pull' });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('Bearer realm=');
    expect(JSON.parse(await text(res.body))).toEqual({ errors: [{ code: 'UNAUTHORIZED' }] });
    expect(realm.seen).toHaveLength(1);

    const gone = await startServer(() => undefined);
    realmUrl = `${gone.origin}/token`;
    await gone.close();
    await expect(client.request('GET', '/v2/a/manifests/1', { scope: 'repository:a:pull' })).rejects.toMatchObject({
      name: 'UpstreamUnavailableError',
      reason: 'network',
    });
  });

  it('answers a Basic challenge once, then sends Basic up front; wrong credentials get the 401 back', async () => {
    const upstream = await startServer((req, res) => {
      if (req.headers.authorization === ALICE) return json(res, 200, { ok: true });
      json(res, 401, { errors: [{ code: 'UNAUTHORIZED' }] }, { 'www-authenticate': 'Basic realm="upstream"' });
    });
    const client = makeClient({ url: upstream.origin, username: 'alice', password: 's3cret' });
    const res = await client.request('GET', '/v2/a/tags/list', { scope: 'repository:a:pull' });
    expect(res.status).toBe(200);
    await text(res.body);
    expect(upstream.seen.map((r) => r.headers.authorization)).toEqual([undefined, ALICE]);

    upstream.seen.length = 0;
    await text((await client.request('GET', '/v2/a/tags/list', { scope: 'repository:a:pull' })).body);
    expect(upstream.seen.map((r) => r.headers.authorization)).toEqual([ALICE]);

    const wrong = makeClient({ url: upstream.origin, username: 'alice', password: 'nope' });
    upstream.seen.length = 0;
    const refused = await wrong.request('GET', '/v2/a/tags/list', { scope: 'repository:a:pull' });
    expect(refused.status).toBe(401);
    await text(refused.body);
    expect(upstream.seen).toHaveLength(2); // one answer to the challenge, no loop
  });

  it('does not follow a Bearer challenge when token authentication is disabled', async () => {
    const issued: string[] = [];
    const realm = await startServer(tokenRealm(issued));
    const upstream = await startServer(
      bearerUpstream(
        () => `${realm.origin}/token`,
        () => issued,
      ),
    );
    const client = makeClient({ url: upstream.origin, username: 'alice', password: 's3cret', enableTokenAuthentication: false });
    const res = await client.request('GET', '/v2/a/manifests/1', { scope: 'repository:a:pull' });
    expect(res.status).toBe(401);
    await text(res.body);
    expect(realm.seen).toHaveLength(0);
    expect(upstream.seen).toHaveLength(1);
  });
});

describe('UpstreamClient redirects', () => {
  it('follows a redirect to another origin without Authorization, and streams the body', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const cdn = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write('first-chunk;');
      void released.then(() => res.end('rest'));
    });
    const upstream = await startServer((req, res) => {
      if (req.headers.authorization !== ALICE) {
        return json(res, 401, {}, { 'www-authenticate': 'Basic realm="upstream"' });
      }
      res.writeHead(307, { location: `${cdn.origin}/blobs/sha256-abc?sig=xyz` });
      res.end();
    });
    const client = makeClient({ url: upstream.origin, username: 'alice', password: 's3cret' });

    const res = await client.request('GET', '/v2/a/blobs/sha256:abc', { scope: 'repository:a:pull', headers: { Range: 'bytes=0-' } });
    expect(res.status).toBe(200);
    expect(upstream.seen.map((r) => r.headers.authorization)).toEqual([undefined, ALICE]);
    expect(cdn.seen).toHaveLength(1);
    expect(cdn.seen[0].url).toBe('/blobs/sha256-abc?sig=xyz');
    expect(cdn.seen[0].headers.authorization).toBeUndefined();
    expect(cdn.seen[0].headers.range).toBe('bytes=0-');

    // The first bytes arrive while the CDN is still holding the rest: nothing was buffered.
    const iterator = res.body[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(Buffer.from(first.value).toString()).toBe('first-chunk;');
    release();
    let rest = '';
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) rest += Buffer.from(next.value).toString();
    expect(rest).toBe('rest');
  });

  it('keeps Authorization on a same-origin redirect, never answers a foreign 401, and gives up after 5 redirects', async () => {
    const cdnRealm = await startServer(tokenRealm([]));
    const foreign = await startServer((_req, res) => json(res, 401, {}, { 'www-authenticate': `Bearer realm="${cdnRealm.origin}/token",service="cdn", Basic realm="cdn"` }));
    const upstream = await startServer((req, res) => {
      if (req.headers.authorization !== ALICE) return json(res, 401, {}, { 'www-authenticate': 'Basic realm="upstream"' });
      if (req.url === '/v2/a/blobs/moved') return res.writeHead(302, { location: '/v2/a/blobs/here' }).end();
      if (req.url === '/v2/a/blobs/here') return json(res, 200, { here: true });
      if (req.url === '/v2/a/blobs/foreign') return res.writeHead(307, { location: `${foreign.origin}/x` }).end();
      res.writeHead(302, { location: '/v2/a/blobs/loop' }).end();
    });
    const client = makeClient({ url: upstream.origin, username: 'alice', password: 's3cret' });

    const moved = await client.request('GET', '/v2/a/blobs/moved', { scope: 'repository:a:pull' });
    expect(moved.status).toBe(200);
    await text(moved.body);
    expect(upstream.seen.map((r) => [r.url, r.headers.authorization])).toEqual([
      ['/v2/a/blobs/moved', undefined],
      ['/v2/a/blobs/moved', ALICE],
      ['/v2/a/blobs/here', ALICE],
    ]);

    const denied = await client.request('GET', '/v2/a/blobs/foreign', { scope: 'repository:a:pull' });
    expect(denied.status).toBe(401);
    await text(denied.body);
    // The CDN's challenge is not ours to answer: no credentials for it, no token from its realm.
    expect(foreign.seen.map((r) => r.headers.authorization)).toEqual([undefined]);
    expect(cdnRealm.seen).toHaveLength(0);

    upstream.seen.length = 0;
    await expect(client.request('HEAD', '/v2/a/blobs/loop', { scope: 'repository:a:pull' })).rejects.toMatchObject({ reason: 'protocol' });
    expect(upstream.seen).toHaveLength(6); // the request and 5 redirects
  });
});

describe('UpstreamClient retries and timeouts', () => {
  it('retries a 503 and returns the later success', async () => {
    let calls = 0;
    const upstream = await startServer((_req, res) => (++calls <= 2 ? json(res, 503, {}) : json(res, 200, { ok: true })));
    const client = makeClient({ url: upstream.origin });
    const res = await client.request('GET', '/v2/', { scope: '' });
    expect(res.status).toBe(200);
    await text(res.body);
    expect(upstream.seen).toHaveLength(3);
  });

  it('returns the 5xx once retries are exhausted', async () => {
    const upstream = await startServer((_req, res) => json(res, 502, { bad: 'gateway' }));
    const client = makeClient({ url: upstream.origin }, { maxRetries: 2 });
    const res = await client.request('HEAD', '/v2/a/manifests/1', { scope: 'repository:a:pull' });
    expect(res.status).toBe(502);
    res.body.destroy();
    expect(upstream.seen).toHaveLength(3);
  });

  it('does not retry a 404 or a 429, and passes Retry-After through', async () => {
    const upstream = await startServer((req, res) => (req.url === '/v2/limited' ? json(res, 429, {}, { 'retry-after': '17' }) : json(res, 404, {})));
    const client = makeClient({ url: upstream.origin });
    const missing = await client.request('GET', '/v2/missing', { scope: '' });
    expect(missing.status).toBe(404);
    await text(missing.body);
    const limited = await client.request('GET', '/v2/limited', { scope: '' });
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('17');
    await text(limited.body);
    expect(upstream.seen).toHaveLength(2);
  });

  it('throws UpstreamUnavailableError after retrying a refused connection', async () => {
    const gone = await startServer(() => undefined);
    await gone.close();
    const warn = jest.fn();
    const client = makeClient({ url: gone.origin }, { maxRetries: 2, backoffMs: 20, logger: { warn } });
    const started = Date.now();
    const error = await client.request('GET', '/v2/', { scope: '' }).catch((err) => err);
    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(error.reason).toBe('network');
    expect(warn.mock.calls.filter(([o]) => o.msg.includes('retrying'))).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(20 + 40 - 5);
  });

  it('times out waiting for headers, retrying first', async () => {
    const upstream = await startServer(() => undefined); // never answers
    const client = makeClient({ url: upstream.origin, socketTimeoutMs: 200 }, { maxRetries: 1 });
    const started = Date.now();
    await expect(client.request('GET', '/v2/', { scope: '' })).rejects.toMatchObject({ name: 'UpstreamUnavailableError', reason: 'timeout' });
    expect(upstream.seen).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('fails a body that goes idle longer than the socket timeout', async () => {
    const upstream = await startServer((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial'); // and then nothing
    });
    const client = makeClient({ url: upstream.origin, socketTimeoutMs: 200 });
    const res = await client.request('GET', '/v2/a/blobs/x', { scope: 'repository:a:pull' });
    expect(res.status).toBe(200);
    await expect(text(res.body)).rejects.toMatchObject({ code: 'UND_ERR_BODY_TIMEOUT' });
  });
});

describe('UpstreamClient circuit breaker', () => {
  it('opens after N failures without touching the network, probes after openMs, and closes on success', async () => {
    let t = 0;
    let healthy = false;
    const upstream = await startServer((_req, res) => (healthy ? json(res, 200, {}) : json(res, 503, {})));
    const breaker = new CircuitBreaker({ failureThreshold: 2, openMs: 10_000, now: () => t });
    const client = makeClient({ url: upstream.origin }, { maxRetries: 0, breaker });
    const status = async () => {
      const res = await client.request('GET', '/v2/', { scope: '' });
      await text(res.body);
      return res.status;
    };

    expect(await status()).toBe(503);
    expect(breaker.state).toBe('closed');
    expect(await status()).toBe(503);
    expect(breaker.state).toBe('open');
    await expect(status()).rejects.toMatchObject({ name: 'UpstreamUnavailableError', reason: 'circuit-open' });
    expect(upstream.seen).toHaveLength(2); // no network call while open

    t += 10_000; // half-open: the probe fails and re-opens the circuit
    expect(breaker.state).toBe('half-open');
    expect(await status()).toBe(503);
    expect(breaker.state).toBe('open');
    await expect(status()).rejects.toMatchObject({ reason: 'circuit-open' });
    expect(upstream.seen).toHaveLength(3);

    t += 10_000;
    healthy = true;
    expect(await status()).toBe(200);
    expect(breaker.state).toBe('closed');
    expect(await status()).toBe(200);
    expect(upstream.seen).toHaveLength(5);
  });

  it('counts network failures and treats any non-5xx answer as success', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2, openMs: 10_000, now: () => 0 });
    const gone = await startServer(() => undefined);
    await gone.close();
    const client = makeClient({ url: gone.origin }, { maxRetries: 0, breaker });
    await expect(client.request('GET', '/v2/', { scope: '' })).rejects.toMatchObject({ reason: 'network' });
    expect(breaker.state).toBe('closed');

    const notFound = await startServer((_req, res) => json(res, 404, {}));
    const other = makeClient({ url: notFound.origin }, { maxRetries: 0, breaker });
    await text((await other.request('GET', '/v2/', { scope: '' })).body);
    await expect(client.request('GET', '/v2/', { scope: '' })).rejects.toMatchObject({ reason: 'network' });
    expect(breaker.state).toBe('closed'); // the 404 reset the count
    await expect(client.request('GET', '/v2/', { scope: '' })).rejects.toMatchObject({ reason: 'network' });
    expect(breaker.state).toBe('open');
  });
});
