import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { FilesystemStorageDriver } from '@wharf/storage';
import { BuiltImage, buildImage } from './helpers/oci-image-builder';
import { V2_FORM, pushImage, request } from './helpers/registry-http';
import { SpawnedWharf, spawnWharf } from './helpers/wharf-cluster';
import { WharfTestServer, createTestDatabase, storedFiles } from './helpers/wharf-server';

// A garbage collection killed with SIGKILL in the middle of freeing blobs: the store stays
// consistent (every linked blob keeps its bytes), and the next run, on a new process, finishes.
const KEY = 'gc-killed';
const GARBAGE = 5000;

let database: { url: string; drop(): Promise<void> };
let dataDir: string;
let db: Client;
const started: SpawnedWharf[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-gc-killed-'));
  db = new Client({ connectionString: database.url });
  await db.connect();
});

afterAll(async () => {
  for (const wharf of started) await wharf.stop();
  await db?.end();
  await database?.drop();
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});

async function start(): Promise<WharfTestServer> {
  const wharf = await spawnWharf({ DATABASE_URL: database.url, WHARF_GC_GRACE_SECONDS: '0', WHARF_GC_SCHEDULE: 'off' }, { dataDir });
  started.push(wharf);
  await wharf.waitForLog((line) => line.msg.startsWith('Wharf listening'));
  // What the request helpers need of a server.
  return { baseUrl: wharf.baseUrl, adminAuthorization: wharf.adminAuthorization } as WharfTestServer;
}

const count = async (sql: string) => Number((await db.query(sql)).rows[0].n);
const fileOf = (digest: string) => `sha256/${digest.slice(7, 9)}/${digest.slice(7)}`;

/** Blobs linked to the repository and referenced by nothing, as deleted images leave them: rows, links and files. */
async function makeGarbage(): Promise<void> {
  const root = path.join(dataDir, 'storage', 'blobs', 'sha256');
  const digests: string[] = [];
  for (let i = 0; i < GARBAGE; i++) {
    const bytes = randomBytes(64);
    const hex = createHash('sha256').update(bytes).digest('hex');
    await fs.mkdir(path.join(root, hex.slice(0, 2)), { recursive: true });
    await fs.writeFile(path.join(root, hex.slice(0, 2), hex), bytes);
    digests.push(`sha256:${hex}`);
  }
  await db.query(`INSERT INTO blobs (digest, size) SELECT unnest($1::text[]), 64`, [digests]);
  await db.query(
    `INSERT INTO repository_blobs (repository_id, digest, created_at) SELECT r.id, unnest($1::text[]), now() - interval '1 day' FROM repositories r WHERE r.key = $2`,
    [digests, KEY],
  );
}

describe('a garbage collection killed mid-run', () => {
  it('leaves every linked blob with its bytes, and the next run finishes the work', async () => {
    const first = await start();
    const created = await request(first, `/api/repositories/${KEY}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rclass: 'local', packageType: 'docker' }),
    });
    expect(created.status).toBe(201);
    const kept: Array<{ name: string; image: BuiltImage }> = [];
    for (let i = 0; i < 3; i++) {
      const image = buildImage({ layerCount: 2 });
      await pushImage(first, V2_FORM.base(KEY, `kept-${i}`), image, 'v1');
      kept.push({ name: `kept-${i}`, image });
    }
    const keptBlobs = await count(`SELECT count(*) AS n FROM blobs`);
    await makeGarbage();
    const total = keptBlobs + GARBAGE;

    const run = request(first, '/api/system/gc', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).catch(() => undefined);
    // Killed once blobs have started to go, while most are still there.
    for (let left = total; left === total; left = await count(`SELECT count(*) AS n FROM blobs`)) await new Promise((resolve) => setTimeout(resolve, 5));
    started[0].child.kill('SIGKILL');
    await started[0].exited;
    await run;

    const garbageLeft = (await count(`SELECT count(*) AS n FROM blobs`)) - keptBlobs;
    expect(garbageLeft).toBeGreaterThan(0); // the kill came before the run could finish
    expect(garbageLeft).toBeLessThan(GARBAGE);
    expect((await db.query(`SELECT status FROM gc_runs`)).rows).toEqual([{ status: 'running' }]);
    // Consistent: every blob a repository links has its bytes.
    const storage = new FilesystemStorageDriver(path.join(dataDir, 'storage'));
    const files = new Set(await storedFiles(storage, '/blobs'));
    const linked = (await db.query(`SELECT DISTINCT digest FROM repository_blobs`)).rows.map((row) => row.digest as string);
    expect(linked.filter((digest) => !files.has(fileOf(digest)))).toEqual([]);

    const second = await start();
    const finished = await request(second, '/api/system/gc', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(finished.status).toBe(200);
    expect(finished.json).toMatchObject({ status: 'finished', result: { blobs: { count: garbageLeft } } });
    // The killed run's process is gone from this machine: it is abandoned at once, not after its heartbeat times out.
    expect((await db.query(`SELECT status FROM gc_runs ORDER BY started_at`)).rows).toEqual([{ status: 'abandoned' }, { status: 'finished' }]);

    const rows = (await db.query(`SELECT digest FROM blobs`)).rows.map((row) => fileOf(row.digest));
    expect(rows).toHaveLength(keptBlobs);
    expect((await storedFiles(storage, '/blobs')).sort()).toEqual(rows.sort());
    for (const { name, image } of kept) {
      for (const blob of [image.config, ...image.layers]) {
        const res = await request(second, `${V2_FORM.base(KEY, name)}blobs/${blob.digest}`);
        expect(res.status).toBe(200);
        expect(res.body.equals(blob.bytes)).toBe(true);
      }
    }
  });
});
