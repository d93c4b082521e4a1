import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CephRgw, startCephRgw } from './helpers/ceph-rgw';
import { pushChunksAcross, sha256 } from './helpers/registry-http';
import { buildImage, readOciLayout, writeImageSource } from './helpers/oci-image-builder';
import { Podman, Skopeo } from './helpers/registry-clients';
import { blobRequests, createRemoteRepository } from './helpers/remote-repository';
import { startTamperProxy } from './helpers/tamper-proxy';
import { UpstreamRegistry, seedImage, startUpstreamRegistry } from './helpers/upstream-registry';
import { WharfTestServer, createLocalRepository, startWharf } from './helpers/wharf-server';

// Wharf with its blobs in S3 (Ceph's RADOS Gateway, started here): two hosts with separate data
// directories on one Postgres database and one bucket, and a third answering blob GETs with
// redirects to presigned URLs.
const REPO = 'docker-local';
let rgw: CephRgw;
let s3: S3Client;
let hosts: WharfTestServer[] = [];
let redirecting: WharfTestServer;
let work: string;
const bucket = `wharf-e2e-${randomBytes(3).toString('hex')}`;

function s3Env(extra: Record<string, string> = {}): Record<string, string> {
  return { ...rgw.wharfEnv(bucket), WHARF_S3_PREFIX: 'registry', ...extra };
}

beforeAll(async () => {
  rgw = await startCephRgw();
  await rgw.createBucket(bucket);
  s3 = new S3Client(rgw.s3Config);
  const first = await startWharf(s3Env());
  const shared = { DATABASE_URL: first.databaseUrl, WHARF_ADMIN_PASSWORD: first.admin.password };
  hosts = [first, await startWharf(s3Env(shared))];
  redirecting = await startWharf(s3Env({ ...shared, WHARF_S3_REDIRECT: 'true' }));
  await createLocalRepository(first, REPO);
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-s3-'));
});

afterAll(async () => {
  // The first host owns the database: it closes last.
  await redirecting?.close();
  for (const host of [...hosts].reverse()) await host.close();
  s3?.destroy();
  await rgw?.stop();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

async function keysUnder(prefix: string): Promise<string[]> {
  const res = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (res.Contents ?? []).map((object) => object.Key!);
}

describe('Wharf on S3, two hosts', () => {
  it('pushes with skopeo through one host and pulls the same image through the other; the bytes are in the bucket, not on either disk', async () => {
    const image = buildImage({ layerCount: 2, layerSize: 6 * 1024 * 1024 });
    const creds = { username: 'admin', password: hosts[0].admin.password };
    const skopeo = await Skopeo.create({ creds });
    try {
      const source = await writeImageSource(path.join(work, 'source'), image, 'src');
      expect(await skopeo.copy(source, `docker://${hosts[0].host}/${REPO}/team/app:1`)).toBe(image.manifest.digest);
      const back = path.join(work, 'back');
      expect(await skopeo.copy(`docker://${hosts[1].host}/${REPO}/team/app:1`, `oci:${back}:pulled`)).toBe(image.manifest.digest);
      const layout = await readOciLayout(back);
      for (const layer of image.layers) expect((await layout.readBlob(layer.digest)).equals(layer.bytes)).toBe(true);
    } finally {
      await skopeo.close();
    }
    const stored = await keysUnder('registry/blobs/');
    for (const layer of image.layers) expect(stored).toContain(`registry/blobs/sha256/${layer.digest.slice(7, 9)}/${layer.digest.slice(7)}`);
    for (const host of hosts) expect(await fs.readdir(path.join(host.dataDir, 'storage')).catch(() => [])).toEqual([]);
  });

  it('takes a chunked upload whose PATCHes alternate between the hosts', async () => {
    const chunks = [randomBytes(5 * 1024 * 1024 + 3), randomBytes(1000), randomBytes(7 * 1024 * 1024)];
    const whole = Buffer.concat(chunks);
    const auth = { authorization: hosts[0].adminAuthorization };
    await pushChunksAcross(
      hosts.map((host) => host.baseUrl),
      `/v2/${REPO}/team/chunked`,
      auth,
      chunks,
    );
    for (const host of hosts) {
      const res = await fetch(`${host.baseUrl}/v2/${REPO}/team/chunked/blobs/${sha256(whole)}`, { headers: auth });
      expect(res.status).toBe(200);
      expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(whole));
    }
    expect(await keysUnder('registry/uploads/')).toEqual([]);
  });
});

describe('Wharf on S3: a remote repository', () => {
  let upstream: UpstreamRegistry;
  beforeAll(async () => {
    upstream = await startUpstreamRegistry();
  });
  afterAll(async () => {
    await upstream?.stop();
  });

  it('caches a pulled blob in the bucket once, and the other host serves it from there', async () => {
    const image = buildImage({ layerCount: 1, layerSize: 8 * 1024 * 1024 });
    await seedImage(upstream, 'library/cached', '1', image);
    await createRemoteRepository(hosts[0], 'hub', { url: upstream.url });
    const layer = image.layers[0];
    const auth = { authorization: hosts[0].adminAuthorization };
    const first = await fetch(`${hosts[0].baseUrl}/v2/hub/library/cached/blobs/${layer.digest}`, { headers: auth });
    expect(first.status).toBe(200);
    expect(Buffer.from(await first.arrayBuffer()).equals(layer.bytes)).toBe(true);
    const cachedKey = `registry/blobs/sha256/${layer.digest.slice(7, 9)}/${layer.digest.slice(7)}`;
    // The client has its last byte before the cache entry is recorded: wait for it.
    for (let i = 0; i < 50 && !(await keysUnder('registry/blobs/')).includes(cachedKey); i++) await new Promise((r) => setTimeout(r, 100));
    expect(await keysUnder('registry/blobs/')).toContain(cachedKey);
    // The upstream goes away: the second host has only the bucket to serve from.
    await upstream.down();
    const second = await fetch(`${hosts[1].baseUrl}/v2/hub/library/cached/blobs/${layer.digest}`, { headers: auth });
    expect(second.status).toBe(200);
    expect(Buffer.from(await second.arrayBuffer()).equals(layer.bytes)).toBe(true);
  });
});

describe('Wharf on S3: concurrent cold pulls on two hosts', () => {
  it('make one upstream download: the other host waits for it and serves the cached blob', async () => {
    const upstream = await startUpstreamRegistry();
    // Slow enough that every client asks while the one download runs.
    const proxy = await startTamperProxy(upstream.url);
    try {
      const image = buildImage({ layerCount: 1, layerSize: 16 * 1024 * 1024 });
      await seedImage(upstream, 'library/together', '1', image);
      await createRemoteRepository(hosts[0], 'hub-together', { url: proxy.url });
      const layer = image.layers[0];
      proxy.delay(`/blobs/${layer.digest}`, 500, { method: 'GET' });
      const auth = { authorization: hosts[0].adminAuthorization };
      const pulls = [0, 1, 0, 1].map(async (i) => {
        const res = await fetch(`${hosts[i].baseUrl}/v2/hub-together/library/together/blobs/${layer.digest}`, { headers: auth });
        expect(res.status).toBe(200);
        return Buffer.from(await res.arrayBuffer());
      });
      for (const body of await Promise.all(pulls)) expect(body.equals(layer.bytes)).toBe(true);
      expect(blobRequests(proxy, 'GET', 'library/together', layer.digest)).toBe(1);
    } finally {
      await proxy.stop();
      await upstream.stop();
    }
  });
});

describe('Wharf on S3 with redirects', () => {
  it('answers a blob GET with 307 to a presigned URL that serves the bytes without credentials; HEAD stays local', async () => {
    const bytes = randomBytes(100_000);
    const auth = { authorization: redirecting.adminAuthorization };
    const push = await fetch(`${redirecting.baseUrl}/v2/${REPO}/team/direct/blobs/uploads/?digest=${sha256(bytes)}`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    expect(push.status).toBe(201);
    const get = await fetch(`${redirecting.baseUrl}/v2/${REPO}/team/direct/blobs/${sha256(bytes)}`, { headers: auth, redirect: 'manual' });
    expect(get.status).toBe(307);
    expect(get.headers.get('docker-content-digest')).toBe(sha256(bytes));
    const location = get.headers.get('location')!;
    expect(location.startsWith(rgw.endpoint)).toBe(true);
    expect(location).toContain('X-Amz-Signature=');
    const direct = await fetch(location);
    expect(direct.status).toBe(200);
    expect(sha256(Buffer.from(await direct.arrayBuffer()))).toBe(sha256(bytes));
    const head = await fetch(`${redirecting.baseUrl}/v2/${REPO}/team/direct/blobs/${sha256(bytes)}`, { method: 'HEAD', headers: auth });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(bytes.length));
    // Without read access there is no redirect either.
    const anonymous = await fetch(`${redirecting.baseUrl}/v2/${REPO}/team/direct/blobs/${sha256(bytes)}`, { redirect: 'manual' });
    expect(anonymous.status).toBe(401);
  });

  it('skopeo and podman pull through the redirects', async () => {
    const image = buildImage({ layerCount: 2, layerSize: 2 * 1024 * 1024 });
    const creds = { username: 'admin', password: redirecting.admin.password };
    const skopeo = await Skopeo.create({ creds });
    const podman = await Podman.create({ creds });
    try {
      const source = await writeImageSource(path.join(work, 'redirect-source'), image, 'src');
      await skopeo.copy(source, `docker://${hosts[0].host}/${REPO}/team/redirected:1`);
      const back = path.join(work, 'redirect-back');
      expect(await skopeo.copy(`docker://${redirecting.host}/${REPO}/team/redirected:1`, `oci:${back}:pulled`)).toBe(image.manifest.digest);
      const layout = await readOciLayout(back);
      for (const layer of image.layers) expect((await layout.readBlob(layer.digest)).equals(layer.bytes)).toBe(true);
      const id = await podman.pull(`${redirecting.host}/${REPO}/team/redirected:1`);
      expect(id).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await podman.close();
      await skopeo.close();
    }
  });
});

describe('Wharf on S3: the start', () => {
  it('refuses to start when the bucket cannot be written, saying which and why', async () => {
    await expect(startWharf(s3Env({ WHARF_S3_BUCKET: 'no-such-bucket' }))).rejects.toThrow(
      /blob storage \(s3:\/\/no-such-bucket\/registry at http.*\) cannot be written: NoSuchBucket/,
    );
  });
});
