// Reads through virtual repositories over HTTP, on both path forms: the two-pass resolution order
// across local and remote members (with a real CNCF Distribution upstream behind a proxy that
// counts what reaches it), the timestamp mode, priority resolution on and off, manifests and
// blobs by digest, a multi-arch index served by a remote member, nested virtuals, a deleted
// member, the merged listings (tags/list, _catalog, referrers) and the include/exclude patterns.
// Every test builds its own virtual over its own members and uses its own image names.
import { randomBytes } from 'node:crypto';
import { BuiltImage, BuiltIndex, MediaTypes, blobOf, buildImage, buildIndex, imageManifest, randomBlob } from './helpers/oci-image-builder';
import {
  API_FORM,
  HttpResult,
  PATH_FORMS,
  PathForm,
  V2_FORM,
  expectRegistryError,
  expectStatus,
  pushBlobs,
  pushImage,
  pushManifest,
  request,
  sha256,
} from './helpers/registry-http';
import { RemoteFixture, RemoteRepositoryFields, blobRequests, createRemoteRepository, manifestRequests, requestsFor, sleep, startRemoteFixture } from './helpers/remote-repository';
import { TamperProxy } from './helpers/tamper-proxy';
import { seedImage } from './helpers/upstream-registry';
import {
  VirtualRepositoryFields,
  allPages,
  createVirtualRepository,
  deleteRepository,
  expectManifest,
  freshKey,
  getManifest,
  nextLink,
  resolveVirtual,
  sortedUnion,
  stepSummary,
} from './helpers/virtual-repository';
import { WharfTestServer, createLocalRepository } from './helpers/wharf-server';

jest.setTimeout(120_000);

describe('virtual repositories: reads', () => {
  let fixture: RemoteFixture;
  let server: WharfTestServer;
  let proxy: TamperProxy;

  beforeAll(async () => {
    fixture = await startRemoteFixture({ connectTimeoutMillis: 2000, socketTimeoutMillis: 10_000 });
    ({ server, proxy } = fixture);
  });
  afterAll(() => fixture?.close());
  beforeEach(() => fixture.reset());

  const imageName = (label: string): string => fixture.imageName(label);

  async function local(prefix = 'local'): Promise<string> {
    const key = freshKey(prefix);
    await createLocalRepository(server, key);
    return key;
  }

  const remote = (fields: RemoteRepositoryFields = {}): Promise<string> => fixture.remote(fields);

  async function virtual(repositories: string[], fields: VirtualRepositoryFields = {}): Promise<string> {
    const key = freshKey('virtual');
    await createVirtualRepository(server, key, { repositories, ...fields });
    return key;
  }

  /** Pushes `built` (a fresh one-layer image by default) to a local repository under `tag`. */
  async function pushTo<T extends BuiltImage | BuiltIndex = BuiltImage>(repo: string, image: string, tag: string, built?: T): Promise<T> {
    const content = built ?? (buildImage({ layerCount: 1 }) as T);
    await pushImage(server, V2_FORM.base(repo, image), content, tag);
    return content;
  }

  /** Seeds the upstream (as Docker Hub would hold it) with a fresh one-layer image. */
  async function seedUpstream(image: string, tag: string, built: BuiltImage | BuiltIndex = buildImage({ layerCount: 1 })): Promise<BuiltImage | BuiltIndex> {
    await seedImage(fixture.upstream, image, tag, built);
    return built;
  }

  function manifestVia(key: string, image: string, reference: string, options: { form?: PathForm; method?: string } = {}): Promise<HttpResult> {
    return getManifest(server, (options.form ?? V2_FORM).base(key, image), reference, { method: options.method });
  }

  function blobVia(key: string, image: string, digest: string, options: { form?: PathForm; method?: string } = {}): Promise<HttpResult> {
    return request(server, `${(options.form ?? V2_FORM).base(key, image)}blobs/${digest}`, { method: options.method ?? 'GET' });
  }

  /** The manifest is served through `key` on both path forms, by GET and HEAD. */
  async function expectServed(key: string, image: string, reference: string, expected: { bytes: Buffer; digest: string; mediaType: string }): Promise<void> {
    for (const form of PATH_FORMS) {
      expectManifest(await manifestVia(key, image, reference, { form }), expected);
      const head = await manifestVia(key, image, reference, { form, method: 'HEAD' });
      expectStatus(head, 200);
      expect(head.headers.get('docker-content-digest')).toBe(expected.digest);
      expect(head.headers.get('content-length')).toBe(String(expected.bytes.length));
    }
  }

  async function expectManifestUnknown(key: string, image: string, reference: string): Promise<void> {
    for (const form of PATH_FORMS) expectRegistryError(await manifestVia(key, image, reference, { form }), 404, 'MANIFEST_UNKNOWN');
  }

  function tagsVia(key: string, image: string, query = '', form: PathForm = V2_FORM): Promise<HttpResult> {
    return request(server, `${form.base(key, image)}tags/list${query}`);
  }

  function top(built: BuiltImage | BuiltIndex) {
    return 'index' in built ? built.index : built.manifest;
  }

  describe('resolution order', () => {
    it('first pass: members answer from what they hold, in order, without asking an upstream; second pass: the remotes ask theirs', async () => {
      const [l1, l2] = [await local('l1'), await local('l2')];
      const hub = await remote();
      const name = imageName('order');
      const a1 = await pushTo(l1, name, '1');
      await pushTo(l2, name, '1');
      const b2 = await pushTo(l2, name, '2');
      await seedUpstream(name, '1');
      await seedUpstream(name, '2');
      const u3 = await seedUpstream(name, '3');
      // The remote comes first in the list, yet nothing it has not cached is asked before the locals.
      const key = await virtual([hub, l1, l2], { priorityResolution: false });
      proxy.clearRequests();

      await expectServed(key, name, '1', a1.manifest);
      await expectServed(key, name, '2', b2.manifest);
      expect(requestsFor(proxy, name)).toBe(0);

      await expectServed(key, name, '3', top(u3));
      expect(manifestRequests(proxy, 'GET', name, '3')).toBeGreaterThanOrEqual(1);
      expect(manifestRequests(proxy, '*', name, '1')).toBe(0);
      expect(manifestRequests(proxy, '*', name, '2')).toBe(0);
      await expectManifestUnknown(key, name, '4');

      // Once the remote holds tag 1 (fresh in its cache), it answers first in the first pass.
      const u1 = await request(server, `/v2/${hub}/${name}/manifests/1`, { headers: { accept: MediaTypes.OciManifest } });
      expectStatus(u1, 200);
      proxy.clearRequests();
      expectManifest(await manifestVia(key, name, '1'), { bytes: u1.body, digest: sha256(u1.body), mediaType: MediaTypes.OciManifest });
      expect(requestsFor(proxy, name)).toBe(0);
      // Members after it in another virtual do not matter; order does.
      const localsFirst = await virtual([l1, hub, l2], { priorityResolution: false });
      await expectServed(localsFirst, name, '1', a1.manifest);
      await expectServed(await virtual([l2, l1], { priorityResolution: false }), name, '2', b2.manifest);
    });

    it('a one-segment name reaches a Docker Hub-style remote member as library/<name> (docker pull wharf/docker/nginx)', async () => {
      const l1 = await local();
      const hub = await remote({ libraryPrefix: true });
      const official = imageName('nginx');
      const bare = official.slice('library/'.length);
      const image = await seedUpstream(official, '1.27');
      const key = await virtual([l1, hub], { defaultDeploymentRepo: l1 });
      proxy.clearRequests();

      await expectServed(key, bare, '1.27', top(image));
      expect(manifestRequests(proxy, 'GET', official, '1.27')).toBeGreaterThanOrEqual(1);
      expect(requestsFor(proxy, bare)).toBe(0);
      expect((await resolveVirtual(server, key, bare, '1.27')).servedBy).toBe(hub);
    });

    it('an unreachable remote member is passed over in the second pass: the next remote answers', async () => {
      const dead = freshKey('dead');
      // Nothing listens on port 1.
      await createRemoteRepository(server, dead, { url: 'http://127.0.0.1:1', connectTimeoutMillis: 1000 });
      const hub = await remote();
      const name = imageName('unreachable');
      const image = await seedUpstream(name, '1');
      const key = await virtual([dead, hub]);

      await expectServed(key, name, '1', top(image));
      const layer = (image as BuiltImage).layers[0];
      const blob = await blobVia(key, name, layer.digest);
      expectStatus(blob, 200);
      expect(blob.body.equals(layer.bytes)).toBe(true);

      const answer = await resolveVirtual(server, key, name, '2');
      expect(stepSummary(answer)).toEqual([`${dead}/held/missing`, `${hub}/held/missing`, `${dead}/upstream/error`, `${hub}/upstream/missing`]);
      expect(answer.steps[2].message).toEqual(expect.any(String));
      // Missing everywhere reachable, unknown where unreachable: never a 200.
      expect([404, 503]).toContain((await manifestVia(key, name, '2')).status);
    });

    it("a remote's cached tag counts in the first pass only while younger than its metadataRetrievalCachePeriod", async () => {
      const l1 = await local();
      const hub = await remote({ metadataRetrievalCachePeriod: 1 });
      const name = imageName('period');
      const held = await pushTo(l1, name, '1');
      const upstream = await seedUpstream(name, '1');
      expectManifest(await request(server, `/v2/${hub}/${name}/manifests/1`, { headers: { accept: MediaTypes.OciManifest } }), top(upstream));
      const key = await virtual([hub, l1], { priorityResolution: false });
      proxy.clearRequests();

      expectManifest(await manifestVia(key, name, '1'), top(upstream));
      expect(requestsFor(proxy, name)).toBe(0);

      await sleep(1500);
      // The cached tag is now too old to count as held: the local's answers in the first pass.
      expectManifest(await manifestVia(key, name, '1'), held.manifest);
      expect(requestsFor(proxy, name)).toBe(0);
    });

    it('resolveDockerTagsByTimestamp: among the members holding the tag, the most recently pushed (or cached) wins', async () => {
      const [l1, l2] = [await local('l1'), await local('l2')];
      const hub = await remote();
      const name = imageName('timestamp');
      const first = await pushTo(l1, name, '1');
      await sleep(50);
      const second = await pushTo(l2, name, '1');
      const byTime = await virtual([l1, l2], { resolveDockerTagsByTimestamp: true });
      const byOrder = await virtual([l1, l2]);

      await expectServed(byTime, name, '1', second.manifest);
      await expectServed(byOrder, name, '1', first.manifest);

      // Pushing the tag again in the first member makes it the newest.
      await sleep(50);
      const third = await pushTo(l1, name, '1');
      await expectServed(byTime, name, '1', third.manifest);
      // A tag held by one member only is that member's.
      const only = await pushTo(l2, name, 'only-l2');
      await expectServed(byTime, name, 'only-l2', only.manifest);

      // A remote's tag counts from when it was cached.
      await sleep(50);
      const upstream = await seedUpstream(name, '1');
      expectManifest(await request(server, `/v2/${hub}/${name}/manifests/1`, { headers: { accept: MediaTypes.OciManifest } }), top(upstream));
      const withRemote = await virtual([l1, l2, hub], { resolveDockerTagsByTimestamp: true, priorityResolution: false });
      proxy.clearRequests();
      await expectServed(withRemote, name, '1', top(upstream));
      expect(requestsFor(proxy, name)).toBe(0);
      await sleep(50);
      const fourth = await pushTo(l2, name, '1');
      await expectServed(withRemote, name, '1', fourth.manifest);

      // Every first-pass member is asked in timestamp mode, and the answer names the newest.
      const answer = await resolveVirtual(server, withRemote, name, '1');
      expect(answer.servedBy).toBe(l2);
      expect(answer.digest).toBe(fourth.manifest.digest);
      expect(stepSummary(answer)).toEqual([`${l1}/held/found`, `${l2}/held/found`, `${hub}/held/found`]);
      expect(answer.steps.map((s) => s.digest)).toEqual([third.manifest.digest, fourth.manifest.digest, top(upstream).digest]);

      // With priority resolution on, a local holding the name keeps the newer cached remote tag out.
      const localFirst = await virtual([hub, l1], { resolveDockerTagsByTimestamp: true });
      const newest = await seedUpstream(name, 'newest');
      expectManifest(await request(server, `/v2/${hub}/${name}/manifests/newest`, { headers: { accept: MediaTypes.OciManifest } }), top(newest));
      await sleep(50);
      expectManifest(await request(server, `/v2/${hub}/${name}/manifests/1`, { headers: { accept: MediaTypes.OciManifest } }), top(upstream));
      await expectServed(localFirst, name, '1', third.manifest);
      await expectManifestUnknown(localFirst, name, 'newest');
    });
  });

  describe('priority resolution', () => {
    /** A local holding `name:1`, a remote whose upstream has `name:1` (cached) and `name:2`, and a virtual [remote, local]. */
    async function scenario(priorityResolution?: boolean) {
      const l1 = await local();
      const hub = await remote();
      const name = imageName(`priority-${priorityResolution ?? 'default'}`);
      const held = await pushTo(l1, name, '1');
      const cached = await seedUpstream(name, '1');
      const upstreamOnly = await seedUpstream(name, '2');
      expectManifest(await request(server, `/v2/${hub}/${name}/manifests/1`, { headers: { accept: MediaTypes.OciManifest } }), top(cached));
      const key = await virtual([hub, l1], priorityResolution === undefined ? {} : { priorityResolution });
      proxy.clearRequests();
      return { l1, hub, name, held, cached, upstreamOnly, key };
    }

    it('on (the default): once a local member holds the name, it is resolved from local members only, and no upstream is asked', async () => {
      const { l1, hub, name, held, key } = await scenario();
      // The remote comes first and has the tag cached, but the local holds the name.
      await expectServed(key, name, '1', held.manifest);
      await expectManifestUnknown(key, name, '2');
      expectStatus(await manifestVia(key, name, '2', { method: 'HEAD' }), 404);
      expect(requestsFor(proxy, name)).toBe(0);

      const answer = await resolveVirtual(server, key, name, '2');
      expect(answer.priorityResolution).toBe('local-only');
      expect(answer.servedBy).toBeNull();
      expect(answer.steps.every((s) => s.repository === l1)).toBe(true);
      expect(answer.steps.some((s) => s.repository === hub)).toBe(false);
      expect(requestsFor(proxy, name)).toBe(0);

      // A name no local member holds resolves through the remote as usual.
      const other = imageName('priority-free');
      const fromUpstream = await seedUpstream(other, '1');
      proxy.clearRequests();
      await expectServed(key, other, '1', top(fromUpstream));
      expect(manifestRequests(proxy, 'GET', other, '1')).toBeGreaterThanOrEqual(1);
      expect((await resolveVirtual(server, key, other, '1')).priorityResolution).toBe('not-applied');
    });

    it('on: a local holding only an untagged manifest of the name is enough to keep the name local', async () => {
      const l1 = await local();
      const hub = await remote();
      const name = imageName('untagged');
      const untagged = buildImage({ layerCount: 1 });
      await pushBlobs(server, V2_FORM.base(l1, name), [untagged.config, ...untagged.layers]);
      expectStatus(await pushManifest(server, V2_FORM.base(l1, name), untagged.manifest.digest, untagged.manifest.bytes, untagged.manifest.mediaType), 201);
      await seedUpstream(name, '1');
      const key = await virtual([hub, l1]);
      proxy.clearRequests();

      await expectManifestUnknown(key, name, '1');
      expect(requestsFor(proxy, name)).toBe(0);
      await expectServed(key, name, untagged.manifest.digest, untagged.manifest);
    });

    it('off: plain order, first pass then second; a tag missing locally comes from the upstream', async () => {
      const { hub, name, cached, upstreamOnly, key } = await scenario(false);
      // The remote is first and its cached tag is fresh: it wins the first pass.
      await expectServed(key, name, '1', top(cached));
      expect(requestsFor(proxy, name)).toBe(0);
      await expectServed(key, name, '2', top(upstreamOnly));
      expect(manifestRequests(proxy, 'GET', name, '2')).toBeGreaterThanOrEqual(1);

      const answer = await resolveVirtual(server, key, name, '1');
      expect(answer.priorityResolution).toBe('off');
      expect(answer.servedBy).toBe(hub);
    });
  });

  describe('by digest', () => {
    it('a manifest or blob by digest comes from the first member holding it; a blob a member holds is never fetched upstream', async () => {
      const l1 = await local();
      const hub = await remote();
      const name = imageName('digest');
      const both = buildImage({ layerCount: 2 });
      await pushTo(l1, name, '1', both);
      await seedUpstream(name, '1', both);
      const upstreamOnly = (await seedUpstream(name, '2')) as BuiltImage;
      // The remote is first, with priority resolution off: only holding decides.
      const key = await virtual([hub, l1], { priorityResolution: false });
      proxy.clearRequests();

      for (const form of PATH_FORMS) {
        for (const blob of [both.config, ...both.layers]) {
          const got = await blobVia(key, name, blob.digest, { form });
          expectStatus(got, 200);
          expect(got.body.equals(blob.bytes)).toBe(true);
          expect(got.headers.get('docker-content-digest')).toBe(blob.digest);
          const head = await blobVia(key, name, blob.digest, { form, method: 'HEAD' });
          expectStatus(head, 200);
          expect(head.headers.get('content-length')).toBe(String(blob.bytes.length));
        }
      }
      await expectServed(key, name, both.manifest.digest, both.manifest);
      expect(requestsFor(proxy, name)).toBe(0);

      // Held by no member: the upstream is asked last.
      const layer = upstreamOnly.layers[0];
      const fetched = await blobVia(key, name, layer.digest);
      expectStatus(fetched, 200);
      expect(fetched.body.equals(layer.bytes)).toBe(true);
      expect(blobRequests(proxy, 'GET', name, layer.digest)).toBeGreaterThanOrEqual(1);
      await expectServed(key, name, upstreamOnly.manifest.digest, upstreamOnly.manifest);

      const unknown = sha256(randomBytes(32));
      expectRegistryError(await blobVia(key, name, unknown), 404, 'BLOB_UNKNOWN');
      expectStatus(await blobVia(key, name, unknown, { method: 'HEAD' }), 404);
      await expectManifestUnknown(key, name, unknown);
    });

    it('a mount from the virtual resolves through its local members only: a blob only upstream is not fetched for it', async () => {
      const l1 = await local();
      const hub = await remote();
      const name = imageName('mount');
      const upstreamOnly = (await seedUpstream(name, '1')) as BuiltImage;
      const held = await pushTo(l1, name, '2');
      const target = await local('target');
      const key = await virtual([hub, l1], { priorityResolution: false });
      proxy.clearRequests();

      const into = V2_FORM.base(target, 'mounted');
      const mounted = await request(server, `${into}blobs/uploads/?mount=${held.layers[0].digest}&from=${key}/${name}`, { method: 'POST' });
      expectStatus(mounted, 201);
      expect(mounted.headers.get('docker-content-digest')).toBe(held.layers[0].digest);
      const notMounted = await request(server, `${into}blobs/uploads/?mount=${upstreamOnly.layers[0].digest}&from=${key}/${name}`, { method: 'POST' });
      expectStatus(notMounted, 202);
      expect(notMounted.headers.get('docker-content-digest')).toBeNull();
      expect(requestsFor(proxy, name)).toBe(0);
      expectRegistryError(await request(server, `${into}blobs/${upstreamOnly.layers[0].digest}`), 404, 'BLOB_UNKNOWN');
    });

    it('a multi-arch index from a remote member: the index by tag, each child by digest, and its blobs', async () => {
      const l1 = await local();
      const hub = await remote();
      const name = imageName('multi');
      const built = buildIndex({ layerCount: 1 });
      await seedUpstream(name, '1', built);
      // The local holds other names only; priority resolution stays on.
      await pushTo(l1, imageName('unrelated'), '1');
      const key = await virtual([l1, hub]);
      proxy.clearRequests();

      await expectServed(key, name, '1', built.index);
      for (const child of built.images) {
        await expectServed(key, name, child.manifest.digest, child.manifest);
        const got = await blobVia(key, name, child.layers[0].digest, { form: API_FORM });
        expectStatus(got, 200);
        expect(got.body.equals(child.layers[0].bytes)).toBe(true);
      }
      const answer = await resolveVirtual(server, key, name, built.images[1].manifest.digest);
      expect(answer).toMatchObject({ servedBy: hub, digest: built.images[1].manifest.digest, mediaType: built.images[1].manifest.mediaType });
      const tags = await tagsVia(key, name);
      expectStatus(tags, 200);
      expect(tags.json.tags).toEqual(['1']);
    });
  });

  describe('nested virtuals and deleted members', () => {
    it("a nested virtual's members are asked in the flattened order", async () => {
      const [l1, l2] = [await local('l1'), await local('l2')];
      const hub = await remote();
      const name = imageName('nested');
      const a1 = await pushTo(l1, name, '1');
      await pushTo(l2, name, '1');
      const b2 = await pushTo(l2, name, '2');
      const u3 = await seedUpstream(name, '3');
      const inner = await virtual([l2, hub]);
      const outer = await virtual([l1, inner], { priorityResolution: false });
      proxy.clearRequests();

      await expectServed(outer, name, '1', a1.manifest);
      await expectServed(outer, name, '2', b2.manifest);
      expect(requestsFor(proxy, name)).toBe(0);
      await expectServed(outer, name, '3', top(u3));
      await expectServed(outer, name, b2.manifest.digest, b2.manifest);

      const answer = await resolveVirtual(server, outer, name, '2');
      expect(stepSummary(answer)).toEqual([`${l1}/held/missing`, `${l2}/held/found`]);
      expect(answer.servedBy).toBe(l2);

      const tags = await tagsVia(outer, name);
      expectStatus(tags, 200);
      expect(tags.json.tags).toEqual(['1', '2', '3']);
    });

    it('a deleted member no longer serves through the virtual; the next member does', async () => {
      const [l1, l2] = [await local('l1'), await local('l2')];
      const name = imageName('deleted');
      const a = await pushTo(l1, name, '1');
      const b = await pushTo(l2, name, '1');
      const onlyFirst = await pushTo(l1, name, 'first-only');
      const key = await virtual([l1, l2]);
      await expectServed(key, name, '1', a.manifest);
      await expectServed(key, name, 'first-only', onlyFirst.manifest);

      expectStatus(await deleteRepository(server, l1), 204);
      await expectServed(key, name, '1', b.manifest);
      await expectManifestUnknown(key, name, 'first-only');
      expect((await tagsVia(key, name)).json.tags).toEqual(['1']);

      expectStatus(await deleteRepository(server, l2), 204);
      expectStatus(await manifestVia(key, name, '1'), 404);
      expectRegistryError(await tagsVia(key, name), 404, 'NAME_UNKNOWN');
    });
  });

  describe('listings', () => {
    it.each(PATH_FORMS.map((form) => [form.label, form] as const))(
      "tags/list on %s: the union of the members' tags, byte-sorted, de-duplicated, paginated",
      async (_label, form) => {
        const [l1, l2] = [await local('l1'), await local('l2')];
        const name = imageName('tags');
        const image = buildImage({ layerCount: 1 });
        const firstTags = ['1.0', 'a', 'B', 'latest', 'v1-rc'];
        const secondTags = ['a', 'b', 'Z9', '_x', '1.0', 'v1.10', 'a.b'];
        await pushTo(l1, name, firstTags[0], image);
        for (const tag of firstTags.slice(1)) expectStatus(await pushManifest(server, V2_FORM.base(l1, name), tag, image.manifest.bytes, image.manifest.mediaType), 201);
        await pushTo(l2, name, secondTags[0], image);
        for (const tag of secondTags.slice(1)) expectStatus(await pushManifest(server, V2_FORM.base(l2, name), tag, image.manifest.bytes, image.manifest.mediaType), 201);
        const key = await virtual([l1, l2]);
        const base = form.base(key, name);
        const expected = sortedUnion(firstTags, secondTags);
        expect(expected).toHaveLength(10);

        const all = await tagsVia(key, name, '', form);
        expectStatus(all, 200);
        expect(all.headers.get('content-type')).toMatch(/^application\/json/);
        expect(all.json).toEqual({ name: form === V2_FORM ? `${key}/${name}` : name, tags: expected });
        expect(all.headers.get('link')).toBeNull();

        const first = await tagsVia(key, name, '?n=3', form);
        expectStatus(first, 200);
        expect(first.json.tags).toEqual(expected.slice(0, 3));
        expect(nextLink(first.headers)).toBe(`${base}tags/list?n=3&last=${expected[2]}`);
        const pages = await allPages(server, `${base}tags/list?n=3`, 'tags');
        expect(pages.map((p) => p.length)).toEqual([3, 3, 3, 1]);
        expect(pages.flat()).toEqual(expected);
        const exact = await allPages(server, `${base}tags/list?n=5`, 'tags');
        expect(exact.map((p) => p.length)).toEqual([5, 5]);

        const after = await tagsVia(key, name, `?last=${expected[4]}`, form);
        expect(after.json.tags).toEqual(expected.slice(5));
        const between = await tagsVia(key, name, '?last=W', form);
        expect(between.json.tags).toEqual(expected.filter((t) => Buffer.compare(Buffer.from(t), Buffer.from('W')) > 0));
        expectRegistryError(await tagsVia(key, name, '?n=abc', form), 400, 'PAGINATION_NUMBER_INVALID');

        // An image only one member knows lists that member's tags; one nobody knows is NAME_UNKNOWN.
        const lone = imageName('lone');
        await pushTo(l2, lone, 'x');
        expect((await tagsVia(key, lone, '', form)).json.tags).toEqual(['x']);
        expectRegistryError(await tagsVia(key, imageName('nobody'), '', form), 404, 'NAME_UNKNOWN');
      },
    );

    it("tags/list with priority resolution off includes a remote member's upstream tags", async () => {
      const l1 = await local();
      const hub = await remote();
      const name = imageName('tags-remote');
      await pushTo(l1, name, '1');
      await pushTo(l1, name, 'b');
      await seedUpstream(name, '1');
      await seedUpstream(name, 'a');
      await seedUpstream(name, '0');
      await seedUpstream(name, 'c');
      const key = await virtual([l1, hub], { priorityResolution: false });
      const res = await tagsVia(key, name);
      expectStatus(res, 200);
      expect(res.json.tags).toEqual(['0', '1', 'a', 'b', 'c']);
      // Pages are cut from the union, whichever member each tag comes from.
      for (const n of [1, 2, 3]) {
        const pages = await allPages(server, `${V2_FORM.base(key, name)}tags/list?n=${n}`, 'tags');
        expect(pages.flat()).toEqual(['0', '1', 'a', 'b', 'c']);
        expect(pages.slice(0, -1).every((p) => p.length === n)).toBe(true);
      }
      expect((await tagsVia(key, name, '?last=1&n=2')).json.tags).toEqual(['a', 'b']);
      // An image known upstream only.
      const upstreamOnly = imageName('tags-upstream');
      await seedUpstream(upstreamOnly, 'z');
      expect((await tagsVia(key, upstreamOnly)).json.tags).toEqual(['z']);
    });

    it('tags/list with priority resolution on lists only local tags for a name a local member owns, asking no upstream', async () => {
      const l1 = await local();
      const hub = await remote();
      const owned = imageName('tags-owned');
      await pushTo(l1, owned, '1');
      await seedUpstream(owned, '1');
      await seedUpstream(owned, 'shadow');
      const key = await virtual([l1, hub]);
      proxy.clearRequests();
      // The upstream's 'shadow' would 404 on a pull through the virtual: it is not listed either.
      expect((await tagsVia(key, owned)).json.tags).toEqual(['1']);
      expect(requestsFor(proxy, owned)).toBe(0);
      // A name no local member holds lists the upstream's tags.
      const free = imageName('tags-free');
      await seedUpstream(free, 'x');
      expect((await tagsVia(key, free)).json.tags).toEqual(['x']);
    });

    it("_catalog on /api/docker/<virtual>/v2/: the union of the members' images, paginated", async () => {
      const [c1, c2] = [await local('cat1'), await local('cat2')];
      const hub = await remote();
      const image = buildImage({ layerCount: 1 });
      for (const name of ['a/x', 'b', 'shared', 'team/app']) await pushTo(c1, name, '1', image);
      for (const name of ['shared', 'c/d', 'a.b', 'a-b']) await pushTo(c2, name, '1', image);
      const cachedName = imageName('catalog');
      await seedUpstream(cachedName, '1');
      expectStatus(await request(server, `/v2/${hub}/${cachedName}/manifests/1`, { headers: { accept: MediaTypes.OciManifest } }), 200);
      const key = await virtual([c1, hub, c2]);

      const catalogOf = async (repo: string): Promise<string[]> => {
        const res = await request(server, `/api/docker/${repo}/v2/_catalog`);
        expectStatus(res, 200);
        return res.json.repositories;
      };
      const expected = sortedUnion(await catalogOf(c1), await catalogOf(c2), await catalogOf(hub));
      expect(expected).toEqual(expect.arrayContaining(['a/x', 'shared', 'c/d', 'a-b']));
      expect(expected.filter((n) => n === 'shared')).toHaveLength(1);

      const res = await request(server, `/api/docker/${key}/v2/_catalog`);
      expectStatus(res, 200);
      expect(res.json).toEqual({ repositories: expected });
      expect(res.headers.get('link')).toBeNull();

      const first = await request(server, `/api/docker/${key}/v2/_catalog?n=2`);
      expect(first.json.repositories).toEqual(expected.slice(0, 2));
      expect(nextLink(first.headers)).toBe(`/api/docker/${key}/v2/_catalog?n=2&last=${encodeURIComponent(expected[1])}`);
      const pages = await allPages(server, `/api/docker/${key}/v2/_catalog?n=2`, 'repositories');
      expect(pages.flat()).toEqual(expected);
      expect(pages.slice(0, -1).every((p) => p.length === 2)).toBe(true);
      const after = await request(server, `/api/docker/${key}/v2/_catalog?last=${encodeURIComponent('b')}`);
      expect(after.json.repositories).toEqual(expected.filter((n) => Buffer.compare(Buffer.from(n), Buffer.from('b')) > 0));
    });

    it.each(PATH_FORMS.map((form) => [form.label, form] as const))('referrers on %s: merged across members, each referrer once', async (_label, form) => {
      const [l1, l2] = [await local('l1'), await local('l2')];
      const name = imageName('referrers');
      const subject = buildImage({ layerCount: 1 });
      await pushTo(l1, name, '1', subject);
      await pushTo(l2, name, '1', subject);
      const on = { mediaType: subject.manifest.mediaType, digest: subject.manifest.digest, size: subject.manifest.bytes.length };
      const empty = blobOf(Buffer.from('{}'), MediaTypes.OciEmpty);

      async function refer(repos: string[], artifactType: string) {
        const layer = randomBlob(64);
        const manifest = imageManifest({ config: empty, layers: [layer], artifactType, subject: on });
        for (const repo of repos) {
          await pushBlobs(server, V2_FORM.base(repo, name), [empty, layer]);
          const put = await pushManifest(server, V2_FORM.base(repo, name), manifest.digest, manifest.bytes, manifest.mediaType);
          expectStatus(put, 201);
        }
        return { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.bytes.length, artifactType };
      }
      const inFirst = await refer([l1], 'application/vnd.example.sbom.v1+json');
      const inSecond = await refer([l2], 'application/vnd.example.signature.v1+json');
      const inBoth = await refer([l1, l2], 'application/vnd.example.attestation.v1+json');
      const key = await virtual([l1, l2]);

      const res = await request(server, `${form.base(key, name)}referrers/${subject.manifest.digest}`);
      expectStatus(res, 200);
      expect(res.headers.get('content-type')).toBe(MediaTypes.OciIndex);
      expect(res.json.schemaVersion).toBe(2);
      expect(res.json.mediaType).toBe(MediaTypes.OciIndex);
      const byDigest = (a: { digest: string }, b: { digest: string }) => a.digest.localeCompare(b.digest);
      expect([...res.json.manifests].sort(byDigest)).toEqual([inFirst, inSecond, inBoth].sort(byDigest));

      const none = await request(server, `${form.base(key, name)}referrers/${sha256(randomBytes(8))}`);
      expectStatus(none, 200);
      expect(none.json).toEqual({ schemaVersion: 2, mediaType: MediaTypes.OciIndex, manifests: [] });
    });
  });

  describe('include and exclude patterns', () => {
    it('filter image names before any member is asked: a name left out is NAME_UNKNOWN, and no upstream hears of it', async () => {
      const l1 = await local();
      const hub = await remote();
      const stamp = randomBytes(3).toString('hex');
      const names = {
        included: `team/app-${stamp}`,
        tooDeep: `team/sub-${stamp}/app`,
        excluded: `team/hidden-${stamp}`,
        notIncluded: `other-${stamp}`,
      };
      const held: Record<string, BuiltImage> = {};
      for (const [label, name] of Object.entries(names)) held[label] = await pushTo(l1, name, '1');
      const upstreamOk = imageName('open');
      const upstreamSecret = imageName('secret');
      const okImage = await seedUpstream(upstreamOk, '1');
      await seedUpstream(upstreamSecret, '1');
      const key = await virtual([l1, hub], { includesPattern: 'team/*,library/**', excludesPattern: `team/hidden-*,library/secret*` });
      proxy.clearRequests();

      await expectServed(key, names.included, '1', held.included.manifest);
      await expectServed(key, upstreamOk, '1', top(okImage));
      expect(requestsFor(proxy, upstreamOk)).toBeGreaterThanOrEqual(1);

      for (const name of [names.tooDeep, names.excluded, names.notIncluded, upstreamSecret]) {
        for (const form of PATH_FORMS) {
          expectRegistryError(await manifestVia(key, name, '1', { form }), 404, 'NAME_UNKNOWN');
          expectRegistryError(await tagsVia(key, name, '', form), 404, 'NAME_UNKNOWN');
        }
      }
      for (const label of ['tooDeep', 'excluded', 'notIncluded'] as const) {
        expectStatus(await manifestVia(key, names[label], held[label].manifest.digest), 404);
        expectStatus(await blobVia(key, names[label], held[label].layers[0].digest), 404);
      }
      expect(requestsFor(proxy, upstreamSecret)).toBe(0);

      // The member itself still serves them directly.
      expectManifest(await manifestVia(l1, names.excluded, '1'), held.excluded.manifest);
    });
  });
});
