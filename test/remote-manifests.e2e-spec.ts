// Remote repositories (pull-through caches) at the HTTP level: their REST configuration, and
// manifests, tags, offline mode, cache purges and refused writes through a remote whose
// upstream is a real CNCF Distribution registry behind a tamper proxy that counts (and spoils)
// what reaches it. Every test uses its own remote and its own image names, so the per-remote
// upstream state (circuit breaker, tokens) and the proxy's counts never leak between tests.
import { Client } from 'pg';
import { BuiltImage, BuiltIndex, MediaTypes, buildImage, buildIndex } from './helpers/oci-image-builder';
import { API_FORM, HttpResult, PathForm, V2_FORM, expectRegistryError, expectStatus, request, sha256 } from './helpers/registry-http';
import {
  RemoteFixture,
  RemoteRepositoryFields,
  blobRequests,
  createRemoteRepository,
  manifestRequests,
  purgeCache,
  requestsFor,
  sleep,
  startRemoteFixture,
  uniqueKey,
  updateRepository,
} from './helpers/remote-repository';
import { TamperProxy } from './helpers/tamper-proxy';
import { UpstreamRegistry, seedImage } from './helpers/upstream-registry';
import { HOSTS_PER_SERVER } from './helpers/scale-out-deployment';
import { WharfTestServer, createLocalRepository } from './helpers/wharf-server';

jest.setTimeout(120_000);

const ACCEPT_ALL = [MediaTypes.OciManifest, MediaTypes.OciIndex, MediaTypes.DockerManifest, MediaTypes.DockerManifestList].join(', ');
const MASK = '********';

describe('remote repositories: configuration and manifests', () => {
  let fixture: RemoteFixture;
  let server: WharfTestServer;
  let upstream: UpstreamRegistry;
  let proxy: TamperProxy;

  beforeAll(async () => {
    fixture = await startRemoteFixture({ connectTimeoutMillis: 2000, socketTimeoutMillis: 10_000 });
    ({ server, upstream, proxy } = fixture);
  });

  afterAll(() => fixture?.close());

  beforeEach(() => fixture.reset());

  const imageName = (label: string): string => fixture.imageName(label);
  const remote = (fields: RemoteRepositoryFields = {}): Promise<string> => fixture.remote(fields);

  function manifest(key: string, image: string, reference: string, options: { method?: string; form?: PathForm; accept?: string } = {}): Promise<HttpResult> {
    const base = (options.form ?? V2_FORM).base(key, image);
    return request(server, `${base}manifests/${reference}`, { method: options.method ?? 'GET', headers: { accept: options.accept ?? ACCEPT_ALL } });
  }

  function blob(key: string, image: string, digest: string, method = 'GET'): Promise<HttpResult> {
    return request(server, `/v2/${key}/${image}/blobs/${digest}`, { method });
  }

  function tagList(key: string, image: string): Promise<HttpResult> {
    return request(server, `/v2/${key}/${image}/tags/list`);
  }

  /** Asserts a 200 manifest answer carrying exactly `expected`'s bytes. */
  function expectManifest(res: HttpResult, expected: { bytes: Buffer; digest: string; mediaType: string }): void {
    expectStatus(res, 200);
    expect(res.headers.get('docker-content-digest')).toBe(expected.digest);
    expect(res.headers.get('content-type')).toBe(expected.mediaType);
    expect(sha256(res.body)).toBe(expected.digest);
    expect(res.body.equals(expected.bytes)).toBe(true);
  }

  async function storedSettings(key: string): Promise<Record<string, unknown>> {
    const client = new Client({ connectionString: server.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT settings FROM repositories WHERE key = $1', [key]);
      return rows[0].settings;
    } finally {
      await client.end();
    }
  }

  describe('REST configuration', () => {
    const password = `upstream-pw-${Date.now()}`;

    it('creates a remote with every field; the password is stored sealed and only ever shown masked', async () => {
      const key = uniqueKey('config');
      const created = await createRemoteRepository(server, key, {
        url: `${proxy.url}/`,
        username: 'alice',
        password,
        metadataRetrievalCachePeriod: 120,
        offline: false,
        enableTokenAuthentication: true,
        connectTimeoutMillis: 3000,
        socketTimeoutMillis: 15_000,
        includesPattern: 'library/**',
        excludesPattern: 'library/secret*',
        tokenRealmAllowList: ['127.0.0.1:5999'],
        description: 'pull-through',
      });
      expect(created).toMatchObject({
        key,
        rclass: 'remote',
        packageType: 'docker',
        description: 'pull-through',
        url: proxy.url, // the trailing slash is dropped
        username: 'alice',
        password: MASK,
        metadataRetrievalCachePeriod: 120,
        offline: false,
        enableTokenAuthentication: true,
        connectTimeoutMillis: 3000,
        socketTimeoutMillis: 15_000,
        includesPattern: 'library/**',
        excludesPattern: 'library/secret*',
        tokenRealmAllowList: ['127.0.0.1:5999'],
      });
      expect(JSON.stringify(created)).not.toContain(password);
      expect(created).not.toHaveProperty('passwordEncrypted');

      const fetched = await request(server, `/api/repositories/${key}`);
      expectStatus(fetched, 200);
      expect(fetched.json).toMatchObject({ key, username: 'alice', password: MASK, url: proxy.url });
      expect(fetched.body.toString()).not.toContain(password);

      const listed = await request(server, '/api/repositories?type=remote');
      expectStatus(listed, 200);
      expect(listed.json.find((r: { key: string }) => r.key === key)).toMatchObject({ password: MASK });
      expect(listed.body.toString()).not.toContain(password);

      // The database holds ciphertext only.
      const stored = await storedSettings(key);
      expect(JSON.stringify(stored)).not.toContain(password);
      expect(typeof stored.passwordEncrypted).toBe('string');
      expect(stored).not.toHaveProperty('password');
    });

    it('updates with POST: new values apply, the password is kept unless replaced, and "" removes it', async () => {
      const key = uniqueKey('config');
      await createRemoteRepository(server, key, { url: proxy.url, username: 'alice', password });
      const sealedBefore = (await storedSettings(key)).passwordEncrypted;

      const updated = await updateRepository(server, key, { metadataRetrievalCachePeriod: 5, offline: true });
      expect(updated).toMatchObject({ metadataRetrievalCachePeriod: 5, offline: true, username: 'alice', password: MASK, url: proxy.url });
      expect((await storedSettings(key)).passwordEncrypted).toBe(sealedBefore);
      expect((await request(server, `/api/repositories/${key}`)).json).toMatchObject({ metadataRetrievalCachePeriod: 5, offline: true, password: MASK });

      const replaced = await updateRepository(server, key, { password: 'another-one' });
      expect(replaced.password).toBe(MASK);
      expect(JSON.stringify(replaced)).not.toContain('another-one');
      expect((await storedSettings(key)).passwordEncrypted).not.toBe(sealedBefore);

      const removed = await updateRepository(server, key, { password: '' });
      expect(removed.password).toBe('');
      expect(await storedSettings(key)).not.toHaveProperty('passwordEncrypted');
    });

    it('defaults the url to Docker Hub, with auth.docker.io allowed as its token realm', async () => {
      const key = uniqueKey('config');
      const created = await createRemoteRepository(server, key);
      expect(created).toMatchObject({
        url: 'https://registry-1.docker.io',
        password: '',
        metadataRetrievalCachePeriod: 600,
        offline: false,
        enableTokenAuthentication: true,
        includesPattern: '**',
        excludesPattern: '',
        tokenRealmAllowList: ['auth.docker.io'],
      });
    });

    it('refuses remote fields on a local repository and a cache purge of a local repository', async () => {
      const key = uniqueKey('local');
      await createLocalRepository(server, key);
      const res = await request(server, `/api/repositories/${key}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url: proxy.url }),
      });
      expectStatus(res, 400);
      expectStatus(await purgeCache(server, key), 400);
    });
  });

  describe('manifests', () => {
    it('fetches a tag once, then serves it (and its digest) from the cache while fresh, on both path forms', async () => {
      const key = await remote();
      const name = imageName('app');
      const image = buildImage();
      await seedImage(upstream, name, '1', image);
      proxy.clearRequests();

      expectManifest(await manifest(key, name, '1'), image.manifest);
      expect(manifestRequests(proxy, 'GET', name, '1')).toBe(1);
      // The cache miss asked for the manifest alone: no blob was fetched for it.
      expect(blobRequests(proxy, '*', name)).toBe(0);

      proxy.clearRequests();
      expectManifest(await manifest(key, name, '1'), image.manifest);
      expectManifest(await manifest(key, name, '1', { form: API_FORM }), image.manifest);
      expectManifest(await manifest(key, name, image.manifest.digest), image.manifest);
      expect(proxy.requests).toHaveLength(0);
    });

    it('passes a name to a non-Docker Hub upstream as it is (no library/ is added)', async () => {
      const key = await remote();
      const name = imageName('named');
      const image = buildImage({ layerCount: 1 });
      await seedImage(upstream, name, '1', image);
      const bare = name.slice('library/'.length);
      proxy.clearRequests();

      expectRegistryError(await manifest(key, bare, '1'), 404, 'MANIFEST_UNKNOWN');
      expect(manifestRequests(proxy, 'GET', bare, '1')).toBe(1);
      expect(manifestRequests(proxy, '*', name)).toBe(0);

      expectManifest(await manifest(key, name, '1'), image.manifest);
      expect(manifestRequests(proxy, 'GET', name, '1')).toBe(1);
    });

    it('maps a one-segment name to library/<name> upstream when libraryPrefix is on (Docker Hub style)', async () => {
      const key = uniqueKey('library');
      await createRemoteRepository(server, key, { url: proxy.url, libraryPrefix: true });
      const name = imageName('official');
      const image = buildImage({ layerCount: 1 });
      await seedImage(upstream, name, '1', image);
      const bare = name.slice('library/'.length);
      proxy.clearRequests();

      expectManifest(await manifest(key, bare, '1'), image.manifest);
      expect(manifestRequests(proxy, 'GET', name, '1')).toBe(1);
      expect(manifestRequests(proxy, '*', bare)).toBe(0);
      // A two-segment name is passed as it is.
      expectRegistryError(await manifest(key, 'team/thing', '1'), 404, 'MANIFEST_UNKNOWN');
      expect(manifestRequests(proxy, 'GET', 'team/thing', '1')).toBe(1);
    });

    it('answers HEAD with the real Content-Length, Content-Type and Docker-Content-Digest, cached or not', async () => {
      const key = await remote();
      const name = imageName('head');
      const image = buildImage({ format: 'docker' });
      await seedImage(upstream, name, '1', image);
      proxy.clearRequests();

      for (const reference of ['1', '1', image.manifest.digest]) {
        const res = await manifest(key, name, reference, { method: 'HEAD' });
        expectStatus(res, 200);
        expect(res.headers.get('content-length')).toBe(String(image.manifest.bytes.length));
        expect(res.headers.get('content-type')).toBe(MediaTypes.DockerManifest);
        expect(res.headers.get('docker-content-digest')).toBe(image.manifest.digest);
        expect(res.body).toHaveLength(0);
      }
      // The first HEAD filled the cache (one upstream fetch); the others were served from it.
      expect(manifestRequests(proxy, '*', name)).toBe(1);
      expectManifest(await manifest(key, name, '1'), image.manifest);
      expect(manifestRequests(proxy, '*', name)).toBe(1);
    });

    it('does not see a tag moved upstream before the cache period ends', async () => {
      const key = await remote({ metadataRetrievalCachePeriod: 600 });
      const name = imageName('moving-slow');
      const first = buildImage({ layerCount: 1 });
      const second = buildImage({ layerCount: 1 });
      await seedImage(upstream, name, '1', first);
      expectManifest(await manifest(key, name, '1'), first.manifest);

      await seedImage(upstream, name, '1', second);
      proxy.clearRequests();
      expectManifest(await manifest(key, name, '1'), first.manifest);
      expect(proxy.requests).toHaveLength(0);
    });

    it('sees a tag moved upstream once the period is over: a HEAD finds the new digest, a GET fetches it', async () => {
      const key = await remote({ metadataRetrievalCachePeriod: 1 });
      const name = imageName('moving-fast');
      const first = buildImage({ layerCount: 1 });
      const second = buildImage({ layerCount: 1 });
      await seedImage(upstream, name, '1', first);
      expectManifest(await manifest(key, name, '1'), first.manifest);

      await seedImage(upstream, name, '1', second);
      await sleep(1500);
      proxy.clearRequests();
      expectManifest(await manifest(key, name, '1'), second.manifest);
      expect(manifestRequests(proxy, 'HEAD', name, '1')).toBe(1);
      expect(manifestRequests(proxy, 'GET', name, '1')).toBe(1);

      // Unchanged upstream after another period: revalidated with a HEAD alone, then fresh again.
      await sleep(1500);
      proxy.clearRequests();
      expectManifest(await manifest(key, name, '1'), second.manifest);
      expect(manifestRequests(proxy, 'HEAD', name, '1')).toBe(1);
      expect(manifestRequests(proxy, 'GET', name)).toBe(0);
      proxy.clearRequests();
      expectManifest(await manifest(key, name, '1'), second.manifest);
      expect(proxy.requests).toHaveLength(0);

      // The old manifest, by digest, stays cached for good.
      expectManifest(await manifest(key, name, first.manifest.digest), first.manifest);
      expect(proxy.requests).toHaveLength(0);
    });

    it('serves a stale tag when the upstream is down, answers 5xx or 429 after the period', async () => {
      const key = await remote({ metadataRetrievalCachePeriod: 1 });
      const name = imageName('stale');
      const image = buildImage({ layerCount: 1 });
      await seedImage(upstream, name, '1', image);
      expectManifest(await manifest(key, name, '1'), image.manifest);
      // Moved upstream meanwhile: whatever is served below comes from the cache, not the upstream.
      await seedImage(upstream, name, '1', buildImage({ layerCount: 1 }));
      await sleep(1500);

      await upstream.down();
      proxy.clearRequests();
      expectManifest(await manifest(key, name, '1'), image.manifest);
      // Wharf did try to revalidate (the proxy answered 502 for the missing upstream).
      expect(manifestRequests(proxy, 'HEAD', name, '1')).toBeGreaterThanOrEqual(1);
      expect(proxy.matching('*', `/v2/${name}/`).every((r) => r.status === 502)).toBe(true);
      await upstream.up();

      proxy.clearRequests();
      proxy.respond(`/v2/${name}/manifests/`, 503);
      expectManifest(await manifest(key, name, '1'), image.manifest);
      expect(manifestRequests(proxy, '*', name)).toBeGreaterThanOrEqual(1);

      proxy.clearRules();
      proxy.clearRequests();
      proxy.respond(`/v2/${name}/manifests/`, 429, { retryAfter: 30 });
      expectManifest(await manifest(key, name, '1'), image.manifest);
      expect(manifestRequests(proxy, '*', name)).toBeGreaterThanOrEqual(1);
    });

    it('serves a manifest cached by digest with the upstream down, without asking it', async () => {
      const key = await remote({ metadataRetrievalCachePeriod: 1 });
      const name = imageName('by-digest');
      const image = buildImage({ layerCount: 1 });
      await seedImage(upstream, name, '1', image);
      expectManifest(await manifest(key, name, image.manifest.digest), image.manifest);
      expect(manifestRequests(proxy, 'GET', name, image.manifest.digest)).toBe(1);

      await sleep(1100);
      await upstream.down();
      proxy.clearRequests();
      expectManifest(await manifest(key, name, image.manifest.digest), image.manifest);
      expect(proxy.requests).toHaveLength(0);
    });

    it('answers 503 UNAVAILABLE for a manifest never cached while the upstream is unreachable or failing', async () => {
      const key = await remote();
      const name = imageName('never');
      const image = buildImage({ layerCount: 1 });
      await seedImage(upstream, name, '1', image);

      await upstream.down();
      expectRegistryError(await manifest(key, name, '1'), 503, 'UNAVAILABLE');
      expectRegistryError(await manifest(key, name, image.manifest.digest), 503, 'UNAVAILABLE');
      await upstream.up();

      proxy.respond(`/v2/${name}/manifests/`, 500);
      expectRegistryError(await manifest(key, name, '1'), 503, 'UNAVAILABLE');
      proxy.clearRules();

      // Nothing was cached by the failures: with the upstream back, it is fetched.
      expectManifest(await manifest(key, name, '1'), image.manifest);
    });

    it('answers 503 UNAVAILABLE when the upstream refuses connections', async () => {
      const key = await remote();
      const name = imageName('refused');
      await proxy.down();
      expectRegistryError(await manifest(key, name, '1'), 503, 'UNAVAILABLE');
    });

    it('passes an upstream 429 on as 429 TOOMANYREQUESTS with its Retry-After when nothing is cached', async () => {
      const key = await remote();
      const name = imageName('limited');
      const image = buildImage({ layerCount: 1 });
      await seedImage(upstream, name, '1', image);
      proxy.respond(`/v2/${name}/manifests/`, 429, { retryAfter: 7, body: { errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] } });

      const res = await manifest(key, name, '1');
      expectRegistryError(res, 429, 'TOOMANYREQUESTS');
      expect(res.headers.get('retry-after')).toBe('7');
      expect(manifestRequests(proxy, 'GET', name, '1')).toBe(1);

      proxy.clearRules();
      expectManifest(await manifest(key, name, '1'), image.manifest);
    });

    it('answers 404 MANIFEST_UNKNOWN for a manifest the upstream does not have, asking it once per burst', async () => {
      const key = await remote();
      const name = imageName('missing');
      expectRegistryError(await manifest(key, name, '1'), 404, 'MANIFEST_UNKNOWN');
      expectRegistryError(await manifest(key, name, '1'), 404, 'MANIFEST_UNKNOWN');
      // The memory of a miss is each host's own (it lasts seconds): once per host at most.
      expect(manifestRequests(proxy, 'GET', name, '1')).toBeLessThanOrEqual(HOSTS_PER_SERVER);
    });

    it('answers 404 MANIFEST_UNKNOWN for a reference that is neither a tag nor a digest, on both path forms, without asking the upstream', async () => {
      const key = await remote();
      const name = imageName('badref');
      for (const form of [V2_FORM, API_FORM]) {
        for (const bad of ['.INVALID_MANIFEST_NAME', 'x'.repeat(129), 'a%00b', '%FF']) {
          expectRegistryError(await manifest(key, name, bad, { form }), 404, 'MANIFEST_UNKNOWN');
          expect((await manifest(key, name, bad, { form, method: 'HEAD' })).status).toBe(404);
        }
      }
      expect(requestsFor(proxy, name)).toBe(0);
    });

    it('fetches the children of an index on demand, one at a time, and keeps them', async () => {
      const key = await remote();
      const name = imageName('multi');
      const built: BuiltIndex = buildIndex({ layerCount: 1 });
      await seedImage(upstream, name, '1', built);
      proxy.clearRequests();

      expectManifest(await manifest(key, name, '1'), built.index);
      expect(manifestRequests(proxy, '*', name)).toBe(1);
      for (const child of built.images) expect(manifestRequests(proxy, '*', name, child.manifest.digest)).toBe(0);

      const [amd64, arm64] = built.images;
      expectManifest(await manifest(key, name, amd64.manifest.digest), amd64.manifest);
      expect(manifestRequests(proxy, 'GET', name, amd64.manifest.digest)).toBe(1);
      expect(manifestRequests(proxy, '*', name, arm64.manifest.digest)).toBe(0);

      proxy.clearRequests();
      expectManifest(await manifest(key, name, amd64.manifest.digest), amd64.manifest);
      expectManifest(await manifest(key, name, '1'), built.index);
      expect(proxy.requests).toHaveLength(0);
      expectManifest(await manifest(key, name, arm64.manifest.digest), arm64.manifest);
      expect(manifestRequests(proxy, 'GET', name, arm64.manifest.digest)).toBe(1);
    });

    it('refuses corrupted manifest bytes from the upstream (by tag and by digest) with 503, and caches nothing', async () => {
      const key = await remote();
      const name = imageName('corrupt-manifest');
      const image = buildImage({ layerCount: 1 });
      await seedImage(upstream, name, '1', image);
      proxy.corrupt(`/v2/${name}/manifests/`, { method: 'GET' });

      expectRegistryError(await manifest(key, name, '1'), 503, 'UNAVAILABLE');
      expectRegistryError(await manifest(key, name, image.manifest.digest), 503, 'UNAVAILABLE');
      expect(manifestRequests(proxy, 'GET', name)).toBe(2);

      proxy.clearRules();
      expectManifest(await manifest(key, name, '1'), image.manifest);
      expectManifest(await manifest(key, name, image.manifest.digest), image.manifest);
      expect(manifestRequests(proxy, 'GET', name)).toBe(3);
    });

    it('refuses an image the include/exclude patterns leave out, without asking the upstream', async () => {
      const key = await remote({ includesPattern: 'library/**', excludesPattern: 'library/hidden*' });
      const name = imageName('hidden');
      await seedImage(upstream, name, '1', buildImage({ layerCount: 1 }));
      proxy.clearRequests();
      expectRegistryError(await manifest(key, name, '1'), 404, 'NAME_UNKNOWN');
      expectRegistryError(await manifest(key, 'other/app', '1'), 404, 'NAME_UNKNOWN');
      expect(proxy.requests).toHaveLength(0);
    });
  });

  describe('tags, offline mode, purges, writes', () => {
    it('lists tags from the upstream, and from the cache when the upstream is down', async () => {
      const key = await remote();
      const name = imageName('tagged');
      const image = buildImage({ layerCount: 1 });
      for (const tag of ['1', '2', '3']) await seedImage(upstream, name, tag, image);
      expectManifest(await manifest(key, name, '2'), image.manifest);
      proxy.clearRequests();

      const live = await tagList(key, name);
      expectStatus(live, 200);
      expect(live.json.tags).toEqual(['1', '2', '3']);
      expect(proxy.countMatching('GET', `/v2/${name}/tags/list`)).toBe(1);

      await upstream.down();
      const cached = await tagList(key, name);
      expectStatus(cached, 200);
      expect(cached.json.tags).toEqual(['2']);
    });

    it('offline: serves only what is cached, without a single upstream request, until switched back', async () => {
      const key = await remote({ metadataRetrievalCachePeriod: 1 });
      const name = imageName('offline');
      const image = buildImage({ layerCount: 2 });
      const other = buildImage({ layerCount: 1 });
      await seedImage(upstream, name, '1', image);
      await seedImage(upstream, name, '2', other);
      expectManifest(await manifest(key, name, '1'), image.manifest);
      const [cachedLayer, uncachedLayer] = image.layers;
      expectStatus(await blob(key, name, cachedLayer.digest), 200);

      await updateRepository(server, key, { offline: true });
      await sleep(1100); // the tag is stale now; offline, it is served as it is
      proxy.clearRequests();

      expectManifest(await manifest(key, name, '1'), image.manifest);
      expectManifest(await manifest(key, name, image.manifest.digest), image.manifest);
      expectRegistryError(await manifest(key, name, '2'), 404, 'MANIFEST_UNKNOWN');
      expectRegistryError(await manifest(key, name, other.manifest.digest), 404, 'MANIFEST_UNKNOWN');
      const served = await blob(key, name, cachedLayer.digest);
      expectStatus(served, 200);
      expect(served.body.equals(cachedLayer.bytes)).toBe(true);
      expectRegistryError(await blob(key, name, uncachedLayer.digest), 404, 'BLOB_UNKNOWN');
      expectStatus(await blob(key, name, uncachedLayer.digest, 'HEAD'), 404);
      const tags = await tagList(key, name);
      expectStatus(tags, 200);
      expect(tags.json.tags).toEqual(['1']);
      expect(proxy.requests).toHaveLength(0);

      await updateRepository(server, key, { offline: false });
      expectManifest(await manifest(key, name, '2'), other.manifest);
      expect(manifestRequests(proxy, 'GET', name, '2')).toBe(1);
    });

    it('DELETE .../cache?image= forgets one image, DELETE .../cache everything: later pulls go upstream again', async () => {
      const key = await remote();
      const a = imageName('purge-a');
      const b = imageName('purge-b');
      const imageA = buildImage({ layerCount: 1 });
      const imageB = buildImage({ layerCount: 1 });
      await seedImage(upstream, a, '1', imageA);
      await seedImage(upstream, b, '1', imageB);
      for (const [name, image] of [
        [a, imageA],
        [b, imageB],
      ] as Array<[string, BuiltImage]>) {
        expectManifest(await manifest(key, name, '1'), image.manifest);
        expectStatus(await blob(key, name, image.layers[0].digest), 200);
      }

      const one = await purgeCache(server, key, a);
      expectStatus(one, 200);
      expect(one.json).toEqual({ imagesRemoved: 1 });
      proxy.clearRequests();
      expectManifest(await manifest(key, a, '1'), imageA.manifest);
      expect(manifestRequests(proxy, 'GET', a, '1')).toBe(1);
      expectManifest(await manifest(key, b, '1'), imageB.manifest);
      expect(requestsFor(proxy, b)).toBe(0);

      const all = await purgeCache(server, key);
      expectStatus(all, 200);
      expect(all.json).toEqual({ imagesRemoved: 2 });
      proxy.clearRequests();
      expectManifest(await manifest(key, b, '1'), imageB.manifest);
      expect(manifestRequests(proxy, 'GET', b, '1')).toBe(1);
      const layer = await blob(key, b, imageB.layers[0].digest);
      expectStatus(layer, 200);
      expect(layer.body.equals(imageB.layers[0].bytes)).toBe(true);
      expect(blobRequests(proxy, 'GET', b, imageB.layers[0].digest)).toBe(1);
    });

    it('refuses pushes, deletes and uploads with 405 UNSUPPORTED, and passes none of them upstream', async () => {
      const key = await remote();
      const name = imageName('readonly');
      const image = buildImage({ layerCount: 1 });
      await seedImage(upstream, name, '1', image);
      expectManifest(await manifest(key, name, '1'), image.manifest);
      proxy.clearRequests();
      const base = `/v2/${key}/${name}/`;
      const layer = image.layers[0];

      expectRegistryError(await request(server, `${base}blobs/uploads/`, { method: 'POST' }), 405, 'UNSUPPORTED');
      expectRegistryError(
        await request(server, `${base}blobs/uploads/?digest=${layer.digest}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: layer.bytes }),
        405,
        'UNSUPPORTED',
      );
      expectRegistryError(await request(server, `${base}blobs/uploads/?mount=${layer.digest}&from=${name}`, { method: 'POST' }), 405, 'UNSUPPORTED');
      expectRegistryError(
        await request(server, `${base}manifests/2`, { method: 'PUT', headers: { 'content-type': image.manifest.mediaType }, body: image.manifest.bytes }),
        405,
        'UNSUPPORTED',
      );
      expectRegistryError(await request(server, `${base}manifests/${image.manifest.digest}`, { method: 'DELETE' }), 405, 'UNSUPPORTED');
      expectRegistryError(await request(server, `${base}blobs/${layer.digest}`, { method: 'DELETE' }), 405, 'UNSUPPORTED');
      expect(proxy.requests).toHaveLength(0);

      // The refused writes changed nothing.
      expectManifest(await manifest(key, name, '1'), image.manifest);
      expectRegistryError(await manifest(key, name, '2'), 404, 'MANIFEST_UNKNOWN');
    });
  });
});
