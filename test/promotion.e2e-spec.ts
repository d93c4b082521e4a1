// Promotion (POST /api/docker/<repoKey>/v2/promote): copy and move of whole images between
// repositories in one transaction, with children, referrers and cosign's attachments; the
// target's push rules; dry runs; racing promotions; refusals naming what is wrong; provenance
// (GET /api/promotions). Plain HTTP only: real clients and remote sources are other suites'.
import { randomBytes } from 'node:crypto';
import { BuiltImage, BuiltIndex, MediaTypes, blobOf, buildImage, buildIndex, descriptorOf, imageIndex, imageManifest, topManifest } from './helpers/oci-image-builder';
import { RequestAuth, V2_FORM, expectStatus, imageNamer, pushBlobs, pushImage, pushManifest, request, pushReferrerManifest } from './helpers/registry-http';
import { TestUser, createUser, createVirtualRepository, expectProblem, freshKey, getManifest, grant, jsonRequest, newUser, putRepository } from './helpers/virtual-repository';
import { WharfTestServer, basicAuthorization, createLocalRepository, startWharf } from './helpers/wharf-server';

const COSIGN_SIG = 'application/vnd.dev.cosign.artifact.sig.v1+json';
const SPDX = 'application/spdx+json';
const EMPTY = blobOf(Buffer.from('{}'), MediaTypes.OciEmpty);

let server: WharfTestServer;
const nextImage = imageNamer();

beforeAll(async () => {
  server = await startWharf();
}, 60_000);

afterAll(async () => {
  await server?.close();
});

// --- helpers --------------------------------------------------------------------------------

async function localRepo(rules: Record<string, unknown> = {}): Promise<string> {
  const key = freshKey('local');
  await createLocalRepository(server, key, rules);
  return key;
}

function base(key: string, image: string): string {
  return V2_FORM.base(key, image);
}

function promote(source: string, body: Record<string, unknown>, auth?: RequestAuth) {
  return jsonRequest(server, 'POST', `/api/docker/${source}/v2/promote`, body, auth);
}

function descriptor(image: BuiltImage) {
  return { mediaType: image.manifest.mediaType, digest: image.manifest.digest, size: image.manifest.bytes.length };
}

function indexOf(images: BuiltImage[]): BuiltIndex {
  return { index: imageIndex({ manifests: images.map((each) => ({ manifest: each.manifest, platform: each.platform })) }), images };
}

function subjectOf(built: BuiltImage | BuiltIndex) {
  return descriptorOf(topManifest(built));
}

/** A referrer as cosign (OCI 1.1 mode), Notation or an SBOM tool pushes it: by digest, with `subject`. */
async function pushReferrer(key: string, image: string, subject: { mediaType: string; digest: string; size: number }, artifactType = COSIGN_SIG): Promise<string> {
  return (await pushReferrerManifest(server, base(key, image), subject, artifactType)).digest;
}

const pushSignature = (key: string, image: string, subject: { mediaType: string; digest: string; size: number }) => pushReferrer(key, image, subject);

/** cosign without referrers: a plain manifest (no subject) under the tag `sha256-<hex>.sig`. */
async function pushCosignTag(key: string, image: string, signed: string): Promise<{ tag: string; digest: string; layer: string }> {
  const layer = blobOf(randomBytes(64), 'application/vnd.dev.cosign.simplesigning.v1+json');
  await pushBlobs(server, base(key, image), [EMPTY, layer]);
  const sig = imageManifest({ config: EMPTY, layers: [layer] });
  const tag = `${signed.replace(':', '-')}.sig`;
  expectStatus(await pushManifest(server, base(key, image), tag, sig.bytes, sig.mediaType), 201);
  return { tag, digest: sig.digest, layer: layer.digest };
}

/** The image's tags, or the status when the listing is refused (404 for an unknown image). */
async function tagsOf(key: string, image: string): Promise<string[] | number> {
  const res = await request(server, `${base(key, image)}tags/list`);
  return res.status === 200 ? (res.json.tags ?? []) : res.status;
}

async function manifestStatus(key: string, image: string, reference: string, auth?: RequestAuth): Promise<number> {
  return (await getManifest(server, base(key, image), reference, { auth })).status;
}

async function blobStatus(key: string, image: string, digest: string): Promise<number> {
  return (await request(server, `${base(key, image)}blobs/${digest}`, { method: 'HEAD' })).status;
}

/** Every manifest and blob of `built` is served from key/image (the top one under `reference`). */
async function expectComplete(key: string, image: string, built: BuiltImage | BuiltIndex, reference: string): Promise<void> {
  const res = await getManifest(server, base(key, image), reference);
  expectStatus(res, 200);
  expect(res.headers.get('docker-content-digest')).toBe(topManifest(built).digest);
  const images = 'index' in built ? built.images : [built];
  const statuses: Record<string, number> = {};
  for (const each of images) {
    statuses[each.manifest.digest] = await manifestStatus(key, image, each.manifest.digest);
    for (const blob of [each.config, ...each.layers]) statuses[blob.digest] = await blobStatus(key, image, blob.digest);
  }
  expect(statuses).toEqual(Object.fromEntries(Object.keys(statuses).map((digest) => [digest, 200])));
}

/** Every manifest of `built` (top and children) answers `status` from key/image by digest. */
async function manifestsAnswer(key: string, image: string, built: BuiltImage | BuiltIndex, status: number): Promise<void> {
  const digests = [topManifest(built).digest, ...('index' in built ? built.images.map((i) => i.manifest.digest) : [])];
  const statuses: Record<string, number> = {};
  for (const digest of digests) statuses[digest] = await manifestStatus(key, image, digest);
  expect(statuses).toEqual(Object.fromEntries(digests.map((digest) => [digest, status])));
}

async function referrersOf(key: string, image: string, digest: string): Promise<string[]> {
  const res = await request(server, `${base(key, image)}referrers/${digest}`);
  expectStatus(res, 200);
  return res.json.manifests.map((m: { digest: string }) => m.digest).sort();
}

async function promotions(query: Record<string, string>, auth?: RequestAuth): Promise<any[]> {
  const res = await request(server, `/api/promotions?${new URLSearchParams(query)}`, { auth });
  expectStatus(res, 200);
  return res.json;
}

/** A user granted `grants` (repository key to actions). */
async function userWith(grants: Record<string, string[]>): Promise<TestUser> {
  const user = await createUser(server, newUser('promoter'));
  for (const [key, actions] of Object.entries(grants)) await grant(server, [key], { [user.name]: actions });
  return user;
}

async function tokenOf(user: TestUser, repositories: string[], actions: string[]): Promise<{ id: string; token: string }> {
  const res = await jsonRequest(server, 'POST', '/api/security/tokens', { name: freshKey('ci'), repositories, actions }, user.basic);
  expectStatus(res, 201);
  return { id: res.json.id, token: res.json.token };
}

/** The answer's counts, without what only a real run has (id, createdAt) and the dryRun flag. */
function effects(answer: any) {
  const { id, createdAt, dryRun, ...rest } = answer;
  return rest;
}

// --- copy and move --------------------------------------------------------------------------

describe('copy', () => {
  it('copies an index with its children and a signature; both sides serve it', async () => {
    const [dev, prod, image] = [await localRepo(), await localRepo(), nextImage()];
    const built = buildIndex({ layerCount: 2 });
    const digest = await pushImage(server, base(dev, image), built, '1.0');
    const sig = await pushSignature(dev, image, { mediaType: built.index.mediaType, digest, size: built.index.bytes.length });
    const res = await promote(dev, { targetRepo: prod, dockerRepository: image, tag: '1.0', copy: true });
    expectStatus(res, 200);
    expect(res.json).toMatchObject({ copy: true, dryRun: false, tags: [{ source: '1.0', target: '1.0', digest }], manifests: 3, referrers: 1 });
    for (const key of [dev, prod]) {
      expectStatus(await getManifest(server, base(key, image), '1.0'), 200);
      expectStatus(await getManifest(server, base(key, image), sig), 200);
      for (const child of built.images) expectStatus(await request(server, `${base(key, image)}blobs/${child.layers[0].digest}`), 200);
    }
    const referrers = await request(server, `${base(prod, image)}referrers/${digest}`);
    expect(referrers.json.manifests.map((m: { digest: string }) => m.digest)).toEqual([sig]);
    const listed = await request(server, `/api/promotions?repository=${prod}&image=${image}`);
    expectStatus(listed, 200);
    expect(listed.json[0]).toMatchObject({ id: res.json.id, sourceRepository: dev, targetRepository: prod, copy: true });
  });

  it('copies one tag: the source keeps it, the target serves it by tag and digest; blobs are linked once, a second copy adds nothing', async () => {
    const [dev, prod, image] = [await localRepo(), await localRepo(), nextImage()];
    const built = buildImage({ layerCount: 2 });
    const digest = await pushImage(server, base(dev, image), built, '1.0');
    await pushImage(server, base(dev, image), buildImage({ layerCount: 1 }), 'other');
    const res = await promote(dev, { targetRepo: prod, dockerRepository: image, tag: '1.0', copy: true });
    expectStatus(res, 200);
    expect(res.json).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      createdAt: expect.any(String),
      dryRun: false,
      copy: true,
      source: { repository: dev, heldBy: dev, image },
      target: { repository: prod, deployedTo: prod, image },
      tags: [{ source: '1.0', target: '1.0', digest }],
      manifests: 1,
      referrers: 0,
      manifestsAdded: 1,
      blobsLinked: 3,
      prunedTags: [],
    });
    expect(await tagsOf(prod, image)).toEqual(['1.0']);
    expect(await tagsOf(dev, image)).toEqual(['1.0', 'other']);
    await expectComplete(prod, image, built, '1.0');
    await expectComplete(prod, image, built, digest);
    await expectComplete(dev, image, built, '1.0');

    const again = await promote(dev, { targetRepo: prod, dockerRepository: image, tag: '1.0', copy: true });
    expectStatus(again, 200);
    expect(again.json).toMatchObject({ manifests: 1, manifestsAdded: 0, blobsLinked: 0 });
    expect(again.json.id).not.toBe(res.json.id);
  });

  it('moves: the source loses the tag and its manifests', async () => {
    const [dev, prod, image] = [await localRepo(), await localRepo(), nextImage()];
    const built = buildImage();
    const digest = await pushImage(server, base(dev, image), built, '1.0');
    const res = await promote(dev, { targetRepo: prod, dockerRepository: image, tag: '1.0', targetTag: 'stable' });
    expectStatus(res, 200);
    expect(res.json.removedFromSource).toEqual({ tags: ['1.0'], manifests: 1 });
    expectStatus(await getManifest(server, base(prod, image), 'stable'), 200);
    expectStatus(await getManifest(server, base(dev, image), '1.0'), 404);
    expectStatus(await getManifest(server, base(dev, image), digest), 404);
  });

  it('moves one tag (copy omitted): source 404 by tag and by digest, the target serves manifest and blobs', async () => {
    const [dev, prod, image] = [await localRepo(), await localRepo(), nextImage()];
    const built = buildImage({ layerCount: 2 });
    const digest = await pushImage(server, base(dev, image), built, '2.0');
    const res = await promote(dev, { targetRepo: prod, dockerRepository: image, tag: '2.0' });
    expectStatus(res, 200);
    expect(res.json).toMatchObject({ copy: false, tags: [{ source: '2.0', target: '2.0', digest }], manifests: 1, removedFromSource: { tags: ['2.0'], manifests: 1 } });
    expect(await manifestStatus(dev, image, '2.0')).toBe(404);
    expect(await manifestStatus(dev, image, digest)).toBe(404);
    expect(await tagsOf(dev, image)).not.toEqual(expect.arrayContaining(['2.0']));
    await expectComplete(prod, image, built, '2.0');
    await expectComplete(prod, image, built, digest);
    // copy: false said out loud is a move too.
    const again = nextImage();
    const second = await pushImage(server, base(dev, again), buildImage({ layerCount: 1 }), '1');
    expectStatus(await promote(dev, { targetRepo: prod, dockerRepository: again, tag: '1', copy: false }), 200);
    expect(await manifestStatus(dev, again, second)).toBe(404);
  });

  it('copies every tag when tag is omitted (two tags sharing a digest, one more), the source unchanged', async () => {
    const [dev, prod, image] = [await localRepo(), await localRepo(), nextImage()];
    const shared = buildImage({ layerCount: 1 });
    const other = buildIndex({ layerCount: 1 });
    const a = await pushImage(server, base(dev, image), shared, '1');
    await pushImage(server, base(dev, image), shared, 'latest');
    const b = await pushImage(server, base(dev, image), other, '2');
    const res = await promote(dev, { targetRepo: prod, dockerRepository: image, copy: true });
    expectStatus(res, 200);
    const byTag = [...res.json.tags].sort((x: { source: string }, y: { source: string }) => x.source.localeCompare(y.source));
    expect(byTag).toEqual([
      { source: '1', target: '1', digest: a },
      { source: '2', target: '2', digest: b },
      { source: 'latest', target: 'latest', digest: a },
    ]);
    expect(res.json).toMatchObject({ manifests: 4, referrers: 0, manifestsAdded: 4 });
    expect(res.json.removedFromSource).toBeUndefined();
    expect(await tagsOf(prod, image)).toEqual(['1', '2', 'latest']);
    expect(await tagsOf(dev, image)).toEqual(['1', '2', 'latest']);
    await expectComplete(prod, image, shared, 'latest');
    await expectComplete(prod, image, other, '2');
    await expectComplete(dev, image, other, '2');
  });

  it('moves every tag when tag is omitted: the source image is left without tags or manifests', async () => {
    const [dev, prod, image] = [await localRepo(), await localRepo(), nextImage()];
    const shared = buildImage({ layerCount: 1 });
    const other = buildIndex({ layerCount: 1 });
    const a = await pushImage(server, base(dev, image), shared, '1');
    await pushImage(server, base(dev, image), shared, 'latest');
    await pushImage(server, base(dev, image), other, '2');
    const res = await promote(dev, { targetRepo: prod, dockerRepository: image });
    expectStatus(res, 200);
    expect(res.json.removedFromSource.tags.sort()).toEqual(['1', '2', 'latest']);
    expect(res.json.removedFromSource.manifests).toBe(4);
    expect(await tagsOf(prod, image)).toEqual(['1', '2', 'latest']);
    const left = await tagsOf(dev, image);
    expect(left === 404 || (Array.isArray(left) && left.length === 0)).toBe(true);
    expect(await manifestStatus(dev, image, a)).toBe(404);
    await manifestsAnswer(dev, image, other, 404);
    await expectComplete(prod, image, shared, '1');
    await expectComplete(prod, image, other, '2');
  });

  it('targetTag retags in the target only; targetDockerRepository renames', async () => {
    const [dev, prod, image] = [await localRepo(), await localRepo(), nextImage()];
    const built = buildImage({ layerCount: 1 });
    const digest = await pushImage(server, base(dev, image), built, '1.0');
    const retagged = await promote(dev, { targetRepo: prod, dockerRepository: image, tag: '1.0', targetTag: 'stable', copy: true });
    expectStatus(retagged, 200);
    expect(retagged.json.tags).toEqual([{ source: '1.0', target: 'stable', digest }]);
    expect(await tagsOf(prod, image)).toEqual(['stable']);
    expect(await tagsOf(dev, image)).toEqual(['1.0']);

    const renamed = await promote(dev, { targetRepo: prod, dockerRepository: image, tag: '1.0', targetDockerRepository: 'team/app', copy: true });
    expectStatus(renamed, 200);
    expect(renamed.json.target).toEqual({ repository: prod, deployedTo: prod, image: 'team/app' });
    expect(await tagsOf(prod, 'team/app')).toEqual(['1.0']);
    await expectComplete(prod, 'team/app', built, '1.0');
    // Renaming did not add a tag under the source's name.
    expect(await tagsOf(prod, image)).toEqual(['stable']);

    const both = await promote(dev, { targetRepo: prod, dockerRepository: image, tag: '1.0', targetDockerRepository: 'team/app', targetTag: 'prod' });
    expectStatus(both, 200);
    expect(await tagsOf(prod, 'team/app')).toEqual(['1.0', 'prod']);
    expect(await manifestStatus(dev, image, digest)).toBe(404);
  });

  it('promotes within one repository: to another image name, and (move with targetTag) to another tag of the same image', async () => {
    const [dev, image] = [await localRepo(), nextImage()];
    const built = buildImage({ layerCount: 1 });
    const digest = await pushImage(server, base(dev, image), built, 'rc');
    const renamed = `${image}-final`;
    const res = await promote(dev, { targetRepo: dev, dockerRepository: image, tag: 'rc', targetDockerRepository: renamed });
    expectStatus(res, 200);
    expect(res.json).toMatchObject({ source: { repository: dev, image }, target: { repository: dev, image: renamed }, removedFromSource: { tags: ['rc'], manifests: 1 } });
    expect(await manifestStatus(dev, image, digest)).toBe(404);
    await expectComplete(dev, renamed, built, 'rc');

    // Same image, another tag: a rename of the tag; the manifest stays, now held by the new tag.
    const retag = await promote(dev, { targetRepo: dev, dockerRepository: renamed, tag: 'rc', targetTag: 'ga' });
    expectStatus(retag, 200);
    expect(retag.json).toMatchObject({ manifestsAdded: 0, removedFromSource: { tags: ['rc'], manifests: 0 } });
    expect(await tagsOf(dev, renamed)).toEqual(['ga']);
    await expectComplete(dev, renamed, built, 'ga');
  });

  it('moves an index with every child and blob: the target serves them all, the source none', async () => {
    const [dev, prod, image] = [await localRepo(), await localRepo(), nextImage()];
    const built = buildIndex({
      layerCount: 2,
      platforms: [
        { architecture: 'amd64', os: 'linux' },
        { architecture: 'arm64', os: 'linux', variant: 'v8' },
        { architecture: 's390x', os: 'linux' },
      ],
    });
    const digest = await pushImage(server, base(dev, image), built, 'multi');
    const res = await promote(dev, { targetRepo: prod, dockerRepository: image, tag: 'multi' });
    expectStatus(res, 200);
    expect(res.json).toMatchObject({ manifests: 4, referrers: 0, manifestsAdded: 4, blobsLinked: 9, removedFromSource: { manifests: 4 } });
    await expectComplete(prod, image, built, 'multi');
    await expectComplete(prod, image, built, digest);
    await manifestsAnswer(dev, image, built, 404);
  });

  it('an OCI 1.1 signature (a referrer) moves with its image and is listed by the target’s referrers API', async () => {
    const [dev, prod, image] = [await localRepo(), await localRepo(), nextImage()];
    const built = buildImage({ layerCount: 1 });
    const digest = await pushImage(server, base(dev, image), built, '1');
    const sig = await pushSignature(dev, image, descriptor(built));
    const res = await promote(dev, { targetRepo: prod, dockerRepository: image, tag: '1' });
    expectStatus(res, 200);
    expect(res.json).toMatchObject({ manifests: 1, referrers: 1, manifestsAdded: 2, removedFromSource: { manifests: 2 } });
    expect(await referrersOf(prod, image, digest)).toEqual([sig]);
    expect(await manifestStatus(prod, image, sig)).toBe(200);
    expect(await manifestStatus(dev, image, sig)).toBe(404);
  });

  it('a cosign `.sig` tag (pushed raw, no subject) follows its image, and the image is served as signed by a requireSignature target', async () => {
    const [dev, prod, image] = [await localRepo(), await localRepo({ requireSignature: true }), nextImage()];
    const reader = await userWith({ [prod]: ['read'] });
    const built = buildImage({ layerCount: 1 });
    const digest = await pushImage(server, base(dev, image), built, '1');
    const sig = await pushCosignTag(dev, image, digest);
    const res = await promote(dev, { targetRepo: prod, dockerRepository: image, tag: '1', copy: true });
    expectStatus(res, 200);
    expect(res.json).toMatchObject({ tags: [{ source: '1', target: '1', digest }], manifests: 1, referrers: 1, manifestsAdded: 2 });
    expect(await tagsOf(prod, image)).toEqual(['1', sig.tag]);
    const sigRes = await getManifest(server, base(prod, image), sig.tag);
    expectStatus(sigRes, 200);
    expect(sigRes.headers.get('docker-content-digest')).toBe(sig.digest);
    expect(await blobStatus(prod, image, sig.layer)).toBe(200);
    // A reader (who may not push, hence not skip the rule) pulls it: it arrived signed.
    expect(await manifestStatus(prod, image, '1', reader.basic)).toBe(200);
    expect(await manifestStatus(prod, image, digest, reader.basic)).toBe(200);
  });

  it('a signature on an SBOM (a referrer of a referrer) follows the image', async () => {
    const [dev, prod, image] = [await localRepo(), await localRepo(), nextImage()];
    const built = buildIndex({ layerCount: 1 });
    const digest = await pushImage(server, base(dev, image), built, '1');
    const sbom = await pushReferrer(dev, image, subjectOf(built), SPDX);
    const sbomManifest = await getManifest(server, base(dev, image), sbom);
    const sbomSig = await pushSignature(dev, image, { mediaType: MediaTypes.OciManifest, digest: sbom, size: sbomManifest.body.length });
    const res = await promote(dev, { targetRepo: prod, dockerRepository: image, tag: '1' });
    expectStatus(res, 200);
    expect(res.json).toMatchObject({ manifests: 3, referrers: 2, manifestsAdded: 5, removedFromSource: { manifests: 5 } });
    expect(await referrersOf(prod, image, digest)).toEqual([sbom]);
    expect(await referrersOf(prod, image, sbom)).toEqual([sbomSig]);
    for (const each of [sbom, sbomSig]) {
      expect(await manifestStatus(prod, image, each)).toBe(200);
      expect(await manifestStatus(dev, image, each)).toBe(404);
    }
  });

  it('moving a tag whose digest another source tag still holds keeps the manifest and its signature in the source', async () => {
    const [dev, prod, image] = [await localRepo(), await localRepo(), nextImage()];
    const built = buildIndex({ layerCount: 1 });
    const digest = await pushImage(server, base(dev, image), built, '1.0');
    await pushImage(server, base(dev, image), built, 'latest');
    const sig = await pushSignature(dev, image, subjectOf(built));
    const res = await promote(dev, { targetRepo: prod, dockerRepository: image, tag: '1.0' });
    expectStatus(res, 200);
    expect(res.json.removedFromSource).toEqual({ tags: ['1.0'], manifests: 0 });
    expect(await tagsOf(dev, image)).toEqual(['latest']);
    expect(await manifestStatus(dev, image, '1.0')).toBe(404);
    await expectComplete(dev, image, built, 'latest');
    expect(await manifestStatus(dev, image, sig)).toBe(200);
    await expectComplete(prod, image, built, '1.0');
    expect(await referrersOf(prod, image, digest)).toEqual([sig]);
  });

  it('moving a tag takes its cosign `.sig` tag along: the source keeps neither, the target both', async () => {
    const [dev, prod, image] = [await localRepo(), await localRepo(), nextImage()];
    const built = buildImage({ layerCount: 1 });
    const digest = await pushImage(server, base(dev, image), built, '1');
    const sig = await pushCosignTag(dev, image, digest);
    await pushImage(server, base(dev, image), buildImage({ layerCount: 1 }), 'other');
    const res = await promote(dev, { targetRepo: prod, dockerRepository: image, tag: '1' });
    expectStatus(res, 200);
    expect(res.json).toMatchObject({ tags: [{ source: '1', target: '1', digest }], referrers: 1, removedFromSource: { tags: ['1'], manifests: 2 } });
    expect(await tagsOf(dev, image)).toEqual(['other']);
    expect(await manifestStatus(dev, image, sig.digest)).toBe(404);
    expect(await tagsOf(prod, image)).toEqual(['1', sig.tag]);
  });

  it('moving an index keeps in the source the child that another tag’s index shares, and what no tag reaches', async () => {
    const [dev, prod, image] = [await localRepo(), await localRepo(), nextImage()];
    const moved = buildIndex({ layerCount: 1 });
    const shared = moved.images[0];
    const stays = indexOf([shared, buildImage({ layerCount: 1, platform: { architecture: 'riscv64', os: 'linux' } })]);
    await pushImage(server, base(dev, image), moved, 'moved');
    await pushImage(server, base(dev, image), stays, 'stays');
    const loose = await pushImage(server, base(dev, image), buildImage({ layerCount: 1 }), 'loose');
    expectStatus(await request(server, `${base(dev, image)}manifests/loose`, { method: 'DELETE' }), 202);
    const res = await promote(dev, { targetRepo: prod, dockerRepository: image, tag: 'moved' });
    expectStatus(res, 200);
    // The index and its unshared child left; the shared child stayed.
    expect(res.json.removedFromSource).toEqual({ tags: ['moved'], manifests: 2 });
    expect(await manifestStatus(dev, image, moved.index.digest)).toBe(404);
    expect(await manifestStatus(dev, image, moved.images[1].manifest.digest)).toBe(404);
    await expectComplete(dev, image, stays, 'stays');
    // An untagged manifest nothing promoted reaches is none of the move's business.
    expect(await manifestStatus(dev, image, loose)).toBe(200);
    await expectComplete(prod, image, moved, 'moved');
  });

  // With tag omitted, the image's tag list names cosign's `sha256-<hex>.sig` tag, which the
  // closure also carries as an attachment: it is set once (it was twice, a 500 from Postgres).
  it('copies every tag of an image that has a cosign `.sig` tag (the tag listed once, the signature with it)', async () => {
    const [dev, prod, image] = [await localRepo(), await localRepo(), nextImage()];
    const built = buildImage({ layerCount: 1 });
    const digest = await pushImage(server, base(dev, image), built, '1');
    const sig = await pushCosignTag(dev, image, digest);
    const res = await promote(dev, { targetRepo: prod, dockerRepository: image, copy: true });
    expectStatus(res, 200);
    expect(await tagsOf(prod, image)).toEqual(['1', sig.tag]);
    expect(await manifestStatus(prod, image, sig.tag)).toBe(200);
  });

  it('moves every tag of an image that has a cosign `.sig` tag', async () => {
    const [dev, prod, image] = [await localRepo(), await localRepo(), nextImage()];
    const built = buildImage({ layerCount: 1 });
    const digest = await pushImage(server, base(dev, image), built, '1');
    const sig = await pushCosignTag(dev, image, digest);
    const res = await promote(dev, { targetRepo: prod, dockerRepository: image });
    expectStatus(res, 200);
    expect(await tagsOf(prod, image)).toEqual(['1', sig.tag]);
    expect(await manifestStatus(dev, image, sig.digest)).toBe(404);
  });
});

// --- dry run --------------------------------------------------------------------------------

describe('dryRun', () => {
  /** What both sides hold: tags, and the status of every digest asked about. */
  async function state(keys: string[], image: string, digests: string[], blobs: string[]) {
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      out[`${key} tags`] = await tagsOf(key, image);
      for (const digest of digests) out[`${key} ${digest}`] = await manifestStatus(key, image, digest);
      for (const digest of blobs) out[`${key} blob ${digest}`] = await blobStatus(key, image, digest);
    }
    return out;
  }

  it('changes nothing and records nothing, and answers what the real run then answers', async () => {
    const [dev, prod, image] = [await localRepo(), await localRepo({ maxUniqueTags: 2 }), nextImage()];
    await pushImage(server, base(prod, image), buildImage({ layerCount: 1 }), 'old-1');
    await pushImage(server, base(prod, image), buildImage({ layerCount: 1 }), 'old-2');
    const built = buildIndex({ layerCount: 1 });
    const digest = await pushImage(server, base(dev, image), built, '1.0');
    const sig = await pushSignature(dev, image, subjectOf(built));
    const digests = [digest, sig, ...built.images.map((i) => i.manifest.digest)];
    const blobs = built.images.flatMap((i) => [i.config.digest, ...i.layers.map((l) => l.digest)]);
    const before = await state([dev, prod], image, digests, blobs);
    expect(before[`${prod} ${digest}`]).toBe(404);

    const dry = await promote(dev, { targetRepo: prod, dockerRepository: image, tag: '1.0', dryRun: true });
    expectStatus(dry, 200);
    expect(dry.json).toMatchObject({ dryRun: true, id: null, createdAt: null, manifests: 3, referrers: 1, manifestsAdded: 4, prunedTags: ['old-1'] });
    expect(await state([dev, prod], image, digests, blobs)).toEqual(before);
    expect(await promotions({ repository: dev })).toEqual([]);
    expect(await promotions({ digest })).toEqual([]);

    const real = await promote(dev, { targetRepo: prod, dockerRepository: image, tag: '1.0' });
    expectStatus(real, 200);
    expect(real.json).toMatchObject({ dryRun: false, id: expect.any(String) });
    expect(effects(real.json)).toEqual(effects(dry.json));
    expect(await tagsOf(prod, image)).toEqual(['1.0', 'old-2']);
    expect(await manifestStatus(dev, image, digest)).toBe(404);
    expect(await promotions({ repository: dev })).toHaveLength(1);
  });

  it('of every tag (a move) answers the same counts as the real run and leaves both sides as they were', async () => {
    const [dev, prod, image] = [await localRepo(), await localRepo(), nextImage()];
    const a = await pushImage(server, base(dev, image), buildImage({ layerCount: 1 }), 'a');
    const b = await pushImage(server, base(dev, image), buildImage({ layerCount: 1 }), 'b');
    await pushImage(server, base(dev, image), buildImage({ layerCount: 1 }), 'a2');
    const before = await state([dev, prod], image, [a, b], []);
    const dry = await promote(dev, { targetRepo: prod, dockerRepository: image, dryRun: true });
    expectStatus(dry, 200);
    expect(await state([dev, prod], image, [a, b], [])).toEqual(before);
    const real = await promote(dev, { targetRepo: prod, dockerRepository: image });
    expectStatus(real, 200);
    expect(effects(real.json)).toEqual(effects(dry.json));
    expect(real.json.removedFromSource.manifests).toBe(3);
  });

  it('that would be refused is refused the same way, and changes nothing', async () => {
    const [dev, frozen, signedOnly, image] = [await localRepo(), await localRepo({ allowTagOverwrite: false }), await localRepo({ requireSignature: true }), nextImage()];
    await pushImage(server, base(frozen, image), buildImage({ layerCount: 1 }), '1');
    const built = buildImage({ layerCount: 1 });
    const digest = await pushImage(server, base(dev, image), built, '1');
    const reader = await userWith({ [dev]: ['read'], [frozen]: ['read'] });
    for (const [body, auth, status, mention] of [
      [{ targetRepo: frozen, dockerRepository: image, tag: '1', copy: true }, undefined, 403, 'allowTagOverwrite'],
      [{ targetRepo: signedOnly, dockerRepository: image, tag: '1', copy: true }, undefined, 403, 'requireSignature'],
      [{ targetRepo: frozen, dockerRepository: image, tag: '1', targetTag: 'new', copy: true }, reader.basic, 403, 'write permission'],
      [{ targetRepo: frozen, dockerRepository: image, tag: 'nope', targetTag: 'new', copy: true }, undefined, 404, 'nope'],
    ] as const) {
      const real = await promote(dev, body, auth);
      const dry = await promote(dev, { ...body, dryRun: true }, auth);
      expectProblem(real, status, mention);
      expectProblem(dry, status, mention);
      expect(dry.json.detail).toBe(real.json.detail);
    }
    expect(await manifestStatus(frozen, image, digest)).toBe(404);
    expect(await manifestStatus(signedOnly, image, digest)).toBe(404);
    expect(await promotions({ repository: dev })).toEqual([]);
  });
});

// --- concurrency ----------------------------------------------------------------------------

describe('racing promotions', () => {
  const N = 8;

  async function pushIndexes(dev: string, names: string[]): Promise<BuiltIndex[]> {
    return Promise.all(
      names.map(async (name) => {
        const built = buildIndex({ layerCount: 1, layerSize: 256 });
        await pushImage(server, base(dev, name), built, 'rc');
        return built;
      }),
    );
  }

  it(`${N} promotions of different images onto one frozen tag: one wins (200), the rest 403; the tag holds the winner's whole closure`, async () => {
    const [dev, prod] = [await localRepo(), await localRepo({ allowTagOverwrite: false })];
    const names = Array.from({ length: N }, () => nextImage('race'));
    const builds = await pushIndexes(dev, names);
    const results = await Promise.all(
      names.map((name) => promote(dev, { targetRepo: prod, dockerRepository: name, tag: 'rc', targetDockerRepository: 'app', targetTag: 'release', copy: true })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, ...Array(N - 1).fill(403)]);
    const winner = results.findIndex((r) => r.status === 200);
    for (const loser of results.filter((r) => r.status !== 200)) expectProblem(loser, 403, 'release', 'allowTagOverwrite');
    expect(await tagsOf(prod, 'app')).toEqual(['release']);
    await expectComplete(prod, 'app', builds[winner], 'release');
    // The losers' transactions rolled back: none of their manifests is in the target.
    for (const [i, built] of builds.entries()) if (i !== winner) await manifestsAnswer(prod, 'app', built, 404);
    const records = await promotions({ repository: prod, image: 'app' });
    expect(records.map((r) => r.sourceImage)).toEqual([names[winner]]);
  });

  it(`${N} moves of the same source tag: one 200, the others 404; the image is in exactly one place`, async () => {
    const [dev, prod, image] = [await localRepo(), await localRepo(), nextImage()];
    const built = buildIndex({ layerCount: 1 });
    const digest = await pushImage(server, base(dev, image), built, '1.0');
    const results = await Promise.all(Array.from({ length: N }, (_, i) => promote(dev, { targetRepo: prod, dockerRepository: image, tag: '1.0', targetTag: `m${i}` })));
    expect(results.map((r) => r.status).sort()).toEqual([200, ...Array(N - 1).fill(404)]);
    const winner = results.findIndex((r) => r.status === 200);
    for (const loser of results.filter((r) => r.status !== 200)) expectProblem(loser, 404, '1.0');
    expect(await tagsOf(prod, image)).toEqual([`m${winner}`]);
    await expectComplete(prod, image, built, `m${winner}`);
    expect(await manifestStatus(dev, image, digest)).toBe(404);
    expect(await promotions({ repository: dev, image })).toHaveLength(1);
  });

  it(`${N} promotions onto one tag of a target that allows overwrite: all 200, the tag at one of them with every child`, async () => {
    const [dev, prod] = [await localRepo(), await localRepo()];
    const names = Array.from({ length: N }, () => nextImage('free'));
    const builds = await pushIndexes(dev, names);
    const results = await Promise.all(
      names.map((name) => promote(dev, { targetRepo: prod, dockerRepository: name, tag: 'rc', targetDockerRepository: 'app', targetTag: 'latest', copy: true })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(N).fill(200));
    const res = await getManifest(server, base(prod, 'app'), 'latest');
    expectStatus(res, 200);
    const landed = builds.findIndex((b) => b.index.digest === res.headers.get('docker-content-digest'));
    expect(landed).toBeGreaterThanOrEqual(0);
    await expectComplete(prod, 'app', builds[landed], 'latest');
    // Every promotion's closure arrived whole, tagged or not.
    for (const built of builds) await manifestsAnswer(prod, 'app', built, 200);
    expect(await promotions({ repository: prod, image: 'app' })).toHaveLength(N);
  });
});

// --- refusals -------------------------------------------------------------------------------

describe('refusals', () => {
  let dev: string;
  let prod: string;
  let image: string;
  let digest: string;

  beforeAll(async () => {
    [dev, prod, image] = [await localRepo(), await localRepo(), nextImage()];
    digest = await pushImage(server, base(dev, image), buildImage({ layerCount: 1 }), '1.0');
  });

  it('validates the body: 400 naming the field', async () => {
    const ok = { targetRepo: prod, dockerRepository: image, tag: '1.0', copy: true };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ dockerRepository: image }, 'targetRepo'],
      [{ ...ok, targetRepo: 'Not A Key' }, 'targetRepo'],
      [{ targetRepo: prod }, 'dockerRepository'],
      [{ ...ok, dockerRepository: 'Upper/Case' }, 'dockerRepository'],
      [{ ...ok, dockerRepository: 'a//b' }, 'dockerRepository'],
      [{ ...ok, targetDockerRepository: '-bad' }, 'targetDockerRepository'],
      [{ ...ok, tag: 'bad tag' }, 'tag'],
      [{ ...ok, tag: '.hidden' }, 'tag'],
      [{ ...ok, tag: 'sha256:abc' }, 'tag'],
      [{ ...ok, targetTag: 'x'.repeat(129) }, 'targetTag'],
      [{ ...ok, copy: 'yes' }, 'copy'],
      [{ ...ok, dryRun: 1 }, 'dryRun'],
      [{ ...ok, overwrite: true }, 'overwrite'],
      [{ targetRepo: prod, dockerRepository: image, targetTag: 'stable', copy: true }, 'targetTag'],
    ];
    for (const [body, field] of cases) expectProblem(await promote(dev, body), 400, field);
    expectProblem(await promote('Bad_Key', ok), 400);
    expect(await tagsOf(prod, image)).toBe(404);
  });

  it('source and target the same: 400', async () => {
    expectProblem(await promote(dev, { targetRepo: dev, dockerRepository: image, tag: '1.0' }), 400, 'same');
    expectProblem(await promote(dev, { targetRepo: dev, dockerRepository: image, tag: '1.0', targetTag: '1.0', targetDockerRepository: image }), 400, 'same');
    expectProblem(await promote(dev, { targetRepo: dev, dockerRepository: image }), 400, 'same');
    expect(await tagsOf(dev, image)).toEqual(['1.0']);
  });

  it('unknown source repository, image or tag, and unknown target: 404 naming it', async () => {
    const ghost = freshKey('local');
    expectProblem(await promote(ghost, { targetRepo: prod, dockerRepository: image, tag: '1.0', copy: true }), 404, ghost);
    expectProblem(await promote(dev, { targetRepo: prod, dockerRepository: image, tag: '9.9', copy: true }), 404, '9.9');
    expectProblem(await promote(dev, { targetRepo: prod, dockerRepository: 'no-such-image', tag: '1.0', copy: true }), 404);
    expectProblem(await promote(dev, { targetRepo: prod, dockerRepository: 'no-such-image', copy: true }), 404, 'no-such-image');
    expectProblem(await promote(dev, { targetRepo: ghost, dockerRepository: image, tag: '1.0', copy: true }), 404, ghost);
  });

  it('anonymous: 401; no read on the source: 404 (it does not exist for the caller)', async () => {
    const res = await promote(dev, { targetRepo: prod, dockerRepository: image, tag: '1.0', copy: true }, null);
    expectProblem(res, 401);
    expect(res.headers.get('www-authenticate')).toBeTruthy();
    const writerOnly = await userWith({ [prod]: ['read', 'write', 'delete'] });
    expectProblem(await promote(dev, { targetRepo: prod, dockerRepository: image, tag: '1.0', copy: true }, writerOnly.basic), 404, dev);
    expect(await tagsOf(prod, image)).toBe(404);
  });

  it('no write on the target: 403 naming targetRepo; copy with it: 200', async () => {
    const target = await localRepo();
    const user = await userWith({ [dev]: ['read'], [target]: ['read'] });
    expectProblem(await promote(dev, { targetRepo: target, dockerRepository: image, tag: '1.0', copy: true }, user.basic), 403, `write permission on ${target} (targetRepo)`);
    expect(await tagsOf(target, image)).toBe(404);
    await grant(server, [target], { [user.name]: ['read', 'write'] });
    expectStatus(await promote(dev, { targetRepo: target, dockerRepository: image, tag: '1.0', copy: true }, user.basic), 200);
    expect(await tagsOf(target, image)).toEqual(['1.0']);
  });

  it('a move without delete on the source: 403 naming delete, the source untouched; with delete it moves', async () => {
    const [source, target, name] = [await localRepo(), await localRepo(), nextImage()];
    const moved = await pushImage(server, base(source, name), buildImage({ layerCount: 1 }), '1');
    const user = await userWith({ [source]: ['read', 'write'], [target]: ['read', 'write'] });
    expectProblem(await promote(source, { targetRepo: target, dockerRepository: name, tag: '1' }, user.basic), 403, 'delete permission', source);
    expect(await tagsOf(source, name)).toEqual(['1']);
    expect(await tagsOf(target, name)).toBe(404);
    await grant(server, [source], { [user.name]: ['read', 'write', 'delete'] });
    expectStatus(await promote(source, { targetRepo: target, dockerRepository: name, tag: '1' }, user.basic), 200);
    expect(await manifestStatus(source, name, moved)).toBe(404);
  });

  it('a remote target: 400; a remote source without tag: 400 naming tag', async () => {
    const remote = freshKey('remote');
    expectStatus(await putRepository(server, remote, { rclass: 'remote', packageType: 'docker', url: 'http://127.0.0.1:9' }), 201);
    expectProblem(await promote(dev, { targetRepo: remote, dockerRepository: image, tag: '1.0', copy: true }), 400, remote, 'cannot receive promotions');
    expectProblem(await promote(remote, { targetRepo: prod, dockerRepository: image, copy: true }), 400, 'tag is required');
  });

  it('a virtual target without defaultDeploymentRepo: 400; with one, the image lands in it', async () => {
    const [member, name] = [await localRepo(), nextImage()];
    const built = buildImage({ layerCount: 1 });
    const d = await pushImage(server, base(dev, name), built, '1');
    const bare = freshKey('virtual');
    await createVirtualRepository(server, bare, { repositories: [member] });
    expectProblem(await promote(dev, { targetRepo: bare, dockerRepository: name, tag: '1', copy: true }), 400, bare, 'defaultDeploymentRepo');
    const deploying = freshKey('virtual');
    await createVirtualRepository(server, deploying, { repositories: [member], defaultDeploymentRepo: member });
    const res = await promote(dev, { targetRepo: deploying, dockerRepository: name, tag: '1', copy: true });
    expectStatus(res, 200);
    expect(res.json.target).toEqual({ repository: deploying, deployedTo: member, image: name });
    await expectComplete(member, name, built, '1');
    await expectComplete(deploying, name, built, d);
    expect((await promotions({ repository: deploying }))[0]).toMatchObject({ requestedTarget: deploying, targetRepository: member });
  });

  it('a virtual source resolves through its members (heldBy) and a move removes from that member; without tag: 400', async () => {
    const [first, second, target, name] = [await localRepo(), await localRepo(), await localRepo(), nextImage()];
    const built = buildImage({ layerCount: 1 });
    const d = await pushImage(server, base(second, name), built, '1');
    const virtual = freshKey('virtual');
    await createVirtualRepository(server, virtual, { repositories: [first, second] });
    expectProblem(await promote(virtual, { targetRepo: target, dockerRepository: name, copy: true }), 400, 'tag is required', virtual);
    const res = await promote(virtual, { targetRepo: target, dockerRepository: name, tag: '1' });
    expectStatus(res, 200);
    expect(res.json.source).toEqual({ repository: virtual, heldBy: second, image: name });
    expect(res.json.removedFromSource).toEqual({ tags: ['1'], manifests: 1 });
    await expectComplete(target, name, built, '1');
    expect(await manifestStatus(second, name, d)).toBe(404);
    expect((await promotions({ repository: virtual }))[0]).toMatchObject({ requestedSource: virtual, sourceRepository: second });
  });

  // Source and target are compared where the rows are, not by the keys as addressed: a move from
  // a virtual onto the member holding the image (or from a local into a virtual deploying to it)
  // would otherwise set the tag and then delete it with the image's manifests.
  it('a move from a virtual source onto the member that holds the image (same image and tag): 400, the image stays', async () => {
    const [member, name] = [await localRepo(), nextImage()];
    const built = buildImage({ layerCount: 1 });
    await pushImage(server, base(member, name), built, '1');
    const virtual = freshKey('virtual');
    await createVirtualRepository(server, virtual, { repositories: [member] });
    const res = await promote(virtual, { targetRepo: member, dockerRepository: name, tag: '1' });
    const after = await manifestStatus(member, name, '1');
    expect({ status: res.status, after }).toEqual({ status: 400, after: 200 });
    expectProblem(res, 400, 'same');
  });

  it('a move from a local repository into a virtual that deploys to it (same image and tag): 400, the image stays', async () => {
    const [member, name] = [await localRepo(), nextImage()];
    const built = buildImage({ layerCount: 1 });
    await pushImage(server, base(member, name), built, '1');
    const virtual = freshKey('virtual');
    await createVirtualRepository(server, virtual, { repositories: [member], defaultDeploymentRepo: member });
    const res = await promote(member, { targetRepo: virtual, dockerRepository: name, tag: '1' });
    const after = await manifestStatus(member, name, '1');
    expect({ status: res.status, after }).toEqual({ status: 400, after: 200 });
    expectProblem(res, 400, 'same');
  });

  it('a tag of a frozen target (allowTagOverwrite false) holding other content: 403 naming the tag and rule; the same content again: 200', async () => {
    const [frozen, name] = [await localRepo({ allowTagOverwrite: false }), nextImage()];
    const held = await pushImage(server, base(frozen, name), buildImage({ layerCount: 1 }), '1.0');
    const built = buildImage({ layerCount: 1 });
    await pushImage(server, base(dev, name), built, '1.0');
    const res = await promote(dev, { targetRepo: frozen, dockerRepository: name, tag: '1.0', copy: true });
    expectProblem(res, 403, 'tag 1.0', 'allowTagOverwrite');
    const still = await getManifest(server, base(frozen, name), '1.0');
    expect(still.headers.get('docker-content-digest')).toBe(held);
    expect(await manifestStatus(frozen, name, built.manifest.digest)).toBe(404);
    // Under a new tag it goes; promoted again onto the same content, it is no overwrite.
    expectStatus(await promote(dev, { targetRepo: frozen, dockerRepository: name, tag: '1.0', targetTag: '1.0-dev', copy: true }), 200);
    expectStatus(await promote(dev, { targetRepo: frozen, dockerRepository: name, tag: '1.0', targetTag: '1.0-dev', copy: true }), 200);
    expect(await tagsOf(frozen, name)).toEqual(['1.0', '1.0-dev']);
  });

  it('an unsigned image into a requireSignature target: 403 naming the rule; signed (OCI referrer) it goes', async () => {
    const [signedOnly, name] = [await localRepo({ requireSignature: true }), nextImage()];
    const built = buildIndex({ layerCount: 1 });
    const d = await pushImage(server, base(dev, name), built, '1');
    const res = await promote(dev, { targetRepo: signedOnly, dockerRepository: name, tag: '1', copy: true });
    expectProblem(res, 403, 'requireSignature', d);
    expect(await tagsOf(signedOnly, name)).toBe(404);
    // Something that is no signature does not count.
    await pushReferrer(dev, name, subjectOf(built), SPDX);
    expectProblem(await promote(dev, { targetRepo: signedOnly, dockerRepository: name, tag: '1', copy: true }), 403, 'requireSignature');
    const sig = await pushSignature(dev, name, subjectOf(built));
    const ok = await promote(dev, { targetRepo: signedOnly, dockerRepository: name, tag: '1', copy: true });
    expectStatus(ok, 200);
    expect(ok.json.referrers).toBe(2);
    const reader = await userWith({ [signedOnly]: ['read'] });
    expect(await manifestStatus(signedOnly, name, '1', reader.basic)).toBe(200);
    expect(await manifestStatus(signedOnly, name, sig, reader.basic)).toBe(200);
  });

  it('into a mustUseAuthTokenForPush target a password is refused (403 naming the rule), an access token (Basic or Bearer) is not', async () => {
    const [tokenOnly, name] = [await localRepo({ mustUseAuthTokenForPush: true }), nextImage()];
    await pushImage(server, base(dev, name), buildImage({ layerCount: 1 }), '1');
    const user = await userWith({ [dev]: ['read'], [tokenOnly]: ['read', 'write'] });
    const { token } = await tokenOf(user, [dev, tokenOnly], ['read', 'write']);
    for (const auth of [user.basic, server.adminAuthorization]) {
      expectProblem(await promote(dev, { targetRepo: tokenOnly, dockerRepository: name, tag: '1', copy: true }, auth), 403, 'mustUseAuthTokenForPush');
    }
    expect(await tagsOf(tokenOnly, name)).toBe(404);
    expectStatus(await promote(dev, { targetRepo: tokenOnly, dockerRepository: name, tag: '1', targetTag: 'basic', copy: true }, basicAuthorization(user.name, token)), 200);
    expectStatus(await promote(dev, { targetRepo: tokenOnly, dockerRepository: name, tag: '1', targetTag: 'bearer', copy: true }, `Bearer ${token}`), 200);
    expect(await tagsOf(tokenOnly, name)).toEqual(['basic', 'bearer']);
  });

  it('an access token promotes only within its scope: its repositories and actions, not all its owner may do', async () => {
    const [target, name] = [await localRepo(), nextImage()];
    await pushImage(server, base(dev, name), buildImage({ layerCount: 1 }), '1');
    const user = await userWith({ [dev]: ['read', 'write', 'delete'], [target]: ['read', 'write', 'delete'] });
    const readOnly = await tokenOf(user, [dev, target], ['read']);
    expectProblem(await promote(dev, { targetRepo: target, dockerRepository: name, tag: '1', copy: true }, `Bearer ${readOnly.token}`), 403, 'write permission', target);
    const sourceOnly = await tokenOf(user, [dev], ['read', 'write', 'delete']);
    expectProblem(await promote(dev, { targetRepo: target, dockerRepository: name, tag: '1', copy: true }, `Bearer ${sourceOnly.token}`), 404, target);
    const noDelete = await tokenOf(user, [dev, target], ['read', 'write']);
    expectProblem(await promote(dev, { targetRepo: target, dockerRepository: name, tag: '1' }, `Bearer ${noDelete.token}`), 403, 'delete permission');
    expect(await tagsOf(target, name)).toBe(404);
    expect(await tagsOf(dev, name)).toEqual(['1']);
  });

  it('out of a requireSignature source, a caller who may only read it cannot promote an unsigned image (it could not pull it either); signed it goes', async () => {
    const [signedOnly, target, name] = [await localRepo({ requireSignature: true }), await localRepo(), nextImage()];
    const built = buildImage({ layerCount: 1 });
    await pushImage(server, base(signedOnly, name), built, '1');
    const reader = await userWith({ [signedOnly]: ['read'], [target]: ['read', 'write'] });
    expect(await manifestStatus(signedOnly, name, '1', reader.basic)).toBe(403);
    expectProblem(await promote(signedOnly, { targetRepo: target, dockerRepository: name, tag: '1', copy: true }, reader.basic), 403, 'requireSignature');
    expect(await tagsOf(target, name)).toBe(404);
    await pushSignature(signedOnly, name, descriptor(built));
    expectStatus(await promote(signedOnly, { targetRepo: target, dockerRepository: name, tag: '1', copy: true }, reader.basic), 200);
    await expectComplete(target, name, built, '1');
  });

  it('moving out of a mustUseAuthTokenForPush source with a password: 403 (a move deletes there); copying is reading', async () => {
    const [tokenOnly, target, name] = [await localRepo({ mustUseAuthTokenForPush: true }), await localRepo(), nextImage()];
    const user = await userWith({ [tokenOnly]: ['read', 'write', 'delete'], [target]: ['read', 'write'] });
    const { token } = await tokenOf(user, [tokenOnly, target], ['read', 'write', 'delete']);
    await pushImage(server, base(tokenOnly, name), buildImage({ layerCount: 1 }), '1', { auth: `Bearer ${token}` });
    expectProblem(await promote(tokenOnly, { targetRepo: target, dockerRepository: name, tag: '1' }, user.basic), 403, 'mustUseAuthTokenForPush', tokenOnly);
    expect(await tagsOf(tokenOnly, name)).toEqual(['1']);
    expect(await tagsOf(target, name)).toBe(404);
    expectStatus(await promote(tokenOnly, { targetRepo: target, dockerRepository: name, tag: '1', copy: true }, user.basic), 200);
    expectStatus(await promote(tokenOnly, { targetRepo: target, dockerRepository: name, tag: '1', targetTag: 'moved' }, `Bearer ${token}`), 200);
    expect(await tagsOf(tokenOnly, name)).not.toEqual(expect.arrayContaining(['1']));
  });

  it('moving out of a source that does not allow tag deletion (allowTagOverwrite false): 403 naming the rule; copying is fine', async () => {
    const [frozen, target, name] = [await localRepo({ allowTagOverwrite: false }), await localRepo(), nextImage()];
    await pushImage(server, base(frozen, name), buildImage({ layerCount: 1 }), '1');
    const res = await promote(frozen, { targetRepo: target, dockerRepository: name, tag: '1' });
    expectProblem(res, 403, 'allowTagOverwrite', 'copy');
    expect(await tagsOf(frozen, name)).toEqual(['1']);
    expect(await tagsOf(target, name)).toBe(404);
    expectStatus(await promote(frozen, { targetRepo: target, dockerRepository: name, tag: '1', copy: true }), 200);
    expect(await tagsOf(frozen, name)).toEqual(['1']);
    expect(await tagsOf(target, name)).toEqual(['1']);
  });

  it('(after the refusals above) the shared source image is where it was', async () => {
    expect(await tagsOf(dev, image)).toEqual(['1.0']);
    expect(await manifestStatus(dev, image, digest)).toBe(200);
  });
});

// --- maxUniqueTags --------------------------------------------------------------------------

describe('maxUniqueTags of the target', () => {
  it('prunes the oldest target tags after a promotion (answered in prunedTags); cosign tags are exempt', async () => {
    const [dev, prod, image] = [await localRepo(), await localRepo({ maxUniqueTags: 2 }), nextImage()];
    await pushImage(server, base(prod, image), buildImage({ layerCount: 1 }), 'a');
    const b = await pushImage(server, base(prod, image), buildImage({ layerCount: 1 }), 'b');
    const sig = await pushCosignTag(prod, image, b);
    expect(await tagsOf(prod, image)).toEqual(['a', 'b', sig.tag]);
    const built = buildImage({ layerCount: 1 });
    const c = await pushImage(server, base(dev, image), built, 'c');
    const cSig = await pushCosignTag(dev, image, c);
    const res = await promote(dev, { targetRepo: prod, dockerRepository: image, tag: 'c', copy: true });
    expectStatus(res, 200);
    expect(res.json.prunedTags).toEqual(['a']);
    expect(await tagsOf(prod, image)).toEqual(['b', 'c', sig.tag, cSig.tag].sort());
    // Two tags promoted at once (every tag of another image) are the two newest: the others go.
    const next = `${image}-next`;
    await pushImage(server, base(dev, next), buildImage({ layerCount: 1 }), 'd');
    await pushImage(server, base(dev, next), buildImage({ layerCount: 1 }), 'e');
    const dry = await promote(dev, { targetRepo: prod, dockerRepository: next, targetDockerRepository: image, copy: true, dryRun: true });
    expectStatus(dry, 200);
    expect([...dry.json.prunedTags].sort()).toEqual(['b', 'c']);
    expect(await tagsOf(prod, image)).toEqual(['b', 'c', sig.tag, cSig.tag].sort());
    const both = await promote(dev, { targetRepo: prod, dockerRepository: next, targetDockerRepository: image, copy: true });
    expectStatus(both, 200);
    expect([...both.json.prunedTags].sort()).toEqual(['b', 'c']);
    expect(await tagsOf(prod, image)).toEqual(['d', 'e', sig.tag, cSig.tag].sort());
    // Pruned tags' manifests stay, by digest.
    expect(await manifestStatus(prod, image, b)).toBe(200);
  });
});

// --- provenance -----------------------------------------------------------------------------

describe('GET /api/promotions (provenance)', () => {
  it('records who (user and token), what and where; filters by repository, image and digest; newest first; limit', async () => {
    const [dev, prod, other, image] = [await localRepo(), await localRepo(), await localRepo(), nextImage()];
    const user = await userWith({ [dev]: ['read'], [prod]: ['read', 'write'], [other]: ['read', 'write'] });
    const { id: tokenId, token } = await tokenOf(user, [dev, prod], ['read', 'write']);
    const built = buildIndex({ layerCount: 1 });
    const digest = await pushImage(server, base(dev, image), built, '1');
    const child = built.images[1].manifest.digest;
    const unrelated = await pushImage(server, base(dev, `${image}-x`), buildImage({ layerCount: 1 }), '1');

    const first = await promote(dev, { targetRepo: prod, dockerRepository: image, tag: '1', targetDockerRepository: 'shipped', copy: true }, `Bearer ${token}`);
    expectStatus(first, 200);
    const second = await promote(dev, { targetRepo: other, dockerRepository: image, tag: '1', copy: true }, user.basic);
    expectStatus(second, 200);
    const third = await promote(dev, { targetRepo: other, dockerRepository: `${image}-x`, tag: '1', copy: true }, user.basic);
    expectStatus(third, 200);

    const [record] = await promotions({ repository: prod });
    expect(record).toEqual({
      id: first.json.id,
      createdAt: first.json.createdAt,
      username: user.name,
      tokenId,
      requestedSource: dev,
      sourceRepository: dev,
      sourceImage: image,
      requestedTarget: prod,
      targetRepository: prod,
      targetImage: 'shipped',
      copy: true,
      tags: [{ source: '1', target: '1', digest }],
      digests: expect.arrayContaining([digest, child]),
    });
    expect(record.digests).toHaveLength(3);

    const ids = (rows: any[]) => rows.map((r) => r.id);
    expect(ids(await promotions({ repository: dev }))).toEqual([third.json.id, second.json.id, first.json.id]);
    expect(ids(await promotions({ repository: dev, limit: '1' }))).toEqual([third.json.id]);
    expect(ids(await promotions({ repository: other }))).toEqual([third.json.id, second.json.id]);
    expect(ids(await promotions({ repository: dev, image }))).toEqual([second.json.id, first.json.id]);
    // The target's name of a renamed image finds it; the source's name in the target does not.
    expect(ids(await promotions({ repository: prod, image: 'shipped' }))).toEqual([first.json.id]);
    expect(ids(await promotions({ repository: prod, image }))).toEqual([]);
    expect(ids(await promotions({ image: 'shipped' }))).toEqual([first.json.id]);
    expect(ids(await promotions({ digest: child }))).toEqual([second.json.id, first.json.id]);
    expect(ids(await promotions({ digest: unrelated }))).toEqual([third.json.id]);
    expect(ids(await promotions({ repository: other, digest: child }))).toEqual([second.json.id]);
    const byPassword = (await promotions({ repository: other, image }))[0];
    expect(byPassword).toMatchObject({ username: user.name, tokenId: null });

    expectProblem(await request(server, '/api/promotions?digest=not-a-digest'), 400, 'digest');
    expectProblem(await request(server, '/api/promotions?limit=0'), 400, 'limit');
  });

  it('shows a promotion only to whom may read its source or target', async () => {
    const [dev, prod, elsewhere, image] = [await localRepo(), await localRepo(), await localRepo(), nextImage()];
    const digest = await pushImage(server, base(dev, image), buildImage({ layerCount: 1 }), '1');
    const res = await promote(dev, { targetRepo: prod, dockerRepository: image, tag: '1', copy: true });
    expectStatus(res, 200);
    const outsider = await userWith({ [elsewhere]: ['read', 'write'] });
    const targetReader = await userWith({ [prod]: ['read'] });
    for (const query of [{}, { repository: dev }, { repository: prod }, { image }, { digest }] as Array<Record<string, string>>) {
      expect(await promotions(query, outsider.basic)).toEqual([]);
    }
    expect((await promotions({ digest }, targetReader.basic)).map((r) => r.id)).toEqual([res.json.id]);
    expect((await promotions({ repository: dev }, targetReader.basic)).map((r) => r.id)).toEqual([res.json.id]);
    expect((await promotions({ digest })).map((r) => r.id)).toEqual([res.json.id]);
  });
});
