// Push rules of local repositories (allowTagOverwrite, maxUniqueTags, mustUseAuthTokenForPush,
// requireSignature): set by PUT and POST /api/repositories with validation, off by default, each
// refusal a DENIED naming its rule, also through a virtual whose deployment target has the rule;
// and the Docker v1 API's deletions (`DELETE /v1/repositories/...`) as aliases obeying them.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BuiltImage, MediaTypes, blobOf, buildImage, buildIndex, imageManifest, writeImageSource } from './helpers/oci-image-builder';
import { Skopeo } from './helpers/registry-clients';
import { V2_FORM, expectRegistryError, expectStatus, imageNamer, pushBlobs, pushImage, pushManifest, request, pushReferrerManifest } from './helpers/registry-http';
import {
  TestUser,
  bearerFor,
  createUser,
  createVirtualRepository,
  expectProblem,
  freshKey,
  getManifest,
  grant,
  jsonRequest,
  newUser,
  postRepository,
  putRepository,
  updateRepositoryFields,
  viewOf,
} from './helpers/virtual-repository';
import { WharfTestServer, basicAuthorization, createLocalRepository, startWharf } from './helpers/wharf-server';

const COSIGN_SIG = 'application/vnd.dev.cosign.artifact.sig.v1+json';
const NOTATION_SIG = 'application/vnd.cncf.notary.signature';
const EMPTY = blobOf(Buffer.from('{}'), MediaTypes.OciEmpty);

let server: WharfTestServer;
const nextImage = imageNamer();

beforeAll(async () => {
  server = await startWharf();
}, 60_000);

afterAll(async () => {
  await server?.close();
});

async function localRepo(rules: Record<string, unknown> = {}): Promise<string> {
  const key = freshKey('local');
  await createLocalRepository(server, key, rules);
  return key;
}

function base(key: string, image: string): string {
  return V2_FORM.base(key, image);
}

function descriptor(image: BuiltImage) {
  return { mediaType: image.manifest.mediaType, digest: image.manifest.digest, size: image.manifest.bytes.length };
}

/** A signature manifest as cosign (OCI 1.1 referrers mode) or Notation pushes it: by digest, with `subject`, over plain HTTP. */
async function pushSignature(key: string, image: string, subject: { mediaType: string; digest: string; size: number }, artifactType = COSIGN_SIG): Promise<string> {
  const layerMediaType = artifactType === COSIGN_SIG ? undefined : 'application/jose+json';
  const { digest, headers } = await pushReferrerManifest(server, base(key, image), subject, artifactType, layerMediaType);
  expect(headers.get('oci-subject')).toBe(subject.digest);
  return digest;
}

async function tagsOf(key: string, image: string): Promise<string[]> {
  const res = await request(server, `${base(key, image)}tags/list`);
  expectStatus(res, 200);
  return res.json.tags;
}

function expectDenied(res: { status: number; json: any; body: Buffer; headers: Headers }, rule: string): void {
  expectRegistryError(res as any, 403, 'DENIED');
  expect(res.json.errors[0].message).toContain(rule);
}

describe('settings', () => {
  it('are off by default and shown in the view of a local repository', async () => {
    const key = await localRepo();
    expect(await viewOf(server, key)).toMatchObject({ allowTagOverwrite: true, maxUniqueTags: 0, mustUseAuthTokenForPush: false, requireSignature: false });
  });

  it('are set by PUT and changed one by one by POST, the others staying', async () => {
    const key = freshKey('local');
    const created = await putRepository(server, key, { rclass: 'local', packageType: 'docker', allowTagOverwrite: false, maxUniqueTags: 5, requireSignature: true });
    expectStatus(created, 201);
    expect(created.json).toMatchObject({ allowTagOverwrite: false, maxUniqueTags: 5, mustUseAuthTokenForPush: false, requireSignature: true });
    const updated = await updateRepositoryFields(server, key, { mustUseAuthTokenForPush: true, maxUniqueTags: 0 });
    expect(updated).toMatchObject({ allowTagOverwrite: false, maxUniqueTags: 0, mustUseAuthTokenForPush: true, requireSignature: true });
    expect(await viewOf(server, key)).toMatchObject(updated);
  });

  it('are validated: a 400 naming the field', async () => {
    const key = await localRepo();
    for (const [field, value] of [
      ['maxUniqueTags', -1],
      ['maxUniqueTags', 1.5],
      ['maxUniqueTags', '3'],
      ['allowTagOverwrite', 'no'],
      ['mustUseAuthTokenForPush', 1],
      ['requireSignature', null],
    ] as const) {
      expectProblem(await postRepository(server, key, { [field]: value }), 400, field);
      expectProblem(await putRepository(server, freshKey('local'), { rclass: 'local', packageType: 'docker', [field]: value }), 400, field);
    }
    // Rules of local repositories only.
    expectProblem(await putRepository(server, freshKey('virtual'), { rclass: 'virtual', packageType: 'docker', requireSignature: true }), 400, 'requireSignature');
    expectProblem(await putRepository(server, freshKey('remote'), { rclass: 'remote', packageType: 'docker', url: 'http://127.0.0.1:9', maxUniqueTags: 2 }), 400, 'maxUniqueTags');
    expect(await viewOf(server, key)).toMatchObject({ allowTagOverwrite: true, maxUniqueTags: 0 });
  });

  it('off, a repository lets tags move and go, keeps every tag, serves unsigned manifests and takes passwords', async () => {
    const key = await localRepo();
    const image = nextImage();
    const user = await writer(key);
    await pushImage(server, base(key, image), buildImage(), '1', { auth: user.basic });
    const second = await pushImage(server, base(key, image), buildImage(), '1', { auth: user.basic });
    for (let i = 2; i <= 6; i++) await pushImage(server, base(key, image), buildImage({ layerCount: 1 }), String(i), { auth: user.basic });
    expect(await tagsOf(key, image)).toEqual(['1', '2', '3', '4', '5', '6']);
    expectStatus(await getManifest(server, base(key, image), '1'), 200);
    expect((await getManifest(server, base(key, image), second)).status).toBe(200);
    expectStatus(await request(server, `${base(key, image)}manifests/1`, { method: 'DELETE', auth: user.basic }), 202);
    expectStatus(await request(server, `${base(key, image)}manifests/${second}`, { method: 'DELETE', auth: user.basic }), 202);
  });
});

describe('allowTagOverwrite: false', () => {
  it('refuses moving a tag to other content, and takes the same manifest again (CI retries)', async () => {
    const key = await localRepo({ allowTagOverwrite: false });
    const image = nextImage();
    const first = buildImage();
    const digest = await pushImage(server, base(key, image), first, '1.0');
    // The identical push again: 201.
    expectStatus(await pushManifest(server, base(key, image), '1.0', first.manifest.bytes, first.manifest.mediaType), 201);

    const other = buildImage();
    await pushBlobs(server, base(key, image), [other.config, ...other.layers]);
    expectDenied(await pushManifest(server, base(key, image), '1.0', other.manifest.bytes, other.manifest.mediaType), 'allowTagOverwrite');
    expect((await getManifest(server, base(key, image), '1.0')).headers.get('docker-content-digest')).toBe(digest);
    // The refused push left nothing behind: the other manifest is not stored.
    expectRegistryError(await getManifest(server, base(key, image), other.manifest.digest), 404, 'MANIFEST_UNKNOWN');
    // A new tag is fine.
    expectStatus(await pushManifest(server, base(key, image), '1.1', other.manifest.bytes, other.manifest.mediaType), 201);
  });

  it('lets exactly one of two pushes racing for a new tag with different content win; the same content twice both', async () => {
    const key = await localRepo({ allowTagOverwrite: false });
    const image = nextImage();
    for (let round = 0; round < 5; round++) {
      const [one, two] = [buildImage({ layerCount: 1 }), buildImage({ layerCount: 1 })];
      await pushBlobs(server, base(key, image), [one.config, ...one.layers, two.config, ...two.layers]);
      const tag = `race-${round}`;
      const answers = await Promise.all([one, two].map((built) => pushManifest(server, base(key, image), tag, built.manifest.bytes, built.manifest.mediaType)));
      expect(answers.map((res) => res.status).sort()).toEqual([201, 403]);
      const winner = answers[0].status === 201 ? one : two;
      expect((await getManifest(server, base(key, image), tag)).headers.get('docker-content-digest')).toBe(winner.manifest.digest);
      const again = await Promise.all([1, 2].map(() => pushManifest(server, base(key, image), `same-${round}`, one.manifest.bytes, one.manifest.mediaType)));
      expect(again.map((res) => res.status)).toEqual([201, 201]);
    }
  });

  it('refuses deleting a tag, or by digest a manifest that carries tags; an untagged manifest may go', async () => {
    const key = await localRepo({ allowTagOverwrite: false });
    const image = nextImage();
    const digest = await pushImage(server, base(key, image), buildImage(), 'release');
    expectDenied(await request(server, `${base(key, image)}manifests/release`, { method: 'DELETE' }), 'allowTagOverwrite');
    const byDigest = await request(server, `${base(key, image)}manifests/${digest}`, { method: 'DELETE' });
    expectDenied(byDigest, 'allowTagOverwrite');
    expect(byDigest.json.errors[0].message).toContain('release');
    expect(await tagsOf(key, image)).toEqual(['release']);

    const untagged = buildImage();
    await pushBlobs(server, base(key, image), [untagged.config, ...untagged.layers]);
    expectStatus(await pushManifest(server, base(key, image), untagged.manifest.digest, untagged.manifest.bytes, untagged.manifest.mediaType), 201);
    expectStatus(await request(server, `${base(key, image)}manifests/${untagged.manifest.digest}`, { method: 'DELETE' }), 202);
    // A platform's manifest of a tagged index: deleting it would break the tag.
    const index = buildIndex();
    await pushImage(server, base(key, image), index, 'multi');
    const child = await request(server, `${base(key, image)}manifests/${index.images[0].manifest.digest}`, { method: 'DELETE' });
    expectDenied(child, 'allowTagOverwrite');
    expect(child.json.errors[0].message).toContain('multi');
    // A tag that does not exist: still 404.
    expectRegistryError(await request(server, `${base(key, image)}manifests/nope`, { method: 'DELETE' }), 404, 'MANIFEST_UNKNOWN');
  });

  it('applies through a virtual whose deployment target has it', async () => {
    const key = await localRepo({ allowTagOverwrite: false });
    const virtual = freshKey('virtual');
    await createVirtualRepository(server, virtual, { repositories: [key], defaultDeploymentRepo: key });
    const image = nextImage();
    await pushImage(server, base(virtual, image), buildImage(), '1');
    const other = buildImage();
    await pushBlobs(server, base(virtual, image), [other.config, ...other.layers]);
    expectDenied(await pushManifest(server, base(virtual, image), '1', other.manifest.bytes, other.manifest.mediaType), 'allowTagOverwrite');
    expectDenied(await request(server, `${base(virtual, image)}manifests/1`, { method: 'DELETE' }), 'allowTagOverwrite');
  });
});

describe('maxUniqueTags', () => {
  it('removes the oldest tags of the image beyond N after a push (by when each tag was set); manifests stay', async () => {
    const key = await localRepo({ maxUniqueTags: 3 });
    const image = nextImage();
    const other = nextImage();
    const digests: Record<string, string> = {};
    for (const tag of ['a', 'b', 'c']) digests[tag] = await pushImage(server, base(key, image), buildImage({ layerCount: 1 }), tag);
    // Another image of the repository counts on its own.
    await pushImage(server, base(key, other), buildImage({ layerCount: 1 }), 'x');
    expect(await tagsOf(key, image)).toEqual(['a', 'b', 'c']);

    digests.d = await pushImage(server, base(key, image), buildImage({ layerCount: 1 }), 'd');
    expect(await tagsOf(key, image)).toEqual(['b', 'c', 'd']);
    // Moving `b` makes it the newest: `c` is now the oldest.
    digests.b = await pushImage(server, base(key, image), buildImage({ layerCount: 1 }), 'b');
    digests.e = await pushImage(server, base(key, image), buildImage({ layerCount: 1 }), 'e');
    expect(await tagsOf(key, image)).toEqual(['b', 'd', 'e']);
    expect(await tagsOf(key, other)).toEqual(['x']);
    // The pruned tags' manifests are still there by digest (until garbage collection).
    expectStatus(await getManifest(server, base(key, image), digests.a), 200);
    expectStatus(await getManifest(server, base(key, image), digests.c), 200);
    expectRegistryError(await getManifest(server, base(key, image), 'a'), 404, 'MANIFEST_UNKNOWN');
  });

  it("leaves cosign's tag-convention signatures out: they are not versions of the image", async () => {
    const key = await localRepo({ maxUniqueTags: 2 });
    const image = nextImage();
    await pushImage(server, base(key, image), buildImage({ layerCount: 1 }), 'a');
    const signed = await pushImage(server, base(key, image), buildImage({ layerCount: 1 }), 'b');
    const layer = blobOf(randomBytes(64), 'application/vnd.dev.cosign.simplesigning.v1+json');
    await pushBlobs(server, base(key, image), [EMPTY, layer]);
    const sig = imageManifest({ config: EMPTY, layers: [layer] });
    const sigTag = `${signed.replace(':', '-')}.sig`;
    expectStatus(await pushManifest(server, base(key, image), sigTag, sig.bytes, sig.mediaType), 201);
    expect(await tagsOf(key, image)).toEqual(['a', 'b', sigTag]);
    await pushImage(server, base(key, image), buildImage({ layerCount: 1 }), 'c');
    expect(await tagsOf(key, image)).toEqual(['b', 'c', sigTag]);
  });

  it('lowered by POST, applies at the next push; 0 is unlimited', async () => {
    const key = await localRepo();
    const image = nextImage();
    for (const tag of ['1', '2', '3', '4']) await pushImage(server, base(key, image), buildImage({ layerCount: 1 }), tag);
    await updateRepositoryFields(server, key, { maxUniqueTags: 2 });
    await pushImage(server, base(key, image), buildImage({ layerCount: 1 }), '5');
    expect(await tagsOf(key, image)).toEqual(['4', '5']);
    await updateRepositoryFields(server, key, { maxUniqueTags: 0 });
    for (const tag of ['6', '7', '8']) await pushImage(server, base(key, image), buildImage({ layerCount: 1 }), tag);
    expect(await tagsOf(key, image)).toEqual(['4', '5', '6', '7', '8']);
  });
});

/** A user with read, write and delete on `keys`, and an access token with the same. */
async function writer(...keys: string[]): Promise<TestUser & { token: string }> {
  const user = await createUser(server, newUser('pusher'));
  await grant(server, keys, { [user.name]: ['read', 'write', 'delete'] });
  const created = await jsonRequest(server, 'POST', '/api/security/tokens', { name: freshKey('ci'), repositories: keys, actions: ['read', 'write', 'delete'] }, user.basic);
  expectStatus(created, 201);
  return { ...user, token: created.json.token };
}

describe('mustUseAuthTokenForPush', () => {
  it('refuses uploads, manifest pushes and deletions with a password, also the admin’s; takes an access token', async () => {
    const key = await localRepo({ mustUseAuthTokenForPush: true });
    const image = nextImage();
    const user = await writer(key);
    const built = buildImage();
    for (const auth of [user.basic, server.adminAuthorization]) {
      const upload = await request(server, `${base(key, image)}blobs/uploads/?digest=${built.config.digest}`, { method: 'POST', body: built.config.bytes, auth });
      expectDenied(upload, 'mustUseAuthTokenForPush');
      expectDenied(await request(server, `${base(key, image)}blobs/uploads/`, { method: 'POST', auth }), 'mustUseAuthTokenForPush');
    }
    const withToken = basicAuthorization(user.name, user.token);
    const digest = await pushImage(server, base(key, image), built, '1', { auth: withToken });
    expectDenied(await pushManifest(server, base(key, image), '2', built.manifest.bytes, built.manifest.mediaType, { auth: user.basic }), 'mustUseAuthTokenForPush');
    expectDenied(await request(server, `${base(key, image)}manifests/1`, { method: 'DELETE', auth: user.basic }), 'mustUseAuthTokenForPush');
    // Reading with the password is fine.
    expectStatus(await getManifest(server, base(key, image), '1', { auth: user.basic }), 200);
    expectStatus(await pushManifest(server, base(key, image), '2', built.manifest.bytes, built.manifest.mediaType, { auth: `Bearer ${user.token}` }), 201);
    expectStatus(await request(server, `${base(key, image)}manifests/2`, { method: 'DELETE', auth: withToken }), 202);
    expect(digest).toBe(built.manifest.digest);
  });

  it('tells a registry token obtained with the access token from one obtained with the password', async () => {
    const key = await localRepo({ mustUseAuthTokenForPush: true });
    const image = nextImage();
    const user = await writer(key);
    const scope = `repository:${key}/${image}:pull,push,delete`;
    const fromPassword = await bearerFor(server, user.basic, scope);
    const fromToken = await bearerFor(server, basicAuthorization(user.name, user.token), scope);
    const built = buildImage();
    expectDenied(await request(server, `${base(key, image)}blobs/uploads/`, { method: 'POST', auth: fromPassword }), 'mustUseAuthTokenForPush');
    await pushImage(server, base(key, image), built, '1', { auth: fromToken });
    expectDenied(await request(server, `${base(key, image)}manifests/1`, { method: 'DELETE', auth: fromPassword }), 'mustUseAuthTokenForPush');
    expectStatus(await getManifest(server, base(key, image), '1', { auth: fromPassword }), 200);
  });

  it('applies through a virtual whose deployment target has it', async () => {
    const key = await localRepo({ mustUseAuthTokenForPush: true });
    const virtual = freshKey('virtual');
    await createVirtualRepository(server, virtual, { repositories: [key], defaultDeploymentRepo: key });
    const image = nextImage();
    const user = await writer(key, virtual);
    expectDenied(await request(server, `${base(virtual, image)}blobs/uploads/`, { method: 'POST', auth: user.basic }), 'mustUseAuthTokenForPush');
    await pushImage(server, base(virtual, image), buildImage(), '1', { auth: basicAuthorization(user.name, user.token) });
    expect(await tagsOf(key, image)).toEqual(['1']);
  });
});

describe('requireSignature', () => {
  /** Reads every repository of the suite, pushes to none: whom the rule protects. */
  let reader: TestUser;
  beforeAll(async () => {
    reader = await createUser(server, newUser('reader'));
    await grant(server, ['local-*', 'virtual-*'], { [reader.name]: ['read'] });
  });

  function pull(key: string, image: string, reference: string, auth?: string) {
    return getManifest(server, base(key, image), reference, { auth: auth ?? reader.basic });
  }

  it('serves a manifest (by tag and digest) only once a cosign signature refers to it; pushing, blobs and the signature are served', async () => {
    const key = await localRepo({ requireSignature: true });
    const image = nextImage();
    const built = buildImage();
    const digest = await pushImage(server, base(key, image), built, '1');
    for (const reference of ['1', digest]) {
      const res = await pull(key, image, reference);
      expectDenied(res, 'requireSignature');
      expect(res.json.errors[0].message).toContain('not signed');
    }
    expect((await getManifest(server, base(key, image), '1', { method: 'HEAD', auth: reader.basic })).status).toBe(403);
    expectStatus(await request(server, `${base(key, image)}blobs/${built.layers[0].digest}`, { auth: reader.basic }), 200);

    // Something that is not a signature refers to it: still refused.
    await pushSignature(key, image, descriptor(built), 'application/spdx+json');
    expectDenied(await pull(key, image, '1'), 'requireSignature');

    const signature = await pushSignature(key, image, descriptor(built));
    expectStatus(await pull(key, image, signature), 200);
    expectStatus(await pull(key, image, '1'), 200);
    expectStatus(await pull(key, image, digest), 200);
  });

  it('serves unsigned manifests to a caller who may push (and so sign) them, as cosign sign fetches what it signs', async () => {
    const key = await localRepo({ requireSignature: true });
    const image = nextImage();
    const user = await writer(key);
    const digest = await pushImage(server, base(key, image), buildImage(), '1', { auth: user.basic });
    expectDenied(await pull(key, image, '1'), 'requireSignature');
    for (const reference of ['1', digest]) {
      expectStatus(await pull(key, image, reference, user.basic), 200);
      expectStatus(await pull(key, image, reference, `Bearer ${user.token}`), 200);
      expectStatus(await pull(key, image, reference, await bearerFor(server, user.basic, `repository:${key}/${image}:pull,push`)), 200);
    }
    // A registry token for pulling only is a reader's.
    expectDenied(await pull(key, image, '1', await bearerFor(server, user.basic, `repository:${key}/${image}:pull`)), 'requireSignature');
    // Where the password may not push, it may not skip the rule either.
    await updateRepositoryFields(server, key, { mustUseAuthTokenForPush: true });
    expectDenied(await pull(key, image, '1', user.basic), 'requireSignature');
    expectStatus(await pull(key, image, '1', basicAuthorization(user.name, user.token)), 200);
  });

  it("takes Notation's signatures and cosign's tag convention; a signed index serves its children", async () => {
    const key = await localRepo({ requireSignature: true });
    const image = nextImage();
    const notarised = buildImage();
    await pushImage(server, base(key, image), notarised, 'n');
    await pushSignature(key, image, descriptor(notarised), NOTATION_SIG);
    expectStatus(await pull(key, image, 'n'), 200);

    // cosign without referrers: a manifest under the tag `sha256-<hex>.sig`.
    const tagged = buildImage();
    const digest = await pushImage(server, base(key, image), tagged, 't');
    expectDenied(await pull(key, image, 't'), 'requireSignature');
    const layer = blobOf(randomBytes(64), 'application/vnd.dev.cosign.simplesigning.v1+json');
    await pushBlobs(server, base(key, image), [EMPTY, layer]);
    const sig = imageManifest({ config: EMPTY, layers: [layer] });
    const sigTag = `${digest.replace(':', '-')}.sig`;
    expectStatus(await pushManifest(server, base(key, image), sigTag, sig.bytes, sig.mediaType), 201);
    expectStatus(await pull(key, image, sigTag), 200);
    expectStatus(await pull(key, image, 't'), 200);

    const index = buildIndex();
    const indexDigest = await pushImage(server, base(key, image), index, 'multi');
    const child = index.images[0].manifest.digest;
    expectDenied(await pull(key, image, child), 'requireSignature');
    await pushSignature(key, image, { mediaType: index.index.mediaType, digest: indexDigest, size: index.index.bytes.length });
    expectStatus(await pull(key, image, 'multi'), 200);
    expectStatus(await pull(key, image, child), 200);
  });

  it('applies to pulls through a virtual that has the repository as a member', async () => {
    const key = await localRepo({ requireSignature: true });
    const virtual = freshKey('virtual');
    await createVirtualRepository(server, virtual, { repositories: [key], defaultDeploymentRepo: key });
    const image = nextImage();
    const built = buildImage();
    await pushImage(server, base(virtual, image), built, '1');
    expectDenied(await pull(virtual, image, '1'), 'requireSignature');
    // Who may push through the virtual reads what it would sign.
    expectStatus(await pull(virtual, image, '1', server.adminAuthorization), 200);
    await pushSignature(virtual, image, descriptor(built));
    expectStatus(await pull(virtual, image, '1'), 200);
  });
});

describe('DELETE /v1/repositories/<repoKey>/<image>[/tags/<tag>] (the Docker v1 API, as aliases)', () => {
  function v1(key: string, path: string, auth?: string | null) {
    return request(server, `/v1/repositories/${key}/${path}`, { method: 'DELETE', auth });
  }

  it('deletes one tag, or an image (a name with slashes) with all its tags and manifests: 204', async () => {
    const key = await localRepo();
    const image = `team/${nextImage()}`;
    const one = await pushImage(server, base(key, image), buildImage(), '1');
    await pushImage(server, base(key, image), buildImage(), '2');
    expectStatus(await v1(key, `${image}/tags/1`), 204);
    expect(await tagsOf(key, image)).toEqual(['2']);
    expectStatus(await getManifest(server, base(key, image), one), 200);
    expectProblem(await v1(key, `${image}/tags/1`), 404, '1');

    const other = nextImage();
    await pushImage(server, base(key, other), buildImage(), 'stays');
    expectStatus(await v1(key, image), 204);
    expectRegistryError(await request(server, `${base(key, image)}tags/list`), 404, 'NAME_UNKNOWN');
    expectRegistryError(await getManifest(server, base(key, image), one), 404, 'MANIFEST_UNKNOWN');
    expect(await tagsOf(key, other)).toEqual(['stays']);
    expectProblem(await v1(key, image), 404, image);
    expectProblem(await v1('no-such-repo', image), 404, 'no-such-repo');
    expectProblem(await v1(key, 'Bad_Name'), 400, 'Bad_Name');
  });

  it('needs delete on the repository: 401 anonymous, 404 without read, 403 with read only', async () => {
    const key = await localRepo();
    const image = nextImage();
    await pushImage(server, base(key, image), buildImage(), '1');
    const reader = await createUser(server, newUser('reader'));
    await grant(server, [key], { [reader.name]: ['read'] });
    const stranger = await createUser(server, newUser('stranger'));
    expectProblem(await v1(key, `${image}/tags/1`, null), 401);
    expectProblem(await v1(key, `${image}/tags/1`, stranger.basic), 404);
    expectProblem(await v1(key, image, reader.basic), 403, 'delete');
    expect(await tagsOf(key, image)).toEqual(['1']);
  });

  it('obey the push rules: allowTagOverwrite and mustUseAuthTokenForPush', async () => {
    const frozen = await localRepo({ allowTagOverwrite: false });
    const image = nextImage();
    await pushImage(server, base(frozen, image), buildImage(), '1');
    expectProblem(await v1(frozen, `${image}/tags/1`), 403, 'allowTagOverwrite');
    expectProblem(await v1(frozen, image), 403, 'allowTagOverwrite');
    expect(await tagsOf(frozen, image)).toEqual(['1']);

    const tokenOnly = await localRepo({ mustUseAuthTokenForPush: true });
    const user = await writer(tokenOnly);
    await pushImage(server, base(tokenOnly, image), buildImage(), '1', { auth: `Bearer ${user.token}` });
    await pushImage(server, base(tokenOnly, image), buildImage(), '2', { auth: `Bearer ${user.token}` });
    expectProblem(await v1(tokenOnly, `${image}/tags/1`, user.basic), 403, 'mustUseAuthTokenForPush');
    expectProblem(await v1(tokenOnly, image, user.basic), 403, 'mustUseAuthTokenForPush');
    expectStatus(await v1(tokenOnly, `${image}/tags/1`, basicAuthorization(user.name, user.token)), 204);
    expectStatus(await v1(tokenOnly, image, `Bearer ${user.token}`), 204);
  });

  it('are documented in the OpenAPI description', async () => {
    const doc = (await request(server, '/api/openapi.json', { auth: null })).json;
    const paths = Object.keys(doc.paths).filter((path) => path.startsWith('/v1/'));
    expect(paths).toEqual(['/v1/repositories/{key}/{path}']);
    expect(Object.keys(doc.paths[paths[0]])).toEqual(['delete']);
  });

  it('through a virtual, delete in its deployment target', async () => {
    const key = await localRepo();
    const virtual = freshKey('virtual');
    await createVirtualRepository(server, virtual, { repositories: [key], defaultDeploymentRepo: key });
    const image = nextImage();
    await pushImage(server, base(key, image), buildImage(), '1');
    await pushImage(server, base(key, image), buildImage(), '2');
    expectStatus(await v1(virtual, `${image}/tags/1`), 204);
    expect(await tagsOf(key, image)).toEqual(['2']);
    expectStatus(await v1(virtual, image), 204);
    expectRegistryError(await request(server, `${base(key, image)}tags/list`), 404, 'NAME_UNKNOWN');
  });
});

describe('real clients (skopeo)', () => {
  let work: string;
  let sources = 0;
  const clients: Skopeo[] = [];

  beforeAll(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-push-rules-'));
  });
  afterAll(async () => {
    for (const client of clients) await client.close();
    await fs.rm(work, { recursive: true, force: true });
  });

  async function skopeoAs(creds: { username: string; password: string }): Promise<Skopeo> {
    const client = await Skopeo.create({ creds });
    clients.push(client);
    return client;
  }

  function source(built: BuiltImage): Promise<string> {
    sources += 1;
    return writeImageSource(path.join(work, `source-${sources}`), built, 'src');
  }

  it('a token-only repository refuses a push with the password and takes one with the access token', async () => {
    const key = await localRepo({ mustUseAuthTokenForPush: true });
    const user = await writer(key);
    const image = buildImage();
    const destination = `docker://${server.host}/${key}/app:1`;
    await expect((await skopeoAs(user.creds)).copy(await source(image), destination)).rejects.toThrow(/mustUseAuthTokenForPush/);
    expect(await (await skopeoAs({ username: user.name, password: user.token })).copy(await source(image), destination)).toBe(image.manifest.digest);
    // Pulling with the password is fine.
    expect((await (await skopeoAs(user.creds)).inspectRaw(destination)).equals(image.manifest.bytes)).toBe(true);
  });

  it('a frozen tag takes the same image again and refuses another', async () => {
    const key = await localRepo({ allowTagOverwrite: false });
    const skopeo = await skopeoAs(server.admin);
    const image = buildImage();
    const destination = `docker://${server.host}/${key}/app:release`;
    expect(await skopeo.copy(await source(image), destination)).toBe(image.manifest.digest);
    expect(await skopeo.copy(await source(image), destination)).toBe(image.manifest.digest);
    await expect(skopeo.copy(await source(buildImage()), destination)).rejects.toThrow(/allowTagOverwrite/);
  });

  it('an unsigned image does not pull from a repository requiring signatures; once signed it does', async () => {
    const key = await localRepo({ requireSignature: true });
    const reader = await createUser(server, newUser('puller'));
    await grant(server, [key], { [reader.name]: ['read'] });
    const image = buildImage();
    const reference = `docker://${server.host}/${key}/app:1`;
    expect(await (await skopeoAs(server.admin)).copy(await source(image), reference)).toBe(image.manifest.digest);
    const skopeo = await skopeoAs(reader.creds);
    await expect(skopeo.copy(reference, `oci:${path.join(work, 'unsigned')}:pulled`)).rejects.toThrow(/requireSignature/);
    await pushSignature(key, 'app', descriptor(image));
    expect(await skopeo.copy(reference, `oci:${path.join(work, 'signed')}:pulled`)).toBe(image.manifest.digest);
  });
});
