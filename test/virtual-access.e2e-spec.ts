// Who sees what through a virtual repository, and the resolve endpoint that says why. A member the
// caller may not read is skipped as if absent (manifests, blobs, tags, catalog, referrers,
// priority resolution, resolve steps); anonymous callers see anonymous-readable members only;
// Bearer tokens for the virtual's scope work. The resolve endpoint's answer is checked against
// what a pull through the same virtual serves, with a real CNCF Distribution upstream behind a
// counting proxy for the remote members. Last, skopeo, podman and the docker CLI pull through a
// virtual as a plain user, with the Bearer tokens they fetch for the virtual's scope.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { BuiltImage, MediaTypes, blobOf, buildImage, buildIndex, imageManifest, randomBlob, readOciLayout } from './helpers/oci-image-builder';
import { DockerCli, Podman, Skopeo } from './helpers/registry-clients';
import { HttpResult, PATH_FORMS, PathForm, RequestAuth, V2_FORM, expectRegistryError, expectStatus, pushBlobs, pushImage, pushManifest, request } from './helpers/registry-http';
import { RemoteFixture, blobRequests, manifestRequests, requestsFor, startRemoteFixture } from './helpers/remote-repository';
import { TamperProxy } from './helpers/tamper-proxy';
import { seedImage } from './helpers/upstream-registry';
import {
  TestUser,
  VirtualRepositoryFields,
  bearerFor,
  createUser,
  createVirtualRepository,
  expectManifest,
  expectProblem,
  freshKey,
  getManifest,
  grant,
  newUser,
  resolveRequest,
  resolveVirtual,
  stepSummary,
} from './helpers/virtual-repository';
import { WharfTestServer, createLocalRepository } from './helpers/wharf-server';

jest.setTimeout(180_000);

function decodeJwtPayload(authorization: string): any {
  const token = authorization.replace(/^Bearer /, '');
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

describe('virtual repositories: access and the resolve endpoint', () => {
  let fixture: RemoteFixture;
  let server: WharfTestServer;
  let proxy: TamperProxy;
  /** Reads the virtuals and the open members of each test. */
  let alice: TestUser;
  /** Reads members, never a virtual. */
  let carol: TestUser;

  beforeAll(async () => {
    fixture = await startRemoteFixture({ connectTimeoutMillis: 2000, socketTimeoutMillis: 10_000 });
    ({ server, proxy } = fixture);
    alice = await createUser(server, newUser('alice'));
    carol = await createUser(server, newUser('carol'));
  });
  afterAll(() => fixture?.close());
  beforeEach(() => fixture.reset());

  const imageName = (label: string): string => fixture.imageName(label);

  async function local(prefix = 'local', settings: Record<string, unknown> = {}): Promise<string> {
    const key = freshKey(prefix);
    await createLocalRepository(server, key, settings);
    return key;
  }

  async function virtual(repositories: string[], fields: VirtualRepositoryFields = {}): Promise<string> {
    const key = freshKey('virtual');
    await createVirtualRepository(server, key, { repositories, ...fields });
    return key;
  }

  async function pushTo(repo: string, image: string, tag: string, built: BuiltImage = buildImage({ layerCount: 1 })): Promise<BuiltImage> {
    await pushImage(server, V2_FORM.base(repo, image), built, tag);
    return built;
  }

  function manifestAs(auth: RequestAuth, key: string, image: string, reference: string, form: PathForm = V2_FORM, method = 'GET'): Promise<HttpResult> {
    return getManifest(server, form.base(key, image), reference, { auth, method });
  }

  function blobAs(auth: RequestAuth, key: string, image: string, digest: string, method = 'GET'): Promise<HttpResult> {
    return request(server, `${V2_FORM.base(key, image)}blobs/${digest}`, { auth, method });
  }

  function tagsAs(auth: RequestAuth, key: string, image: string): Promise<HttpResult> {
    return request(server, `${V2_FORM.base(key, image)}tags/list`, { auth });
  }

  /** Status and error code: what must not differ between "not held" and "held where you may not look". */
  function outcome(res: HttpResult): { status: number; code?: string } {
    return { status: res.status, code: res.json?.errors?.[0]?.code };
  }

  describe('a member the caller may not read', () => {
    it('is skipped as if absent: manifests, blobs, tags/list, _catalog, referrers and the resolve steps show nothing of it', async () => {
      const hidden = await local('hidden');
      const open = await local('open');
      const key = await virtual([hidden, open]);
      await grant(server, [key, open], { [alice.name]: ['read'] });
      await grant(server, [open], { [carol.name]: ['read'] });

      const name = imageName('skip');
      const h1 = await pushTo(hidden, name, '1');
      const h2 = await pushTo(hidden, name, '2');
      const o1 = await pushTo(open, name, '1');
      const o3 = await pushTo(open, name, '3');
      const hiddenOnly = imageName('hidden-only');
      const hm = await pushTo(hidden, hiddenOnly, '1');
      const never = imageName('never');

      // The admin reads every member: the hidden one comes first.
      expectManifest(await manifestAs(undefined, key, name, '1'), h1.manifest);
      expectManifest(await manifestAs(undefined, key, name, '2'), h2.manifest);

      for (const form of PATH_FORMS) {
        expectManifest(await manifestAs(alice.basic, key, name, '1', form), o1.manifest);
        expectManifest(await manifestAs(alice.basic, key, name, '3', form), o3.manifest);
        expectRegistryError(await manifestAs(alice.basic, key, name, '2', form), 404, 'MANIFEST_UNKNOWN');
        expectRegistryError(await manifestAs(alice.basic, key, name, h2.manifest.digest, form), 404, 'MANIFEST_UNKNOWN');
        expectStatus(await manifestAs(alice.basic, key, name, '2', form, 'HEAD'), 404);
      }
      expectRegistryError(await blobAs(alice.basic, key, name, h2.layers[0].digest), 404, 'BLOB_UNKNOWN');
      expectStatus(await blobAs(alice.basic, key, name, h2.layers[0].digest, 'HEAD'), 404);
      expectStatus(await blobAs(alice.basic, key, name, o1.layers[0].digest), 200);

      const tags = await tagsAs(alice.basic, key, name);
      expectStatus(tags, 200);
      expect(tags.json.tags).toEqual(['1', '3']);
      expect((await tagsAs(undefined, key, name)).json.tags).toEqual(['1', '2', '3']);

      // An image only the hidden member holds looks exactly like one nobody holds.
      expectRegistryError(await tagsAs(alice.basic, key, hiddenOnly), 404, 'NAME_UNKNOWN');
      expect(outcome(await tagsAs(alice.basic, key, hiddenOnly))).toEqual(outcome(await tagsAs(alice.basic, key, never)));
      expect(outcome(await manifestAs(alice.basic, key, hiddenOnly, '1'))).toEqual(outcome(await manifestAs(alice.basic, key, never, '1')));
      expect(outcome(await manifestAs(alice.basic, key, hiddenOnly, hm.manifest.digest))).toEqual(outcome(await manifestAs(alice.basic, key, never, hm.manifest.digest)));
      expect(outcome(await blobAs(alice.basic, key, hiddenOnly, hm.layers[0].digest))).toEqual(outcome(await blobAs(alice.basic, key, never, hm.layers[0].digest)));

      const catalog = await request(server, `/api/docker/${key}/v2/_catalog`, { auth: alice.basic });
      expectStatus(catalog, 200);
      expect(catalog.json.repositories).toContain(name);
      expect(catalog.json.repositories).not.toContain(hiddenOnly);
      expect((await request(server, `/api/docker/${key}/v2/_catalog`)).json.repositories).toContain(hiddenOnly);

      const seen = await resolveVirtual(server, key, name, '1', alice.basic);
      expect(seen).toMatchObject({ servedBy: open, digest: o1.manifest.digest });
      expect(stepSummary(seen)).toEqual([`${open}/held/found`]);
      const missing = await resolveVirtual(server, key, name, '2', alice.basic);
      expect(missing.servedBy).toBeNull();
      expect(missing).not.toHaveProperty('digest');
      expect(JSON.stringify(missing)).not.toContain(hidden);
      expect(JSON.stringify(missing)).not.toContain(h2.manifest.digest);
      expect((await resolveVirtual(server, key, name, '1')).servedBy).toBe(hidden);

      // A Bearer token for the virtual's scope sees the same.
      const token = await bearerFor(server, alice.basic, `repository:${key}/${name}:pull`);
      expect(decodeJwtPayload(token).access).toEqual([{ type: 'repository', name: `${key}/${name}`, actions: ['pull'] }]);
      expectManifest(await manifestAs(token, key, name, '1'), o1.manifest);
      expectRegistryError(await manifestAs(token, key, name, '2'), 404, 'MANIFEST_UNKNOWN');

      // Reading a member is not reading the virtual.
      expectRegistryError(await manifestAs(carol.basic, key, name, '1'), 404, 'NAME_UNKNOWN');
      expectRegistryError(await tagsAs(carol.basic, key, name), 404, 'NAME_UNKNOWN');
      expectProblem(await resolveRequest(server, key, { image: name, reference: '1' }, carol.basic), 404);
      expectManifest(await manifestAs(carol.basic, open, name, '1'), o1.manifest);
    });

    it('its referrers are left out of the merged list', async () => {
      const hidden = await local('hidden');
      const open = await local('open');
      const key = await virtual([hidden, open]);
      await grant(server, [key, open], { [alice.name]: ['read'] });
      const name = imageName('referrers');
      const subject = buildImage({ layerCount: 1 });
      await pushTo(hidden, name, '1', subject);
      await pushTo(open, name, '1', subject);
      const on = { mediaType: subject.manifest.mediaType, digest: subject.manifest.digest, size: subject.manifest.bytes.length };
      const empty = blobOf(Buffer.from('{}'), MediaTypes.OciEmpty);
      const referrerIn = async (repo: string) => {
        const layer = randomBlob(32);
        const manifest = imageManifest({ config: empty, layers: [layer], artifactType: 'application/vnd.example.sbom.v1+json', subject: on });
        await pushBlobs(server, V2_FORM.base(repo, name), [empty, layer]);
        expectStatus(await pushManifest(server, V2_FORM.base(repo, name), manifest.digest, manifest.bytes, manifest.mediaType), 201);
        return manifest.digest;
      };
      const hiddenReferrer = await referrerIn(hidden);
      const openReferrer = await referrerIn(open);

      const url = `${V2_FORM.base(key, name)}referrers/${subject.manifest.digest}`;
      const asAlice = await request(server, url, { auth: alice.basic });
      expectStatus(asAlice, 200);
      expect(asAlice.json.manifests.map((m: { digest: string }) => m.digest)).toEqual([openReferrer]);
      const asAdmin = await request(server, url);
      expect(asAdmin.json.manifests.map((m: { digest: string }) => m.digest).sort()).toEqual([hiddenReferrer, openReferrer].sort());
    });

    it('does not trigger priority resolution: a name held only where the caller may not look resolves as if no local held it', async () => {
      const hidden = await local('hidden');
      const hub = await fixture.remote();
      const key = await virtual([hidden, hub]);
      await grant(server, [key, hub], { [alice.name]: ['read'] });
      const name = imageName('priority-hidden');
      await pushTo(hidden, name, '1');
      const upstream = buildImage({ layerCount: 1 });
      await seedImage(fixture.upstream, name, '5', upstream);
      proxy.clearRequests();

      // For the admin the hidden local holds the name: local-only, no upstream request.
      expectRegistryError(await manifestAs(undefined, key, name, '5'), 404, 'MANIFEST_UNKNOWN');
      expect(requestsFor(proxy, name)).toBe(0);
      expect((await resolveVirtual(server, key, name, '5')).priorityResolution).toBe('local-only');

      // For alice no readable local holds it: the upstream answers.
      expectManifest(await manifestAs(alice.basic, key, name, '5'), upstream.manifest);
      const answer = await resolveVirtual(server, key, name, '5', alice.basic);
      expect(answer.priorityResolution).toBe('not-applied');
      expect(answer.servedBy).toBe(hub);
      expect(JSON.stringify(answer)).not.toContain(hidden);
    });

    it('is never asked when it is a remote: its upstream hears nothing', async () => {
      const open = await local('open');
      const hub = await fixture.remote();
      const key = await virtual([open, hub]);
      await grant(server, [key, open], { [alice.name]: ['read'] });
      const name = imageName('remote-hidden');
      const upstream = buildImage({ layerCount: 1 });
      await seedImage(fixture.upstream, name, '1', upstream);
      proxy.clearRequests();

      expectRegistryError(await manifestAs(alice.basic, key, name, '1'), 404, 'MANIFEST_UNKNOWN');
      expectRegistryError(await blobAs(alice.basic, key, name, upstream.layers[0].digest), 404, 'BLOB_UNKNOWN');
      expectRegistryError(await tagsAs(alice.basic, key, name), 404, 'NAME_UNKNOWN');
      const answer = await resolveVirtual(server, key, name, '1', alice.basic);
      expect(answer.servedBy).toBeNull();
      expect(answer.steps.map((s) => s.repository)).toEqual([open]);
      expect(requestsFor(proxy, name)).toBe(0);

      expectManifest(await manifestAs(undefined, key, name, '1'), upstream.manifest);
    });
  });

  describe('anonymous callers', () => {
    it('address a virtual with anonymousRead and see only its anonymous-readable members; a private virtual challenges them', async () => {
      const priv = await local('private');
      const pub = await local('public', { anonymousRead: true });
      const open = await virtual([priv, pub], { anonymousRead: true });
      const closed = await virtual([pub]);
      const name = imageName('anon');
      const privOne = await pushTo(priv, name, '1');
      const privTwo = await pushTo(priv, name, '2');
      const pubOne = await pushTo(pub, name, '1');
      const pubThree = await pushTo(pub, name, '3');

      expectManifest(await manifestAs(undefined, open, name, '1'), privOne.manifest);
      for (const form of PATH_FORMS) {
        expectManifest(await manifestAs(null, open, name, '1', form), pubOne.manifest);
        expectManifest(await manifestAs(null, open, name, '3', form), pubThree.manifest);
        expectRegistryError(await manifestAs(null, open, name, '2', form), 404, 'MANIFEST_UNKNOWN');
      }
      expectRegistryError(await blobAs(null, open, name, privTwo.layers[0].digest), 404, 'BLOB_UNKNOWN');
      const layer = await blobAs(null, open, name, pubThree.layers[0].digest);
      expectStatus(layer, 200);
      expect(layer.body.equals(pubThree.layers[0].bytes)).toBe(true);
      const tags = await tagsAs(null, open, name);
      expectStatus(tags, 200);
      expect(tags.json.tags).toEqual(['1', '3']);

      // An anonymous Bearer token for the virtual's scope works the same way (what docker pull does).
      const token = await bearerFor(server, null, `repository:${open}/${name}:pull`);
      expect(decodeJwtPayload(token).access).toEqual([{ type: 'repository', name: `${open}/${name}`, actions: ['pull'] }]);
      expectManifest(await manifestAs(token, open, name, '1'), pubOne.manifest);
      expectRegistryError(await manifestAs(token, open, name, '2'), 404, 'MANIFEST_UNKNOWN');

      // The virtual without anonymousRead: a challenge naming its pull scope, though its member is public.
      const refused = await manifestAs(null, closed, name, '1');
      expectRegistryError(refused, 401, 'UNAUTHORIZED');
      expect(refused.headers.get('www-authenticate')).toBe(`Bearer realm="${server.baseUrl}/v2/token",service="wharf",scope="repository:${closed}/${name}:pull"`);
      expectRegistryError(await tagsAs(null, closed, name), 401, 'UNAUTHORIZED');
      expectManifest(await manifestAs(null, pub, name, '1'), pubOne.manifest);
    });
  });

  describe('access tokens scoped to the virtual', () => {
    async function tokenFor(user: TestUser, repositories: string[], actions: string[]): Promise<string> {
      const res = await request(server, '/api/security/tokens', {
        method: 'POST',
        auth: user.basic,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: freshKey('ci'), repositories, actions }),
      });
      expectStatus(res, 201);
      return res.json.token;
    }

    it("read the members and push to the deployment target by the owner's permissions, within the token's actions", async () => {
      const ci = await createUser(server, newUser('ci'));
      const [target, other] = [await local(), await local()];
      const key = await virtual([target, other], { defaultDeploymentRepo: target });
      await grant(server, [key, other], { [ci.name]: ['read'] });
      await grant(server, [target], { [ci.name]: ['read', 'write'] });
      const name = imageName('token-scope');
      const held = await pushTo(other, name, '1');

      // The token names the virtual only: members are read, and pushes land, by ci's own permissions.
      const readWrite = `Basic ${Buffer.from(`${ci.name}:${await tokenFor(ci, [key], ['read', 'write'])}`).toString('base64')}`;
      expectManifest(await manifestAs(readWrite, key, name, '1'), held.manifest);
      const pushed = buildImage({ layerCount: 1 });
      await pushImage(server, V2_FORM.base(key, name), pushed, '2', { auth: readWrite });
      expectManifest(await manifestAs(server.adminAuthorization, target, name, '2'), pushed.manifest);
      // The same through the registry token docker would fetch with it.
      const jwt = await bearerFor(server, readWrite, `repository:${key}/${name}:pull,push`);
      expect(decodeJwtPayload(jwt).access).toEqual([{ type: 'repository', name: `${key}/${name}`, actions: ['pull', 'push'] }]);
      expectManifest(await manifestAs(jwt, key, name, '1'), held.manifest);

      // A read-only token cannot push, though its owner could.
      const readOnly = `Basic ${Buffer.from(`${ci.name}:${await tokenFor(ci, [key], ['read'])}`).toString('base64')}`;
      expectManifest(await manifestAs(readOnly, key, name, '1'), held.manifest);
      expectRegistryError(await request(server, `${V2_FORM.base(key, name)}blobs/uploads/`, { method: 'POST', auth: readOnly }), 403, 'DENIED');
      // A token for another repository does not open the virtual, and the owner's permissions do not widen it.
      const elsewhere = `Basic ${Buffer.from(`${ci.name}:${await tokenFor(ci, [other], ['read'])}`).toString('base64')}`;
      expectRegistryError(await manifestAs(elsewhere, key, name, '1'), 403, 'DENIED');
    });
  });

  describe('the resolve endpoint', () => {
    it('names the serving member and what each member answered, in the order asked, stopping at the winner; it matches what a pull serves', async () => {
      const [l1, l2] = [await local('l1'), await local('l2')];
      const hub = await fixture.remote();
      const key = await virtual([l1, l2, hub], { priorityResolution: false });
      const name = imageName('resolve');
      const b = await pushTo(l2, name, '1');
      const a = await pushTo(l1, name, 'both');
      await pushTo(l2, name, 'both');
      const upstream = buildImage({ layerCount: 2 });
      await seedImage(fixture.upstream, name, '2', upstream);
      proxy.clearRequests();

      const held = await resolveVirtual(server, key, name, '1');
      expect(held).toMatchObject({
        repository: key,
        image: name,
        reference: '1',
        servedBy: l2,
        digest: b.manifest.digest,
        mediaType: b.manifest.mediaType,
        priorityResolution: 'off',
      });
      expect(held.steps).toEqual([
        { repository: l1, pass: 'held', result: 'missing' },
        { repository: l2, pass: 'held', result: 'found', digest: b.manifest.digest },
      ]);
      expectManifest(await manifestAs(undefined, key, name, '1'), b.manifest);

      const first = await resolveVirtual(server, key, name, 'both');
      expect(first.servedBy).toBe(l1);
      expect(stepSummary(first)).toEqual([`${l1}/held/found`]);
      expect(first.digest).toBe(a.manifest.digest);

      const byDigest = await resolveVirtual(server, key, name, b.manifest.digest);
      expect(byDigest).toMatchObject({ servedBy: l2, digest: b.manifest.digest, reference: b.manifest.digest });

      const fromUpstream = await resolveVirtual(server, key, name, '2');
      expect(stepSummary(fromUpstream)).toEqual([`${l1}/held/missing`, `${l2}/held/missing`, `${hub}/held/missing`, `${hub}/upstream/found`]);
      expect(fromUpstream).toMatchObject({ servedBy: hub, digest: upstream.manifest.digest, mediaType: upstream.manifest.mediaType });
      // A dry resolution: no blob is fetched.
      expect(blobRequests(proxy, '*', name)).toBe(0);
      expectManifest(await manifestAs(undefined, key, name, '2'), upstream.manifest);

      const nowhere = await resolveVirtual(server, key, name, '3');
      expect(nowhere.servedBy).toBeNull();
      expect(nowhere).not.toHaveProperty('digest');
      expect(nowhere).not.toHaveProperty('mediaType');
      expect(stepSummary(nowhere)).toEqual([`${l1}/held/missing`, `${l2}/held/missing`, `${hub}/held/missing`, `${hub}/upstream/missing`]);
      expectRegistryError(await manifestAs(undefined, key, name, '3'), 404, 'MANIFEST_UNKNOWN');
    });

    it('reports an upstream failure as an error step with a message', async () => {
      const l1 = await local();
      const hub = await fixture.remote();
      const key = await virtual([l1, hub]);
      const name = imageName('failing');
      proxy.respond(`/v2/${name}/manifests/`, 500);

      const answer = await resolveVirtual(server, key, name, '1');
      expect(answer.servedBy).toBeNull();
      expect(answer.priorityResolution).toBe('not-applied');
      const upstreamStep = answer.steps.find((s) => s.pass === 'upstream');
      expect(upstreamStep).toMatchObject({ repository: hub, result: 'error' });
      expect(typeof upstreamStep!.message).toBe('string');
      expect(upstreamStep!.message!.length).toBeGreaterThan(0);
      expect(manifestRequests(proxy, '*', name)).toBeGreaterThanOrEqual(1);
    });

    it('refuses: 400 without image or reference, 404 for a repository that is not virtual or does not exist, 404 for a caller who may not read the virtual', async () => {
      const l1 = await local();
      const hub = await fixture.remote();
      const key = await virtual([l1]);
      const name = imageName('refusals');
      await pushTo(l1, name, '1');

      expectProblem(await resolveRequest(server, key, { reference: '1' }), 400, 'image');
      expectProblem(await resolveRequest(server, key, { image: name }), 400, 'reference');
      expectProblem(await resolveRequest(server, key, {}), 400);
      for (const other of [l1, hub, freshKey('missing')]) expectProblem(await resolveRequest(server, other, { image: name, reference: '1' }), 404);
      expectProblem(await resolveRequest(server, key, { image: name, reference: '1' }, carol.basic), 404);
      await grant(server, [key], { [carol.name]: ['read'] });
      const granted = await resolveVirtual(server, key, name, '1', carol.basic);
      // carol reads the virtual but not its member: nothing is served to her.
      expect(granted.servedBy).toBeNull();
      expect(granted.steps).toEqual([]);
      expect((await resolveVirtual(server, key, name, '1')).servedBy).toBe(l1);
    });
  });

  describe('real clients pulling through a virtual with Bearer tokens', () => {
    it('skopeo, podman and docker manifest inspect, as a user who reads the virtual and its members, pull a multi-arch index a remote member serves', async () => {
      const l1 = await local();
      const hub = await fixture.remote();
      const key = await virtual([l1, hub]);
      const reader = await createUser(server, newUser('puller'));
      await grant(server, [key, l1, hub], { [reader.name]: ['read'] });
      const name = imageName('clients');
      const built = buildIndex({ layerCount: 1, layerSize: 32 * 1024 });
      await seedImage(fixture.upstream, name, '1', built);
      const mineName = imageName('mine');
      const mine = await pushTo(l1, mineName, '1');
      const work = path.join(os.tmpdir(), `wharf-virtual-pull-${randomBytes(6).toString('hex')}`);
      await fs.mkdir(work);
      const skopeo = await Skopeo.create({ creds: reader.creds });
      const podman = await Podman.create();
      const cli = await DockerCli.create();
      try {
        const ref = `${server.host}/${key}/${name}:1`;
        const layoutDir = path.join(work, 'all');
        expect(await skopeo.copy(`docker://${ref}`, `oci:${layoutDir}:1`, { all: true })).toBe(built.index.digest);
        const layout = await readOciLayout(layoutDir);
        for (const image of built.images) {
          expect((await layout.readBlob(image.manifest.digest)).equals(image.manifest.bytes)).toBe(true);
          for (const layer of image.layers) expect((await layout.readBlob(layer.digest)).equals(layer.bytes)).toBe(true);
        }

        await podman.login(server.host, reader.creds);
        const id = await podman.pull(ref);
        expect(`sha256:${id}`).toBe(built.images[0].config.digest);

        await cli.login(server.host, reader.creds);
        expect(await cli.manifestInspect(ref)).toEqual(JSON.parse(built.index.bytes.toString()));
        const verbose = await cli.manifestInspectVerbose(ref);
        expect(verbose.map((entry) => entry.Descriptor.digest)).toEqual(built.images.map((image) => image.manifest.digest));

        // The local member's image comes through the same name with the same token flow.
        expect((await skopeo.inspectRaw(`docker://${server.host}/${key}/${mineName}:1`)).equals(mine.manifest.bytes)).toBe(true);
      } finally {
        await skopeo.close();
        await podman.close();
        await cli.close();
        await fs.rm(work, { recursive: true, force: true });
      }
    });
  });
});
