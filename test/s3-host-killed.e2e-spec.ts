import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CephRgw, startCephRgw } from './helpers/ceph-rgw';
import { sha256 } from './helpers/registry-http';
import { LoadBalancer, startLoadBalancer } from './helpers/load-balancer';
import { SpawnedWharf, spawnWharf } from './helpers/wharf-cluster';
import { createTestDatabase } from './helpers/wharf-server';

// A Wharf host killed (SIGKILL) while a client pushes through the load balancer to it: the
// client's retry lands on the other host and succeeds, and nothing the dead host half wrote
// becomes visible. Hosts are separate processes (the built server), on one database and bucket.
const REPO = 'docker-local';
let rgw: CephRgw;
let s3: S3Client;
let database: { url: string; drop(): Promise<void> };
const hosts: SpawnedWharf[] = [];
let lb: LoadBalancer;
const bucket = `wharf-kill-${randomBytes(3).toString('hex')}`;

beforeAll(async () => {
  rgw = await startCephRgw();
  await rgw.createBucket(bucket);
  s3 = new S3Client(rgw.s3Config);
  database = await createTestDatabase();
  const env = { DATABASE_URL: database.url, ...rgw.wharfEnv(bucket) };
  // One after the other: the first applies the migrations.
  for (let i = 0; i < 2; i++) {
    const host = await spawnWharf(env);
    hosts.push(host);
    await host.waitForLog((line) => line.msg.startsWith('Wharf listening'));
  }
  const created = await fetch(`${hosts[0].baseUrl}/api/repositories/${REPO}`, {
    method: 'PUT',
    headers: { authorization: hosts[0].adminAuthorization, 'content-type': 'application/json' },
    body: JSON.stringify({ rclass: 'local', packageType: 'docker' }),
  });
  expect(created.status).toBe(201);
  lb = await startLoadBalancer(hosts.map((host) => `127.0.0.1:${host.port}`));
});

afterAll(async () => {
  await lb?.stop();
  for (const host of hosts) await host.stop();
  await database?.drop();
  s3?.destroy();
  await rgw?.stop();
});

async function blobKeys(): Promise<string[]> {
  const res = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'blobs/' }));
  return (res.Contents ?? []).map((object) => object.Key!);
}

/** A monolithic push (POST, then PUT with the body) through the load balancer. */
async function push(auth: Record<string, string>, digest: string, body: Readable | Buffer, signal?: AbortSignal): Promise<Response> {
  const start = await fetch(`${lb.url}/v2/${REPO}/team/app/blobs/uploads/`, { method: 'POST', headers: auth });
  expect(start.status).toBe(202);
  const url = new URL(start.headers.get('location')!, lb.url);
  url.searchParams.set('digest', digest);
  return fetch(url, {
    method: 'PUT',
    headers: { ...auth, 'content-type': 'application/octet-stream' },
    body: body as any,
    duplex: 'half',
    signal,
  } as RequestInit);
}

describe('a host killed mid-push', () => {
  it("the client's retry succeeds on the other host, and the half-written upload never shows", async () => {
    const auth = { authorization: hosts[0].adminAuthorization };
    const content = randomBytes(24 * 1024 * 1024);
    const digest = sha256(content);
    // The body stops after 12 MiB and waits, holding the request open on whichever host took it.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slow = Readable.from(
      (async function* () {
        for (let offset = 0; offset < 12 * 1024 * 1024; offset += 1024 * 1024) yield content.subarray(offset, offset + 1024 * 1024);
        await held;
      })(),
    );
    const aborted = new AbortController();
    const first = push(auth, digest, slow, aborted.signal).then(
      (res) => res.status,
      (err: Error) => err.name,
    );
    // Find the host serving it, and kill it.
    let victim: SpawnedWharf | undefined;
    for (let i = 0; i < 100 && !victim; i++) {
      const active = await lb.activeByHost();
      victim = hosts.find((host) => (active[`127.0.0.1:${host.port}`] ?? 0) > 0);
      if (!victim) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(victim).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 300)); // bytes flowing into the upload
    victim!.child.kill('SIGKILL');
    await victim!.exited;
    // The client sees its push fail (a reset, or the balancer's 502).
    expect(await Promise.race([first, new Promise((resolve) => setTimeout(() => resolve('still running'), 5_000))])).not.toBe(201);
    aborted.abort();
    release();

    // Nothing of it is visible: not through the registry, not under blobs/ in the bucket.
    const head = await fetch(`${lb.url}/v2/${REPO}/team/app/blobs/${digest}`, { method: 'HEAD', headers: auth });
    expect(head.status).toBe(404);
    expect(await blobKeys()).toEqual([]);

    // The retry, as clients do: the balancer has taken the dead host out of the rotation.
    let retried: Response | undefined;
    for (let attempt = 0; attempt < 5 && retried?.status !== 201; attempt++) {
      retried = await push(auth, digest, content).catch(() => undefined);
      if (retried?.status !== 201) await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(retried?.status).toBe(201);
    const back = await fetch(`${lb.url}/v2/${REPO}/team/app/blobs/${digest}`, { headers: auth });
    expect(back.status).toBe(200);
    expect(sha256(Buffer.from(await back.arrayBuffer()))).toBe(digest);
    expect(await blobKeys()).toEqual([`blobs/sha256/${digest.slice(7, 9)}/${digest.slice(7)}`]);
  });
});
