import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { BuiltImage, Layer, imageConfig, imageManifest, randomLayer, writeImageSource } from './helpers/oci-image-builder';
import { Skopeo } from './helpers/registry-clients';
import { V2_FORM, expectRegistryError, expectStatus, pushImage, request, sha256 } from './helpers/registry-http';
import { recountStorage } from './helpers/storage-recount';
import { WharfTestServer, basicAuthorization, createLocalRepository, startWharf } from './helpers/wharf-server';

// /api/storageinfo against a recount from the tables, as images come and go; quotas on pushes.
let server: WharfTestServer;
let db: Client;

beforeAll(async () => {
  server = await startWharf({ WHARF_GC_GRACE_SECONDS: '0', WHARF_GC_SCHEDULE: 'off' });
  db = new Client({ connectionString: server.databaseUrl });
  await db.connect();
});

afterAll(async () => {
  await db?.end();
  await server?.close();
});

function imageWith(layers: Layer[]): BuiltImage {
  const all = [...layers, randomLayer(3000)];
  const config = imageConfig({ layers: all });
  return { manifest: imageManifest({ config, layers: all }), config, layers: all, platform: { architecture: 'amd64', os: 'linux' } };
}

const size = (...blobs: Array<{ bytes: Buffer }>) => blobs.reduce((sum, blob) => sum + blob.bytes.length, 0);

async function storageInfo() {
  const res = await request(server, '/api/storageinfo');
  expectStatus(res, 200);
  return res.json;
}

async function gc(): Promise<void> {
  expectStatus(await request(server, '/api/system/gc', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }), 200);
}

describe('storage info', () => {
  it('says per repository what its images take and what only it holds, and agrees with a recount as images come and go', async () => {
    await createLocalRepository(server, 'usage-a');
    await createLocalRepository(server, 'usage-b');
    const shared = randomLayer(5000);
    const one = imageWith([shared]);
    const two = imageWith([shared]);
    await pushImage(server, V2_FORM.base('usage-a', 'one'), one, 'v1');
    await pushImage(server, V2_FORM.base('usage-a', 'one-again'), one, 'v1');
    await pushImage(server, V2_FORM.base('usage-b', 'two'), two, 'v1');

    const info = await storageInfo();
    const byKey = (key: string) => info.repositories.find((repo: { key: string }) => repo.key === key);
    expect(byKey('usage-a')).toEqual({
      key: 'usage-a',
      rclass: 'local',
      images: 2,
      manifests: 2,
      tags: 2,
      blobs: 3,
      bytes: size(one.config, ...one.layers),
      uniqueBytes: size(one.config, one.layers[1]),
    });
    expect(byKey('usage-b')).toMatchObject({ blobs: 3, bytes: size(two.config, ...two.layers), uniqueBytes: size(two.config, two.layers[1]) });
    expect(info.fileStore).toMatchObject({ type: 'filesystem', location: path.join(server.dataDir, 'storage') });
    expect(info.fileStore.freeBytes).toBeGreaterThan(0);
    expect(info.fileStore.totalBytes).toBeGreaterThanOrEqual(info.fileStore.freeBytes);
    expect(await storageInfo()).toMatchObject(await recountStorage(db));

    // The shared layer becomes usage-a's alone once usage-b's image is gone and collected.
    expectStatus(await request(server, `${V2_FORM.base('usage-b', 'two')}manifests/${two.manifest.digest}`, { method: 'DELETE' }), 202);
    await gc();
    expect((await storageInfo()).repositories.find((repo: { key: string }) => repo.key === 'usage-a').uniqueBytes).toBe(size(one.config, ...one.layers));
    expect(await storageInfo()).toMatchObject(await recountStorage(db));

    // A repository deleted with everything in it.
    await createLocalRepository(server, 'usage-c');
    await pushImage(server, V2_FORM.base('usage-c', 'three'), imageWith([shared]), 'v1');
    expect(await storageInfo()).toMatchObject(await recountStorage(db));
    expectStatus(await request(server, '/api/repositories/usage-c', { method: 'DELETE' }), 204);
    await gc();
    expect(await storageInfo()).toMatchObject(await recountStorage(db));
  });

  it('is for admins', async () => {
    expectStatus(
      await request(server, '/api/security/users/usage-reader', {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ password: 'usage-reader-password' }),
      }),
      201,
    );
    expect((await request(server, '/api/storageinfo', { auth: basicAuthorization('usage-reader', 'usage-reader-password') })).status).toBe(403);
    expect((await request(server, '/api/storageinfo', { auth: null })).status).toBe(401);
  });
});

describe('quotas', () => {
  const push = (key: string, bytes: Buffer, image = 'app') => request(server, `${V2_FORM.base(key, image)}blobs/uploads/?digest=${sha256(bytes)}`, { method: 'POST', body: bytes });

  it('refuses a blob push beyond quotaBytes with DENIED, counting each blob of the repository once; raising the quota lets it in', async () => {
    await createLocalRepository(server, 'quota-q', { quotaBytes: 10_000 });
    const [first, second] = [randomBytes(6000), randomBytes(6000)];
    expectStatus(await push('quota-q', first), 201);
    const refused = await push('quota-q', second);
    expectRegistryError(refused, 403, 'DENIED');
    expect(refused.json.errors[0].message).toMatch(
      /quota-q is over its quota: .* would take it to 11\.7 KiB \(12000 bytes\), and its quota is 9\.8 KiB \(10000 bytes\) \(5\.9 KiB \(6000 bytes\) in use\)/,
    );
    // Refused, it left nothing: not linked, no upload data.
    expectRegistryError(await request(server, `${V2_FORM.base('quota-q', 'app')}blobs/${sha256(second)}`), 404, 'BLOB_UNKNOWN');
    expect((await server.storage.listWritten('/uploads')).length).toBe(0);
    // A blob the repository has costs nothing, under another image too.
    expectStatus(await push('quota-q', first, 'other'), 201);
    // A blob stored for another repository counts here all the same, also when mounted.
    await createLocalRepository(server, 'quota-source');
    expectStatus(await push('quota-source', second), 201);
    expectRegistryError(await push('quota-q', second), 403, 'DENIED');
    expectRegistryError(await request(server, `${V2_FORM.base('quota-q', 'app')}blobs/uploads/?mount=${sha256(second)}&from=quota-source/app`, { method: 'POST' }), 403, 'DENIED');

    const raised = await request(server, '/api/repositories/quota-q', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ quotaBytes: 20_000 }),
    });
    expectStatus(raised, 200);
    expect(raised.json.quotaBytes).toBe(20_000);
    expectStatus(await push('quota-q', second), 201);
    expect((await storageInfo()).repositories.find((repo: { key: string }) => repo.key === 'quota-q')).toMatchObject({ bytes: 12_000, quotaBytes: 20_000 });
    expectStatus(await request(server, '/api/repositories/quota-q', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"quotaBytes":-1}' }), 400);
  });

  it('concurrent pushes cannot together go beyond the quota', async () => {
    await createLocalRepository(server, 'quota-race', { quotaBytes: 10_000 });
    const results = await Promise.all(Array.from({ length: 6 }, () => push('quota-race', randomBytes(3000))));
    expect(results.filter((res) => res.status === 201)).toHaveLength(3);
    expect(results.filter((res) => res.status === 403)).toHaveLength(3);
    expect((await storageInfo()).repositories.find((repo: { key: string }) => repo.key === 'quota-race').bytes).toBe(9000);
  });

  it('a promotion into the repository counts what it brings that the repository lacks', async () => {
    await createLocalRepository(server, 'quota-promoted', { quotaBytes: 8000 });
    await createLocalRepository(server, 'quota-dev');
    const [small, large] = [imageWith([]), imageWith([randomLayer(9000)])];
    await pushImage(server, V2_FORM.base('quota-dev', 'small'), small, '1');
    await pushImage(server, V2_FORM.base('quota-dev', 'large'), large, '1');
    const promote = (image: string) =>
      request(server, '/api/docker/quota-dev/v2/promote', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ targetRepo: 'quota-promoted', dockerRepository: image, tag: '1', copy: true }),
      });
    expectStatus(await promote('small'), 200);
    const refused = await promote('large');
    expect(refused.status).toBe(403);
    expect(JSON.stringify(refused.json)).toMatch(/quota-promoted is over its quota: the promoted image/);
    expect((await request(server, `${V2_FORM.base('quota-promoted', 'large')}manifests/1`)).status).toBe(404);
  });

  it('skopeo is told why its push is refused', async () => {
    await createLocalRepository(server, 'quota-skopeo', { quotaBytes: 4000 });
    const work = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-quota-'));
    const skopeo = await Skopeo.create({ creds: { username: server.admin.username, password: server.admin.password } });
    try {
      const source = await writeImageSource(path.join(work, 'image'), imageWith([randomLayer(3000)]), 'v1');
      await expect(skopeo.copy(source, `docker://${server.host}/quota-skopeo/app:v1`)).rejects.toThrow(/denied.*over its quota/i);
    } finally {
      await skopeo.close();
      await fs.rm(work, { recursive: true, force: true });
    }
  });
});
