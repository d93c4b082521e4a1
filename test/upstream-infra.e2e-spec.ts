// Proves the test infrastructure remote repositories are tested with, without Wharf: a token
// server, a token-authenticated CNCF Distribution upstream it is the realm of, a tamper proxy
// between a client and that upstream, and Distribution in pull-through proxy mode. A later
// Wharf failure against them then cannot be theirs.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildImage, buildIndex, readOciLayout } from './helpers/oci-image-builder';
import { CommandError, Credentials, Skopeo } from './helpers/registry-clients';
import { eventually } from './helpers/registry-http';
import { TamperProxy, startTamperProxy } from './helpers/tamper-proxy';
import { TokenServer, decodeJwt, startTokenServer } from './helpers/token-server';
import { UpstreamRegistry, seedImage, startUpstreamRegistry } from './helpers/upstream-registry';

jest.setTimeout(180_000);

const alice: Credentials = { username: 'alice', password: 'secret' };

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A GET (or other) with fetch; the whole body is read. */
async function request(url: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
  return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
}

/** The error code behind a fetch that could not connect (fetch wraps it in `cause`). */
async function connectionError(url: string): Promise<string | undefined> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(5000) });
  } catch (error) {
    return (error as { cause?: { code?: string } }).cause?.code ?? String(error);
  }
  return undefined;
}

describe('upstream test infrastructure', () => {
  let tokens: TokenServer;
  let upstream: UpstreamRegistry;
  let proxy: TamperProxy;
  let skopeo: Skopeo;
  let work: string;
  const app = buildImage({ layerCount: 2, layerSize: 4096 });
  const nginx = buildIndex();
  let pullToken: string;

  beforeAll(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-upstream-infra-'));
    tokens = await startTokenServer({ users: { alice: 'secret', bob: 'hunter2' } });
    upstream = await startUpstreamRegistry({ tokenServer: tokens });
    proxy = await startTamperProxy(upstream.url);
    skopeo = await Skopeo.create();
    // Docker Hub style names: official images live under library/.
    await seedImage(upstream, 'library/app', '1', app, alice);
    await seedImage(upstream, 'library/nginx', 'latest', nginx, alice);
    pullToken = await tokens.fetchToken(['repository:library/app:pull']);
  });

  afterAll(async () => {
    await skopeo?.close();
    await proxy?.stop();
    await upstream?.stop();
    await tokens?.stop();
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  describe('token server', () => {
    it('issues ES256 JWTs with an x5c certificate and the claims Distribution checks', async () => {
      const token = await tokens.fetchToken(['repository:library/app:pull,push', 'registry:catalog:*'], alice);
      const { header, claims } = decodeJwt(token);
      const certDer = Buffer.from((await fs.readFile(tokens.certPath, 'utf8')).replace(/-----[^-]+-----|\s/g, ''), 'base64');
      expect(header).toEqual({ typ: 'JWT', alg: 'ES256', x5c: [certDer.toString('base64')] });
      expect(claims).toMatchObject({ iss: tokens.issuer, aud: tokens.service, sub: 'alice' });
      expect(claims.exp - claims.iat).toBe(300);
      expect(claims.nbf).toBeLessThanOrEqual(claims.iat);
      expect(typeof claims.jti).toBe('string');
      expect(claims.access).toEqual([
        { type: 'repository', name: 'library/app', actions: ['pull', 'push'] },
        { type: 'registry', name: 'catalog', actions: ['*'] },
      ]);
    });

    it('grants anonymous requests pull only, and refuses bad credentials with 401', async () => {
      const { claims } = decodeJwt(await tokens.fetchToken(['repository:library/app:pull,push']));
      expect(claims.sub).toBe('');
      expect(claims.access).toEqual([{ type: 'repository', name: 'library/app', actions: ['pull'] }]);

      await expect(tokens.fetchToken(['repository:library/app:pull'], { username: 'alice', password: 'wrong' })).rejects.toThrow(/401/);
      await expect(tokens.fetchToken(['repository:library/app:pull'], { username: 'mallory', password: 'x' })).rejects.toThrow(/401/);
      const last = tokens.requests[tokens.requests.length - 1];
      expect(last).toMatchObject({ username: 'mallory', status: 401, granted: [] });
    });

    it('refuses anonymous requests when told to', async () => {
      tokens.allowAnonymous = false;
      try {
        await expect(tokens.fetchToken(['repository:library/app:pull'])).rejects.toThrow(/401/);
        await expect(tokens.fetchToken(['repository:library/app:pull'], alice)).resolves.toEqual(expect.any(String));
      } finally {
        tokens.allowAnonymous = true;
      }
    });
  });

  describe('token-authenticated upstream', () => {
    it('challenges with a Bearer realm on the token server, and accepts its tokens', async () => {
      const challenge = await request(`${upstream.url}/v2/library/app/manifests/1`);
      expect(challenge.status).toBe(401);
      const wwwAuthenticate = challenge.headers.get('www-authenticate') ?? '';
      expect(wwwAuthenticate).toMatch(/^Bearer /);
      expect(wwwAuthenticate).toContain(`realm="${tokens.realm}"`);
      expect(wwwAuthenticate).toContain(`service="${tokens.service}"`);
      expect(wwwAuthenticate).toContain('scope="repository:library/app:pull"');

      const manifest = await request(`${upstream.url}/v2/library/app/manifests/1`, {
        headers: { authorization: `Bearer ${pullToken}`, accept: app.manifest.mediaType },
      });
      expect(manifest.status).toBe(200);
      expect(manifest.body.equals(app.manifest.bytes)).toBe(true);
      expect(manifest.headers.get('docker-content-digest')).toBe(app.manifest.digest);

      // A pull-only token cannot start an upload.
      const upload = await request(`${upstream.url}/v2/library/app/blobs/uploads/`, {
        method: 'POST',
        headers: { authorization: `Bearer ${pullToken}` },
      });
      expect(upload.status).toBe(401);
      expect(upload.headers.get('www-authenticate')).toContain('error="insufficient_scope"');

      // A token signed by another server's key is rejected.
      const other = await startTokenServer({ service: tokens.service, issuer: tokens.issuer });
      try {
        const forged = other.issueToken('alice', [{ type: 'repository', name: 'library/app', actions: ['pull'] }]);
        const refused = await request(`${upstream.url}/v2/library/app/manifests/1`, { headers: { authorization: `Bearer ${forged}` } });
        expect(refused.status).toBe(401);
      } finally {
        await other.stop();
      }
    });

    it("seeded with alice's credentials, which the token server recorded", () => {
      const aliceRequests = tokens.requestsBy('alice').filter((r) => r.status === 200);
      expect(aliceRequests.some((r) => r.granted.some((g) => g.name === 'library/nginx' && g.actions.includes('push')))).toBe(true);
    });

    it('serves anonymous pulls, without credentials reaching the token server', async () => {
      tokens.clearRequests();
      expect((await skopeo.inspectRaw(`docker://${upstream.host}/library/app:1`)).equals(app.manifest.bytes)).toBe(true);
      const layout = path.join(work, 'nginx');
      expect(await skopeo.copy(`docker://${upstream.host}/library/nginx:latest`, `oci:${layout}:latest`, { all: true })).toBe(nginx.index.digest);
      const pulled = await readOciLayout(layout);
      for (const image of nginx.images) {
        for (const layer of image.layers) expect((await pulled.readBlob(layer.digest)).equals(layer.bytes)).toBe(true);
      }
      expect(tokens.requests.length).toBeGreaterThan(0);
      expect(tokens.requests.every((r) => !r.hadAuthorization && r.username === undefined && r.status === 200)).toBe(true);
    });

    it('refuses anonymous pushes', async () => {
      const error = await seedImage(upstream, 'library/anonymous', '1', buildImage()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CommandError);
      expect((error as CommandError).stderr).toMatch(/unauthorized|authentication required|denied/i);
      await expect(skopeo.inspectRaw(`docker://${upstream.host}/library/anonymous:1`)).rejects.toThrow(CommandError);
    });

    it('refuses a wrong password', async () => {
      tokens.clearRequests();
      const wrong = await Skopeo.create({ creds: { username: 'alice', password: 'wrong' } });
      try {
        await expect(wrong.inspectRaw(`docker://${upstream.host}/library/app:1`)).rejects.toThrow(CommandError);
      } finally {
        await wrong.close();
      }
      expect(tokens.requestsBy('alice').map((r) => r.status)).toContain(401);
      expect(tokens.requestsBy('alice').every((r) => r.status === 401)).toBe(true);
    });

    it('refuses anonymous pulls when the token server does', async () => {
      tokens.allowAnonymous = false;
      const authenticated = await Skopeo.create({ creds: alice });
      try {
        await expect(skopeo.inspectRaw(`docker://${upstream.host}/library/app:1`)).rejects.toThrow(CommandError);
        expect((await authenticated.inspectRaw(`docker://${upstream.host}/library/app:1`)).equals(app.manifest.bytes)).toBe(true);
      } finally {
        tokens.allowAnonymous = true;
        await authenticated.close();
      }
    });
  });

  describe('tamper proxy', () => {
    beforeEach(() => {
      proxy.clearRules();
      proxy.clearRequests();
    });

    it('forwards a pull and counts requests by method and path', async () => {
      const raw = await skopeo.inspectRaw(`docker://${proxy.host}/library/app:1`);
      expect(raw.equals(app.manifest.bytes)).toBe(true);
      expect(proxy.countMatching('GET', /^\/v2\/library\/app\/manifests\/1$/)).toBeGreaterThanOrEqual(1);
      // skopeo met the upstream's challenge through the proxy, then sent the token it got from the realm.
      expect(proxy.matching('GET', /^\/v2\/$/).map((r) => r.status)).toContain(401);
      expect(proxy.matching('GET', '/manifests/').some((r) => r.status === 200 && r.authorization?.startsWith('Bearer '))).toBe(true);
      expect(proxy.requests.some((r) => r.authorization?.startsWith('Basic '))).toBe(false);

      const layout = path.join(work, 'through-proxy');
      expect(await skopeo.copy(`docker://${proxy.host}/library/app:1`, `oci:${layout}:1`)).toBe(app.manifest.digest);
      const fetchedBlobs = proxy
        .matching('GET', /\/blobs\//)
        .filter((r) => r.status === 200)
        .map((r) => r.path.split('/').pop());
      expect(new Set(fetchedBlobs)).toEqual(new Set([app.config.digest, ...app.layers.map((l) => l.digest)]));
      expect(proxy.countMatching('*', /\/blobs\//)).toBe(proxy.countMatching('GET', /\/blobs\//) + proxy.countMatching('HEAD', /\/blobs\//));
    });

    it('forwards pushes, rewriting upload Locations to point at the proxy', async () => {
      const image = buildImage();
      expect(await seedImage(proxy, 'library/pushed', '1', image, alice)).toBe(image.manifest.digest);
      const uploads = proxy.matching('POST', /\/blobs\/uploads\/$/).filter((r) => r.status === 202);
      expect(uploads.length).toBeGreaterThan(0);
      expect(proxy.countMatching('PUT', /\/blobs\/uploads\//)).toBeGreaterThan(0);
      expect(proxy.countMatching('PUT', /^\/v2\/library\/pushed\/manifests\/1$/)).toBe(1);
      expect((await skopeo.inspectRaw(`docker://${upstream.host}/library/pushed:1`)).equals(image.manifest.bytes)).toBe(true);
    });

    it('flips a byte of matching bodies, so a blob fails its digest check', async () => {
      const layer = app.layers[0];
      const blobUrl = `${proxy.url}/v2/library/app/blobs/${layer.digest}`;
      const rule = proxy.corrupt(/\/blobs\//, { method: 'GET' });
      const corrupted = await request(blobUrl, { headers: { authorization: `Bearer ${pullToken}` } });
      expect(corrupted.status).toBe(200);
      expect(corrupted.body.length).toBe(layer.bytes.length);
      expect(sha256(corrupted.body)).not.toBe(layer.digest);
      expect(corrupted.headers.get('docker-content-digest')).toBe(layer.digest);
      const differing = [...corrupted.body].filter((byte, i) => byte !== layer.bytes[i]);
      expect(differing).toHaveLength(1);
      expect(rule.hits).toBe(1);
      expect(proxy.requests[0].tampered).toEqual(['corrupt']);

      const error = await skopeo.copy(`docker://${proxy.host}/library/app:1`, `oci:${path.join(work, 'corrupt')}:1`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CommandError);
      expect((error as CommandError).stderr).toMatch(/digest/i);

      // Manifests were not matched, and once the rule is gone blobs are intact again.
      rule.remove();
      const intact = await request(blobUrl, { headers: { authorization: `Bearer ${pullToken}` } });
      expect(sha256(intact.body)).toBe(layer.digest);
    });

    it('answers outages with a fixed status and Retry-After, a given number of times', async () => {
      const manifestUrl = `${proxy.url}/v2/library/app/manifests/1`;
      const headers = { authorization: `Bearer ${pullToken}`, accept: app.manifest.mediaType };
      proxy.respond(/\/manifests\//, 503, { times: 2, retryAfter: 7 });
      const first = await request(manifestUrl, { headers });
      expect(first.status).toBe(503);
      expect(first.headers.get('retry-after')).toBe('7');
      expect(JSON.parse(first.body.toString()).errors[0].code).toBe('UNAVAILABLE');
      const head = await request(manifestUrl, { method: 'HEAD', headers });
      expect(head.status).toBe(503);
      expect((await request(manifestUrl, { headers })).status).toBe(200);

      proxy.respond('/manifests/', 429, { method: 'GET', retryAfter: 1, body: { errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] } });
      const limited = await request(manifestUrl, { headers });
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('1');
      expect(JSON.parse(limited.body.toString()).errors[0].code).toBe('TOOMANYREQUESTS');
      expect((await request(manifestUrl, { method: 'HEAD', headers })).status).toBe(200);

      // A client meets the outage too (clients retry 429 after Retry-After, so a 503 here).
      proxy.clearRules();
      proxy.respond(/\/manifests\//, 503);
      await expect(skopeo.inspectRaw(`docker://${proxy.host}/library/app:1`)).rejects.toThrow(/503|unavailable/i);

      // Every request counted, whether forwarded or answered by a rule.
      expect(proxy.countMatching('GET', /\/manifests\/1$/)).toBeGreaterThanOrEqual(4);
      expect(proxy.requests.filter((r) => r.tampered.includes('respond')).map((r) => r.status)).toEqual(expect.arrayContaining([503, 503, 429, 503]));
    });

    it('delays and truncates matching requests', async () => {
      const layer = app.layers[1];
      const blobUrl = `${proxy.url}/v2/library/app/blobs/${layer.digest}`;
      const headers = { authorization: `Bearer ${pullToken}` };
      proxy.delay(/\/blobs\//, 400, { times: 1 });
      const started = Date.now();
      expect((await request(blobUrl, { headers })).status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(390);

      proxy.truncate(/\/blobs\//, 100, { times: 1 });
      await expect(request(blobUrl, { headers })).rejects.toThrow();
      expect(sha256((await request(blobUrl, { headers })).body)).toBe(layer.digest);
    });

    it('goes down (connection refused) and comes back on the same port', async () => {
      await proxy.down();
      expect(proxy.isUp).toBe(false);
      expect(await connectionError(`${proxy.url}/v2/`)).toBe('ECONNREFUSED');
      await expect(skopeo.inspectRaw(`docker://${proxy.host}/library/app:1`)).rejects.toThrow(CommandError);
      await proxy.up();
      expect(proxy.isUp).toBe(true);
      expect((await skopeo.inspectRaw(`docker://${proxy.host}/library/app:1`)).equals(app.manifest.bytes)).toBe(true);
    });

    it('answers 502 while its target is down', async () => {
      await upstream.down();
      try {
        const response = await request(`${proxy.url}/v2/`);
        expect(response.status).toBe(502);
        expect(proxy.requests[0]).toMatchObject({ status: 502, error: expect.stringContaining('ECONNREFUSED') });
      } finally {
        await upstream.up();
      }
    });
  });

  describe('upstream restarts', () => {
    it('refuses connections while down and keeps its content across down()/up() and restart()', async () => {
      await upstream.down();
      expect(upstream.running).toBe(false);
      expect(await connectionError(`${upstream.url}/v2/`)).toBe('ECONNREFUSED');
      await upstream.up();
      expect(upstream.running).toBe(true);
      expect((await skopeo.inspectRaw(`docker://${upstream.host}/library/app:1`)).equals(app.manifest.bytes)).toBe(true);

      await upstream.restart();
      expect((await skopeo.inspectRaw(`docker://${upstream.host}/library/nginx:latest`)).equals(nginx.index.bytes)).toBe(true);
      // Tokens issued before the restart stay valid: the signing certificate is the token server's.
      const manifest = await request(`${upstream.url}/v2/library/app/manifests/${app.manifest.digest}`, {
        headers: { authorization: `Bearer ${pullToken}`, accept: app.manifest.mediaType },
      });
      expect(manifest.status).toBe(200);
    });
  });

  describe('Distribution as a pull-through cache of the upstream', () => {
    let cache: UpstreamRegistry;
    afterAll(async () => {
      await cache?.stop();
    });

    it('pulls through with its own upstream credentials, and serves what it cached while the upstream is down', async () => {
      cache = await startUpstreamRegistry({ proxy: { remoteurl: upstream.url, username: alice.username, password: alice.password } });
      tokens.clearRequests();
      const layout = path.join(work, 'through-cache');
      expect(await skopeo.copy(`docker://${cache.host}/library/app:1`, `oci:${layout}:1`)).toBe(app.manifest.digest);
      expect(tokens.requestsBy('alice').some((r) => r.status === 200)).toBe(true);
      // Distribution stores what it proxied in the background, possibly after the client is done.
      const blobFile = (digest: string) => path.join(cache.storageDir, 'docker/registry/v2/blobs/sha256', digest.slice(7, 9), digest.slice(7), 'data');
      for (const blob of [app.config, ...app.layers]) {
        await eventually(async () =>
          expect(
            await fs.stat(blobFile(blob.digest)).then(
              () => true,
              () => false,
            ),
          ).toBe(true),
        );
      }

      await upstream.down();
      try {
        const byDigest = `docker://${cache.host}/library/app@${app.manifest.digest}`;
        expect((await skopeo.inspectRaw(byDigest)).equals(app.manifest.bytes)).toBe(true);
        const again = path.join(work, 'through-cache-again');
        expect(await skopeo.copy(byDigest, `oci:${again}:1`)).toBe(app.manifest.digest);
      } finally {
        await upstream.up();
      }
      // A pull-through cache refuses pushes.
      await expect(seedImage(cache, 'library/cached-push', '1', buildImage())).rejects.toThrow(CommandError);
    });
  });
});
