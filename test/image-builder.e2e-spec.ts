// Proves the test image builder makes images real clients accept, against the reference
// registry (CNCF Distribution) rather than Wharf, so a later Wharf failure cannot be the builder's.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { DistributionRegistry, startDistribution } from './helpers/distribution-registry';
import {
  ARM64,
  MediaTypes,
  buildImage,
  buildIndex,
  imageManifest,
  randomLayer,
  readDirImage,
  readOciLayout,
  sha256Digest,
  tarArchive,
  writeImageSource,
} from './helpers/oci-image-builder';
import { Podman, Skopeo } from './helpers/registry-clients';

const execFileAsync = promisify(execFile);
// The project's e2e testTimeout is not applied per project by jest; set it where it is needed.
jest.setTimeout(120_000);

describe('oci-image-builder (offline)', () => {
  let work: string;
  beforeAll(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-builder-'));
  });
  afterAll(async () => {
    await fs.rm(work, { recursive: true, force: true });
  });

  it('writes ustar archives GNU tar reads back byte for byte', async () => {
    const content = Buffer.from('hello from a 513-byte file'.padEnd(513, '!'));
    const file = path.join(work, 'test.tar');
    await fs.writeFile(file, tarArchive([{ name: 'dir/' }, { name: 'dir/file.txt', content }]));

    const listing = await execFileAsync('tar', ['-tvf', file]);
    expect(listing.stdout).toMatch(/^drwxr-xr-x root\/root +0 .* dir\/$/m);
    expect(listing.stdout).toMatch(/^-rw-r--r-- root\/root +513 .* dir\/file\.txt$/m);
    const extracted = await execFileAsync('tar', ['-xOf', file, 'dir/file.txt'], { encoding: 'buffer' });
    expect(Buffer.compare(extracted.stdout, content)).toBe(0);
  });

  it('gives layers a digest of the gzip bytes and a diff id of the tar', () => {
    const layer = randomLayer(4096);
    expect(layer.digest).toBe(sha256Digest(layer.bytes));
    expect(layer.diffId).toBe(sha256Digest(gunzipSync(layer.bytes)));
    expect(layer.diffId).not.toBe(layer.digest);
    expect(randomLayer(4096).digest).not.toBe(layer.digest);
  });

  it('links manifest, config and layers by digest and size', () => {
    const image = buildImage({ layerCount: 3 });
    const manifest = JSON.parse(image.manifest.bytes.toString());
    const config = JSON.parse(image.config.bytes.toString());
    expect(manifest.mediaType).toBe(MediaTypes.OciManifest);
    expect(manifest.config).toEqual({ mediaType: MediaTypes.OciConfig, digest: image.config.digest, size: image.config.bytes.length });
    expect(manifest.layers.map((l: { digest: string }) => l.digest)).toEqual(image.layers.map((l) => l.digest));
    expect(config.rootfs).toEqual({ type: 'layers', diff_ids: image.layers.map((l) => l.diffId) });
    expect(config.history).toHaveLength(3);
    expect([config.os, config.architecture]).toEqual(['linux', 'amd64']);
  });

  it('builds indexes whose children carry their platform', () => {
    const built = buildIndex();
    const index = JSON.parse(built.index.bytes.toString());
    expect(index.mediaType).toBe(MediaTypes.OciIndex);
    expect(index.manifests).toEqual([
      { mediaType: MediaTypes.OciManifest, digest: built.images[0].manifest.digest, size: built.images[0].manifest.bytes.length, platform: { architecture: 'amd64', os: 'linux' } },
      { mediaType: MediaTypes.OciManifest, digest: built.images[1].manifest.digest, size: built.images[1].manifest.bytes.length, platform: ARM64 },
    ]);
    expect(JSON.parse(built.images[1].config.bytes.toString())).toMatchObject({ architecture: 'arm64', variant: 'v8' });
  });

  it('builds artifact manifests with subject and artifactType', () => {
    const subject = buildImage().manifest;
    const config = { mediaType: MediaTypes.OciEmpty, digest: sha256Digest(Buffer.from('{}')), size: 2 };
    const artifact = imageManifest({
      config,
      layers: [randomLayer(16)],
      artifactType: 'application/vnd.example.sbom',
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.bytes.length },
    });
    const body = JSON.parse(artifact.bytes.toString());
    expect(artifact.mediaType).toBe(MediaTypes.OciManifest);
    expect(artifact.digest).toBe(sha256Digest(artifact.bytes));
    expect(body.artifactType).toBe('application/vnd.example.sbom');
    expect(body.subject.digest).toBe(subject.digest);
  });
});

describe('oci-image-builder against Distribution', () => {
  let registry: DistributionRegistry;
  let skopeo: Skopeo;
  let work: string;

  beforeAll(async () => {
    registry = await startDistribution();
    skopeo = await Skopeo.create();
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-builder-e2e-'));
  });
  afterAll(async () => {
    await skopeo?.close();
    await registry?.stop();
    await fs.rm(work, { recursive: true, force: true });
  });

  it('round-trips a single-platform OCI image unchanged', async () => {
    const image = buildImage();
    const source = await writeImageSource(path.join(work, 'single'), image, '1.0');
    const target = `docker://${registry.host}/team/app:1.0`;

    expect(await skopeo.copy(source, target)).toBe(image.manifest.digest);
    expect((await skopeo.inspectRaw(target)).equals(image.manifest.bytes)).toBe(true);

    const back = path.join(work, 'single-back');
    expect(await skopeo.copy(target, `oci:${back}:pulled`)).toBe(image.manifest.digest);
    const layout = await readOciLayout(back);
    expect(layout.find('pulled').digest).toBe(image.manifest.digest);
    expect((await layout.readBlob(image.config.digest)).equals(image.config.bytes)).toBe(true);
    for (const layer of image.layers) expect((await layout.readBlob(layer.digest)).equals(layer.bytes)).toBe(true);
  });

  it('round-trips a multi-arch index with --all', async () => {
    const built = buildIndex();
    const source = await writeImageSource(path.join(work, 'multi'), built, 'multi');
    const target = `docker://${registry.host}/team/multi:1`;

    expect(await skopeo.copy(source, target, { all: true })).toBe(built.index.digest);
    expect((await skopeo.inspectRaw(target)).equals(built.index.bytes)).toBe(true);

    const back = path.join(work, 'multi-back');
    await skopeo.copy(target, `oci:${back}:pulled`, { all: true });
    const layout = await readOciLayout(back);
    expect(layout.find('pulled').digest).toBe(built.index.digest);
    for (const image of built.images) {
      expect((await layout.readBlob(image.manifest.digest)).equals(image.manifest.bytes)).toBe(true);
      for (const layer of image.layers) expect((await layout.readBlob(layer.digest)).equals(layer.bytes)).toBe(true);
      const child = `docker://${registry.host}/team/multi@${image.manifest.digest}`;
      expect((await skopeo.inspectRaw(child)).equals(image.manifest.bytes)).toBe(true);
    }
  });

  it('round-trips a Docker schema2 image with its media types', async () => {
    const image = buildImage({ format: 'docker' });
    const source = await writeImageSource(path.join(work, 'docker'), image);
    const target = `docker://${registry.host}/team/docker-app:1.0`;

    expect(await skopeo.copy(source, target)).toBe(image.manifest.digest);
    const raw = await skopeo.inspectRaw(target);
    expect(raw.equals(image.manifest.bytes)).toBe(true);
    const manifest = JSON.parse(raw.toString());
    expect(manifest.mediaType).toBe(MediaTypes.DockerManifest);
    expect(manifest.config.mediaType).toBe(MediaTypes.DockerConfig);
    expect(manifest.layers.every((l: { mediaType: string }) => l.mediaType === MediaTypes.DockerLayerGzip)).toBe(true);

    const back = path.join(work, 'docker-back');
    await skopeo.copy(target, `dir:${back}`);
    const pulled = await readDirImage(back);
    expect(pulled.digest).toBe(image.manifest.digest);
    for (const layer of image.layers) expect((await pulled.readBlob(layer.digest)).equals(layer.bytes)).toBe(true);
  });

  it('makes layers podman unpacks (it checks every diff id against the config)', async () => {
    const image = buildImage({ layerCount: 3 });
    const source = await writeImageSource(path.join(work, 'podman'), image, '1');
    await skopeo.copy(source, `docker://${registry.host}/team/podman:1`);

    const podman = await Podman.create();
    try {
      const id = await podman.pull(`${registry.host}/team/podman:1`);
      // Podman's image id is the config digest's hex.
      expect(`sha256:${id}`).toBe(image.config.digest);
      const inspected = await podman.inspectImage(`${registry.host}/team/podman:1`);
      expect(inspected.Digest).toBe(image.manifest.digest);
      expect(inspected.Architecture).toBe('amd64');
    } finally {
      await podman.close();
    }
  });
});
