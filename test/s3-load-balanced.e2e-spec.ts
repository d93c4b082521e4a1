import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { CephRgw, startCephRgw } from './helpers/ceph-rgw';
import { pushChunksAcross, sha256 } from './helpers/registry-http';
import { LoadBalancer, startLoadBalancer } from './helpers/load-balancer';
import { buildImage, readOciLayout, writeImageSource } from './helpers/oci-image-builder';
import { Podman, Skopeo } from './helpers/registry-clients';
import { WharfTestServer, createLocalRepository, startWharf } from './helpers/wharf-server';

// Two Wharf hosts (separate data directories, one Postgres database, one S3 bucket on Ceph's
// RADOS Gateway) behind HAProxy, which sends each request to the next host in turn: what a
// client sees of a scaled-out Wharf.
const REPO = 'docker-local';
let rgw: CephRgw;
let hosts: WharfTestServer[] = [];
let lb: LoadBalancer;
let work: string;
let admin: { username: string; password: string };

beforeAll(async () => {
  rgw = await startCephRgw();
  const bucket = `wharf-lb-${randomBytes(3).toString('hex')}`;
  await rgw.createBucket(bucket);
  const s3 = rgw.wharfEnv(bucket);
  const first = await startWharf(s3);
  admin = first.admin;
  hosts = [first, await startWharf({ ...s3, DATABASE_URL: first.databaseUrl, WHARF_ADMIN_PASSWORD: admin.password })];
  await createLocalRepository(first, REPO);
  lb = await startLoadBalancer(hosts.map((host) => host.host));
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-lb-'));
});

afterAll(async () => {
  await lb?.stop();
  for (const host of [...hosts].reverse()) await host.close();
  await rgw?.stop();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

/** The responses each host sent while `action` ran. */
async function spreadOf(action: () => Promise<void>): Promise<number[]> {
  const before = await lb.responsesByHost();
  await action();
  const after = await lb.responsesByHost();
  return hosts.map((host) => (after[host.host] ?? 0) - (before[host.host] ?? 0));
}

describe('Wharf on S3, two hosts behind a load balancer', () => {
  it('skopeo pushes and pulls back an image, and podman pulls it, with the requests spread over both hosts', async () => {
    const image = buildImage({ layerCount: 3, layerSize: 3 * 1024 * 1024 });
    const skopeo = await Skopeo.create({ creds: admin });
    const podman = await Podman.create({ creds: admin });
    try {
      const spread = await spreadOf(async () => {
        const source = await writeImageSource(path.join(work, 'source'), image, 'src');
        expect(await skopeo.copy(source, `docker://${lb.host}/${REPO}/team/app:1`)).toBe(image.manifest.digest);
        const back = path.join(work, 'back');
        expect(await skopeo.copy(`docker://${lb.host}/${REPO}/team/app:1`, `oci:${back}:pulled`)).toBe(image.manifest.digest);
        const layout = await readOciLayout(back);
        for (const layer of image.layers) expect((await layout.readBlob(layer.digest)).equals(layer.bytes)).toBe(true);
        expect(await podman.pull(`${lb.host}/${REPO}/team/app:1`)).toMatch(/^[0-9a-f]{64}$/);
      });
      for (const count of spread) expect(count).toBeGreaterThan(5);
    } finally {
      await podman.close();
      await skopeo.close();
    }
  });

  it('takes a chunked upload through it, PATCH by PATCH on alternating hosts', async () => {
    const chunks = [randomBytes(2 * 1024 * 1024), randomBytes(6 * 1024 * 1024), randomBytes(17), randomBytes(5 * 1024 * 1024)];
    const whole = Buffer.concat(chunks);
    const auth = { authorization: hosts[0].adminAuthorization };
    const spread = await spreadOf(async () => {
      await pushChunksAcross([lb.url], `/v2/${REPO}/team/chunked`, auth, chunks);
      const back = await fetch(`${lb.url}/v2/${REPO}/team/chunked/blobs/${sha256(whole)}`, { headers: auth });
      expect(back.status).toBe(200);
      expect(sha256(Buffer.from(await back.arrayBuffer()))).toBe(sha256(whole));
    });
    // POST, four PATCHes, PUT and GET: seven requests, round robin.
    for (const count of spread) expect(count).toBeGreaterThanOrEqual(3);
  });
});
