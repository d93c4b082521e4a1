import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { BuiltImage, Layer, imageConfig, imageManifest, randomLayer, writeImageSource } from './helpers/oci-image-builder';
import { HttpResult, V2_FORM, request } from './helpers/registry-http';
import { Skopeo } from './helpers/registry-clients';
import { recountStorage } from './helpers/storage-recount';
import { WharfTestServer, createLocalRepository, startWharf, storedFiles } from './helpers/wharf-server';

// Garbage collection runs back to back while 18 HTTP clients and 2 skopeo clients push images
// that share base layers, delete some of their own, and pull the rest back. Clients check for
// each blob whether the repository has it (HEAD) and skip the upload when it does, as docker,
// podman and skopeo do: the case where a collector could take a blob a push is about to name.
const KEY = 'gc-busy';
const GRACE_SECONDS = 4;
const STRESS_MS = 20_000;
const HTTP_CLIENTS = 18;
const SKOPEO_CLIENTS = 2;

let server: WharfTestServer;
let db: Client;
let work: string;

beforeAll(async () => {
  server = await startWharf({ WHARF_GC_GRACE_SECONDS: String(GRACE_SECONDS), WHARF_GC_SCHEDULE: 'off' });
  await createLocalRepository(server, KEY);
  db = new Client({ connectionString: server.databaseUrl });
  await db.connect();
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-gc-busy-'));
});

afterAll(async () => {
  await db?.end();
  await server?.close();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

interface Pushed {
  name: string;
  image: BuiltImage;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)];

function imageOn(base: Layer[]): BuiltImage {
  const layers = [...base, randomLayer(16 * 1024)];
  const config = imageConfig({ layers });
  return { manifest: imageManifest({ config, layers }), config, layers, platform: { architecture: 'amd64', os: 'linux' } };
}

function failure(what: string, res: HttpResult): string {
  return `${what}: ${res.status} ${res.body.toString('utf8').slice(0, 300)}`;
}

/** Pushes as the clients do: a blob the repository has (HEAD 200) is not uploaded again. */
async function push(name: string, image: BuiltImage): Promise<string | undefined> {
  const base = V2_FORM.base(KEY, name);
  for (const blob of [image.config, ...image.layers]) {
    if ((await request(server, `${base}blobs/${blob.digest}`, { method: 'HEAD' })).status === 200) continue;
    const res = await request(server, `${base}blobs/uploads/?digest=${blob.digest}`, { method: 'POST', body: blob.bytes });
    if (res.status !== 201) return failure(`blob ${blob.digest}`, res);
  }
  const res = await request(server, `${base}manifests/v1`, { method: 'PUT', headers: { 'content-type': image.manifest.mediaType }, body: image.manifest.bytes });
  return res.status === 201 ? undefined : failure(`manifest of ${name}`, res);
}

/** Everything of the image reads back whole; the problems found. */
async function pullProblems({ name, image }: Pushed): Promise<string[]> {
  const base = V2_FORM.base(KEY, name);
  const problems: string[] = [];
  const manifest = await request(server, `${base}manifests/${image.manifest.digest}`, { headers: { accept: image.manifest.mediaType } });
  if (manifest.status !== 200) problems.push(failure(`manifest of ${name}`, manifest));
  for (const blob of [image.config, ...image.layers]) {
    const res = await request(server, `${base}blobs/${blob.digest}`);
    if (res.status !== 200 || !res.body.equals(blob.bytes)) problems.push(failure(`blob ${blob.digest} of ${name}`, res));
  }
  return problems;
}

async function deleteImage({ name, image }: Pushed): Promise<void> {
  const res = await request(server, `${V2_FORM.base(KEY, name)}manifests/${image.manifest.digest}`, { method: 'DELETE' });
  if (res.status !== 202) throw new Error(failure(`deleting ${name}`, res));
}

describe('garbage collection while the registry is busy', () => {
  it('loses nothing a client was told was stored, and frees what only deleted images had', async () => {
    // Many base layers, one per image: a base layer often has no live image for a moment, while
    // its link (made at its first push) is older than the grace period.
    const baseLayers = Array.from({ length: 24 }, () => randomLayer(32 * 1024));
    const kept: Pushed[] = [];
    const deleted: Pushed[] = [];
    const failures: string[] = [];
    const pullFailures: string[] = [];
    const runs: Array<{ status: string; result: { blobs: { count: number } } }> = [];
    const deadline = Date.now() + STRESS_MS;

    const httpClient = async (client: number) => {
      const mine: Pushed[] = [];
      for (let n = 0; Date.now() < deadline; n++) {
        const pushed = { name: `http-${client}/img-${n}`, image: imageOn([pick(baseLayers)]) };
        const failed = await push(pushed.name, pushed.image);
        if (failed) failures.push(failed);
        else mine.push(pushed);
        // Some images go again (their layers shared with live images, or soon pushed again).
        if (mine.length > 1 && Math.random() < 0.4) {
          const gone = mine.splice(Math.floor(Math.random() * mine.length), 1)[0];
          await deleteImage(gone);
          deleted.push(gone);
        }
        if (mine.length > 0) pullFailures.push(...(await pullProblems(pick(mine))));
      }
      kept.push(...mine);
    };

    const skopeoClient = async (client: number) => {
      const skopeo = await Skopeo.create({ creds: { username: server.admin.username, password: server.admin.password } });
      try {
        for (let n = 0; Date.now() < deadline; n++) {
          const pushed = { name: `skopeo-${client}/img-${n}`, image: imageOn([pick(baseLayers)]) };
          const source = await writeImageSource(path.join(work, `skopeo-${client}-${n}`), pushed.image, 'v1');
          try {
            await skopeo.copy(source, `docker://${server.host}/${KEY}/${pushed.name}:v1`);
            kept.push(pushed);
          } catch (err) {
            failures.push(`skopeo push of ${pushed.name}: ${(err as Error).message.slice(-300)}`);
          }
        }
      } finally {
        await skopeo.close();
      }
    };

    const collector = async () => {
      while (Date.now() < deadline) {
        const res = await request(server, '/api/system/gc', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        if (res.status === 200) runs.push(res.json);
        else failures.push(failure('gc', res));
        await sleep(100);
      }
    };

    await Promise.all([...Array.from({ length: HTTP_CLIENTS }, (_, i) => httpClient(i)), ...Array.from({ length: SKOPEO_CLIENTS }, (_, i) => skopeoClient(i)), collector()]);

    expect(failures).toEqual([]);
    expect(pullFailures).toEqual([]);
    expect(runs.length).toBeGreaterThan(5);
    expect(runs.every((run) => run.status === 'finished')).toBe(true);
    // The collector had work while the clients ran.
    expect(runs.reduce((sum, run) => sum + run.result.blobs.count, 0)).toBeGreaterThan(0);
    expect(kept.length).toBeGreaterThan(HTTP_CLIENTS);
    expect(deleted.length).toBeGreaterThan(HTTP_CLIENTS);

    // Once the grace period has passed, a run takes everything the deleted images alone had.
    await sleep(GRACE_SECONDS * 1000 + 500);
    const last = await request(server, '/api/system/gc', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(last.json.status).toBe('finished');

    const problems = (await Promise.all(kept.map(pullProblems))).flat();
    expect(problems).toEqual([]);
    const files = new Set(await storedFiles(server.storage, '/blobs'));
    const fileOf = (digest: string) => `sha256/${digest.slice(7, 9)}/${digest.slice(7)}`;
    for (const { image } of deleted) {
      // The image's own layer and config were in no other image.
      for (const blob of [image.config, image.layers[image.layers.length - 1]]) expect(files.has(fileOf(blob.digest))).toBe(false);
    }
    // What is stored is exactly what is linked: every row has its bytes, and no bytes lack a row.
    const rows = (await db.query(`SELECT digest FROM blobs`)).rows.map((row) => fileOf(row.digest));
    expect([...files].sort()).toEqual(rows.sort());
    expect(Number((await db.query(`SELECT count(*) AS n FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM repository_blobs rb WHERE rb.digest = b.digest)`)).rows[0].n)).toBe(0);
    // The usage counters, kept by triggers through all of it, agree with a recount.
    const info = await request(server, '/api/storageinfo');
    expect(info.json).toMatchObject(await recountStorage(db));
  });
});
