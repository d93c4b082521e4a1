// Real clients (skopeo, podman, the docker CLI) against Wharf. The same scenarios also run
// against CNCF Distribution first: a scenario that passes there and fails on Wharf is a Wharf
// bug, not a test bug.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { startDistribution } from './helpers/distribution-registry';
import { ARM64, BuiltImage, BuiltIndex, MediaTypes, buildImage, buildIndex, readDirImage, readOciLayout, sha256Digest, writeImageSource } from './helpers/oci-image-builder';
import { Credentials, DockerCli, Podman, Skopeo } from './helpers/registry-clients';
import { createLocalRepository, startWharf } from './helpers/wharf-server';

jest.setTimeout(180_000);

const REPO = 'docker-local';

/** A registry under test, seen the way clients see it. */
interface Target {
  /** `127.0.0.1:PORT` */
  host: string;
  /**
   * URL of a registry API call for `image` (e.g. `manifests/1.0`): Wharf's REST form
   * `/api/docker/<repo>/v2/<image>/...`, or plain `/v2/<repo>/<image>/...` where there is none.
   */
  apiUrl(image: string, call: string): string;
  /** The `/v2/<repo>/<image>/...` form, the one docker clients use. */
  v2Url(image: string, call: string): string;
  /**
   * Whether tag lists come in lexical order, as the OCI distribution spec asks. Distribution 2.8
   * returns directory order, so for it only the set is compared.
   */
  sortsTags: boolean;
  /**
   * Whom the clients log in as: Wharf's admin. Undefined for Distribution, which runs without
   * auth here, so every client stays anonymous against it.
   */
  creds?: Credentials;
  /** fetch with the target's credentials (the admin's Basic header on Wharf, none on Distribution). */
  fetch(url: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/** fetch with `authorization` added to the request's headers (when there is one). */
function fetchAs(authorization: string | undefined): Target['fetch'] {
  return (url, init = {}) => {
    const headers = new Headers(init.headers);
    if (authorization && !headers.has('authorization')) headers.set('authorization', authorization);
    return fetch(url, { ...init, headers });
  };
}

async function distributionTarget(): Promise<Target> {
  const registry = await startDistribution();
  const v2Url = (image: string, call: string) => `${registry.url}/v2/${REPO}/${image}/${call}`;
  return { host: registry.host, apiUrl: v2Url, v2Url, sortsTags: false, fetch: fetchAs(undefined), close: registry.stop };
}

async function wharfTarget(): Promise<Target> {
  const server = await startWharf();
  try {
    await createLocalRepository(server, REPO);
  } catch (error) {
    await server.close();
    throw error;
  }
  return {
    host: server.host,
    apiUrl: (image, call) => `${server.baseUrl}/api/docker/${REPO}/v2/${image}/${call}`,
    v2Url: (image, call) => `${server.baseUrl}/v2/${REPO}/${image}/${call}`,
    sortsTags: true,
    creds: server.admin,
    fetch: fetchAs(server.adminAuthorization),
    close: () => server.close(),
  };
}

const ACCEPT_ALL = [MediaTypes.OciManifest, MediaTypes.OciIndex, MediaTypes.DockerManifest, MediaTypes.DockerManifestList].join(', ');

interface FetchedManifest {
  status: number;
  bytes: Buffer;
  digestHeader: string | null;
  contentType: string | null;
}

async function getManifest(target: Target, url: string): Promise<FetchedManifest> {
  const response = await target.fetch(url, { headers: { accept: ACCEPT_ALL } });
  return {
    status: response.status,
    bytes: Buffer.from(await response.arrayBuffer()),
    digestHeader: response.headers.get('docker-content-digest'),
    contentType: response.headers.get('content-type'),
  };
}

/** Checks a manifest served over HTTP: status, digest header, exact bytes, media type. */
async function expectServedManifest(target: Target, url: string, expected: { bytes: Buffer; digest: string; mediaType: string }): Promise<void> {
  const got = await getManifest(target, url);
  expect({ url, status: got.status, digest: got.digestHeader, contentType: got.contentType?.split(';')[0] }).toEqual({
    url,
    status: 200,
    digest: expected.digest,
    contentType: expected.mediaType,
  });
  expect(sha256Digest(got.bytes)).toBe(expected.digest);
  expect(got.bytes.equals(expected.bytes)).toBe(true);

  // HEAD is what clients use to check existence: same headers, no body.
  const head = await target.fetch(url, { method: 'HEAD', headers: { accept: ACCEPT_ALL } });
  expect({ url, status: head.status, digest: head.headers.get('docker-content-digest'), length: head.headers.get('content-length') }).toEqual({
    url,
    status: 200,
    digest: expected.digest,
    length: String(expected.bytes.length),
  });
}

describe.each([
  ['CNCF Distribution (reference)', distributionTarget],
  ['Wharf', wharfTarget],
])('real clients against %s', (_name, startTarget) => {
  let target: Target;
  let skopeo: Skopeo;
  let work: string;
  let sourceCount = 0;

  /** `host/docker-local/<image>` */
  const ref = (image: string): string => `${target.host}/${REPO}/${image}`;
  const docker = (image: string): string => `docker://${ref(image)}`;

  /** Writes `built` to a fresh skopeo source and pushes it to `image` (`name:tag`). */
  async function push(built: BuiltImage | BuiltIndex, image: string): Promise<string> {
    const source = await writeImageSource(path.join(work, `source-${++sourceCount}`), built, 'src');
    return skopeo.copy(source, docker(image), { all: 'index' in built });
  }

  /** Tags as the target should return them: sorted, or as they came where order is unspecified. */
  const inOrder = (tags: string[]): string[] => (target.sortsTags ? tags : [...tags].sort());

  async function expectLayersIdentical(image: BuiltImage, readBlob: (digest: string) => Promise<Buffer>): Promise<void> {
    expect((await readBlob(image.config.digest)).equals(image.config.bytes)).toBe(true);
    for (const layer of image.layers) expect((await readBlob(layer.digest)).equals(layer.bytes)).toBe(true);
  }

  beforeAll(async () => {
    target = await startTarget();
    // --src-creds/--dest-creds/--creds on every call; none against Distribution.
    skopeo = await Skopeo.create({ creds: target.creds });
    // Lowercase only: podman names an image pulled from oci:<dir> after the dir's path.
    work = path.join(os.tmpdir(), `wharf-clients-${randomBytes(6).toString('hex')}`);
    await fs.mkdir(work);
  });
  afterAll(async () => {
    await skopeo?.close();
    await target?.close();
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  describe('skopeo', () => {
    it('copies a single-platform OCI image and pulls it back unchanged', async () => {
      const image = buildImage();
      expect(await push(image, 'team/app:1.0')).toBe(image.manifest.digest);

      const back = path.join(work, 'app-back');
      expect(await skopeo.copy(docker('team/app:1.0'), `oci:${back}:pulled`)).toBe(image.manifest.digest);
      const layout = await readOciLayout(back);
      expect(layout.find('pulled').digest).toBe(image.manifest.digest);
      await expectLayersIdentical(image, layout.readBlob);

      // Both path forms serve the manifest by tag and by digest.
      for (const reference of ['1.0', image.manifest.digest]) {
        await expectServedManifest(target, target.apiUrl('team/app', `manifests/${reference}`), image.manifest);
        await expectServedManifest(target, target.v2Url('team/app', `manifests/${reference}`), image.manifest);
      }
    });

    it('reports the pushed manifest with inspect --raw and inspect', async () => {
      // Multi-MiB layers, so uploads and reads span many chunks.
      const image = buildImage({ layerCount: 3, layerSize: 3 * 1024 * 1024 });
      await push(image, 'team/inspect:1');

      const raw = await skopeo.inspectRaw(docker('team/inspect:1'));
      expect(raw.equals(image.manifest.bytes)).toBe(true);
      const inspected = await skopeo.inspect(docker('team/inspect:1'));
      expect(inspected.Digest).toBe(image.manifest.digest);
      expect(inspected.Layers).toEqual(image.layers.map((layer) => layer.digest));
      expect([inspected.Os, inspected.Architecture]).toEqual(['linux', 'amd64']);
      expect((await skopeo.inspectRaw(docker(`team/inspect@${image.manifest.digest}`))).equals(image.manifest.bytes)).toBe(true);
    });

    it('copies a multi-arch OCI index with --all and pulls every platform back unchanged', async () => {
      const built = buildIndex();
      expect(await push(built, 'team/multi-oci:1')).toBe(built.index.digest);
      expect((await skopeo.inspectRaw(docker('team/multi-oci:1'))).equals(built.index.bytes)).toBe(true);

      const back = path.join(work, 'multi-back');
      expect(await skopeo.copy(docker('team/multi-oci:1'), `oci:${back}:pulled`, { all: true })).toBe(built.index.digest);
      const layout = await readOciLayout(back);
      expect(layout.find('pulled').digest).toBe(built.index.digest);
      for (const image of built.images) {
        expect((await layout.readBlob(image.manifest.digest)).equals(image.manifest.bytes)).toBe(true);
        await expectLayersIdentical(image, layout.readBlob);
        await expectServedManifest(target, target.apiUrl('team/multi-oci', `manifests/${image.manifest.digest}`), image.manifest);
      }
      await expectServedManifest(target, target.apiUrl('team/multi-oci', 'manifests/1'), built.index);

      // Without --raw skopeo resolves the index to this machine's platform.
      const inspected = await skopeo.inspect(docker('team/multi-oci:1'));
      expect(inspected.Layers).toEqual(built.images[0].layers.map((layer) => layer.digest));
    });

    it('copies a Docker schema2 image keeping its media types and digest', async () => {
      const image = buildImage({ format: 'docker' });
      expect(await push(image, 'team/docker-app:1.0')).toBe(image.manifest.digest);

      const raw = await skopeo.inspectRaw(docker('team/docker-app:1.0'));
      expect(raw.equals(image.manifest.bytes)).toBe(true);
      expect(JSON.parse(raw.toString())).toMatchObject({
        mediaType: MediaTypes.DockerManifest,
        config: { mediaType: MediaTypes.DockerConfig, digest: image.config.digest },
      });
      await expectServedManifest(target, target.apiUrl('team/docker-app', 'manifests/1.0'), image.manifest);

      // An OCI layout would force a conversion; skopeo's dir: format keeps the schema2 bytes.
      const back = path.join(work, 'docker-back');
      await skopeo.copy(docker('team/docker-app:1.0'), `dir:${back}`);
      const pulled = await readDirImage(back);
      expect(pulled.digest).toBe(image.manifest.digest);
      await expectLayersIdentical(image, pulled.readBlob);
    });

    it('lists the tags it pushed, over HTTP and with list-tags', async () => {
      const image = buildImage();
      for (const tag of ['2.0', '2.1', 'latest']) expect(await push(image, `team/tags:${tag}`)).toBe(image.manifest.digest);

      const expected = ['2.0', '2.1', 'latest'];
      for (const url of [target.apiUrl('team/tags', 'tags/list'), target.v2Url('team/tags', 'tags/list')]) {
        const response = await target.fetch(url);
        expect({ url, status: response.status }).toEqual({ url, status: 200 });
        const body = (await response.json()) as { name: string; tags: string[] };
        expect(inOrder(body.tags)).toEqual(expected);
      }
      expect(inOrder(await skopeo.listTags(docker('team/tags')))).toEqual(expected);

      // On the client-facing form, `name` is the repository name the client addressed.
      const v2 = (await (await target.fetch(target.v2Url('team/tags', 'tags/list'))).json()) as { name: string };
      expect(v2.name).toBe(`${REPO}/team/tags`);
    });

    it('lists team/app tags at /api/docker/<repo>/v2/team/app/tags/list', async () => {
      const image = buildImage();
      await push(image, 'team/app:1.1');
      const response = await target.fetch(target.apiUrl('team/app', 'tags/list'));
      expect(response.status).toBe(200);
      // 1.0 was pushed by the first test of this block.
      expect(inOrder(((await response.json()) as { tags: string[] }).tags)).toEqual(['1.0', '1.1']);
    });
  });

  describe('podman (vfs storage)', () => {
    let podman: Podman;
    beforeAll(async () => {
      podman = await Podman.create();
      // `podman login` into its own auth file; pulls and pushes then use the stored credentials.
      if (target.creds) await podman.login(target.host, target.creds);
    });
    afterAll(async () => {
      await podman?.close();
    });

    it.each([
      ['OCI', 'oci' as const],
      ['Docker schema2', 'docker' as const],
    ])('pulls a %s image skopeo pushed and pushes it to a new tag with the same digest', async (_label, format) => {
      const image = buildImage({ format });
      const name = `team/podman-${format}`;
      await push(image, `${name}:1`);

      const id = await podman.pull(ref(`${name}:1`));
      // Podman's image id is the config's hex digest; pulling verified every layer's diff id.
      expect(`sha256:${id}`).toBe(image.config.digest);
      expect((await podman.inspectImage(ref(`${name}:1`))).Digest).toBe(image.manifest.digest);

      expect(await podman.push(ref(`${name}:1`), ref(`${name}:copy`))).toBe(image.manifest.digest);
      expect((await skopeo.inspectRaw(docker(`${name}:copy`))).equals(image.manifest.bytes)).toBe(true);
      await expectServedManifest(target, target.apiUrl(name, 'manifests/copy'), image.manifest);
    });

    it('pulls the amd64 image out of a multi-arch index', async () => {
      const built = buildIndex();
      await push(built, 'team/podman-multi:1');
      const id = await podman.pull(ref('team/podman-multi:1'));
      expect(`sha256:${id}`).toBe(built.images[0].config.digest);
      expect((await podman.inspectImage(ref('team/podman-multi:1'))).Architecture).toBe('amd64');
    });

    it('pushes an image whose layers it compresses itself (new uploads)', async () => {
      const image = buildImage({ layerCount: 2, layerSize: 256 * 1024 });
      const layout = path.join(work, 'podman-local');
      await writeImageSource(layout, image, 'local');
      const localId = await podman.pull(`oci:${layout}:local`);

      const digest = await podman.push(localId, ref('team/podman-new:1'));
      const raw = await skopeo.inspectRaw(docker('team/podman-new:1'));
      expect(sha256Digest(raw)).toBe(digest);
      const manifest = JSON.parse(raw.toString()) as { config: { digest: string }; layers: Array<{ digest: string }> };
      // The config is kept; the layers are podman's own gzip streams of the same tars (Go's gzip
      // header differs from zlib's, so their digests must differ: these blobs were new uploads).
      expect(manifest.config.digest).toBe(image.config.digest);
      for (const [i, layer] of manifest.layers.entries()) expect(layer.digest).not.toBe(image.layers[i].digest);

      const back = path.join(work, 'podman-new-back');
      await skopeo.copy(docker('team/podman-new:1'), `oci:${back}:pulled`);
      const pulled = await readOciLayout(back);
      expect(pulled.find('pulled').digest).toBe(digest);
      const diffIds = await Promise.all(manifest.layers.map(async (layer) => sha256Digest(gunzipSync(await pulled.readBlob(layer.digest)))));
      expect(diffIds).toEqual(image.layers.map((layer) => layer.diffId));

      const id = await podman.pull(ref('team/podman-new:1'));
      expect(`sha256:${id}`).toBe(image.config.digest);
    });
  });

  describe('docker CLI (no daemon)', () => {
    let cli: DockerCli;
    beforeAll(async () => {
      cli = await DockerCli.create();
      // Client-side `docker login` into its temp DOCKER_CONFIG; manifest commands use what it stored.
      if (target.creds) await cli.login(target.host, target.creds);
    });
    afterAll(async () => {
      await cli?.close();
    });

    it('manifest inspect shows the pushed manifest and index', async () => {
      const image = buildImage();
      await push(image, 'team/inspect-docker:1');
      expect(await cli.manifestInspect(ref('team/inspect-docker:1'))).toEqual(JSON.parse(image.manifest.bytes.toString()));

      const built = buildIndex();
      await push(built, 'team/inspect-docker:multi');
      expect(await cli.manifestInspect(ref('team/inspect-docker:multi'))).toEqual(JSON.parse(built.index.bytes.toString()));

      const verbose = await cli.manifestInspectVerbose(ref('team/inspect-docker:multi'));
      expect(verbose.map((entry) => entry.Descriptor.digest)).toEqual(built.images.map((i) => i.manifest.digest));
    });

    // The docker CLI writes an OCI index when its children are OCI manifests, a Docker manifest
    // list when they are schema2.
    it.each([
      ['OCI', 'oci' as const, '', MediaTypes.OciIndex],
      ['Docker schema2', 'docker' as const, '-v2', MediaTypes.DockerManifestList],
    ])('manifest create + push of %s children makes a list whose children resolve', async (_label, format, suffix, listType) => {
      const amd64 = buildImage({ format });
      const arm64 = buildImage({ format, platform: ARM64 });
      await push(amd64, `team/app-amd64${suffix}:1`);
      await push(arm64, `team/app-arm64${suffix}:1`);

      const name = `team/multi${suffix}`;
      const list = ref(`${name}:1`);
      await cli.manifestCreate(list, [ref(`team/app-amd64${suffix}:1`), ref(`team/app-arm64${suffix}:1`)]);
      const digest = await cli.manifestPush(list);

      const raw = await skopeo.inspectRaw(docker(`${name}:1`));
      expect(sha256Digest(raw)).toBe(digest);
      const pushed = JSON.parse(raw.toString()) as { mediaType: string; manifests: Array<{ digest: string; mediaType: string; platform: object }> };
      expect(pushed.mediaType).toBe(listType);
      expect(pushed.manifests.map((m) => [m.digest, m.mediaType, m.platform])).toEqual([
        [amd64.manifest.digest, amd64.manifest.mediaType, { architecture: 'amd64', os: 'linux' }],
        [arm64.manifest.digest, arm64.manifest.mediaType, { architecture: 'arm64', os: 'linux', variant: 'v8' }],
      ]);
      await expectServedManifest(target, target.apiUrl(name, 'manifests/1'), { bytes: raw, digest, mediaType: listType });
      expect(await cli.manifestInspect(list)).toEqual(JSON.parse(raw.toString()));

      // Children and their blobs were copied into the list's repository, so it pulls whole.
      for (const child of [amd64, arm64]) {
        await expectServedManifest(target, target.apiUrl(name, `manifests/${child.manifest.digest}`), child.manifest);
      }
      const back = path.join(work, `docker-multi${suffix}-back`);
      await skopeo.copy(docker(`${name}:1`), `dir:${back}`, { all: true });
      const pulled = await readDirImage(back);
      expect(pulled.digest).toBe(digest);
      for (const child of [amd64, arm64]) await expectLayersIdentical(child, pulled.readBlob);
    });
  });
});
