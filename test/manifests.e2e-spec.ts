// Manifests over HTTP, on both path forms: push, pull and delete by tag and by digest for every
// manifest kind Wharf stores, byte-exact round trips, and every refusal, each checked to leave
// what was stored before exactly as it was.
import { randomBytes } from 'node:crypto';
import { MediaTypes, blobOf, buildImage, buildIndex, descriptorOf, imageIndex, imageManifest, randomBlob, randomLayer } from './helpers/oci-image-builder';
import {
  PATH_FORMS,
  PathForm,
  V2_FORM,
  absolute,
  expectRegistryError,
  expectStatus,
  imageNamer,
  pushBlob,
  pushBlobs,
  pushImage,
  pushManifest,
  rawRequest,
  request,
  sha256,
  sha512,
  startWharfWithLocalRepositories,
  streamedRequest,
} from './helpers/registry-http';
import { WharfTestServer } from './helpers/wharf-server';

const KEY = 'docker-local';
const OTHER = 'docker-other';
const FOUR_MIB = 4 * 1024 * 1024;

let server: WharfTestServer;
const freshImage = imageNamer();

beforeAll(async () => {
  server = await startWharfWithLocalRepositories(KEY, OTHER);
});
afterAll(() => server?.close());

/** A manifest ready to push: its bytes, plus what must be in the image before it. */
interface Pushable {
  bytes: Buffer;
  mediaType: string;
  digest: string;
  prepare(base: string): Promise<void>;
}

function ociImage(): Pushable {
  const image = buildImage();
  return { ...image.manifest, prepare: (base) => pushBlobs(server, base, [image.config, ...image.layers]) };
}

function dockerImage(): Pushable {
  const image = buildImage({ format: 'docker' });
  return { ...image.manifest, prepare: (base) => pushBlobs(server, base, [image.config, ...image.layers]) };
}

function anIndex(format: 'oci' | 'docker'): Pushable {
  const built = buildIndex({ format });
  return {
    ...built.index,
    prepare: async (base) => {
      for (const image of built.images) {
        await pushBlobs(server, base, [image.config, ...image.layers]);
        expectStatus(await pushManifest(server, base, image.manifest.digest, image.manifest.bytes, image.manifest.mediaType), 201);
      }
    },
  };
}

const EMPTY_CONFIG = blobOf(Buffer.from('{}'), MediaTypes.OciEmpty);

function artifact(subject?: { mediaType: string; digest: string; size: number }): Pushable {
  const layer = randomBlob(300, 'application/spdx+json');
  const manifest = imageManifest({
    config: EMPTY_CONFIG,
    layers: [layer],
    artifactType: 'application/vnd.example.sbom.v1+json',
    ...(subject ? { subject } : {}),
  });
  return { ...manifest, prepare: (base) => pushBlobs(server, base, [EMPTY_CONFIG, layer]) };
}

const KINDS: Array<[string, () => Pushable]> = [
  ['OCI image manifest', ociImage],
  ['OCI image index', () => anIndex('oci')],
  ['Docker schema2 manifest', dockerImage],
  ['Docker manifest list', () => anIndex('docker')],
  ['OCI artifact (artifactType, empty config)', () => artifact()],
];

async function expectManifest(base: string, reference: string, expected: { bytes: Buffer; mediaType: string; digest: string }) {
  const res = await request(server, `${base}manifests/${reference}`);
  expectStatus(res, 200);
  expect(res.headers.get('content-type')).toBe(expected.mediaType);
  expect(res.headers.get('docker-content-digest')).toBe(expected.digest);
  expect(res.headers.get('content-length')).toBe(String(expected.bytes.length));
  expect(res.body.equals(expected.bytes)).toBe(true);
  expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
}

async function expectNoManifest(base: string, reference: string) {
  expectRegistryError(await request(server, `${base}manifests/${reference}`), 404, 'MANIFEST_UNKNOWN');
  expect((await request(server, `${base}manifests/${reference}`, { method: 'HEAD' })).status).toBe(404);
}

async function tagsOf(base: string): Promise<string[]> {
  const res = await request(server, `${base}tags/list`);
  expectStatus(res, 200);
  return res.json.tags;
}

describe.each(PATH_FORMS.map((form) => [form.label, form] as const))('manifests on %s', (_label, form: PathForm) => {
  describe.each(KINDS)('%s', (_kind, make) => {
    it('PUT by tag answers 201 with Location and Docker-Content-Digest; GET and HEAD by tag and digest', async () => {
      const base = form.base(KEY, freshImage());
      const manifest = make();
      await manifest.prepare(base);

      const put = await pushManifest(server, base, 'v1', manifest.bytes, manifest.mediaType);
      expectStatus(put, 201);
      expect(put.headers.get('docker-content-digest')).toBe(manifest.digest);
      expect(new URL(absolute(server, put.headers.get('location')!)).pathname).toBe(`${base}manifests/${manifest.digest}`);
      expect(put.headers.get('oci-subject')).toBeNull();

      await expectManifest(base, 'v1', manifest);
      await expectManifest(base, manifest.digest, manifest);
      for (const reference of ['v1', manifest.digest]) {
        const head = await request(server, `${base}manifests/${reference}`, { method: 'HEAD' });
        expectStatus(head, 200);
        expect(head.headers.get('content-type')).toBe(manifest.mediaType);
        expect(head.headers.get('docker-content-digest')).toBe(manifest.digest);
        expect(head.headers.get('content-length')).toBe(String(manifest.bytes.length));
        expect(head.body.length).toBe(0);
      }
      expect(await tagsOf(base)).toEqual(['v1']);
    });

    it('PUT by digest stores it untagged; a tag can point at it later', async () => {
      const base = form.base(KEY, freshImage());
      const manifest = make();
      await manifest.prepare(base);
      const put = await pushManifest(server, base, manifest.digest, manifest.bytes, manifest.mediaType);
      expectStatus(put, 201);
      expect(put.headers.get('docker-content-digest')).toBe(manifest.digest);
      await expectManifest(base, manifest.digest, manifest);
      expect(await tagsOf(base)).toEqual([]);

      // Pushing the same bytes again (now by tag) is idempotent and only adds the tag.
      expectStatus(await pushManifest(server, base, 'later', manifest.bytes, manifest.mediaType), 201);
      await expectManifest(base, 'later', manifest);
      expect(await tagsOf(base)).toEqual(['later']);
    });

    it('DELETE by tag removes only the tag; DELETE by digest removes the manifest and all its tags', async () => {
      const base = form.base(KEY, freshImage());
      const manifest = make();
      await manifest.prepare(base);
      for (const tag of ['a', 'b', 'c']) expectStatus(await pushManifest(server, base, tag, manifest.bytes, manifest.mediaType), 201);

      const delTag = await request(server, `${base}manifests/a`, { method: 'DELETE' });
      expectStatus(delTag, 202);
      await expectNoManifest(base, 'a');
      await expectManifest(base, manifest.digest, manifest);
      await expectManifest(base, 'b', manifest);
      expect(await tagsOf(base)).toEqual(['b', 'c']);
      expectRegistryError(await request(server, `${base}manifests/a`, { method: 'DELETE' }), 404, 'MANIFEST_UNKNOWN');

      const delDigest = await request(server, `${base}manifests/${manifest.digest}`, { method: 'DELETE' });
      expectStatus(delDigest, 202);
      await expectNoManifest(base, manifest.digest);
      await expectNoManifest(base, 'b');
      await expectNoManifest(base, 'c');
      expect(await tagsOf(base)).toEqual([]);
      expectRegistryError(await request(server, `${base}manifests/${manifest.digest}`, { method: 'DELETE' }), 404, 'MANIFEST_UNKNOWN');
    });
  });

  it('GET returns exactly the pushed bytes: pretty-printed JSON, trailing newline, unicode', async () => {
    const base = form.base(KEY, freshImage());
    const image = buildImage();
    await pushBlobs(server, base, [image.config, ...image.layers]);
    const body = JSON.parse(image.manifest.bytes.toString('utf8'));
    body.annotations = { 'org.example.note': 'ünïcödé ✓ "quoted" \\ slash', 'org.example.empty': '' };
    const bytes = Buffer.from(`${JSON.stringify(body, null, 3)}\r\n\n`, 'utf8');
    const digest = sha256(bytes);

    const put = await pushManifest(server, base, 'pretty', bytes, MediaTypes.OciManifest);
    expectStatus(put, 201);
    expect(put.headers.get('docker-content-digest')).toBe(digest);
    await expectManifest(base, 'pretty', { bytes, mediaType: MediaTypes.OciManifest, digest });
    await expectManifest(base, digest, { bytes, mediaType: MediaTypes.OciManifest, digest });
  });

  it('accepts a manifest whose body omits mediaType, typed by its Content-Type', async () => {
    const base = form.base(KEY, freshImage());
    const image = buildImage();
    await pushBlobs(server, base, [image.config, ...image.layers]);
    const body = JSON.parse(image.manifest.bytes.toString('utf8'));
    delete body.mediaType;
    const bytes = Buffer.from(JSON.stringify(body));
    expectStatus(await pushManifest(server, base, 'bare', bytes, MediaTypes.OciManifest), 201);
    await expectManifest(base, 'bare', { bytes, mediaType: MediaTypes.OciManifest, digest: sha256(bytes) });
  });

  it('PUT by a sha512 digest stores the manifest under that digest', async () => {
    const base = form.base(KEY, freshImage());
    const image = buildImage();
    await pushBlobs(server, base, [image.config, ...image.layers]);
    const digest = sha512(image.manifest.bytes);
    const put = await pushManifest(server, base, digest, image.manifest.bytes, MediaTypes.OciManifest);
    expectStatus(put, 201);
    expect(put.headers.get('docker-content-digest')).toBe(digest);
    await expectManifest(base, digest, { ...image.manifest, digest });
  });

  it('moving a tag keeps the previous manifest by digest', async () => {
    const base = form.base(KEY, freshImage());
    const first = ociImage();
    const second = ociImage();
    await first.prepare(base);
    await second.prepare(base);
    expectStatus(await pushManifest(server, base, 'latest', first.bytes, first.mediaType), 201);
    expectStatus(await pushManifest(server, base, 'latest', second.bytes, second.mediaType), 201);
    await expectManifest(base, 'latest', second);
    await expectManifest(base, first.digest, first);
  });

  it('answers MANIFEST_UNKNOWN for an unknown tag or digest, and DIGEST_INVALID for a malformed digest', async () => {
    const image = freshImage();
    const base = form.base(KEY, image);
    await pushImage(server, base, buildImage(), 'exists');
    await expectNoManifest(base, 'nope');
    await expectNoManifest(base, sha256(randomBytes(8)));
    expectRegistryError(await request(server, `${base}manifests/nope`, { method: 'DELETE' }), 404, 'MANIFEST_UNKNOWN');
    // An image that was never pushed at all.
    await expectNoManifest(form.base(KEY, freshImage()), 'latest');
    for (const bad of ['sha256:abc', `sha256:${'Z'.repeat(64)}`]) {
      expectRegistryError(await request(server, `${base}manifests/${bad}`), 400, 'DIGEST_INVALID');
      expectRegistryError(await request(server, `${base}manifests/${bad}`, { method: 'DELETE' }), 400, 'DIGEST_INVALID');
    }
  });

  it('a reference that is neither a tag nor a digest: GET, HEAD and DELETE answer 404 MANIFEST_UNKNOWN, PUT stays MANIFEST_INVALID', async () => {
    const image = buildImage();
    const base = form.base(KEY, freshImage());
    await pushImage(server, base, image, 'exists');
    // `.INVALID_MANIFEST_NAME` is the OCI conformance suite's own; the encoded ones decode to a NUL, a lone 0xFF byte and a slash.
    for (const bad of ['.INVALID_MANIFEST_NAME', '-leading-dash', 'x'.repeat(129), 'a%00b', '%FF', 'a%2Fb']) {
      expectRegistryError(await request(server, `${base}manifests/${bad}`), 404, 'MANIFEST_UNKNOWN');
      const head = await request(server, `${base}manifests/${bad}`, { method: 'HEAD' });
      expect({ bad, status: head.status }).toEqual({ bad, status: 404 });
      expectRegistryError(await request(server, `${base}manifests/${bad}`, { method: 'DELETE' }), 404, 'MANIFEST_UNKNOWN');
      expectRegistryError(await pushManifest(server, base, bad, image.manifest.bytes, MediaTypes.OciManifest), 400, 'MANIFEST_INVALID');
    }
    await expectManifest(base, 'exists', image.manifest);
  });

  it('by tag, honours Accept; by digest, serves the bytes whatever the Accept', async () => {
    const base = form.base(KEY, freshImage());
    const image = buildImage();
    await pushImage(server, base, image, 'v1');
    const dockerOnly = { accept: MediaTypes.DockerManifest };
    expectRegistryError(await request(server, `${base}manifests/v1`, { headers: dockerOnly }), 404, 'MANIFEST_UNKNOWN');
    const byDigest = await request(server, `${base}manifests/${image.manifest.digest}`, { headers: dockerOnly });
    expectStatus(byDigest, 200);
    expect(byDigest.body.equals(image.manifest.bytes)).toBe(true);
    const listed = await request(server, `${base}manifests/v1`, {
      headers: { accept: `${MediaTypes.DockerManifest}, ${MediaTypes.OciManifest};q=0.9` },
    });
    expectStatus(listed, 200);
    expect(listed.headers.get('content-type')).toBe(MediaTypes.OciManifest);
  });
});

describe('references a manifest must satisfy', () => {
  const base = () => V2_FORM.base(KEY, freshImage());

  async function pushStable(b: string) {
    const stable = buildImage();
    await pushImage(server, b, stable, 'stable');
    return stable.manifest;
  }

  it('MANIFEST_BLOB_UNKNOWN for a missing layer, and the tag keeps its previous target', async () => {
    const b = base();
    const previous = await pushStable(b);
    const image = buildImage();
    await pushBlobs(server, b, [image.config, image.layers[0]]);
    const res = await pushManifest(server, b, 'stable', image.manifest.bytes, image.manifest.mediaType);
    expectRegistryError(res, 400, 'MANIFEST_BLOB_UNKNOWN');
    expect(JSON.stringify(res.json.errors[0].detail)).toContain(image.layers[1].digest);
    await expectManifest(b, 'stable', previous);
    await expectNoManifest(b, image.manifest.digest);
  });

  it('MANIFEST_BLOB_UNKNOWN for a missing config', async () => {
    const b = base();
    const previous = await pushStable(b);
    const image = buildImage();
    await pushBlobs(server, b, image.layers);
    const res = await pushManifest(server, b, 'stable', image.manifest.bytes, image.manifest.mediaType);
    expectRegistryError(res, 400, 'MANIFEST_BLOB_UNKNOWN');
    expect(JSON.stringify(res.json.errors[0].detail)).toContain(image.config.digest);
    await expectManifest(b, 'stable', previous);
  });

  it('MANIFEST_BLOB_UNKNOWN for a blob that only another repository holds', async () => {
    const image = buildImage();
    await pushBlobs(server, V2_FORM.base(OTHER, 'holder'), [image.config, ...image.layers]);
    const b = base();
    expectRegistryError(await pushManifest(server, b, 'v1', image.manifest.bytes, image.manifest.mediaType), 400, 'MANIFEST_BLOB_UNKNOWN');
    await expectNoManifest(b, 'v1');
  });

  it('MANIFEST_BLOB_UNKNOWN for a missing child manifest of an index or manifest list', async () => {
    for (const format of ['oci', 'docker'] as const) {
      const b = base();
      const previous = await pushStable(b);
      const built = buildIndex({ format });
      // Only the first child is pushed.
      const [pushed, missing] = built.images;
      await pushBlobs(server, b, [pushed.config, ...pushed.layers, missing.config, ...missing.layers]);
      expectStatus(await pushManifest(server, b, pushed.manifest.digest, pushed.manifest.bytes, pushed.manifest.mediaType), 201);
      const res = await pushManifest(server, b, 'stable', built.index.bytes, built.index.mediaType);
      expectRegistryError(res, 400, 'MANIFEST_BLOB_UNKNOWN');
      expect(JSON.stringify(res.json.errors[0].detail)).toContain(missing.manifest.digest);
      await expectManifest(b, 'stable', previous);
      await expectNoManifest(b, built.index.digest);
    }
  });

  it('accepts a foreign layer with urls that was never pushed', async () => {
    const b = base();
    const layer = randomLayer(512, 'docker');
    const config = buildImage({ format: 'docker' }).config;
    await pushBlobs(server, b, [config]);
    const manifest = imageManifest({
      mediaType: MediaTypes.DockerManifest,
      config,
      layers: [
        {
          ...descriptorOf(layer),
          mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
          urls: ['https://example.invalid/layer.tar.gz'],
        } as never,
      ],
    });
    const put = await pushManifest(server, b, 'windows', manifest.bytes, manifest.mediaType);
    expectStatus(put, 201);
    await expectManifest(b, 'windows', manifest);
  });

  it('accepts a subject that does not exist yet and answers OCI-Subject', async () => {
    const b = base();
    const subject = { mediaType: MediaTypes.OciManifest, digest: sha256(randomBytes(16)), size: 1234 };
    const manifest = artifact(subject);
    await manifest.prepare(b);
    const put = await pushManifest(server, b, manifest.digest, manifest.bytes, manifest.mediaType);
    expectStatus(put, 201);
    expect(put.headers.get('oci-subject')).toBe(subject.digest);
    await expectManifest(b, manifest.digest, manifest);
    await expectNoManifest(b, subject.digest);
  });
});

describe('malformed manifests', () => {
  let b: string;
  let previous: { bytes: Buffer; mediaType: string; digest: string };
  let image: ReturnType<typeof buildImage>;

  beforeAll(async () => {
    b = V2_FORM.base(KEY, freshImage('malformed'));
    const stable = buildImage();
    await pushImage(server, b, stable, 'stable');
    previous = stable.manifest;
    image = buildImage();
    await pushBlobs(server, b, [image.config, ...image.layers]);
  });

  afterEach(async () => {
    // Whatever was refused, the tag still names what it named before.
    await expectManifest(b, 'stable', previous);
    expect(await tagsOf(b)).toEqual(['stable']);
  });

  const json = (value: unknown) => Buffer.from(JSON.stringify(value));
  const bodyOf = () => JSON.parse(image.manifest.bytes.toString('utf8'));

  it.each([
    ['not JSON', () => Buffer.from('{"schemaVersion": 2, '), MediaTypes.OciManifest],
    ['a JSON array', () => json([1, 2]), MediaTypes.OciManifest],
    ['schemaVersion 1', () => json({ ...bodyOf(), schemaVersion: 1 }), MediaTypes.OciManifest],
    ['no config', () => json({ ...bodyOf(), config: undefined }), MediaTypes.OciManifest],
    ['a descriptor with a bad digest', () => json({ ...bodyOf(), layers: [{ mediaType: MediaTypes.OciLayerGzip, digest: 'sha256:xyz', size: 1 }] }), MediaTypes.OciManifest],
    ['a negative size', () => json({ ...bodyOf(), config: { ...bodyOf().config, size: -1 } }), MediaTypes.OciManifest],
    ['Content-Type index, body manifest', () => image.manifest.bytes, MediaTypes.OciIndex],
    ['Content-Type Docker manifest, body OCI manifest', () => image.manifest.bytes, MediaTypes.DockerManifest],
    ['an index that carries layers', () => json({ schemaVersion: 2, mediaType: MediaTypes.OciIndex, manifests: [], layers: [] }), MediaTypes.OciIndex],
    ['an unsupported mediaType', () => json({ ...bodyOf(), mediaType: 'application/vnd.example+json' }), 'application/vnd.example+json'],
  ])('MANIFEST_INVALID for %s', async (_what, bytes, contentType) => {
    const body = bytes();
    const res = await pushManifest(server, b, 'stable', body, contentType);
    expectRegistryError(res, 400, 'MANIFEST_INVALID');
    await expectNoManifest(b, sha256(body));
  });

  it('MANIFEST_INVALID for an invalid tag', async () => {
    for (const tag of ['-leading-dash', '.dot', 'x'.repeat(129)]) {
      expectRegistryError(await pushManifest(server, b, tag, image.manifest.bytes, MediaTypes.OciManifest), 400, 'MANIFEST_INVALID');
    }
    await expectNoManifest(b, image.manifest.digest);
  });

  it('DIGEST_INVALID for a PUT by a digest that does not match the body', async () => {
    const wrong = sha256(randomBytes(8));
    const res = await pushManifest(server, b, wrong, image.manifest.bytes, MediaTypes.OciManifest);
    expectRegistryError(res, 400, 'DIGEST_INVALID');
    await expectNoManifest(b, wrong);
    await expectNoManifest(b, image.manifest.digest);
  });

  function oversized(size: number): Buffer {
    const body = bodyOf();
    body.annotations = { pad: '' };
    const bare = Buffer.byteLength(JSON.stringify(body));
    body.annotations.pad = 'x'.repeat(size - bare);
    const bytes = json(body);
    expect(bytes.length).toBe(size);
    return bytes;
  }

  it('refuses a manifest over 4 MiB with 413, whether or not it declares its length', async () => {
    const bytes = oversized(FOUR_MIB + 1);
    const declared = await pushManifest(server, b, 'stable', bytes, MediaTypes.OciManifest);
    expectRegistryError(declared, 413, 'MANIFEST_TOO_LARGE');

    const parts = Array.from({ length: 5 }, (_, i) => bytes.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024));
    const streamed = await streamedRequest(server, 'PUT', `${b}manifests/stable`, parts, { 'content-type': MediaTypes.OciManifest });
    expect(streamed.status).toBe(413);
    expect(JSON.parse(streamed.body.toString('utf8')).errors[0].code).toBe('MANIFEST_TOO_LARGE');
    await expectNoManifest(b, sha256(bytes));
  });

  it('accepts a manifest of exactly 4 MiB', async () => {
    const bytes = oversized(FOUR_MIB);
    const put = await pushManifest(server, b, sha256(bytes), bytes, MediaTypes.OciManifest);
    expectStatus(put, 201);
    await expectManifest(b, sha256(bytes), { bytes, mediaType: MediaTypes.OciManifest, digest: sha256(bytes) });
  });
});

describe('an index refers to manifests of its own image', () => {
  it('MANIFEST_BLOB_UNKNOWN when the children were pushed only to another image', async () => {
    const built = buildIndex();
    await pushImage(server, V2_FORM.base(KEY, 'children-here'), built.images[0], 'x');
    const b = V2_FORM.base(KEY, freshImage());
    const index = imageIndex({ manifests: [{ manifest: built.images[0].manifest, platform: built.images[0].platform }] });
    await pushBlob(server, b, built.images[0].config.bytes);
    expectRegistryError(await pushManifest(server, b, 'multi', index.bytes, index.mediaType), 400, 'MANIFEST_BLOB_UNKNOWN');
    await expectNoManifest(b, 'multi');
  });
});

describe('manifest pushes that fail mid-way or race', () => {
  it('a truncated manifest PUT (Content-Length above the bytes sent) stores nothing and moves no tag', async () => {
    const b = V2_FORM.base(KEY, freshImage());
    const stable = buildImage();
    await pushImage(server, b, stable, 'stable');
    const next = buildImage();
    await pushBlobs(server, b, [next.config, ...next.layers]);
    const res = await rawRequest(server, {
      method: 'PUT',
      path: `${b}manifests/stable`,
      headers: { 'content-type': MediaTypes.OciManifest, 'content-length': String(next.manifest.bytes.length) },
      body: next.manifest.bytes.subarray(0, 100),
      endAfterBody: true,
    });
    expect(res.status === undefined || res.status >= 400).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    await expectManifest(b, 'stable', stable.manifest);
    await expectNoManifest(b, next.manifest.digest);
  });

  it('the same manifest pushed by ten clients at once: all 201, stored once', async () => {
    const b = V2_FORM.base(KEY, freshImage());
    const image = buildImage();
    await pushBlobs(server, b, [image.config, ...image.layers]);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => pushManifest(server, b, i % 2 ? image.manifest.digest : `t${i}`, image.manifest.bytes, image.manifest.mediaType)),
    );
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(201));
    expect(new Set(results.map((r) => r.headers.get('docker-content-digest')))).toEqual(new Set([image.manifest.digest]));
    await expectManifest(b, image.manifest.digest, image.manifest);
    expect(await tagsOf(b)).toEqual(['t0', 't2', 't4', 't6', 't8']);
  });

  it('ten different manifests racing for one tag: all 201, and the tag names one of them', async () => {
    const b = V2_FORM.base(KEY, freshImage());
    const images = Array.from({ length: 10 }, () => buildImage({ layerCount: 1 }));
    for (const image of images) await pushBlobs(server, b, [image.config, ...image.layers]);
    const results = await Promise.all(images.map((image) => pushManifest(server, b, 'contested', image.manifest.bytes, image.manifest.mediaType)));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(201));
    const got = await request(server, `${b}manifests/contested`);
    expectStatus(got, 200);
    const winner = images.find((image) => image.manifest.digest === got.headers.get('docker-content-digest'));
    expect(winner).toBeDefined();
    expect(got.body.equals(winner!.manifest.bytes)).toBe(true);
    for (const image of images) await expectManifest(b, image.manifest.digest, image.manifest);
  });
});
