// The scale-out deployment for the suites written against one server: with
// WHARF_TEST_DEPLOYMENT=scale-out, every startWharf() of a suite becomes two Wharf hosts with
// separate data directories on one Postgres database and one bucket of a real S3 (Ceph's RADOS
// Gateway), behind HAProxy balancing round robin per request. The suite sees one server (the
// load balancer's address), so OCI conformance, the real clients and the remote caches are run,
// unchanged, with consecutive requests answered by different hosts.
import { randomBytes } from 'node:crypto';
import { CephRgw, startCephRgw } from './ceph-rgw';
import { startLoadBalancer } from './load-balancer';
import type { WharfTestServer } from './wharf-server';

export type Deployment = 'single' | 'scale-out';

/** The deployment the test run asks for (`WHARF_TEST_DEPLOYMENT`), one host on the filesystem by default. */
export function testDeployment(): Deployment {
  const value = process.env.WHARF_TEST_DEPLOYMENT ?? 'single';
  if (value !== 'single' && value !== 'scale-out') throw new Error(`WHARF_TEST_DEPLOYMENT=${value}: expected single or scale-out`);
  return value;
}

/** How many Wharf hosts answer for one test server. */
export const HOSTS_PER_SERVER = testDeployment() === 'scale-out' ? 2 : 1;

/**
 * `it` for a test of what only one host can do (say why where it is used): skipped on the
 * scale-out deployment.
 */
export const itOnOneHost = testDeployment() === 'single' ? it : it.skip;

// One gateway per suite file (jest loads this module afresh for each), started with the first
// server and stopped with the last, so a suite that restarts its server keeps its bucket's objects.
let gateway: { rgw: Promise<CephRgw>; users: number } | undefined;

async function acquireGateway(): Promise<CephRgw> {
  gateway ??= { rgw: startCephRgw(), users: 0 };
  gateway.users++;
  return gateway.rgw;
}

async function releaseGateway(): Promise<void> {
  if (!gateway || --gateway.users > 0) return;
  const { rgw } = gateway;
  gateway = undefined;
  await (await rgw).stop();
}

// A restarted server (same DATABASE_URL) must find its blobs: the bucket is per database.
const bucketsByDatabase = new Map<string, string>();

/**
 * Two hosts started by `startOne` (the single-host start) on the same database and bucket, and
 * HAProxy in front. `env` is the suite's, applied to both hosts.
 */
export async function startScaleOut(env: Record<string, string>, startOne: (env: Record<string, string>) => Promise<WharfTestServer>): Promise<WharfTestServer> {
  const rgw = await acquireGateway();
  const hosts: WharfTestServer[] = [];
  try {
    const bucketFor = async (database: string | undefined) => {
      const known = database && bucketsByDatabase.get(database);
      if (known) return known;
      const bucket = `wharf-scale-out-${randomBytes(4).toString('hex')}`;
      await rgw.createBucket(bucket);
      return bucket;
    };
    const bucket = await bucketFor(env.DATABASE_URL);
    const first = await startOne({ ...rgw.wharfEnv(bucket), ...env });
    hosts.push(first);
    bucketsByDatabase.set(first.databaseUrl, bucket);
    hosts.push(await startOne({ ...rgw.wharfEnv(bucket), ...env, DATABASE_URL: first.databaseUrl, WHARF_ADMIN_PASSWORD: first.admin.password }));
    const balancer = await startLoadBalancer(hosts.map((host) => host.host));
    return {
      ...first,
      baseUrl: balancer.url,
      host: balancer.host,
      close: async () => {
        // Proof the suite ran on both: each host answered some of its requests.
        const answered = await balancer.responsesByHost();
        await balancer.stop();
        // The first host owns the database (dropped on its close): it closes last.
        for (const host of [...hosts].reverse()) await host.close();
        await releaseGateway();
        const idle = hosts.filter((host) => !answered[host.host]);
        if (idle.length > 0) throw new Error(`scale-out: ${idle.map((host) => host.host).join(', ')} answered no request (${JSON.stringify(answered)})`);
      },
    };
  } catch (err) {
    for (const host of hosts.reverse()) await host.close().catch(() => undefined);
    await releaseGateway();
    throw err;
  }
}
