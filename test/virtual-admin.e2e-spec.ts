// Virtual repositories through the REST API: create, get, list, update and delete; the view with
// its defaults and flattened members; every refusal (unknown, self, duplicate and cyclic members,
// a deployment target that is not a local member, fields of another kind, a class change); what
// deleting a member or a nested virtual does to the virtuals naming it; and updates of a remote's
// settings, which take effect at once. The remote members point at a real CNCF Distribution
// upstream behind a counting proxy.
import { buildImage } from './helpers/oci-image-builder';
import { V2_FORM, eventually, expectRegistryError, expectStatus, pushImage, request } from './helpers/registry-http';
import { RemoteFixture, createRemoteRepository, manifestRequests, sleep, startRemoteFixture } from './helpers/remote-repository';
import { seedImage } from './helpers/upstream-registry';
import {
  ACCEPT_ALL,
  VirtualRepositoryView,
  createVirtualRepository,
  deleteRepository,
  expectManifest,
  expectProblem,
  freshKey,
  getRepository,
  listedKeys,
  postRepository,
  putRepository,
  updateRepositoryFields,
  viewOf,
} from './helpers/virtual-repository';
import { WharfTestServer, createLocalRepository, startWharf } from './helpers/wharf-server';

jest.setTimeout(120_000);

/** Every way of writing the cycle `keys[0] -> ... -> keys[n-1] -> keys[0]` (any starting point, same direction). */
function cycleSpellings(keys: string[]): string[] {
  return keys.map((_, i) => {
    const rotated = [...keys.slice(i), ...keys.slice(0, i)];
    return [...rotated, rotated[0]].join(' -> ');
  });
}

describe('virtual repositories: admin API', () => {
  let fixture: RemoteFixture;
  let server: WharfTestServer;

  beforeAll(async () => {
    fixture = await startRemoteFixture({ connectTimeoutMillis: 2000, socketTimeoutMillis: 10_000 });
    server = fixture.server;
  });
  afterAll(() => fixture?.close());
  beforeEach(() => fixture.reset());

  async function local(prefix = 'local'): Promise<string> {
    const key = freshKey(prefix);
    await createLocalRepository(server, key);
    return key;
  }

  /** Asserts `key`'s view is still `before` (a refused change left it as it was). */
  async function expectUnchanged(key: string, before: unknown): Promise<void> {
    expect(await viewOf(server, key)).toEqual(before);
  }

  async function expectAbsent(key: string): Promise<void> {
    expectProblem(await getRepository(server, key), 404);
  }

  describe('create, get, list', () => {
    it('PUT creates a virtual with every field (201); GET answers the same view; ?type=virtual lists it and only virtuals', async () => {
      const dev = await local('dev');
      const prod = await local('prod');
      const hub = await fixture.remote();
      const key = freshKey('docker');

      const res = await putRepository(server, key, {
        rclass: 'virtual',
        packageType: 'docker',
        repositories: [dev, hub, prod],
        defaultDeploymentRepo: prod,
        resolveDockerTagsByTimestamp: true,
        priorityResolution: false,
        includesPattern: 'team/**,library/*',
        excludesPattern: 'team/secret*',
        description: 'one name for everything',
        anonymousRead: true,
      });
      expectStatus(res, 201);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.json).toEqual({
        key,
        rclass: 'virtual',
        actions: ['read', 'write', 'delete', 'manage'],
        packageType: 'docker',
        description: 'one name for everything',
        anonymousRead: true,
        repositories: [dev, hub, prod],
        resolvedRepositories: [dev, hub, prod],
        defaultDeploymentRepo: prod,
        resolveDockerTagsByTimestamp: true,
        priorityResolution: false,
        includesPattern: 'team/**,library/*',
        excludesPattern: 'team/secret*',
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      expect(Number.isNaN(Date.parse(res.json.createdAt))).toBe(false);
      expect(Number.isNaN(Date.parse(res.json.updatedAt))).toBe(false);
      // No remote-only field leaks into a virtual's view.
      for (const field of ['url', 'username', 'password', 'metadataRetrievalCachePeriod', 'offline']) expect(res.json).not.toHaveProperty(field);

      expect(await viewOf(server, key)).toEqual(res.json);

      const virtuals = await request(server, '/api/repositories?type=virtual');
      expectStatus(virtuals, 200);
      expect(virtuals.json.map((r: { key: string }) => r.key)).toContain(key);
      expect(virtuals.json.every((r: { rclass: string }) => r.rclass === 'virtual')).toBe(true);
      expect(virtuals.json.find((r: { key: string }) => r.key === key)).toEqual(res.json);
      expect(await listedKeys(server, 'local')).not.toContain(key);
      expect(await listedKeys(server, 'remote')).not.toContain(key);
      expect(await listedKeys(server, 'virtual')).not.toContain(dev);
      expect(await listedKeys(server)).toEqual(expect.arrayContaining([key, dev, prod, hub]));
      // A duplicate key is still a conflict.
      expectProblem(await putRepository(server, key, { rclass: 'virtual', packageType: 'docker' }), 409, key);
    });

    it('fills in the defaults: no members, no deployment target, plain tags, priority resolution on, every name included', async () => {
      const key = freshKey();
      const view = await createVirtualRepository(server, key);
      expect(view).toEqual({
        key,
        rclass: 'virtual',
        actions: ['read', 'write', 'delete', 'manage'],
        packageType: 'docker',
        description: '',
        anonymousRead: false,
        repositories: [],
        resolvedRepositories: [],
        defaultDeploymentRepo: null,
        resolveDockerTagsByTimestamp: false,
        priorityResolution: true,
        includesPattern: '**',
        excludesPattern: '',
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      expect(await viewOf(server, key)).toEqual(view);
    });
  });

  describe('refusals (400, problem+json naming the offending thing)', () => {
    it('a member that does not exist, on PUT and POST; nothing is created or changed', async () => {
      const member = await local();
      const missing = freshKey('missing');
      const key = freshKey();
      expectProblem(await putRepository(server, key, { rclass: 'virtual', packageType: 'docker', repositories: [member, missing] }), 400, missing);
      await expectAbsent(key);

      const before = await createVirtualRepository(server, key, { repositories: [member] });
      expectProblem(await postRepository(server, key, { repositories: [missing, member] }), 400, missing);
      await expectUnchanged(key, before);
    });

    it('the virtual naming itself, on PUT and POST', async () => {
      const member = await local();
      const key = freshKey('self');
      expectProblem(await putRepository(server, key, { rclass: 'virtual', packageType: 'docker', repositories: [member, key] }), 400, key);
      await expectAbsent(key);

      const before = await createVirtualRepository(server, key, { repositories: [member] });
      expectProblem(await postRepository(server, key, { repositories: [member, key] }), 400, key);
      await expectUnchanged(key, before);
    });

    it('a duplicate member, on PUT and POST', async () => {
      const a = await local();
      const b = await local();
      const key = freshKey('dup');
      expectProblem(await putRepository(server, key, { rclass: 'virtual', packageType: 'docker', repositories: [a, b, a] }), 400, a);
      await expectAbsent(key);

      const before = await createVirtualRepository(server, key, { repositories: [a, b] });
      expectProblem(await postRepository(server, key, { repositories: [b, b] }), 400, b);
      await expectUnchanged(key, before);
    });

    it('a cycle of two (a -> b -> a) and of three (a -> b -> c -> a), named in order; the virtuals stay as they were', async () => {
      const leaf = await local();
      const a = freshKey('cyc-a');
      const b = freshKey('cyc-b');
      const aBefore = await createVirtualRepository(server, a, { repositories: [leaf] });
      const bBefore = await createVirtualRepository(server, b, { repositories: [a] });

      const two = await postRepository(server, a, { repositories: [leaf, b] });
      expectProblem(two, 400, a, b);
      const twoText = JSON.stringify(two.json);
      expect(cycleSpellings([a, b]).some((spelling) => twoText.includes(spelling))).toBe(true);
      await expectUnchanged(a, aBefore);
      await expectUnchanged(b, bBefore);

      const c = freshKey('cyc-c');
      const x = freshKey('cyc-x');
      const y = freshKey('cyc-y');
      // x -> y -> c, then c -> x closes the loop.
      const cBefore = await createVirtualRepository(server, c, { repositories: [leaf] });
      await createVirtualRepository(server, y, { repositories: [c] });
      await createVirtualRepository(server, x, { repositories: [y, leaf] });
      const three = await postRepository(server, c, { repositories: [x] });
      expectProblem(three, 400, c, x, y);
      const threeText = JSON.stringify(three.json);
      expect(cycleSpellings([c, x, y]).some((spelling) => threeText.includes(spelling))).toBe(true);
      // The reverse direction is not the cycle.
      expect(cycleSpellings([c, y, x]).some((spelling) => threeText.includes(spelling))).toBe(false);
      await expectUnchanged(c, cBefore);
      expect((await viewOf(server, x)).resolvedRepositories).toEqual([leaf]);
    });

    it('a defaultDeploymentRepo that is not a local repository among the flattened members', async () => {
      const member = await local();
      const outsider = await local();
      const hub = await fixture.remote();
      const inner = freshKey('inner');
      await createVirtualRepository(server, inner, { repositories: [member] });
      const missing = freshKey('missing');

      const cases: Array<[string, Record<string, unknown>, string]> = [
        ['a remote member', { repositories: [member, hub], defaultDeploymentRepo: hub }, hub],
        ['a virtual member', { repositories: [inner], defaultDeploymentRepo: inner }, inner],
        ['a local that is not a member', { repositories: [member], defaultDeploymentRepo: outsider }, outsider],
        ['a repository that does not exist', { repositories: [member], defaultDeploymentRepo: missing }, missing],
        ['with no members at all', { defaultDeploymentRepo: member }, member],
      ];
      for (const [, body, named] of cases) {
        const key = freshKey('deploy');
        expectProblem(await putRepository(server, key, { rclass: 'virtual', packageType: 'docker', ...body }), 400, named);
        await expectAbsent(key);
      }

      // A local reached through a nested virtual is a flattened member: accepted.
      const nested = freshKey('deploy-nested');
      const view = await createVirtualRepository(server, nested, { repositories: [hub, inner], defaultDeploymentRepo: member });
      expect(view).toMatchObject({ resolvedRepositories: [hub, member], defaultDeploymentRepo: member });

      // The same rules on POST, against the state after the update.
      const key = freshKey('deploy-post');
      const before = await createVirtualRepository(server, key, { repositories: [member, hub, outsider], defaultDeploymentRepo: member });
      expectProblem(await postRepository(server, key, { defaultDeploymentRepo: hub }), 400, hub);
      expectProblem(await postRepository(server, key, { defaultDeploymentRepo: missing }), 400, missing);
      // Dropping the target from the members while keeping it as the target.
      expectProblem(await postRepository(server, key, { repositories: [hub, outsider] }), 400, member);
      await expectUnchanged(key, before);
      // Both changed together is consistent.
      expect(await updateRepositoryFields(server, key, { repositories: [hub, outsider], defaultDeploymentRepo: outsider })).toMatchObject({
        repositories: [hub, outsider],
        defaultDeploymentRepo: outsider,
      });
    });

    it('remote-only fields on a virtual, and virtual-only fields on local and remote repositories', async () => {
      const member = await local();
      for (const [field, value] of [
        ['url', fixture.proxy.url],
        ['username', 'alice'],
        ['password', 'secret'],
        ['metadataRetrievalCachePeriod', 60],
        ['offline', true],
      ] as const) {
        const key = freshKey('mixed');
        expectProblem(await putRepository(server, key, { rclass: 'virtual', packageType: 'docker', repositories: [member], [field]: value }), 400, field);
        await expectAbsent(key);
      }
      const virtual = freshKey();
      const virtualBefore = await createVirtualRepository(server, virtual, { repositories: [member] });
      expectProblem(await postRepository(server, virtual, { url: fixture.proxy.url }), 400, 'url');
      expectProblem(await postRepository(server, virtual, { username: 'alice' }), 400, 'username');
      await expectUnchanged(virtual, virtualBefore);

      const virtualOnly: Array<[string, unknown]> = [
        ['repositories', [member]],
        ['defaultDeploymentRepo', member],
        ['resolveDockerTagsByTimestamp', true],
        ['priorityResolution', false],
      ];
      const localKey = await local();
      const localBefore = await viewOf(server, localKey);
      const remoteKey = await fixture.remote();
      const remoteBefore = await viewOf(server, remoteKey);
      for (const [field, value] of virtualOnly) {
        const newLocal = freshKey('local-mixed');
        expectProblem(await putRepository(server, newLocal, { rclass: 'local', packageType: 'docker', [field]: value }), 400, field);
        await expectAbsent(newLocal);
        const newRemote = freshKey('remote-mixed');
        expectProblem(await putRepository(server, newRemote, { rclass: 'remote', packageType: 'docker', url: fixture.proxy.url, [field]: value }), 400, field);
        await expectAbsent(newRemote);
        expectProblem(await postRepository(server, localKey, { [field]: value }), 400, field);
        expectProblem(await postRepository(server, remoteKey, { [field]: value }), 400, field);
      }
      await expectUnchanged(localKey, localBefore);
      await expectUnchanged(remoteKey, remoteBefore);
    });

    it('rclass cannot change on POST, in either direction', async () => {
      const member = await local();
      const key = freshKey();
      const before = await createVirtualRepository(server, key, { repositories: [member] });
      expectProblem(await postRepository(server, key, { rclass: 'local' }), 400, 'rclass');
      expectProblem(await postRepository(server, key, { rclass: 'remote' }), 400, 'rclass');
      await expectUnchanged(key, before);
      // Restating it is fine.
      expectStatus(await postRepository(server, key, { rclass: 'virtual', packageType: 'docker' }), 200);

      const localBefore = await viewOf(server, member);
      expectProblem(await postRepository(server, member, { rclass: 'virtual' }), 400, 'rclass');
      await expectUnchanged(member, localBefore);
    });

    it('wrong types for the virtual fields name the field', async () => {
      const member = await local();
      const cases: Array<[string, unknown]> = [
        ['repositories', member],
        ['repositories', [42]],
        ['defaultDeploymentRepo', 7],
        ['resolveDockerTagsByTimestamp', 'yes'],
        ['priorityResolution', 'no'],
        ['includesPattern', 5],
        ['excludesPattern', ['a']],
      ];
      for (const [field, value] of cases) {
        const key = freshKey('typed');
        expectProblem(await putRepository(server, key, { rclass: 'virtual', packageType: 'docker', [field]: value }), 400, field);
        await expectAbsent(key);
      }
    });
  });

  describe('nested virtuals', () => {
    it('resolvedRepositories expands nested virtuals depth-first in order, each repository once, with no virtual in it', async () => {
      const [l1, l2, l3] = [await local('l1'), await local('l2'), await local('l3')];
      const r1 = await fixture.remote();
      const inner = freshKey('inner');
      await createVirtualRepository(server, inner, { repositories: [l2, r1, l1] });
      const outer = freshKey('outer');
      const view = await createVirtualRepository(server, outer, { repositories: [l1, inner, l3, l2] });
      // l1, then inner's l2, r1 (its l1 already taken), then l3 (l2 already taken).
      expect(view.repositories).toEqual([l1, inner, l3, l2]);
      expect(view.resolvedRepositories).toEqual([l1, l2, r1, l3]);

      // Two levels deep, the same inner virtual reached twice.
      const middle = freshKey('middle');
      await createVirtualRepository(server, middle, { repositories: [inner, l3] });
      const top = freshKey('top');
      const topView = await createVirtualRepository(server, top, { repositories: [middle, inner, l1, outer] });
      expect(topView.resolvedRepositories).toEqual([l2, r1, l1, l3]);
      expect(topView.resolvedRepositories).not.toContain(inner);
      expect(topView.resolvedRepositories).not.toContain(middle);
      expect(topView.resolvedRepositories).not.toContain(outer);

      // Changing the inner virtual changes every virtual that contains it.
      await updateRepositoryFields(server, inner, { repositories: [r1, l3] });
      expect((await viewOf(server, outer)).resolvedRepositories).toEqual([l1, r1, l3, l2]);
      expect((await viewOf(server, top)).resolvedRepositories).toEqual([r1, l3, l1, l2]);
      expect((await viewOf(server, middle)).resolvedRepositories).toEqual([r1, l3]);
    });

    it('an empty nested virtual contributes nothing', async () => {
      const l1 = await local();
      const empty = freshKey('empty');
      await createVirtualRepository(server, empty);
      const key = freshKey();
      const view = await createVirtualRepository(server, key, { repositories: [empty, l1] });
      expect(view).toMatchObject({ repositories: [empty, l1], resolvedRepositories: [l1] });
    });
  });

  describe('updates', () => {
    it('POST changes only what is sent: member order, deployment target (null clears it), flags, patterns, description', async () => {
      const [a, b] = [await local('a'), await local('b')];
      const hub = await fixture.remote();
      const key = freshKey();
      const created = await createVirtualRepository(server, key, {
        repositories: [a, b, hub],
        defaultDeploymentRepo: b,
        description: 'first',
        includesPattern: 'team/**',
        excludesPattern: 'team/secret',
      });
      await sleep(15);

      const reordered = await updateRepositoryFields(server, key, { repositories: [hub, b, a] });
      expect(reordered).toEqual({ ...created, repositories: [hub, b, a], resolvedRepositories: [hub, b, a], updatedAt: expect.any(String) });
      expect(Date.parse(reordered.updatedAt)).toBeGreaterThan(Date.parse(created.updatedAt));
      expect(reordered.createdAt).toBe(created.createdAt);

      const described = await updateRepositoryFields(server, key, { description: 'second', anonymousRead: true });
      expect(described).toEqual({ ...reordered, description: 'second', anonymousRead: true, updatedAt: expect.any(String) });

      const flags = await updateRepositoryFields(server, key, {
        priorityResolution: false,
        resolveDockerTagsByTimestamp: true,
        includesPattern: '**',
        excludesPattern: 'secret/**',
      });
      expect(flags).toEqual({
        ...described,
        priorityResolution: false,
        resolveDockerTagsByTimestamp: true,
        includesPattern: '**',
        excludesPattern: 'secret/**',
        updatedAt: expect.any(String),
      });

      const retargeted = await updateRepositoryFields(server, key, { defaultDeploymentRepo: a });
      expect(retargeted).toEqual({ ...flags, defaultDeploymentRepo: a, updatedAt: expect.any(String) });

      const cleared = await updateRepositoryFields(server, key, { defaultDeploymentRepo: null });
      expect(cleared).toEqual({ ...retargeted, defaultDeploymentRepo: null, updatedAt: expect.any(String) });

      const emptied = await updateRepositoryFields(server, key, { repositories: [] });
      expect(emptied).toEqual({ ...cleared, repositories: [], resolvedRepositories: [], updatedAt: expect.any(String) });

      expect(await viewOf(server, key)).toEqual(emptied);
      expectProblem(await postRepository(server, freshKey('never'), { repositories: [] }), 404);
    });
  });

  describe('the deployment target stays a flattened member', () => {
    it("changing a nested virtual so that it no longer holds a parent's deployment target is refused, or clears the target", async () => {
      const [l1, l2] = [await local('l1'), await local('l2')];
      const inner = freshKey('inner');
      const parent = freshKey('parent');
      await createVirtualRepository(server, inner, { repositories: [l1, l2] });
      await createVirtualRepository(server, parent, { repositories: [inner], defaultDeploymentRepo: l2 });
      const innerBefore = await viewOf(server, inner);

      const res = await postRepository(server, inner, { repositories: [l1] });
      const parentAfter: VirtualRepositoryView = await viewOf(server, parent);
      if (res.status === 400) {
        expectProblem(res, 400, l2);
        await expectUnchanged(inner, innerBefore);
        expect(parentAfter.defaultDeploymentRepo).toBe(l2);
      } else {
        expectStatus(res, 200);
        expect(parentAfter.defaultDeploymentRepo).toBeNull();
      }
      // Whichever was chosen, the target is among the parent's flattened members (or there is none).
      if (parentAfter.defaultDeploymentRepo !== null) expect(parentAfter.resolvedRepositories).toContain(parentAfter.defaultDeploymentRepo);
    });
  });

  describe('deleting members', () => {
    it('deleting a member removes it from every virtual and clears a defaultDeploymentRepo naming it', async () => {
      const [keep, gone] = [await local('keep'), await local('gone')];
      const hub = await fixture.remote();
      const first = freshKey('first');
      const second = freshKey('second');
      const nesting = freshKey('nesting');
      await createVirtualRepository(server, first, { repositories: [gone, keep, hub], defaultDeploymentRepo: gone });
      await createVirtualRepository(server, second, { repositories: [keep, gone], defaultDeploymentRepo: keep });
      await createVirtualRepository(server, nesting, { repositories: [first, gone] });
      const secondBefore: VirtualRepositoryView = await viewOf(server, second);

      expectStatus(await deleteRepository(server, gone), 204);
      expectProblem(await getRepository(server, gone), 404);

      expect(await viewOf(server, first)).toMatchObject({ repositories: [keep, hub], resolvedRepositories: [keep, hub], defaultDeploymentRepo: null });
      expect(await viewOf(server, second)).toMatchObject({ repositories: [keep], resolvedRepositories: [keep], defaultDeploymentRepo: keep });
      expect((await viewOf(server, second)).createdAt).toBe(secondBefore.createdAt);
      expect(await viewOf(server, nesting)).toMatchObject({ repositories: [first], resolvedRepositories: [keep, hub] });
      const listed = (await request(server, '/api/repositories?type=virtual')).json as VirtualRepositoryView[];
      for (const view of listed) {
        expect(view.repositories).not.toContain(gone);
        expect(view.resolvedRepositories).not.toContain(gone);
        expect(view.defaultDeploymentRepo).not.toBe(gone);
      }

      // A new repository under the old key is not a member of anything.
      await createLocalRepository(server, gone);
      expect((await viewOf(server, first)).repositories).toEqual([keep, hub]);

      // A deleted remote goes the same way.
      expectStatus(await deleteRepository(server, hub), 204);
      expect(await viewOf(server, first)).toMatchObject({ repositories: [keep], resolvedRepositories: [keep] });
      expect(await viewOf(server, nesting)).toMatchObject({ repositories: [first], resolvedRepositories: [keep] });
    });

    it('deleting a nested virtual removes it from its parents, which keep their other members', async () => {
      const [a, b] = [await local('a'), await local('b')];
      const inner = freshKey('inner');
      const parent = freshKey('parent');
      const grandparent = freshKey('grandparent');
      await createVirtualRepository(server, inner, { repositories: [b], defaultDeploymentRepo: b });
      await createVirtualRepository(server, parent, { repositories: [inner, a], defaultDeploymentRepo: a });
      await createVirtualRepository(server, grandparent, { repositories: [parent, inner] });
      expect((await viewOf(server, grandparent)).resolvedRepositories).toEqual([b, a]);

      expectStatus(await deleteRepository(server, inner), 204);
      expect(await viewOf(server, parent)).toMatchObject({ repositories: [a], resolvedRepositories: [a], defaultDeploymentRepo: a });
      expect(await viewOf(server, grandparent)).toMatchObject({ repositories: [parent], resolvedRepositories: [a] });
      // The members of the deleted virtual are still there.
      expect((await viewOf(server, b)).rclass).toBe('local');
    });

    it('deleting the nested virtual through which the deployment target was reached clears the target: it is no longer a member', async () => {
      const b = await local('b');
      const viaNested = freshKey('via-nested');
      const holder = freshKey('holder');
      await createVirtualRepository(server, holder, { repositories: [b] });
      await createVirtualRepository(server, viaNested, { repositories: [holder], defaultDeploymentRepo: b });
      expectStatus(await deleteRepository(server, holder), 204);
      expect(await viewOf(server, viaNested)).toMatchObject({ repositories: [], resolvedRepositories: [], defaultDeploymentRepo: null });
    });
  });

  describe("a remote's settings", () => {
    it('a new url is used at once', async () => {
      const key = freshKey('hub');
      // Nothing listens on port 1: the first request cannot reach an upstream.
      await createRemoteRepository(server, key, { url: 'http://127.0.0.1:1', connectTimeoutMillis: 2000, socketTimeoutMillis: 10_000 });
      const name = fixture.imageName('moved');
      const image = buildImage({ layerCount: 1 });
      await seedImage(fixture.upstream, name, '1', image);

      expectRegistryError(await request(server, `/v2/${key}/${name}/manifests/1`, { headers: { accept: ACCEPT_ALL } }), 503, 'UNAVAILABLE');
      expect(manifestRequests(fixture.proxy, '*', name)).toBe(0);

      const updated = await updateRepositoryFields(server, key, { url: fixture.proxy.url });
      expect(updated).toMatchObject({ key, rclass: 'remote', url: fixture.proxy.url, connectTimeoutMillis: 2000 });
      expect((await viewOf(server, key)).url).toBe(fixture.proxy.url);
      expectManifest(await request(server, `/v2/${key}/${name}/manifests/1`, { headers: { accept: ACCEPT_ALL } }), image.manifest);
      expect(manifestRequests(fixture.proxy, 'GET', name, '1')).toBe(1);
    });

    it('a shorter metadataRetrievalCachePeriod is used at once; credentials can be set and are shown masked', async () => {
      const key = await fixture.remote({ metadataRetrievalCachePeriod: 600 });
      const name = fixture.imageName('period');
      const first = buildImage({ layerCount: 1 });
      const second = buildImage({ layerCount: 1 });
      const url = `/v2/${key}/${name}/manifests/1`;
      await seedImage(fixture.upstream, name, '1', first);
      expectManifest(await request(server, url, { headers: { accept: ACCEPT_ALL } }), first.manifest);
      await seedImage(fixture.upstream, name, '1', second);
      fixture.proxy.clearRequests();
      expectManifest(await request(server, url, { headers: { accept: ACCEPT_ALL } }), first.manifest);
      expect(fixture.proxy.requests).toHaveLength(0);

      const updated = await updateRepositoryFields(server, key, { metadataRetrievalCachePeriod: 1 });
      expect(updated.metadataRetrievalCachePeriod).toBe(1);
      await sleep(1500);
      expectManifest(await request(server, url, { headers: { accept: ACCEPT_ALL } }), second.manifest);
      expect(manifestRequests(fixture.proxy, '*', name, '1')).toBeGreaterThanOrEqual(1);

      const withCreds = await updateRepositoryFields(server, key, { username: 'puller', password: 'upstream-secret' });
      expect(withCreds).toMatchObject({ username: 'puller', password: '********', metadataRetrievalCachePeriod: 1, url: fixture.proxy.url });
      expect(JSON.stringify(withCreds)).not.toContain('upstream-secret');
    });
  });
});

// A notification travels on its own connection and may land a few milliseconds after the
// writer's answer, so the other instance is polled, as in multi-instance.e2e-spec.ts.
const PROPAGATION_MS = 3_000;

describe('virtual repositories: changes reach another instance at once', () => {
  let fixture: RemoteFixture;
  let a: WharfTestServer;
  let b: WharfTestServer;

  beforeAll(async () => {
    fixture = await startRemoteFixture({ connectTimeoutMillis: 2000, socketTimeoutMillis: 10_000 });
    a = fixture.server;
    b = await startWharf({ DATABASE_URL: a.databaseUrl, WHARF_ADMIN_PASSWORD: a.admin.password });
  });
  afterAll(async () => {
    await b?.close();
    await fixture?.close();
  });

  function manifestOn(server: WharfTestServer, key: string, image: string, reference: string) {
    return request(server, `/v2/${key}/${image}/manifests/${reference}`, { headers: { accept: ACCEPT_ALL } });
  }

  it('member order, a deleted member and a new deployment target made on one instance are used by the other', async () => {
    const [l1, l2] = [freshKey('l1'), freshKey('l2')];
    await createLocalRepository(a, l1);
    await createLocalRepository(a, l2);
    const first = buildImage({ layerCount: 1 });
    const second = buildImage({ layerCount: 1 });
    await pushImage(a, V2_FORM.base(l1, 'app'), first, '1');
    await pushImage(a, V2_FORM.base(l2, 'app'), second, '1');
    const key = freshKey();
    await createVirtualRepository(a, key, { repositories: [l1, l2], defaultDeploymentRepo: l1 });

    await eventually(async () => expectManifest(await manifestOn(b, key, 'app', '1'), first.manifest), PROPAGATION_MS);
    await updateRepositoryFields(a, key, { repositories: [l2, l1] });
    await eventually(async () => expectManifest(await manifestOn(b, key, 'app', '1'), second.manifest), PROPAGATION_MS);
    expect((await viewOf(b, key)).repositories).toEqual([l2, l1]);

    await updateRepositoryFields(a, key, { defaultDeploymentRepo: l2 });
    await eventually(async () => expect((await viewOf(b, key)).defaultDeploymentRepo).toBe(l2), PROPAGATION_MS);
    const pushed = buildImage({ layerCount: 1 });
    await pushImage(b, V2_FORM.base(key, 'pushed'), pushed, '1');
    expectManifest(await manifestOn(a, l2, 'pushed', '1'), pushed.manifest);
    expectRegistryError(await manifestOn(a, l1, 'pushed', '1'), 404, 'MANIFEST_UNKNOWN');

    expectStatus(await deleteRepository(a, l2), 204);
    await eventually(async () => expectManifest(await manifestOn(b, key, 'app', '1'), first.manifest), PROPAGATION_MS);
    await eventually(async () => expectRegistryError(await request(b, `/v2/${key}/app/blobs/uploads/`, { method: 'POST' }), 403, 'DENIED'), PROPAGATION_MS);
  });

  it("a remote member's new url, set on one instance, is used through the virtual on the other", async () => {
    const hub = freshKey('hub');
    await createRemoteRepository(a, hub, { url: 'http://127.0.0.1:1', connectTimeoutMillis: 2000, socketTimeoutMillis: 10_000 });
    const key = freshKey();
    await createVirtualRepository(a, key, { repositories: [hub] });
    const name = fixture.imageName('moved');
    const image = buildImage({ layerCount: 1 });
    await seedImage(fixture.upstream, name, '1', image);
    await eventually(async () => expectRegistryError(await manifestOn(b, key, name, '1'), 503, 'UNAVAILABLE'), PROPAGATION_MS);

    await updateRepositoryFields(a, hub, { url: fixture.proxy.url });
    await eventually(async () => expectManifest(await manifestOn(b, key, name, '1'), image.manifest), PROPAGATION_MS);
  });
});
