// Real clients (skopeo, podman) pulling through Wharf remote repositories whose upstreams are
// real CNCF Distribution registries behind counting tamper proxies: one anonymous, one with
// token auth (allowAnonymous false) whose realm is the test token server on another port, so
// the remote's credentials reach it only when it is allow-listed.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BuiltImage, BuiltIndex, buildImage, buildIndex, readOciLayout, writeImageSource } from './helpers/oci-image-builder';
import { CommandError, Credentials, Podman, Skopeo } from './helpers/registry-clients';
import { expectRegistryError, expectStatus, request } from './helpers/registry-http';
import { RemoteRepositoryFields, blobRequests, createRemoteRepository, manifestRequests, uniqueKey, updateRepository } from './helpers/remote-repository';
import { TamperProxy, startTamperProxy } from './helpers/tamper-proxy';
import { TokenServer, startTokenServer } from './helpers/token-server';
import { UpstreamRegistry, seedImage, startUpstreamRegistry } from './helpers/upstream-registry';
import { WharfTestServer, startWharf } from './helpers/wharf-server';

jest.setTimeout(180_000);

const alice: Credentials = { username: 'alice', password: 'secret' };

describe('remote repositories: real clients', () => {
  let server: WharfTestServer;
  let work: string;
  let skopeo: Skopeo;
  // An anonymous upstream.
  let open: UpstreamRegistry;
  let openProxy: TamperProxy;
  // A token-authenticated upstream that refuses anonymous pulls.
  let tokens: TokenServer;
  let secured: UpstreamRegistry;
  let securedProxy: TamperProxy;
  /** `127.0.0.1:PORT` of the token server: the entry tokenRealmAllowList needs. */
  let realmHost: string;

  const app = buildImage({ layerCount: 2, layerSize: 64 * 1024 });
  const securedApp = buildImage({ layerCount: 2, layerSize: 32 * 1024 });
  const multi = buildIndex({ layerCount: 2, layerSize: 32 * 1024 });

  beforeAll(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-remote-clients-'));
    open = await startUpstreamRegistry();
    openProxy = await startTamperProxy(open.url);
    tokens = await startTokenServer({ users: { alice: alice.password }, allowAnonymous: false });
    realmHost = new URL(tokens.url).host;
    secured = await startUpstreamRegistry({ tokenServer: tokens });
    securedProxy = await startTamperProxy(secured.url);
    server = await startWharf();
    skopeo = await Skopeo.create({ creds: server.admin });

    await seedImage(open, 'library/app', '1', app);
    await seedImage(open, 'library/multi', '1', multi);
    await seedImage(secured, 'library/app', '1', securedApp, alice);
  });

  afterAll(async () => {
    await skopeo?.close();
    await server?.close();
    await openProxy?.stop();
    await open?.stop();
    await securedProxy?.stop();
    await secured?.stop();
    await tokens?.stop();
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await open.up();
    await secured.up();
    for (const proxy of [openProxy, securedProxy]) {
      proxy.clearRules();
      proxy.clearRequests();
    }
    tokens.clearRequests();
    tokens.allowAnonymous = false;
  });

  async function remote(proxy: TamperProxy, fields: RemoteRepositoryFields = {}): Promise<string> {
    const key = uniqueKey('hub');
    await createRemoteRepository(server, key, { url: proxy.url, connectTimeoutMillis: 2000, socketTimeoutMillis: 20_000, ...fields });
    return key;
  }

  function wharfRef(key: string, image: string): string {
    return `docker://${server.host}/${key}/${image}`;
  }

  let layoutCounter = 0;
  function layoutDir(label: string): string {
    layoutCounter += 1;
    return path.join(work, `${label}-${layoutCounter}`);
  }

  /** Asserts an OCI layout skopeo wrote holds `image`'s manifest, config and layers, byte for byte. */
  async function expectPulled(dir: string, tag: string, image: BuiltImage): Promise<void> {
    const layout = await readOciLayout(dir);
    expect(layout.find(tag).digest).toBe(image.manifest.digest);
    expect((await layout.readBlob(image.manifest.digest)).equals(image.manifest.bytes)).toBe(true);
    for (const blob of [image.config, ...image.layers]) expect((await layout.readBlob(blob.digest)).equals(blob.bytes)).toBe(true);
  }

  /** How many times each blob of `image` was GET from the upstream. */
  function blobGets(proxy: TamperProxy, name: string, image: BuiltImage): number[] {
    return [image.config, ...image.layers].map((blob) => blobRequests(proxy, 'GET', name, blob.digest));
  }

  it('skopeo pulls through a remote of an anonymous upstream, and again with the upstream down without asking it', async () => {
    const key = await remote(openProxy);
    const first = layoutDir('first');
    expect(await skopeo.copy(wharfRef(key, 'library/app:1'), `oci:${first}:1`)).toBe(app.manifest.digest);
    await expectPulled(first, '1', app);
    expect(manifestRequests(openProxy, 'GET', 'library/app', '1')).toBe(1);
    expect(blobGets(openProxy, 'library/app', app)).toEqual([1, 1, 1]);
    expect((await skopeo.inspectRaw(wharfRef(key, 'library/app:1'))).equals(app.manifest.bytes)).toBe(true);

    await open.down();
    openProxy.clearRequests();
    const second = layoutDir('second');
    expect(await skopeo.copy(wharfRef(key, 'library/app:1'), `oci:${second}:1`)).toBe(app.manifest.digest);
    await expectPulled(second, '1', app);
    expect(await skopeo.copy(wharfRef(key, `library/app@${app.manifest.digest}`), `oci:${layoutDir('by-digest')}:1`)).toBe(app.manifest.digest);
    expect(openProxy.requests).toHaveLength(0);
  });

  it("a credentialed upstream: the remote's credentials go to the allow-listed token realm, tokens (never the password) to the upstream", async () => {
    const key = await remote(securedProxy, { username: alice.username, password: alice.password, tokenRealmAllowList: [realmHost] });
    const dir = layoutDir('secured');
    expect(await skopeo.copy(wharfRef(key, 'library/app:1'), `oci:${dir}:1`)).toBe(securedApp.manifest.digest);
    await expectPulled(dir, '1', securedApp);

    const byAlice = tokens.requestsBy('alice');
    expect(byAlice.length).toBeGreaterThan(0);
    expect(byAlice.every((r) => r.status === 200)).toBe(true);
    expect(byAlice.flatMap((r) => r.scopes)).toContain('repository:library/app:pull');
    expect(tokens.anonymousRequests()).toHaveLength(0);

    // The upstream saw Bearer tokens on what it served, and never Basic credentials.
    const served = securedProxy.requests.filter((r) => r.status === 200 && r.path.startsWith('/v2/library/app/'));
    expect(served.length).toBeGreaterThanOrEqual(4); // manifest, config, two layers
    expect(served.every((r) => r.authorization?.startsWith('Bearer '))).toBe(true);
    expect(securedProxy.requests.some((r) => r.authorization?.startsWith('Basic '))).toBe(false);
    expect(blobGets(securedProxy, 'library/app', securedApp)).toEqual([1, 1, 1]);
  });

  it('without the realm in tokenRealmAllowList the credentials are not sent: refused while the realm wants them, anonymous once it does not', async () => {
    const key = await remote(securedProxy, { username: alice.username, password: alice.password });
    const res = await request(server, `/v2/${key}/library/app/manifests/1`, { headers: { accept: securedApp.manifest.mediaType } });
    expectRegistryError(res, 503, 'UNAVAILABLE');
    expect(tokens.requestsBy('alice')).toHaveLength(0);
    expect(tokens.anonymousRequests().length).toBeGreaterThan(0);
    expect(tokens.anonymousRequests().every((r) => r.status === 401)).toBe(true);

    tokens.allowAnonymous = true;
    tokens.clearRequests();
    const dir = layoutDir('anonymous');
    expect(await skopeo.copy(wharfRef(key, 'library/app:1'), `oci:${dir}:1`)).toBe(securedApp.manifest.digest);
    await expectPulled(dir, '1', securedApp);
    expect(tokens.requestsBy('alice')).toHaveLength(0);
    expect(tokens.anonymousRequests().filter((r) => r.status === 200).length).toBeGreaterThan(0);
  });

  it('tokenRealmAllowList takes the realm as an origin, stores the host:port it names and sends that realm the credentials; a URL with a path is refused with 400', async () => {
    const origin = new URL(tokens.realm).origin;
    const key = await remote(securedProxy, { username: alice.username, password: alice.password, tokenRealmAllowList: [origin] });
    const view = await request(server, `/api/repositories/${key}`);
    expectStatus(view, 200);
    expect(view.json.tokenRealmAllowList).toEqual([realmHost]);

    const res = await request(server, `/v2/${key}/library/app/manifests/1`, { headers: { accept: securedApp.manifest.mediaType } });
    expectStatus(res, 200);
    expect(res.body.equals(securedApp.manifest.bytes)).toBe(true);
    expect(tokens.requestsBy('alice').map((r) => r.status)).toContain(200);

    // The realm URL itself has a path: refused on create and on update, naming the entry.
    const refusedKey = uniqueKey('hub');
    const json = { 'content-type': 'application/json' };
    const create = await request(server, `/api/repositories/${refusedKey}`, {
      method: 'PUT',
      headers: json,
      body: JSON.stringify({ rclass: 'remote', packageType: 'docker', url: securedProxy.url, tokenRealmAllowList: [tokens.realm] }),
    });
    expectStatus(create, 400);
    expect(create.json.detail).toContain(`tokenRealmAllowList: "${tokens.realm}" has a path`);
    expectStatus(await request(server, `/api/repositories/${refusedKey}`), 404);
    const update = await request(server, `/api/repositories/${key}`, { method: 'POST', headers: json, body: JSON.stringify({ tokenRealmAllowList: [tokens.realm] }) });
    expectStatus(update, 400);
    expect((await request(server, `/api/repositories/${key}`)).json.tokenRealmAllowList).toEqual([realmHost]);
  });

  it('a wrong upstream password: 503 UNAVAILABLE; the corrected password (POST) applies at once', async () => {
    const key = await remote(securedProxy, { username: alice.username, password: 'not-it', tokenRealmAllowList: [realmHost] });
    const url = `/v2/${key}/library/app/manifests/1`;
    const accept = { accept: securedApp.manifest.mediaType };
    expectRegistryError(await request(server, url, { headers: accept }), 503, 'UNAVAILABLE');
    expect(tokens.requestsBy('alice').map((r) => r.status)).toContain(401);
    expect(tokens.requestsBy('alice').every((r) => r.status === 401)).toBe(true);

    await updateRepository(server, key, { password: alice.password });
    tokens.clearRequests();
    const res = await request(server, url, { headers: accept });
    expectStatus(res, 200);
    expect(res.body.equals(securedApp.manifest.bytes)).toBe(true);
    expect(tokens.requestsBy('alice').map((r) => r.status)).toEqual([200]);
  });

  it('skopeo copies a multi-arch image through the remote with --all', async () => {
    const key = await remote(openProxy);
    const dir = layoutDir('multi');
    expect(await skopeo.copy(wharfRef(key, 'library/multi:1'), `oci:${dir}:1`, { all: true })).toBe(multi.index.digest);
    const layout = await readOciLayout(dir);
    expect(layout.find('1').digest).toBe(multi.index.digest);
    expect((await layout.readBlob(multi.index.digest)).equals(multi.index.bytes)).toBe(true);
    for (const image of multi.images) {
      expect((await layout.readBlob(image.manifest.digest)).equals(image.manifest.bytes)).toBe(true);
      for (const blob of [image.config, ...image.layers]) expect((await layout.readBlob(blob.digest)).equals(blob.bytes)).toBe(true);
      expect(blobGets(openProxy, 'library/multi', image)).toEqual([1, 1, 1]);
      expect(manifestRequests(openProxy, 'GET', 'library/multi', image.manifest.digest)).toBe(1);
    }
  });

  it('podman pulls the amd64 image of a multi-arch index through the remote; the arm64 one is never fetched', async () => {
    const key = await remote(openProxy);
    const podman = await Podman.create();
    try {
      await podman.login(server.host, server.admin);
      const reference = `${server.host}/${key}/library/multi:1`;
      const [amd64, arm64]: BuiltIndex['images'] = multi.images;
      const id = await podman.pull(reference);
      // Podman's image id is the config's hex digest; the pull verified every layer's diff id.
      expect(`sha256:${id}`).toBe(amd64.config.digest);
      const inspected = await podman.inspectImage(reference);
      expect(inspected.Architecture).toBe('amd64');
      expect(inspected.RepoDigests).toContain(`${server.host}/${key}/library/multi@${multi.index.digest}`);

      expect(blobGets(openProxy, 'library/multi', amd64)).toEqual([1, 1, 1]);
      expect(blobGets(openProxy, 'library/multi', arm64)).toEqual([0, 0, 0]);
      expect(manifestRequests(openProxy, '*', 'library/multi', arm64.manifest.digest)).toBe(0);

      // Pulled again by a fresh podman with the upstream down: all from Wharf's cache.
      await open.down();
      openProxy.clearRequests();
      const again = await Podman.create({ creds: server.admin });
      try {
        expect(`sha256:${await again.pull(reference)}`).toBe(amd64.config.digest);
      } finally {
        await again.close();
      }
      expect(openProxy.requests).toHaveLength(0);
    } finally {
      await podman.close();
    }
  });

  it('a corrupted layer fails a skopeo pull, is not cached, and is fetched again by the next pull', async () => {
    const key = await remote(openProxy);
    const layer = app.layers[1];
    const rule = openProxy.corrupt(`/blobs/${layer.digest}`, { method: 'GET', times: 1 });
    const error = await skopeo.copy(wharfRef(key, 'library/app:1'), `oci:${layoutDir('corrupt')}:1`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect(rule.hits).toBe(1);

    const dir = layoutDir('after-corrupt');
    expect(await skopeo.copy(wharfRef(key, 'library/app:1'), `oci:${dir}:1`)).toBe(app.manifest.digest);
    await expectPulled(dir, '1', app);
    expect(blobRequests(openProxy, 'GET', 'library/app', layer.digest)).toBe(2);
  });

  it('refuses a skopeo push to a remote (405), and nothing reaches the upstream', async () => {
    const key = await remote(openProxy);
    const image = buildImage({ layerCount: 1 });
    const source = await writeImageSource(layoutDir('push-source'), image, 'push');
    const error = await skopeo.copy(source, wharfRef(key, 'library/pushed:1')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect((error as CommandError).stderr).toMatch(/405|unsupported|not supported|method not allowed/i);
    expect(openProxy.requests.filter((r) => r.method !== 'GET' && r.method !== 'HEAD')).toHaveLength(0);
    const res = await request(server, `/v2/${key}/library/pushed/manifests/1`, { headers: { accept: image.manifest.mediaType } });
    expectStatus(res, 404);
  });
});
