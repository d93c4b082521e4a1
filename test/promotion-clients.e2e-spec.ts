// Promotion (POST /api/docker/<repoKey>/v2/promote) as a CI pipeline uses it, with real clients
// on both sides: skopeo pushes into a dev repository (directly or through a virtual), the
// promotion copies or moves the image into prod, and skopeo, podman (vfs) and the docker CLI
// pull it from there. A signed image (cosign's tag convention) reaches a requireSignature
// repository and a read-only user pulls it; an unsigned one is refused. From a remote (a real
// Distribution upstream behind a counting proxy) the promotion first fetches and verifies what
// the cache lacks, so the target serves every byte with the upstream gone; a tampered blob
// fails the promotion and leaves the target untouched.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BuiltImage, BuiltIndex, MediaTypes, blobOf, buildImage, buildIndex, descriptorOf, imageManifest, readOciLayout, writeImageSource } from './helpers/oci-image-builder';
import { CommandError, DockerCli, Podman, Skopeo } from './helpers/registry-clients';
import { HttpResult, RequestAuth, expectRegistryError, expectStatus, pushBlobs, pushImage, pushManifest, request } from './helpers/registry-http';
import { RemoteFixture, blobRequests, manifestRequests, startRemoteFixture } from './helpers/remote-repository';
import { seedImage } from './helpers/upstream-registry';
import { TestUser, createUser, createVirtualRepository, expectManifest, freshKey, getManifest, grant, jsonRequest, newUser } from './helpers/virtual-repository';
import { WharfTestServer, createLocalRepository } from './helpers/wharf-server';

jest.setTimeout(180_000);

const COSIGN_SIMPLESIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';

describe('promotion with real clients', () => {
  let fixture: RemoteFixture;
  let server: WharfTestServer;
  let work: string;
  /** Admin's skopeo, for set-up and checks. */
  let skopeo: Skopeo;
  let dirCounter = 0;

  beforeAll(async () => {
    fixture = await startRemoteFixture({ connectTimeoutMillis: 2000, socketTimeoutMillis: 20_000 });
    server = fixture.server;
    // Lowercase only: podman names an image pulled from oci:<dir> after the dir's path.
    work = path.join(os.tmpdir(), `wharf-promotion-clients-${randomBytes(6).toString('hex')}`);
    await fs.mkdir(work);
    skopeo = await Skopeo.create({ creds: server.admin });
  });

  afterAll(async () => {
    await skopeo?.close();
    await fixture?.close();
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  beforeEach(() => fixture.reset());

  function dir(label: string): string {
    dirCounter += 1;
    return path.join(work, `${label}-${dirCounter}`);
  }

  async function localRepo(prefix: string, settings: Record<string, unknown> = {}): Promise<string> {
    const key = freshKey(prefix);
    await createLocalRepository(server, key, settings);
    return key;
  }

  const ref = (key: string, image: string): string => `${server.host}/${key}/${image}`;
  const docker = (key: string, image: string): string => `docker://${ref(key, image)}`;

  function promote(source: string, body: Record<string, unknown>, auth?: RequestAuth): Promise<HttpResult> {
    return jsonRequest(server, 'POST', `/api/docker/${source}/v2/promote`, body, auth);
  }

  /** skopeo's source reference for `built`, written as an OCI layout. */
  function sourceOf(built: BuiltImage | BuiltIndex): Promise<string> {
    return writeImageSource(dir('source'), built, 'src');
  }

  /** Asserts an OCI layout skopeo wrote with --all holds the index, its children and every blob, byte for byte. */
  async function expectIndexLayout(layoutDir: string, tag: string, built: BuiltIndex): Promise<void> {
    const layout = await readOciLayout(layoutDir);
    expect(layout.find(tag).digest).toBe(built.index.digest);
    expect((await layout.readBlob(built.index.digest)).equals(built.index.bytes)).toBe(true);
    for (const image of built.images) {
      expect((await layout.readBlob(image.manifest.digest)).equals(image.manifest.bytes)).toBe(true);
      for (const blob of [image.config, ...image.layers]) expect((await layout.readBlob(blob.digest)).equals(blob.bytes)).toBe(true);
    }
  }

  /** Every child manifest and blob of `built` is served by `key/image` with exactly its bytes. */
  async function expectAllServed(key: string, image: string, built: BuiltIndex): Promise<void> {
    const base = `/v2/${key}/${image}/`;
    expectManifest(await getManifest(server, base, built.index.digest), built.index);
    for (const child of built.images) {
      expectManifest(await getManifest(server, base, child.manifest.digest), child.manifest);
      for (const blob of [child.config, ...child.layers]) {
        const res = await request(server, `${base}blobs/${blob.digest}`);
        expectStatus(res, 200);
        expect(res.body.equals(blob.bytes)).toBe(true);
      }
    }
  }

  function blobCount(built: BuiltIndex): number {
    return new Set(built.images.flatMap((image) => [image.config, ...image.layers].map((b) => b.digest))).size;
  }

  async function failure(promise: Promise<unknown>): Promise<CommandError> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CommandError);
    return error as CommandError;
  }

  describe('local to local', () => {
    let ci: TestUser;

    beforeAll(async () => {
      ci = await createUser(server, newUser('ci'));
    });

    it('CI: skopeo pushes a multi-arch index to dev, promotion copies it to prod; skopeo pulls both sides, podman and docker manifest inspect see it in prod', async () => {
      const [dev, prod] = [await localRepo('docker-dev'), await localRepo('docker-prod')];
      await grant(server, [dev, prod], { [ci.name]: ['write'] });
      const asCi = await Skopeo.create({ creds: ci.creds });
      const podman = await Podman.create({ creds: ci.creds });
      const cli = await DockerCli.create();
      try {
        const built = buildIndex({ layerCount: 2, layerSize: 32 * 1024 });
        expect(await asCi.copy(await sourceOf(built), docker(dev, 'team/app:1.0'), { all: true })).toBe(built.index.digest);

        const res = await promote(dev, { targetRepo: prod, dockerRepository: 'team/app', tag: '1.0', copy: true }, ci.basic);
        expectStatus(res, 200);
        expect(res.json).toMatchObject({
          copy: true,
          dryRun: false,
          source: { repository: dev, heldBy: dev, image: 'team/app' },
          target: { repository: prod, deployedTo: prod, image: 'team/app' },
          tags: [{ source: '1.0', target: '1.0', digest: built.index.digest }],
          manifests: 3,
          referrers: 0,
          manifestsAdded: 3,
          blobsLinked: blobCount(built),
          prunedTags: [],
        });
        expect(res.json.removedFromSource).toBeUndefined();
        expect(typeof res.json.id).toBe('string');

        // Both sides serve the whole image to skopeo --all, byte for byte.
        for (const key of [dev, prod]) {
          const pulled = dir(`pull-${key}`);
          expect(await asCi.copy(docker(key, 'team/app:1.0'), `oci:${pulled}:1.0`, { all: true })).toBe(built.index.digest);
          await expectIndexLayout(pulled, '1.0', built);
        }

        // podman (vfs) pulls this machine's platform from prod.
        const id = await podman.pull(ref(prod, 'team/app:1.0'));
        expect(`sha256:${id}`).toBe(built.images[0].config.digest);
        expect((await podman.inspectImage(ref(prod, 'team/app:1.0'))).RepoDigests).toContain(`${ref(prod, 'team/app')}@${built.index.digest}`);

        // The docker CLI (no daemon) sees the index in prod.
        await cli.login(server.host, ci.creds);
        const inspected = (await cli.manifestInspect(ref(prod, 'team/app:1.0'))) as { mediaType: string; manifests: Array<{ digest: string; platform: { architecture: string } }> };
        expect(inspected).toEqual(JSON.parse(built.index.bytes.toString()));
        expect(inspected.mediaType).toBe(MediaTypes.OciIndex);
        expect(inspected.manifests.map((m) => [m.digest, m.platform.architecture])).toEqual(built.images.map((i) => [i.manifest.digest, i.platform.architecture]));

        // Provenance names the CI user.
        const listed = await request(server, `/api/promotions?repository=${prod}&image=team/app`, { auth: ci.basic });
        expectStatus(listed, 200);
        expect(listed.json[0]).toMatchObject({ id: res.json.id, username: ci.name, sourceRepository: dev, targetRepository: prod, copy: true });
      } finally {
        await asCi.close();
        await podman.close();
        await cli.close();
      }
    });

    it('move: skopeo and podman pulls from the source fail afterwards (by tag and digest), from the target they succeed', async () => {
      const [dev, prod] = [await localRepo('docker-dev'), await localRepo('docker-prod')];
      const built = buildImage({ layerCount: 2, layerSize: 32 * 1024 });
      expect(await skopeo.copy(await sourceOf(built), docker(dev, 'team/svc:2.0'))).toBe(built.manifest.digest);
      // Pullable from the source before the move: the failures below are the move's doing.
      expect(await skopeo.copy(docker(dev, 'team/svc:2.0'), `oci:${dir('before-move')}:x`)).toBe(built.manifest.digest);

      const res = await promote(dev, { targetRepo: prod, dockerRepository: 'team/svc', tag: '2.0', targetTag: 'stable' });
      expectStatus(res, 200);
      expect(res.json).toMatchObject({
        copy: false,
        tags: [{ source: '2.0', target: 'stable', digest: built.manifest.digest }],
        removedFromSource: { tags: ['2.0'], manifests: 1 },
      });

      const fromSource = await failure(skopeo.copy(docker(dev, 'team/svc:2.0'), `oci:${dir('after-move')}:x`));
      expect(fromSource.stderr).toMatch(/manifest unknown|not found/i);
      await failure(skopeo.copy(docker(dev, `team/svc@${built.manifest.digest}`), `oci:${dir('after-move-digest')}:x`));
      const podman = await Podman.create({ creds: server.admin });
      try {
        const podmanError = await failure(podman.pull(ref(dev, 'team/svc:2.0')));
        expect(podmanError.stderr).toMatch(/manifest unknown|not found/i);

        const pulled = dir('moved');
        expect(await skopeo.copy(docker(prod, 'team/svc:stable'), `oci:${pulled}:stable`)).toBe(built.manifest.digest);
        const layout = await readOciLayout(pulled);
        for (const blob of [built.config, ...built.layers]) expect((await layout.readBlob(blob.digest)).equals(blob.bytes)).toBe(true);
        expect(`sha256:${await podman.pull(ref(prod, 'team/svc:stable'))}`).toBe(built.config.digest);
      } finally {
        await podman.close();
      }
      expect(await skopeo.listTags(docker(prod, 'team/svc'))).toEqual(['stable']);
    });

    describe('requireSignature target', () => {
      let reader: TestUser;

      beforeAll(async () => {
        reader = await createUser(server, newUser('reader'));
      });

      /**
       * What `cosign sign` pushes without referrers mode: an OCI manifest, no subject, tagged
       * `sha256-<hex>.sig` in the signed image's repository, with a simple-signing payload layer.
       */
      async function pushCosignSignature(key: string, image: string, signed: string): Promise<{ tag: string; bytes: Buffer; digest: string }> {
        const payload = blobOf(
          Buffer.from(
            JSON.stringify({
              critical: {
                identity: { 'docker-reference': `${server.host}/${key}/${image}` },
                image: { 'docker-manifest-digest': signed },
                type: 'cosign container image signature',
              },
              optional: null,
            }),
          ),
          COSIGN_SIMPLESIGNING,
        );
        const config = blobOf(
          Buffer.from(
            JSON.stringify({
              architecture: '',
              created: '0001-01-01T00:00:00Z',
              history: [{ created: '0001-01-01T00:00:00Z' }],
              os: '',
              rootfs: { type: 'layers', diff_ids: [payload.digest] },
              config: {},
            }),
          ),
          MediaTypes.OciConfig,
        );
        const base = `/v2/${key}/${image}/`;
        await pushBlobs(server, base, [config, payload]);
        const layer = descriptorOf(payload, { annotations: { 'dev.cosignproject.cosign/signature': randomBytes(64).toString('base64') } });
        const manifest = imageManifest({ config, layers: [layer] });
        const tag = `${signed.replace(':', '-')}.sig`;
        const res = await pushManifest(server, base, tag, manifest.bytes, manifest.mediaType);
        expectStatus(res, 201);
        return { tag, bytes: manifest.bytes, digest: manifest.digest };
      }

      it('a cosign-signed image promoted with its signature is pulled by a read-only user; the same image without a signature is refused (403)', async () => {
        const [dev, signedProd] = [await localRepo('docker-dev'), await localRepo('docker-signed', { requireSignature: true })];
        await grant(server, [dev, signedProd], { [reader.name]: ['read'] });
        const asReader = await Skopeo.create({ creds: reader.creds });
        try {
          const built = buildIndex({ layerCount: 1, layerSize: 16 * 1024 });
          expect(await skopeo.copy(await sourceOf(built), docker(dev, 'team/signed:1.0'), { all: true })).toBe(built.index.digest);
          const signature = await pushCosignSignature(dev, 'team/signed', built.index.digest);

          // Control: the reader may not pull an unsigned image from this repository (admins may push it).
          const raw = buildImage({ layerCount: 1 });
          await pushImage(server, `/v2/${signedProd}/team/raw/`, raw, '1');
          await failure(asReader.copy(docker(signedProd, 'team/raw:1'), `oci:${dir('unsigned-read')}:x`));

          // A reader cannot promote into it (no write).
          const denied = await promote(dev, { targetRepo: signedProd, dockerRepository: 'team/signed', tag: '1.0', copy: true }, reader.basic);
          expectStatus(denied, 403);
          expect(denied.json.detail).toContain(`write permission on ${signedProd}`);

          const res = await promote(dev, { targetRepo: signedProd, dockerRepository: 'team/signed', tag: '1.0', copy: true });
          expectStatus(res, 200);
          expect(res.json).toMatchObject({ tags: [{ source: '1.0', target: '1.0', digest: built.index.digest }], manifests: 3, referrers: 1 });
          expect((await skopeo.listTags(docker(signedProd, 'team/signed'))).sort()).toEqual(['1.0', signature.tag].sort());

          // The read-only user pulls the whole index, this machine's platform, and the signature.
          const all = dir('signed-all');
          expect(await asReader.copy(docker(signedProd, 'team/signed:1.0'), `oci:${all}:1.0`, { all: true })).toBe(built.index.digest);
          await expectIndexLayout(all, '1.0', built);
          expect(await asReader.copy(docker(signedProd, 'team/signed:1.0'), `oci:${dir('signed-one')}:1.0`)).toBe(built.images[0].manifest.digest);
          expect((await asReader.inspectRaw(docker(signedProd, `team/signed:${signature.tag}`))).equals(signature.bytes)).toBe(true);

          // The same bytes under another name in dev carry no signature: refused, nothing lands.
          expect(await skopeo.copy(await sourceOf(built), docker(dev, 'team/unsigned:1.0'), { all: true })).toBe(built.index.digest);
          const refused = await promote(dev, { targetRepo: signedProd, dockerRepository: 'team/unsigned', tag: '1.0', copy: true });
          expectStatus(refused, 403);
          expect(JSON.stringify(refused.json)).toContain('requireSignature');
          expectRegistryError(await getManifest(server, `/v2/${signedProd}/team/unsigned/`, '1.0'), 404, 'MANIFEST_UNKNOWN');
          // The dry run answers the same refusal.
          expectStatus(await promote(dev, { targetRepo: signedProd, dockerRepository: 'team/unsigned', tag: '1.0', copy: true, dryRun: true }), 403);
        } finally {
          await asReader.close();
        }
      });
    });
  });

  describe('from a remote (a real Distribution upstream behind a counting proxy)', () => {
    const blobGets = (name: string, image: BuiltImage, method = 'GET'): number[] =>
      [image.config, ...image.layers].map((blob) => blobRequests(fixture.proxy, method, name, blob.digest));

    it('a partly cached index: promotion fetches each missing child and blob once (cached ones not again), and the target serves everything with the upstream stopped', async () => {
      const remote = await fixture.remote();
      const prod = await localRepo('docker-prod');
      const name = fixture.imageName('partial');
      const built = buildIndex({ layerCount: 3, layerSize: 24 * 1024 });
      const [amd64, arm64] = built.images;
      await seedImage(fixture.upstream, name, '1', built);
      fixture.proxy.clearRequests();

      // skopeo pulls only this machine's platform through the remote: the index, amd64 and its blobs.
      expect(await skopeo.copy(docker(remote, `${name}:1`), `oci:${dir('partial')}:1`)).toBe(amd64.manifest.digest);
      expect(blobGets(name, amd64)).toEqual([1, 1, 1, 1]);
      expect(blobGets(name, arm64, '*')).toEqual([0, 0, 0, 0]);
      expect(manifestRequests(fixture.proxy, '*', name, arm64.manifest.digest)).toBe(0);

      fixture.proxy.clearRequests();
      const res = await promote(remote, { targetRepo: prod, dockerRepository: name, targetDockerRepository: 'team/partial', tag: '1', copy: true });
      expectStatus(res, 200);
      expect(res.json).toMatchObject({
        copy: true,
        source: { repository: remote, heldBy: remote, image: name },
        target: { repository: prod, deployedTo: prod, image: 'team/partial' },
        tags: [{ source: '1', target: '1', digest: built.index.digest }],
        manifests: 3,
        referrers: 0,
        manifestsAdded: 3,
        blobsLinked: blobCount(built),
      });
      // What was missing was fetched exactly once; what the pull had cached was not asked for again.
      expect(blobGets(name, arm64)).toEqual([1, 1, 1, 1]);
      expect(manifestRequests(fixture.proxy, 'GET', name, arm64.manifest.digest)).toBe(1);
      expect(blobGets(name, amd64, '*')).toEqual([0, 0, 0, 0]);
      expect(manifestRequests(fixture.proxy, '*', name, amd64.manifest.digest)).toBe(0);

      // The upstream goes away: the target (and the remote's cache) serve every byte.
      await fixture.upstream.down();
      fixture.proxy.clearRequests();
      await expectAllServed(prod, 'team/partial', built);
      const pulled = dir('from-prod');
      expect(await skopeo.copy(docker(prod, 'team/partial:1'), `oci:${pulled}:1`, { all: true })).toBe(built.index.digest);
      await expectIndexLayout(pulled, '1', built);
      await expectAllServed(remote, name, built);
      expect(fixture.proxy.requests).toHaveLength(0);

      // A second promotion of the now fully cached image, the upstream still down, asks it for no blob.
      const again = await promote(remote, { targetRepo: prod, dockerRepository: name, targetDockerRepository: 'team/partial', tag: '1', targetTag: 'again', copy: true });
      expectStatus(again, 200);
      expect(again.json).toMatchObject({ manifestsAdded: 0, blobsLinked: 0 });
      expect(fixture.proxy.countMatching('*', /\/blobs\//)).toBe(0);
    });

    it('refuses a remote source without a tag (400) and a move from a remote (400); the target gets nothing', async () => {
      const remote = await fixture.remote();
      const prod = await localRepo('docker-prod');
      const name = fixture.imageName('refused');
      const built = buildImage({ layerCount: 2 });
      await seedImage(fixture.upstream, name, '1', built);
      fixture.proxy.clearRequests();

      const untagged = await promote(remote, { targetRepo: prod, dockerRepository: name, copy: true });
      expectStatus(untagged, 400);
      expect(untagged.json.detail).toMatch(/tag is required/);
      expect(fixture.proxy.requests).toHaveLength(0);

      const moved = await promote(remote, { targetRepo: prod, dockerRepository: name, tag: '1', copy: false });
      expectStatus(moved, 400);
      expect(moved.json.detail).toMatch(/copy/);
      const implicitMove = await promote(remote, { targetRepo: prod, dockerRepository: name, tag: '1' });
      expectStatus(implicitMove, 400);

      expectRegistryError(await getManifest(server, `/v2/${prod}/${name}/`, '1'), 404, 'MANIFEST_UNKNOWN');
      const listed = await request(server, `/api/promotions?repository=${prod}`);
      expectStatus(listed, 200);
      expect(listed.json).toEqual([]);
    });

    // A request answered 400 costs no upstream traffic (rate limits, gigabytes for a real image)
    // and fills no cache: a move from a remote is refused before the upstream is asked.
    it('a refused move from a remote (400) asks the upstream for nothing', async () => {
      const remote = await fixture.remote();
      const prod = await localRepo('docker-prod');
      const name = fixture.imageName('refused-move');
      const built = buildImage({ layerCount: 2 });
      await seedImage(fixture.upstream, name, '1', built);
      fixture.proxy.clearRequests();

      const moved = await promote(remote, { targetRepo: prod, dockerRepository: name, tag: '1', copy: false });
      expectStatus(moved, 400);
      expect(fixture.proxy.requests.map((r) => `${r.method} ${r.path}`)).toEqual([]);
    });

    it('a blob tampered by the upstream during promotion fails it: nothing is cached or tagged; the next promotion fetches the blob again and succeeds', async () => {
      const remote = await fixture.remote();
      const prod = await localRepo('docker-prod');
      const name = fixture.imageName('tampered');
      const built = buildIndex({ layerCount: 2, layerSize: 24 * 1024 });
      const layer = built.images[1].layers[1];
      await seedImage(fixture.upstream, name, '1', built);
      fixture.proxy.clearRequests();

      const rule = fixture.proxy.corrupt(`/blobs/${layer.digest}`, { method: 'GET', times: 1 });
      const res = await promote(remote, { targetRepo: prod, dockerRepository: name, tag: '1', copy: true });
      expect(rule.hits).toBe(1);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.json.detail).toContain(layer.digest);
      expectRegistryError(await getManifest(server, `/v2/${prod}/${name}/`, '1'), 404, 'MANIFEST_UNKNOWN');
      expectRegistryError(await getManifest(server, `/v2/${prod}/${name}/`, built.index.digest), 404, 'MANIFEST_UNKNOWN');
      expect((await request(server, `/api/promotions?repository=${prod}`)).json).toEqual([]);

      fixture.proxy.clearRequests();
      const retried = await promote(remote, { targetRepo: prod, dockerRepository: name, tag: '1', copy: true });
      expectStatus(retried, 200);
      // The corrupted bytes were not kept: the layer was fetched again.
      expect(blobRequests(fixture.proxy, 'GET', name, layer.digest)).toBe(1);
      await fixture.upstream.down();
      await expectAllServed(prod, name, built);
    });

    // The caller sent nothing wrong: bytes from the upstream that do not match their digest are an
    // upstream failure (503, as for a corrupted manifest), not the storage driver's upload error.
    it('a tampered upstream blob fails the promotion as an upstream failure (5xx), not as a bad request (400)', async () => {
      const remote = await fixture.remote();
      const prod = await localRepo('docker-prod');
      const name = fixture.imageName('tampered-status');
      const built = buildImage({ layerCount: 1 });
      await seedImage(fixture.upstream, name, '1', built);
      fixture.proxy.corrupt(`/blobs/${built.layers[0].digest}`, { method: 'GET', times: 1 });

      const res = await promote(remote, { targetRepo: prod, dockerRepository: name, tag: '1', copy: true });
      const context = `${res.status} ${res.body.toString()}`;
      expect({ upstreamFailure: res.status >= 500, context }).toEqual({ upstreamFailure: true, context });
      expect(res.json.detail).not.toMatch(/upload/);
    });
  });

  describe('through virtual repositories', () => {
    it('CI pushes with skopeo to a dev virtual; promotion from it into a prod virtual lands in prod; skopeo pulls through the prod virtual', async () => {
      const [dev, prod] = [await localRepo('docker-dev'), await localRepo('docker-prod')];
      const devVirtual = freshKey('dev-virtual');
      const prodVirtual = freshKey('prod-virtual');
      await createVirtualRepository(server, devVirtual, { repositories: [dev], defaultDeploymentRepo: dev });
      await createVirtualRepository(server, prodVirtual, { repositories: [prod], defaultDeploymentRepo: prod });
      // Read on the virtuals, write on their deployment targets: what a pipeline is given.
      const ci = await createUser(server, newUser('ci-virtual'));
      await grant(server, [devVirtual, prodVirtual], { [ci.name]: ['read'] });
      await grant(server, [dev, prod], { [ci.name]: ['write', 'delete'] });
      const asCi = await Skopeo.create({ creds: ci.creds });
      try {
        const built = buildIndex({ layerCount: 1, layerSize: 16 * 1024 });
        expect(await asCi.copy(await sourceOf(built), docker(devVirtual, 'team/web:3.1'), { all: true })).toBe(built.index.digest);
        expectManifest(await getManifest(server, `/v2/${dev}/team/web/`, '3.1'), built.index);

        const res = await promote(devVirtual, { targetRepo: prodVirtual, dockerRepository: 'team/web', tag: '3.1', copy: true }, ci.basic);
        expectStatus(res, 200);
        expect(res.json).toMatchObject({
          source: { repository: devVirtual, heldBy: dev, image: 'team/web' },
          target: { repository: prodVirtual, deployedTo: prod, image: 'team/web' },
          tags: [{ source: '3.1', target: '3.1', digest: built.index.digest }],
          manifests: 3,
        });

        const pulled = dir('via-prod-virtual');
        expect(await asCi.copy(docker(prodVirtual, 'team/web:3.1'), `oci:${pulled}:3.1`, { all: true })).toBe(built.index.digest);
        await expectIndexLayout(pulled, '3.1', built);
        expectManifest(await getManifest(server, `/v2/${prod}/team/web/`, '3.1'), built.index);
        expectManifest(await getManifest(server, `/v2/${devVirtual}/team/web/`, '3.1'), built.index);

        // A move through the virtuals: the tag leaves dev, and the dev virtual no longer serves it.
        const moved = await promote(devVirtual, { targetRepo: prodVirtual, dockerRepository: 'team/web', tag: '3.1', targetTag: 'stable' }, ci.basic);
        expectStatus(moved, 200);
        expect(moved.json).toMatchObject({ source: { heldBy: dev }, target: { deployedTo: prod }, removedFromSource: { tags: ['3.1'] } });
        await failure(asCi.copy(docker(devVirtual, 'team/web:3.1'), `oci:${dir('gone')}:x`));
        expect(await asCi.copy(docker(prodVirtual, 'team/web:stable'), `oci:${dir('stable')}:stable`, { all: true })).toBe(built.index.digest);
      } finally {
        await asCi.close();
      }
    });
  });
});
