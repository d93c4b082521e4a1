import { Client } from 'pg';
import { BuiltImage, buildImage, buildIndex, descriptorOf } from './helpers/oci-image-builder';
import { V2_FORM, expectStatus, pushImage, pushReferrerManifest, request } from './helpers/registry-http';
import { RemoteFixture, blobRequests, startRemoteFixture } from './helpers/remote-repository';
import { seedImage } from './helpers/upstream-registry';
import { createLocalRepository } from './helpers/wharf-server';

// Retention rules, untagged manifests and remote cache limits, applied by garbage collection.
let fixture: RemoteFixture;
let db: Client;

beforeAll(async () => {
  fixture = await startRemoteFixture();
  db = new Client({ connectionString: fixture.server.databaseUrl });
  await db.connect();
});

afterAll(async () => {
  await db?.end();
  await fixture?.close();
});

const server = () => fixture.server;
const json = (body: object) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function gc(dryRun = false) {
  const res = await request(server(), '/api/system/gc', json({ dryRun }));
  expectStatus(res, 200);
  expect(res.json.status).toBe('finished');
  return res.json.result;
}

async function tags(key: string, image: string): Promise<string[]> {
  const res = await request(server(), `${V2_FORM.base(key, image)}tags/list`);
  return res.status === 200 ? (res.json.tags ?? []) : [];
}

/** Pushes `count` distinct images as tags of one image, oldest first, each pushed a day apart (by the clock in the database). */
async function pushTagged(key: string, image: string, names: string[]): Promise<Map<string, BuiltImage>> {
  const pushed = new Map<string, BuiltImage>();
  for (const [i, name] of names.entries()) {
    const built = buildImage({ layerCount: 1 });
    await pushImage(server(), V2_FORM.base(key, image), built, name);
    await db.query(
      `UPDATE tags t SET updated_at = now() - make_interval(days => $4) FROM images i, repositories r
       WHERE i.id = t.image_id AND r.id = i.repository_id AND r.key = $1 AND i.name = $2 AND t.name = $3`,
      [key, image, name, names.length - i],
    );
    pushed.set(name, built);
  }
  return pushed;
}

async function layerStored(digest: string): Promise<boolean> {
  return (await db.query(`SELECT 1 FROM blobs WHERE digest = $1`, [digest])).rowCount === 1;
}

describe('tag retention', () => {
  it('keeps the latest tags and those matching alwaysKeep for the images a rule names; a dry run lists what would go; GC applies it', async () => {
    const rules = { rules: [{ images: 'team/*', keepLatest: 2, alwaysKeep: ['v*'] }] };
    await createLocalRepository(server(), 'retained', { retention: rules });
    const pushed = await pushTagged('retained', 'team/app', ['v1', 'b1', 'b2', 'b3', 'b4', 'b5']);
    await pushTagged('retained', 'other/app', ['o1', 'o2', 'o3']);

    const dry = await request(server(), '/api/repositories/retained/retention', json({ dryRun: true }));
    expectStatus(dry, 200);
    expect(dry.json).toEqual({
      repository: 'retained',
      dryRun: true,
      removed: ['b1', 'b2', 'b3'].map((tag) => ({ image: 'team/app', tag, digest: pushed.get(tag)!.manifest.digest })),
      manifestsRemoved: 0,
    });
    expect(await tags('retained', 'team/app')).toEqual(['b1', 'b2', 'b3', 'b4', 'b5', 'v1']);
    expect((await request(server(), '/api/repositories/retained')).json.retention).toEqual({ rules: [{ images: 'team/*', keepLatest: 2, alwaysKeep: ['v*'] }] });

    const result = await gc();
    expect(result.retention).toEqual({ tags: 3, manifests: 3 });
    expect(await tags('retained', 'team/app')).toEqual(['b4', 'b5', 'v1']);
    expect(await tags('retained', 'other/app')).toEqual(['o1', 'o2', 'o3']);
    // The removed manifests are gone; their layers' links wait out the grace period (an hour here) like any other.
    for (const tag of ['b1', 'b2', 'b3']) {
      expect((await request(server(), `${V2_FORM.base('retained', 'team/app')}manifests/${pushed.get(tag)!.manifest.digest}`)).status).toBe(404);
    }
    expect(await layerStored(pushed.get('b4')!.layers[0].digest)).toBe(true);
  });

  it('keeps tags pulled within keepDays, whenever they were pushed', async () => {
    await createLocalRepository(server(), 'retained-days', { retention: { rules: [{ keepDays: 30 }] } });
    await pushTagged('retained-days', 'app', ['a', 'b', 'c']);
    await db.query(
      `UPDATE tags t SET updated_at = now() - interval '40 days' FROM images i, repositories r WHERE i.id = t.image_id AND r.id = i.repository_id AND r.key = 'retained-days'`,
    );
    expectStatus(await request(server(), `${V2_FORM.base('retained-days', 'app')}manifests/b`), 200);
    const run = await request(server(), '/api/repositories/retained-days/retention', json({}));
    expectStatus(run, 200);
    expect(run.json.removed.map((removed: { tag: string }) => removed.tag).sort()).toEqual(['a', 'c']);
    expect(run.json.manifestsRemoved).toBe(2);
    expect(await tags('retained-days', 'app')).toEqual(['b']);
  });

  it('never removes tags of a repository whose tags are immutable', async () => {
    await createLocalRepository(server(), 'retained-immutable', { allowTagOverwrite: false, retention: { rules: [{ keepLatest: 1 }] } });
    await pushTagged('retained-immutable', 'app', ['1.0', '1.1', '1.2']);
    const run = await request(server(), '/api/repositories/retained-immutable/retention', json({}));
    expect(run.json.removed).toEqual([]);
    expect(await tags('retained-immutable', 'app')).toEqual(['1.0', '1.1', '1.2']);
  });

  it('refuses rules it would misread, and retention of other kinds', async () => {
    await createLocalRepository(server(), 'retained-bad');
    const bad = await request(server(), '/api/repositories/retained-bad', json({ retention: { rules: [{ images: 'x/*' }] } }));
    expect(bad.status).toBe(400);
    expect(bad.json.detail).toMatch(/keepLatest, keepDays or both/);
    expect((await request(server(), '/api/repositories/retained-bad/retention', json({ dryRun: 'no' }))).status).toBe(400);
    const remote = await request(server(), `/api/repositories/${await fixture.remote()}/retention`, json({ dryRun: true }));
    expect(remote.status).toBe(404);
    expect(remote.json.detail).toMatch(/retention applies to local repositories/);
  });
});

describe('untagged manifests', () => {
  it('are collected after untaggedManifestDays unless an index of the image or a referrer of a kept subject needs them', async () => {
    await createLocalRepository(server(), 'untagged', { untaggedManifestDays: 1 });
    const base = V2_FORM.base('untagged', 'app');
    const loose = buildImage({ layerCount: 1 });
    await pushImage(server(), base, loose, 'loose');
    const index = buildIndex();
    await pushImage(server(), base, index, 'multi');
    const signed = buildImage({ layerCount: 1 });
    await pushImage(server(), base, signed, 'signed');
    const { digest: signature } = await pushReferrerManifest(server(), base, descriptorOf(signed.manifest));
    for (const tag of ['loose', 'signed']) expectStatus(await request(server(), `${base}manifests/${tag}`, { method: 'DELETE' }), 202);
    await request(server(), `${base}manifests/signed`).then((res) => expect(res.status).toBe(404));
    await db.query(
      `UPDATE manifests m SET created_at = now() - interval '2 days' FROM images i, repositories r WHERE i.id = m.image_id AND r.id = i.repository_id AND r.key = 'untagged'`,
    );

    const dry = await gc(true);
    expect(dry.untaggedManifests.count).toBe(2); // loose and signed; the signature waits for its subject
    const result = await gc();
    expect(result.untaggedManifests.count).toBe(3); // then the signature, whose subject went
    const remaining = (
      await db.query(`SELECT m.digest FROM manifests m JOIN images i ON i.id = m.image_id JOIN repositories r ON r.id = i.repository_id WHERE r.key = 'untagged'`)
    ).rows.map((row) => row.digest);
    expect(remaining.sort()).toEqual([index.index.digest, ...index.images.map((image) => image.manifest.digest)].sort());
    expect(remaining).not.toContain(signature);

    // Untagged, the index goes, and its children with it.
    expectStatus(await request(server(), `${base}manifests/multi`, { method: 'DELETE' }), 202);
    await db.query(
      `UPDATE manifests m SET created_at = now() - interval '2 days' FROM images i, repositories r WHERE i.id = m.image_id AND r.id = i.repository_id AND r.key = 'untagged'`,
    );
    expect((await gc()).untaggedManifests.count).toBe(1 + index.images.length);
  });
});

describe('remote caches', () => {
  async function pullThrough(key: string, name: string, image: BuiltImage): Promise<void> {
    expectStatus(await request(server(), `${V2_FORM.base(key, name)}manifests/1`, { headers: { accept: image.manifest.mediaType } }), 200);
    for (const blob of [image.config, ...image.layers]) expectStatus(await request(server(), `${V2_FORM.base(key, name)}blobs/${blob.digest}`), 200);
  }

  const cachedBytes = async (key: string) =>
    Number((await db.query(`SELECT u.bytes FROM repository_usage u JOIN repositories r ON r.id = u.repository_id WHERE r.key = $1`, [key])).rows[0].bytes);

  it('forgets what was not pulled within cacheRetentionDays; a later pull fetches it again', async () => {
    const key = await fixture.remote({ cacheRetentionDays: 1 } as object);
    const [old, fresh] = [fixture.imageName('old'), fixture.imageName('fresh')];
    const [oldImage, freshImage] = [buildImage({ layerCount: 1 }), buildImage({ layerCount: 1 })];
    await seedImage(fixture.upstream, old, '1', oldImage);
    await seedImage(fixture.upstream, fresh, '1', freshImage);
    await pullThrough(key, old, oldImage);
    await pullThrough(key, fresh, freshImage);
    await db.query(
      `UPDATE repository_blobs SET created_at = now() - interval '2 days', last_pulled_at = NULL WHERE digest = ANY($1) AND repository_id = (SELECT id FROM repositories WHERE key = $2)`,
      [[oldImage.config.digest, oldImage.layers[0].digest], key],
    );
    await db.query(
      `UPDATE manifests m SET created_at = now() - interval '2 days', last_pulled_at = NULL FROM images i, repositories r WHERE i.id = m.image_id AND r.id = i.repository_id AND r.key = $1 AND i.name = $2`,
      [key, old],
    );

    const result = await gc();
    expect(result.remoteCache).toEqual({ manifests: 1, blobLinks: 2 });
    expect(await cachedBytes(key)).toBe(freshImage.config.bytes.length + freshImage.layers[0].bytes.length);
    fixture.proxy.clearRequests();
    await pullThrough(key, old, oldImage);
    expect(blobRequests(fixture.proxy, 'GET', old, oldImage.layers[0].digest)).toBe(1);
    await pullThrough(key, fresh, freshImage);
    expect(blobRequests(fixture.proxy, 'GET', fresh, freshImage.layers[0].digest)).toBe(0);
  });

  it('keeps within maxCacheBytes, forgetting the least recently pulled blobs first', async () => {
    const images = [buildImage({ layerCount: 1, layerSize: 20_000 }), buildImage({ layerCount: 1, layerSize: 20_000 })];
    const names = [fixture.imageName('first'), fixture.imageName('second')];
    for (const [i, image] of images.entries()) await seedImage(fixture.upstream, names[i], '1', image);
    const one = images[0].config.bytes.length + images[0].layers[0].bytes.length;
    const key = await fixture.remote({ maxCacheBytes: one + 1000 } as object);
    await pullThrough(key, names[0], images[0]);
    await pullThrough(key, names[1], images[1]);
    // Pulled again, the first image is the most recently pulled one (pull times are written in batches).
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await pullThrough(key, names[0], images[0]);

    const result = await gc();
    expect(result.remoteCache.blobLinks).toBe(2);
    expect(await cachedBytes(key)).toBe(one);
    fixture.proxy.clearRequests();
    await pullThrough(key, names[0], images[0]);
    expect(blobRequests(fixture.proxy, 'GET', names[0], images[0].layers[0].digest)).toBe(0);
  });
});
