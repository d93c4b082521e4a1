// Writes through a virtual repository: everything lands in its defaultDeploymentRepo. Real clients
// (skopeo, podman with vfs storage as root, the docker CLI's `manifest create/push` without a
// daemon) push through the virtual and pull back through it and from the deployment target;
// chunked uploads and mounts over HTTP keep their Locations under the path the client used; a
// virtual without a deployment target refuses with DENIED; pushing needs read on the virtual and
// write on the target. Last, one table of OCI operations runs against the target directly and
// through the virtual, and the answers must match.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ARM64,
  BuiltImage,
  BuiltIndex,
  MediaTypes,
  blobOf,
  buildImage,
  buildIndex,
  imageManifest,
  randomBlob,
  readOciLayout,
  sha256Digest,
  writeImageSource,
} from './helpers/oci-image-builder';
import { Credentials, DockerCli, Podman, Skopeo } from './helpers/registry-clients';
import {
  API_FORM,
  HttpResult,
  PATH_FORMS,
  PathForm,
  RequestAuth,
  V2_FORM,
  absolute,
  expectRegistryError,
  expectStatus,
  pushBlob,
  pushImage,
  pushManifest,
  request,
  sha256,
  withQuery,
} from './helpers/registry-http';
import { TestUser, bearerFor, createUser, createVirtualRepository, expectManifest, freshKey, getManifest, grant, newUser } from './helpers/virtual-repository';
import { WharfTestServer, createLocalRepository, startWharf } from './helpers/wharf-server';

jest.setTimeout(240_000);

/** The path and query of a Location (absolute or not). */
function pathOf(server: WharfTestServer, location: string): string {
  const url = new URL(absolute(server, location));
  return `${url.pathname}${url.search}`;
}

describe('virtual repositories: writes', () => {
  let server: WharfTestServer;
  let work: string;
  /** The deployment target, first member of VIRTUAL. */
  let target: string;
  /** A second local member. */
  let other: string;
  /** [target, other], deploying to target. */
  let virtualKey: string;
  /** [target], no deployment target. */
  let readOnly: string;
  let sourceCount = 0;

  beforeAll(async () => {
    server = await startWharf();
    // Lowercase only: podman names an image pulled from oci:<dir> after the dir's path.
    work = path.join(os.tmpdir(), `wharf-virtual-writes-${randomBytes(6).toString('hex')}`);
    await fs.mkdir(work);
    target = freshKey('deploy');
    other = freshKey('other');
    await createLocalRepository(server, target);
    await createLocalRepository(server, other);
    virtualKey = freshKey('docker');
    await createVirtualRepository(server, virtualKey, { repositories: [target, other], defaultDeploymentRepo: target });
    readOnly = freshKey('no-deploy');
    await createVirtualRepository(server, readOnly, { repositories: [target] });
  });
  afterAll(async () => {
    await server?.close();
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  function manifestAt(key: string, image: string, reference: string, form: PathForm = V2_FORM, auth?: RequestAuth): Promise<HttpResult> {
    return getManifest(server, form.base(key, image), reference, { auth });
  }

  async function expectBlobAt(key: string, image: string, digest: string, bytes: Buffer, form: PathForm = V2_FORM): Promise<void> {
    const res = await request(server, `${form.base(key, image)}blobs/${digest}`);
    expectStatus(res, 200);
    expect(res.headers.get('docker-content-digest')).toBe(digest);
    expect(res.body.equals(bytes)).toBe(true);
  }

  /** The pushed image is readable through the virtual and directly from the deployment target. */
  async function expectLanded(image: string, tag: string, manifest: { bytes: Buffer; digest: string; mediaType: string }): Promise<void> {
    for (const form of PATH_FORMS) {
      expectManifest(await manifestAt(virtualKey, image, tag, form), manifest);
      expectManifest(await manifestAt(target, image, tag, form), manifest);
    }
    expectRegistryError(await manifestAt(other, image, tag), 404, 'MANIFEST_UNKNOWN');
  }

  describe('real clients', () => {
    let skopeo: Skopeo;
    /** Reads the virtual, writes the target: what a CI job needs. */
    let ci: TestUser;
    /** Reads the virtual and the target, writes nothing. */
    let reader: TestUser;

    beforeAll(async () => {
      skopeo = await Skopeo.create({ creds: server.admin });
      ci = await createUser(server, newUser('ci'));
      reader = await createUser(server, newUser('reader'));
      await grant(server, [virtualKey], { [ci.name]: ['read'], [reader.name]: ['read'] });
      await grant(server, [target], { [ci.name]: ['write'], [reader.name]: ['read'] });
    });
    afterAll(() => skopeo?.close());

    const ref = (key: string, image: string): string => `${server.host}/${key}/${image}`;

    async function source(built: BuiltImage | BuiltIndex): Promise<string> {
      sourceCount += 1;
      return writeImageSource(path.join(work, `source-${sourceCount}`), built, 'src');
    }

    it('skopeo pushes an image and a multi-arch index through the virtual; both pull back through it and from the target', async () => {
      const image = buildImage({ layerSize: 64 * 1024 });
      expect(await skopeo.copy(await source(image), `docker://${ref(virtualKey, 'team/app:1')}`)).toBe(image.manifest.digest);
      await expectLanded('team/app', '1', image.manifest);

      const back = path.join(work, 'skopeo-back');
      expect(await skopeo.copy(`docker://${ref(virtualKey, 'team/app:1')}`, `oci:${back}:pulled`)).toBe(image.manifest.digest);
      const layout = await readOciLayout(back);
      for (const blob of [image.config, ...image.layers]) expect((await layout.readBlob(blob.digest)).equals(blob.bytes)).toBe(true);
      expect((await skopeo.inspectRaw(`docker://${ref(target, 'team/app:1')}`)).equals(image.manifest.bytes)).toBe(true);

      const index = buildIndex({ layerCount: 1 });
      expect(await skopeo.copy(await source(index), `docker://${ref(virtualKey, 'team/multi:1')}`, { all: true })).toBe(index.index.digest);
      await expectLanded('team/multi', '1', index.index);
      for (const child of index.images) expectManifest(await manifestAt(target, 'team/multi', child.manifest.digest), child.manifest);
      const multiBack = path.join(work, 'skopeo-multi-back');
      expect(await skopeo.copy(`docker://${ref(virtualKey, 'team/multi:1')}`, `oci:${multiBack}:pulled`, { all: true })).toBe(index.index.digest);
    });

    it('a CI user with read on the virtual and write on the target pushes with skopeo (Bearer tokens); a read-only user cannot', async () => {
      const asCi = await Skopeo.create({ creds: ci.creds });
      const asReader = await Skopeo.create({ creds: reader.creds });
      try {
        const image = buildImage({ layerCount: 1 });
        const sha = randomBytes(4).toString('hex');
        expect(await asCi.copy(await source(image), `docker://${ref(virtualKey, `ci/app:${sha}`)}`)).toBe(image.manifest.digest);
        await expectLanded('ci/app', sha, image.manifest);
        expect((await asCi.inspectRaw(`docker://${ref(virtualKey, `ci/app:${sha}`)}`)).equals(image.manifest.bytes)).toBe(true);
        expect((await asReader.inspectRaw(`docker://${ref(virtualKey, `ci/app:${sha}`)}`)).equals(image.manifest.bytes)).toBe(true);

        const refused = buildImage({ layerCount: 1 });
        await expect(asReader.copy(await source(refused), `docker://${ref(virtualKey, 'ci/app:reader')}`)).rejects.toThrow();
        expectRegistryError(await manifestAt(target, 'ci/app', 'reader'), 404, 'MANIFEST_UNKNOWN');
      } finally {
        await asCi.close();
        await asReader.close();
      }
    });

    it('podman (vfs, as root) pushes through the virtual and pulls back through it and from the target', async () => {
      const podman = await Podman.create();
      const puller = await Podman.create({ creds: server.admin });
      const directPuller = await Podman.create({ creds: server.admin });
      try {
        await podman.login(server.host, server.admin as Credentials);
        const image = buildImage({ layerCount: 2, layerSize: 128 * 1024 });
        const layout = path.join(work, 'podman-source');
        await writeImageSource(layout, image, 'local');
        const localId = await podman.pull(`oci:${layout}:local`);

        const digest = await podman.push(localId, ref(virtualKey, 'team/podman:1'));
        const raw = await skopeo.inspectRaw(`docker://${ref(target, 'team/podman:1')}`);
        expect(sha256Digest(raw)).toBe(digest);
        await expectLanded('team/podman', '1', { bytes: raw, digest, mediaType: JSON.parse(raw.toString()).mediaType });

        // Pulled back into an empty storage, so every blob really comes from Wharf.
        const viaVirtual = await puller.pull(ref(virtualKey, 'team/podman:1'));
        expect(`sha256:${viaVirtual}`).toBe(image.config.digest);
        expect((await puller.inspectImage(ref(virtualKey, 'team/podman:1'))).Digest).toBe(digest);
        const direct = await directPuller.pull(ref(target, 'team/podman:1'));
        expect(direct).toBe(viaVirtual);
        expect((await directPuller.inspectImage(ref(target, 'team/podman:1'))).Digest).toBe(digest);
      } finally {
        await podman.close();
        await puller.close();
        await directPuller.close();
      }
    });

    it('podman as the CI user pushes through the virtual with its stored login', async () => {
      const podman = await Podman.create();
      try {
        await podman.login(server.host, ci.creds);
        const image = buildImage({ layerCount: 1 });
        const layout = path.join(work, 'podman-ci-source');
        await writeImageSource(layout, image, 'local');
        const localId = await podman.pull(`oci:${layout}:local`);
        const digest = await podman.push(localId, ref(virtualKey, 'ci/podman:1'));
        expect(
          (await request(server, `/v2/${target}/ci/podman/manifests/1`, { headers: { accept: `${MediaTypes.OciManifest}, ${MediaTypes.DockerManifest}` } })).headers.get(
            'docker-content-digest',
          ),
        ).toBe(digest);
        expect(`sha256:${await podman.pull(ref(virtualKey, 'ci/podman:1'))}`).toBe(image.config.digest);
      } finally {
        await podman.close();
      }
    });

    it.each([
      ['OCI', 'oci' as const, MediaTypes.OciIndex],
      ['Docker schema2', 'docker' as const, MediaTypes.DockerManifestList],
    ])('docker manifest create + push --insecure of %s children through the virtual makes a list readable through it and from the target', async (label, format, listType) => {
      const cli = await DockerCli.create();
      try {
        await cli.login(server.host, server.admin);
        const suffix = format === 'oci' ? 'oci' : 'v2';
        const amd64 = buildImage({ format, layerCount: 1 });
        const arm64 = buildImage({ format, platform: ARM64, layerCount: 1 });
        await skopeo.copy(await source(amd64), `docker://${ref(virtualKey, `team/app-amd64-${suffix}:1`)}`);
        await skopeo.copy(await source(arm64), `docker://${ref(virtualKey, `team/app-arm64-${suffix}:1`)}`);

        const list = ref(virtualKey, `team/list-${suffix}:1`);
        await cli.manifestCreate(list, [ref(virtualKey, `team/app-amd64-${suffix}:1`), ref(virtualKey, `team/app-arm64-${suffix}:1`)]);
        const digest = await cli.manifestPush(list);

        const raw = await skopeo.inspectRaw(`docker://${list}`);
        expect(sha256Digest(raw)).toBe(digest);
        const pushed = JSON.parse(raw.toString()) as { mediaType: string; manifests: Array<{ digest: string }> };
        expect(pushed.mediaType).toBe(listType);
        expect(pushed.manifests.map((m) => m.digest)).toEqual([amd64.manifest.digest, arm64.manifest.digest]);
        await expectLanded(`team/list-${suffix}`, '1', { bytes: raw, digest, mediaType: listType });
        expect(await cli.manifestInspect(list)).toEqual(JSON.parse(raw.toString()));

        // The children and their blobs were copied into the list's image in the target.
        for (const child of [amd64, arm64]) {
          expectManifest(await manifestAt(target, `team/list-${suffix}`, child.manifest.digest), child.manifest);
          expectManifest(await manifestAt(virtualKey, `team/list-${suffix}`, child.manifest.digest), child.manifest);
          await expectBlobAt(target, `team/list-${suffix}`, child.layers[0].digest, child.layers[0].bytes);
        }
        const back = path.join(work, `docker-list-${label.replace(/\W/g, '')}`);
        await skopeo.copy(`docker://${list}`, `dir:${back}`, { all: true });
      } finally {
        await cli.close();
      }
    });
  });

  describe('over HTTP', () => {
    it.each(PATH_FORMS.map((form) => [form.label, form] as const))(
      'a chunked upload through the virtual on %s keeps every Location under that path and lands in the target',
      async (_label, form) => {
        const image = `chunked/${form === V2_FORM ? 'v2' : 'api'}`;
        const base = form.base(virtualKey, image);
        const bytes = randomBytes(300_000);
        const digest = sha256(bytes);

        const started = await request(server, `${base}blobs/uploads/`, { method: 'POST' });
        expectStatus(started, 202);
        let location = absolute(server, started.headers.get('location')!);
        expect(pathOf(server, location)).toMatch(new RegExp(`^${base}blobs/uploads/[0-9a-f-]{36}`));
        for (const [start, end] of [
          [0, 100_000],
          [100_000, 250_000],
        ]) {
          const chunk = await request(server, location, {
            method: 'PATCH',
            headers: { 'content-type': 'application/octet-stream', 'content-range': `${start}-${end - 1}` },
            body: bytes.subarray(start, end),
          });
          expectStatus(chunk, 202);
          expect(chunk.headers.get('range')).toBe(`0-${end - 1}`);
          location = absolute(server, chunk.headers.get('location')!);
          expect(pathOf(server, location)).toMatch(new RegExp(`^${base}blobs/uploads/`));
        }
        const status = await request(server, location);
        expectStatus(status, 204);
        expect(status.headers.get('range')).toBe('0-249999');
        const done = await request(server, withQuery(location, 'digest', digest), { method: 'PUT', body: bytes.subarray(250_000) });
        expectStatus(done, 201);
        expect(done.headers.get('docker-content-digest')).toBe(digest);
        expect(pathOf(server, done.headers.get('location')!)).toBe(`${base}blobs/${digest}`);

        for (const f of PATH_FORMS) {
          await expectBlobAt(virtualKey, image, digest, bytes, f);
          await expectBlobAt(target, image, digest, bytes, f);
        }
        expectRegistryError(await request(server, `${V2_FORM.base(other, image)}blobs/${digest}`), 404, 'BLOB_UNKNOWN');
      },
    );

    it('a monolithic upload and a manifest PUT through the virtual answer with Locations under the path used', async () => {
      for (const form of PATH_FORMS) {
        const image = `mono/${form === V2_FORM ? 'v2' : 'api'}`;
        const base = form.base(virtualKey, image);
        const built = buildImage({ layerCount: 1 });
        const blob = await request(server, `${base}blobs/uploads/?digest=${built.layers[0].digest}`, {
          method: 'POST',
          headers: { 'content-type': 'application/octet-stream' },
          body: built.layers[0].bytes,
        });
        expectStatus(blob, 201);
        expect(pathOf(server, blob.headers.get('location')!)).toBe(`${base}blobs/${built.layers[0].digest}`);
        await pushBlob(server, base, built.config.bytes, built.config.digest);
        const put = await pushManifest(server, base, '1', built.manifest.bytes, built.manifest.mediaType);
        expectStatus(put, 201);
        expect(put.headers.get('docker-content-digest')).toBe(built.manifest.digest);
        expect(pathOf(server, put.headers.get('location')!)).toBe(`${base}manifests/${built.manifest.digest}`);
        await expectLanded(image, '1', built.manifest);
      }
    });

    it('mounts: into the virtual from another repository, and from=<virtual>/<image> resolved through its local members', async () => {
      const bytes = randomBytes(4000);
      const digest = await pushBlob(server, V2_FORM.base(other, 'mount/src'), bytes);

      // Into the virtual: the blob is linked in the deployment target.
      const into = V2_FORM.base(virtualKey, 'mount/dst');
      const mounted = await request(server, `${into}blobs/uploads/?mount=${digest}&from=${other}/mount/src`, { method: 'POST' });
      expectStatus(mounted, 201);
      expect(mounted.headers.get('docker-content-digest')).toBe(digest);
      expect(pathOf(server, mounted.headers.get('location')!)).toBe(`${into}blobs/${digest}`);
      await expectBlobAt(target, 'mount/dst', digest, bytes);

      // From the virtual: `other` (a local member) holds it.
      const direct = V2_FORM.base(target, 'mount/from-virtual');
      const fromVirtual = await request(server, `${direct}blobs/uploads/?mount=${digest}&from=${virtualKey}/mount/src`, { method: 'POST' });
      expectStatus(fromVirtual, 201);
      expect(pathOf(server, fromVirtual.headers.get('location')!)).toBe(`${direct}blobs/${digest}`);
      await expectBlobAt(target, 'mount/from-virtual', digest, bytes);

      // Both ends virtual, on the /api/docker form (where `from` names an image of the same virtual).
      const apiInto = API_FORM.base(virtualKey, 'mount/api-dst');
      const apiMount = await request(server, `${apiInto}blobs/uploads/?mount=${digest}&from=mount/src`, { method: 'POST' });
      expectStatus(apiMount, 201);
      expect(pathOf(server, apiMount.headers.get('location')!)).toBe(`${apiInto}blobs/${digest}`);
      await expectBlobAt(target, 'mount/api-dst', digest, bytes);

      // A source the virtual's members do not hold: an ordinary upload session instead.
      const missing = await request(server, `${direct}blobs/uploads/?mount=${sha256(randomBytes(9))}&from=${virtualKey}/mount/src`, { method: 'POST' });
      expectStatus(missing, 202);
      expect(missing.headers.get('docker-content-digest')).toBeNull();
    });

    it('a mount from a virtual (or from a member of it) the caller may not read falls back to an upload and links nothing', async () => {
      const writer = await createUser(server, newUser('writer'));
      await grant(server, [target], { [writer.name]: ['write'] });
      const bytes = randomBytes(2500);
      const digest = await pushBlob(server, V2_FORM.base(other, 'mount/secret'), bytes);
      const into = V2_FORM.base(target, 'mount/writer');
      const res = await request(server, `${into}blobs/uploads/?mount=${digest}&from=${virtualKey}/mount/secret`, { method: 'POST', auth: writer.basic });
      expectStatus(res, 202);
      expect(res.headers.get('docker-content-digest')).toBeNull();
      expectRegistryError(await request(server, `${into}blobs/${digest}`), 404, 'BLOB_UNKNOWN');

      // Reading the virtual is not enough when the member holding the blob is one the caller may not read.
      const member = await createUser(server, newUser('member'));
      await grant(server, [virtualKey], { [member.name]: ['read'] });
      await grant(server, [target], { [member.name]: ['write'] });
      const intoVirtual = V2_FORM.base(virtualKey, 'mount/member');
      const skipped = await request(server, `${intoVirtual}blobs/uploads/?mount=${digest}&from=${virtualKey}/mount/secret`, { method: 'POST', auth: member.basic });
      expectStatus(skipped, 202);
      expect(skipped.headers.get('docker-content-digest')).toBeNull();
      expectRegistryError(await request(server, `${V2_FORM.base(target, 'mount/member')}blobs/${digest}`), 404, 'BLOB_UNKNOWN');
      // Granted read on that member, the same mount links the blob.
      await grant(server, [other], { [member.name]: ['read'] });
      const linked = await request(server, `${intoVirtual}blobs/uploads/?mount=${digest}&from=${virtualKey}/mount/secret`, { method: 'POST', auth: member.basic });
      expectStatus(linked, 201);
      await expectBlobAt(target, 'mount/member', digest, bytes);
    });

    it('a virtual without a deployment target answers DENIED saying so, on every write and both path forms; reads still work', async () => {
      const built = buildImage({ layerCount: 1 });
      await pushImage(server, V2_FORM.base(target, 'nodeploy/app'), built, '1');
      for (const form of PATH_FORMS) {
        const base = form.base(readOnly, 'nodeploy/app');
        const attempts = [
          await request(server, `${base}blobs/uploads/`, { method: 'POST' }),
          await request(server, `${base}blobs/uploads/?digest=${built.layers[0].digest}`, { method: 'POST', body: built.layers[0].bytes }),
          await request(server, `${base}blobs/uploads/?mount=${built.layers[0].digest}&from=${target}/nodeploy/app`, { method: 'POST' }),
          await pushManifest(server, base, '2', built.manifest.bytes, built.manifest.mediaType),
          await request(server, `${base}manifests/${built.manifest.digest}`, { method: 'DELETE' }),
          await request(server, `${base}blobs/${built.layers[0].digest}`, { method: 'DELETE' }),
        ];
        for (const res of attempts) {
          expectRegistryError(res, 403, 'DENIED');
          expect(res.json.errors[0].message).toMatch(/deploy/i);
        }
        expectManifest(await manifestAt(readOnly, 'nodeploy/app', '1', form), built.manifest);
      }
      expectManifest(await manifestAt(target, 'nodeploy/app', built.manifest.digest), built.manifest);
      expectRegistryError(await manifestAt(target, 'nodeploy/app', '2'), 404, 'MANIFEST_UNKNOWN');
    });

    it('deletes go to the deployment target only: what another member holds is not deleted through the virtual', async () => {
      const built = buildImage({ layerCount: 1 });
      await pushImage(server, V2_FORM.base(other, 'elsewhere/app'), built, '1');
      expectManifest(await manifestAt(virtualKey, 'elsewhere/app', '1'), built.manifest);
      expectRegistryError(await request(server, `${V2_FORM.base(virtualKey, 'elsewhere/app')}manifests/${built.manifest.digest}`, { method: 'DELETE' }), 404, 'MANIFEST_UNKNOWN');
      expectRegistryError(await request(server, `${V2_FORM.base(virtualKey, 'elsewhere/app')}manifests/1`, { method: 'DELETE' }), 404, 'MANIFEST_UNKNOWN');
      expectRegistryError(await request(server, `${V2_FORM.base(virtualKey, 'elsewhere/app')}blobs/${built.layers[0].digest}`, { method: 'DELETE' }), 404, 'BLOB_UNKNOWN');
      expectManifest(await manifestAt(other, 'elsewhere/app', '1'), built.manifest);
      await expectBlobAt(other, 'elsewhere/app', built.layers[0].digest, built.layers[0].bytes);
      expectManifest(await manifestAt(virtualKey, 'elsewhere/app', '1'), built.manifest);
    });

    it('an anonymous push or delete through an anonymous-readable virtual is challenged with the scope it needs', async () => {
      const open = freshKey('open');
      await createVirtualRepository(server, open, { repositories: [target, other], defaultDeploymentRepo: target, anonymousRead: true });
      const built = buildImage({ layerCount: 1 });
      await pushImage(server, V2_FORM.base(target, 'anon/app'), built, '1');
      // Anonymous callers may address the virtual, but its members are not anonymous-readable.
      expectRegistryError(await manifestAt(open, 'anon/app', '1', V2_FORM, null), 404, 'MANIFEST_UNKNOWN');
      expectManifest(await manifestAt(open, 'anon/app', '1'), built.manifest);
      const challenge = (actions: string) => `Bearer realm="${server.baseUrl}/v2/token",service="wharf",scope="repository:${open}/anon/app:${actions}"`;

      const push = await request(server, `${V2_FORM.base(open, 'anon/app')}blobs/uploads/`, { method: 'POST', auth: null });
      expectRegistryError(push, 401, 'UNAUTHORIZED');
      expect(push.headers.get('www-authenticate')).toBe(challenge('pull,push'));
      const put = await pushManifest(server, V2_FORM.base(open, 'anon/app'), '2', built.manifest.bytes, built.manifest.mediaType, { auth: null });
      expectRegistryError(put, 401, 'UNAUTHORIZED');
      expect(put.headers.get('www-authenticate')).toBe(challenge('pull,push'));
      const del = await request(server, `${V2_FORM.base(open, 'anon/app')}manifests/${built.manifest.digest}`, { method: 'DELETE', auth: null });
      expectRegistryError(del, 401, 'UNAUTHORIZED');
      expect(del.headers.get('www-authenticate')).toBe(challenge('pull,delete'));
      expectManifest(await manifestAt(target, 'anon/app', '1'), built.manifest);
      expectRegistryError(await manifestAt(target, 'anon/app', '2'), 404, 'MANIFEST_UNKNOWN');
    });

    it('pushing through the virtual needs read on it and write on the target; deleting needs delete on the target', async () => {
      const pusher = await createUser(server, newUser('pusher')); // read virtual, write target
      const watcher = await createUser(server, newUser('watcher')); // read virtual, read target
      const virtualWriter = await createUser(server, newUser('vwriter')); // write virtual, read target
      const outsider = await createUser(server, newUser('outsider')); // write target only
      const deleter = await createUser(server, newUser('deleter')); // read virtual, delete target
      await grant(server, [virtualKey], { [pusher.name]: ['read'], [watcher.name]: ['read'], [virtualWriter.name]: ['write'], [deleter.name]: ['read'] });
      await grant(server, [target], { [pusher.name]: ['write'], [watcher.name]: ['read'], [virtualWriter.name]: ['read'], [outsider.name]: ['write'], [deleter.name]: ['delete'] });

      const base = V2_FORM.base(virtualKey, 'perm/app');
      const built = buildImage({ layerCount: 1 });
      expect(await pushImage(server, base, built, '1', { auth: pusher.basic })).toBe(built.manifest.digest);
      expectManifest(await manifestAt(target, 'perm/app', '1'), built.manifest);

      // A Bearer token for push on the virtual's scope, as docker asks for it.
      const token = await bearerFor(server, pusher.basic, `repository:${virtualKey}/perm/app:pull,push`);
      expectStatus(await request(server, `${base}blobs/uploads/`, { method: 'POST', auth: token }), 202);
      const second = buildImage({ layerCount: 1 });
      expect(await pushImage(server, base, second, '2', { auth: token })).toBe(second.manifest.digest);

      for (const user of [watcher, virtualWriter]) {
        expectRegistryError(await request(server, `${base}blobs/uploads/`, { method: 'POST', auth: user.basic }), 403, 'DENIED');
        expectRegistryError(await pushManifest(server, base, 'x', built.manifest.bytes, built.manifest.mediaType, { auth: user.basic }), 403, 'DENIED');
      }
      expectRegistryError(await request(server, `${base}blobs/uploads/`, { method: 'POST', auth: outsider.basic }), 404, 'NAME_UNKNOWN');
      expectRegistryError(await manifestAt(target, 'perm/app', 'x'), 404, 'MANIFEST_UNKNOWN');

      expectRegistryError(await request(server, `${base}manifests/${built.manifest.digest}`, { method: 'DELETE', auth: pusher.basic }), 403, 'DENIED');
      expectManifest(await manifestAt(target, 'perm/app', built.manifest.digest), built.manifest);
      expectStatus(await request(server, `${base}manifests/${built.manifest.digest}`, { method: 'DELETE', auth: deleter.basic }), 202);
      expectRegistryError(await manifestAt(target, 'perm/app', built.manifest.digest), 404, 'MANIFEST_UNKNOWN');
    });
  });

  describe('every OCI operation through a virtual behaves as on its deployment target', () => {
    const EMPTY = blobOf(Buffer.from('{}'), MediaTypes.OciEmpty);
    // One set of content for every run, so digests and lengths can be compared as they are.
    const image = buildImage({ layerCount: 2, layerSize: 20_000 });
    const variant = imageManifest({ config: image.config, layers: image.layers, annotations: { 'org.example.variant': 'b' } });
    const artifactLayer = randomBlob(128);
    const referrer = imageManifest({
      config: EMPTY,
      layers: [artifactLayer],
      artifactType: 'application/vnd.example.sbom.v1+json',
      subject: { mediaType: image.manifest.mediaType, digest: image.manifest.digest, size: image.manifest.bytes.length },
    });
    const unknownDigest = sha256(Buffer.from('never uploaded anywhere'));
    const danglingManifest = imageManifest({ config: image.config, layers: [randomBlob(10)] });

    interface Step {
      label: string;
      status: number;
      code?: string;
      headers: Record<string, string | null>;
      body?: unknown;
    }

    const COMPARED_HEADERS = [
      'content-type',
      'docker-content-digest',
      'range',
      'content-range',
      'oci-subject',
      'docker-distribution-api-version',
      'link',
      'www-authenticate',
      'accept-ranges',
    ];

    /** Runs the sequence against `base` and returns what each step answered, with Locations relative to `base`. */
    async function runSequence(base: string): Promise<Step[]> {
      const steps: Step[] = [];
      const record = (label: string, res: HttpResult, options: { length?: boolean; body?: unknown } = {}): HttpResult => {
        const headers: Record<string, string | null> = {};
        for (const name of COMPARED_HEADERS) headers[name] = res.headers.get(name);
        // A Link names the path used, like a Location.
        if (headers.link) headers.link = headers.link.split(base).join('<base>');
        if (options.length ?? res.status < 300) headers['content-length'] = res.headers.get('content-length');
        headers['docker-upload-uuid'] = res.headers.get('docker-upload-uuid') === null ? null : '<uuid>';
        const location = res.headers.get('location');
        if (location === null) {
          headers.location = null;
        } else {
          const url = new URL(absolute(server, location));
          // Locations follow the path the client used.
          expect({ label, location: url.pathname.startsWith(base) }).toEqual({ label, location: true });
          headers.location =
            `<base>${url.pathname.slice(base.length)}`.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>') +
            ([...url.searchParams.keys()].length ? `?${[...url.searchParams.keys()].sort().join('&')}` : '');
        }
        steps.push({ label, status: res.status, code: res.json?.errors?.[0]?.code, headers, ...(options.body !== undefined ? { body: options.body } : {}) });
        return res;
      };
      const [first, second] = image.layers;
      const half = Math.floor(first.bytes.length / 2);

      const started = record('POST upload', await request(server, `${base}blobs/uploads/`, { method: 'POST' }));
      let location = absolute(server, started.headers.get('location')!);
      const patched = record(
        'PATCH chunk',
        await request(server, location, {
          method: 'PATCH',
          headers: { 'content-type': 'application/octet-stream', 'content-range': `0-${half - 1}` },
          body: first.bytes.subarray(0, half),
        }),
      );
      location = absolute(server, patched.headers.get('location')!);
      record('GET upload status', await request(server, location));
      record('PUT last chunk', await request(server, withQuery(location, 'digest', first.digest), { method: 'PUT', body: first.bytes.subarray(half) }));
      record(
        'POST monolithic layer',
        await request(server, `${base}blobs/uploads/?digest=${second.digest}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: second.bytes }),
      );
      record(
        'POST monolithic config',
        await request(server, `${base}blobs/uploads/?digest=${image.config.digest}`, {
          method: 'POST',
          headers: { 'content-type': 'application/octet-stream' },
          body: image.config.bytes,
        }),
      );
      record('HEAD blob', await request(server, `${base}blobs/${first.digest}`, { method: 'HEAD' }));
      const got = record('GET blob', await request(server, `${base}blobs/${first.digest}`));
      expect(got.body.equals(first.bytes)).toBe(true);
      record('GET blob range', await request(server, `${base}blobs/${first.digest}`, { headers: { range: 'bytes=10-99' } }));
      record('PUT manifest by tag', await pushManifest(server, base, 'v1', image.manifest.bytes, image.manifest.mediaType));
      record('PUT manifest by digest', await pushManifest(server, base, variant.digest, variant.bytes, variant.mediaType));
      record('GET manifest by tag', await getManifest(server, base, 'v1'));
      record('HEAD manifest by tag', await getManifest(server, base, 'v1', { method: 'HEAD' }));
      record('GET manifest by digest', await getManifest(server, base, variant.digest));
      record('HEAD manifest by digest', await getManifest(server, base, variant.digest, { method: 'HEAD' }));
      record('PUT manifest by second tag', await pushManifest(server, base, 'v2', variant.bytes, variant.mediaType));
      const tags = await request(server, `${base}tags/list`);
      record('tags/list', tags, { length: false, body: tags.json?.tags });
      for (const query of ['n=1', 'n=1&last=v1', 'n=0', 'last=zzz', 'n=bad']) {
        const page = await request(server, `${base}tags/list?${query}`);
        record(`tags/list?${query}`, page, { length: false, body: page.json?.tags });
      }
      record(
        'POST artifact blobs',
        await request(server, `${base}blobs/uploads/?digest=${EMPTY.digest}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: EMPTY.bytes }),
      );
      await pushBlob(server, base, artifactLayer.bytes, artifactLayer.digest);
      record('PUT referrer', await pushManifest(server, base, referrer.digest, referrer.bytes, referrer.mediaType));
      const referrers = await request(server, `${base}referrers/${image.manifest.digest}`);
      record('GET referrers', referrers, { body: referrers.json });
      record('PUT invalid tag', await pushManifest(server, base, '-invalid', image.manifest.bytes, image.manifest.mediaType));
      record('PUT manifest with unknown blob', await pushManifest(server, base, 'dangling', danglingManifest.bytes, danglingManifest.mediaType));
      record('GET unknown blob', await request(server, `${base}blobs/${unknownDigest}`));
      record('HEAD unknown blob', await request(server, `${base}blobs/${unknownDigest}`, { method: 'HEAD' }));
      record('GET unknown manifest', await getManifest(server, base, 'no-such-tag'));
      record('DELETE manifest by tag', await request(server, `${base}manifests/v1`, { method: 'DELETE' }));
      record('GET deleted tag', await getManifest(server, base, 'v1'));
      record('DELETE manifest by digest', await request(server, `${base}manifests/${variant.digest}`, { method: 'DELETE' }));
      record('GET deleted digest', await getManifest(server, base, variant.digest));
      record('DELETE blob', await request(server, `${base}blobs/${second.digest}`, { method: 'DELETE' }));
      record('GET deleted blob', await request(server, `${base}blobs/${second.digest}`));
      record('DELETE unknown blob', await request(server, `${base}blobs/${unknownDigest}`, { method: 'DELETE' }));
      const cancelled = await request(server, `${base}blobs/uploads/`, { method: 'POST' });
      const cancelLocation = absolute(server, cancelled.headers.get('location')!);
      record('DELETE upload', await request(server, cancelLocation, { method: 'DELETE' }));
      record('GET cancelled upload', await request(server, cancelLocation));
      return steps;
    }

    it.each(PATH_FORMS.map((form) => [form.label, form] as const))('on %s: the same statuses, error codes and headers as directly on the target', async (_label, form) => {
      const suffix = form === V2_FORM ? 'v2' : 'api';
      const direct = await runSequence(form.base(target, `parity/direct-${suffix}`));
      const throughVirtual = await runSequence(form.base(virtualKey, `parity/virtual-${suffix}`));

      // The direct run is the reference: sanity-check a few of its answers so a broken target cannot pass.
      const byLabel = Object.fromEntries(direct.map((s) => [s.label, s]));
      expect(byLabel['PUT manifest by tag'].status).toBe(201);
      expect(byLabel['GET manifest by tag'].headers['docker-content-digest']).toBe(image.manifest.digest);
      expect(byLabel['tags/list'].body).toEqual(['v1', 'v2']);
      expect(byLabel['tags/list?n=1'].headers.link).toBe('<<base>tags/list?n=1&last=v1>; rel="next"');
      expect(byLabel['PUT invalid tag'].status).toBe(400);
      expect(byLabel['GET unknown blob']).toMatchObject({ status: 404, code: 'BLOB_UNKNOWN' });
      expect((byLabel['GET referrers'].body as { manifests: Array<{ digest: string }> }).manifests.map((m) => m.digest)).toEqual([referrer.digest]);

      expect(throughVirtual.map((s) => s.label)).toEqual(direct.map((s) => s.label));
      for (const [i, step] of throughVirtual.entries()) expect(step).toEqual(direct[i]);

      // What went through the virtual is in the target, under the image name used.
      expectManifest(await manifestAt(target, `parity/virtual-${suffix}`, referrer.digest, form), {
        bytes: referrer.bytes,
        digest: referrer.digest,
        mediaType: referrer.mediaType,
      });
      await expectBlobAt(target, `parity/virtual-${suffix}`, image.layers[0].digest, image.layers[0].bytes, form);
    });
  });
});
