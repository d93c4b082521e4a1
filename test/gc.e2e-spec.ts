import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { Client } from 'pg';
import { BuiltImage, buildImage, imageConfig, imageManifest, randomLayer } from './helpers/oci-image-builder';
import { V2_FORM, expectRegistryError, expectStatus, imageNamer, pushImage, request, startUpload } from './helpers/registry-http';
import { WharfTestServer, basicAuthorization, createLocalRepository, startWharf, storedFiles } from './helpers/wharf-server';

// Garbage collection through its API, on one server with no grace period (so what a run may
// take is taken at once) and upload sessions abandoned after a second of silence.
const KEY = 'gc-local';
let server: WharfTestServer;
let db: Client;
const freshImage = imageNamer();

beforeAll(async () => {
  server = await startWharf({ WHARF_GC_GRACE_SECONDS: '0', WHARF_UPLOAD_MAX_IDLE_SECONDS: '1', WHARF_GC_SCHEDULE: 'off' });
  await createLocalRepository(server, KEY);
  db = new Client({ connectionString: server.databaseUrl });
  await db.connect();
});

afterAll(async () => {
  await db?.end();
  await server?.close();
});

async function gc(body: object = {}, authorization = server.adminAuthorization) {
  return request(server, '/api/system/gc', { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify(body) });
}

function blobFile(digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return `sha256/${hex.slice(0, 2)}/${hex}`;
}

/** An image whose layers are `layers` (shared with other images) plus one of its own. */
function imageWith(layers: BuiltImage['layers']): BuiltImage {
  const all = [...layers, randomLayer(2048)];
  const config = imageConfig({ layers: all });
  return { manifest: imageManifest({ config, layers: all }), config, layers: all, platform: { architecture: 'amd64', os: 'linux' } };
}

async function expectPullsBack(image: string, built: BuiltImage): Promise<void> {
  const base = V2_FORM.base(KEY, image);
  const manifest = await request(server, `${base}manifests/${built.manifest.digest}`, { headers: { accept: built.manifest.mediaType } });
  expectStatus(manifest, 200);
  for (const blob of [built.config, ...built.layers]) {
    const res = await request(server, `${base}blobs/${blob.digest}`);
    expectStatus(res, 200);
    expect(res.body.equals(blob.bytes)).toBe(true);
  }
}

/** Upload ids with data in the upload area, finished or not (on S3, a multipart upload's tail object). */
async function uploadsInStorage(): Promise<string[]> {
  return (await server.storage.listWritten('/uploads')).map((file) => file.path.slice('/uploads/'.length));
}

async function count(table: string): Promise<number> {
  return Number((await db.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
}

describe('garbage collection', () => {
  it('a dry run reports what a run frees and changes nothing; the run frees the bytes only the deleted image had', async () => {
    const shared = randomLayer(4096);
    const kept = imageWith([shared]);
    const deleted = imageWith([shared]);
    const [keptName, deletedName] = [freshImage(), freshImage()];
    await pushImage(server, V2_FORM.base(KEY, keptName), kept, 'v1');
    await pushImage(server, V2_FORM.base(KEY, deletedName), deleted, 'v1');
    expectStatus(await request(server, `${V2_FORM.base(KEY, deletedName)}manifests/${deleted.manifest.digest}`, { method: 'DELETE' }), 202);
    // What only the deleted image had: its config and its own layer.
    const freed = [deleted.config, deleted.layers[1]];
    const before = { files: await storedFiles(server.storage, '/blobs'), blobs: await count('blobs'), links: await count('repository_blobs') };
    for (const blob of freed) expect(before.files).toContain(blobFile(blob.digest));

    const dry = await gc({ dryRun: true });
    expectStatus(dry, 200);
    expect(dry.json).toMatchObject({
      dryRun: true,
      status: 'finished',
      trigger: 'api',
      requestedBy: 'admin',
      result: { blobLinks: { count: 2 }, blobs: { count: 2, bytes: freed[0].bytes.length + freed[1].bytes.length } },
    });
    expect({ files: await storedFiles(server.storage, '/blobs'), blobs: await count('blobs'), links: await count('repository_blobs') }).toEqual(before);

    const run = await gc();
    expectStatus(run, 200);
    expect(run.json).toMatchObject({ dryRun: false, status: 'finished', result: { blobLinks: { count: 2 }, blobs: { count: 2, bytes: dry.json.result.blobs.bytes } } });
    const after = await storedFiles(server.storage, '/blobs');
    for (const blob of freed) expect(after).not.toContain(blobFile(blob.digest));
    expect(after).toHaveLength(before.files.length - 2);
    await expectPullsBack(keptName, kept);
    // The deleted image's blobs are gone from the repository too (their links were collected).
    expectRegistryError(await request(server, `${V2_FORM.base(KEY, deletedName)}blobs/${freed[1].digest}`), 404, 'BLOB_UNKNOWN');

    // Nothing left to take: a second run frees nothing.
    expect((await gc()).json.result).toMatchObject({ blobLinks: { count: 0 }, blobs: { count: 0, bytes: 0 } });
  });

  it('keeps a layer pushed before its manifest for the grace period', async () => {
    const graced = await startWharf({ WHARF_GC_GRACE_SECONDS: '3600', WHARF_GC_SCHEDULE: 'off', DATABASE_URL: server.databaseUrl, WHARF_ADMIN_PASSWORD: server.admin.password });
    try {
      const image = buildImage({ layerCount: 1 });
      const base = V2_FORM.base(KEY, freshImage());
      for (const blob of [image.config, ...image.layers]) {
        expectStatus(await request(graced, `${base}blobs/uploads/?digest=${blob.digest}`, { method: 'POST', body: blob.bytes }), 201);
      }
      const run = await request(graced, '/api/system/gc', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expectStatus(run, 200);
      expect(run.json.result.blobs.count).toBe(0);
      // The manifest that comes later finds its blobs.
      expectStatus(await request(graced, `${base}manifests/v1`, { method: 'PUT', headers: { 'content-type': image.manifest.mediaType }, body: image.manifest.bytes }), 201);
    } finally {
      await graced.close();
    }
  });

  it('a blob a client finds (HEAD) after the grace period is kept for another: the manifest it then pushes finds it', async () => {
    const graced = await startWharf({ WHARF_GC_GRACE_SECONDS: '2', WHARF_GC_SCHEDULE: 'off', DATABASE_URL: server.databaseUrl, WHARF_ADMIN_PASSWORD: server.admin.password });
    try {
      const collect = async () => (await request(graced, '/api/system/gc', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json;
      const [found, ignored] = [buildImage({ layerCount: 1 }), buildImage({ layerCount: 1 })];
      const base = V2_FORM.base(KEY, freshImage());
      for (const blob of [found.config, ...found.layers, ignored.config, ...ignored.layers]) {
        expectStatus(await request(graced, `${base}blobs/uploads/?digest=${blob.digest}`, { method: 'POST', body: blob.bytes }), 201);
      }
      await new Promise((resolve) => setTimeout(resolve, 2500));
      for (const blob of [found.config, ...found.layers]) expectStatus(await request(graced, `${base}blobs/${blob.digest}`, { method: 'HEAD' }), 200);
      // The blobs nobody asked for are past their grace period and go; the ones just found stay.
      expect((await collect()).result.blobs).toMatchObject({ count: 2 });
      expectStatus(await request(graced, `${base}manifests/v1`, { method: 'PUT', headers: { 'content-type': found.manifest.mediaType }, body: found.manifest.bytes }), 201);
      expectRegistryError(
        await request(graced, `${base}manifests/v2`, { method: 'PUT', headers: { 'content-type': ignored.manifest.mediaType }, body: ignored.manifest.bytes }),
        400,
        'MANIFEST_BLOB_UNKNOWN',
      );
    } finally {
      await graced.close();
    }
  });

  it('skips a link a manifest push holds and a blob a blob push holds, and takes them once they are let go', async () => {
    const image = buildImage({ layerCount: 1 });
    const base = V2_FORM.base(KEY, freshImage());
    for (const blob of [image.config, ...image.layers])
      expectStatus(await request(server, `${base}blobs/uploads/?digest=${blob.digest}`, { method: 'POST', body: blob.bytes }), 201);
    const [config, layer] = [image.config.digest, image.layers[0].digest];
    const holder = new Client({ connectionString: server.databaseUrl });
    await holder.connect();
    try {
      // What a manifest push holds while it checks its references, and what a commit holds while it places bytes.
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM repository_blobs WHERE digest = $1 FOR KEY SHARE`, [config]);
      await holder.query(`SELECT 1 FROM blobs WHERE digest = $1 FOR UPDATE`, [layer]);
      const held = (await gc()).json.result;
      expect(held.blobLinks.count).toBe(1); // the layer's link; the config's is held
      expect(held.blobs.count).toBe(0); // the layer's blob is held; the config is still linked
      expect(await storedFiles(server.storage, '/blobs')).toEqual(expect.arrayContaining([blobFile(config), blobFile(layer)]));
      await holder.query('COMMIT');
      const released = (await gc()).json.result;
      expect(released).toMatchObject({ blobLinks: { count: 1 }, blobs: { count: 2 } });
      expect(await storedFiles(server.storage, '/blobs')).not.toEqual(expect.arrayContaining([blobFile(config)]));
      expect(await storedFiles(server.storage, '/blobs')).not.toEqual(expect.arrayContaining([blobFile(layer)]));
    } finally {
      await holder.end();
    }
  });

  it('collects upload sessions idle too long, with their data, and upload data no session owns', async () => {
    const base = V2_FORM.base(KEY, freshImage());
    const location = await startUpload(server, base);
    expectStatus(await request(server, location, { method: 'PATCH', headers: { 'content-type': 'application/octet-stream' }, body: randomBytes(5000) }), 202);
    const sessionId = new URL(location).pathname.split('/').pop()!;
    // What a crash leaves: upload data whose session is gone.
    const strayId = randomUUID();
    const stray = await server.storage.writer(`/uploads/${strayId}`);
    await stray.write(Readable.from([randomBytes(1000)]));
    await stray.close();
    expect(await uploadsInStorage()).toEqual(expect.arrayContaining([sessionId, strayId]));

    await new Promise((resolve) => setTimeout(resolve, 1500));
    const dry = await gc({ dryRun: true });
    expect(dry.json.result).toMatchObject({ uploadSessions: { count: 1 }, strayUploads: { count: 1 } });
    expect(await uploadsInStorage()).toEqual(expect.arrayContaining([sessionId, strayId]));

    const run = await gc();
    expect(run.json.result).toMatchObject({ uploadSessions: { count: 1 }, strayUploads: { count: 1 } });
    expect(await uploadsInStorage()).not.toEqual(expect.arrayContaining([sessionId]));
    expect(await uploadsInStorage()).not.toEqual(expect.arrayContaining([strayId]));
    expectRegistryError(await request(server, location), 404, 'BLOB_UPLOAD_UNKNOWN');
  });

  it('lists the runs, newest first, and reads one', async () => {
    const status = await request(server, '/api/system/gc');
    expectStatus(status, 200);
    expect(status.json.running).toBeNull();
    expect(status.json.runs.length).toBeGreaterThanOrEqual(4);
    const starts = status.json.runs.map((run: { startedAt: string }) => Date.parse(run.startedAt));
    expect(starts).toEqual([...starts].sort((a, b) => b - a));
    const one = await request(server, `/api/system/gc/${status.json.runs[0].id}`);
    expectStatus(one, 200);
    expect(one.json).toEqual(status.json.runs[0]);
    expect((await request(server, `/api/system/gc/${randomUUID()}`)).status).toBe(404);
  });

  it('one run at a time: another host running it refuses a second (409) until its heartbeat goes stale; then that run counts as abandoned', async () => {
    const { rows } = await db.query(`INSERT INTO gc_runs (trigger, dry_run, status, host) VALUES ('api', false, 'running', 'elsewhere:1') RETURNING id`);
    const refused = await gc({ dryRun: true });
    expect(refused.status).toBe(409);
    expect(refused.json.detail ?? refused.json.message ?? JSON.stringify(refused.json)).toMatch(/running already/);
    expect((await request(server, '/api/system/gc')).json.running).toMatchObject({ id: rows[0].id, host: 'elsewhere:1' });

    await db.query(`UPDATE gc_runs SET heartbeat_at = now() - interval '1 minute' WHERE id = $1`, [rows[0].id]);
    expectStatus(await gc({ dryRun: true }), 200);
    const abandoned = await request(server, `/api/system/gc/${rows[0].id}`);
    expect(abandoned.json).toMatchObject({ status: 'abandoned', error: expect.stringMatching(/next run finishes the work/) });
  });

  it('is for admins only', async () => {
    const created = await request(server, '/api/security/users/gc-reader', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password: 'gc-reader-password' }),
    });
    expectStatus(created, 201);
    const reader = basicAuthorization('gc-reader', 'gc-reader-password');
    expect((await gc({}, reader)).status).toBe(403);
    expect((await request(server, '/api/system/gc', { headers: { authorization: reader } })).status).toBe(403);
    expect((await request(server, '/api/system/gc', { method: 'POST', auth: null })).status).toBe(401);
    expect((await gc({ dryRun: 'yes' })).status).toBe(400);
  });
});
