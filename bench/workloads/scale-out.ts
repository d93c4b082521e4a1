import { randomBytes } from 'node:crypto';
import { startCephRgw } from '../../test/helpers/ceph-rgw';
import { startLoadBalancer } from '../../test/helpers/load-balancer';
import { runLoad } from '../load-client';
import { Row } from '../report';
import { Endpoint, MANIFEST_ACCEPT, RegistryClient, authorized, smallImage } from '../registry-client';
import { RegistryTokens } from '../registry-tokens';
import { SyntheticBlob } from '../synthetic-blob';
import { Target, startWharfTarget } from '../targets';
import { BenchContext, Measured, inParallel, mbps, median } from './common';

const MiB = 1024 * 1024;
const CONNECTIONS = 64;
const PULLERS = 8;

/**
 * Two Wharf hosts against one (issue 14 §5): both on S3 (a Ceph RADOS Gateway started by the
 * run) and one Postgres database, behind HAProxy (round robin per request), against one host
 * reached directly. Manifest GET by tag at 64 connections, and eight clients pulling one blob at
 * once. Wharf only (the Distribution column says n/a); on this two-core machine both hosts, the
 * balancer, the gateway and the client share the same cores, so the row says what a second host
 * costs here more than what it brings on real machines.
 */
export async function scaleOut(ctx: BenchContext): Promise<Row[]> {
  if (!process.env.DATABASE_URL) {
    const note = 'needs DATABASE_URL: hosts share a Postgres database (the embedded one serves one process)';
    return ['manifest GET by tag', 'concurrent pulls'].map((what) => ({
      workload: `two hosts on S3: ${what}`,
      unit: '',
      better: 'higher',
      wharf: 'skipped',
      distribution: 'n/a',
      note,
    }));
  }
  const rgw = await startCephRgw({ memstoreBytes: 4 * 1024 * MiB });
  ctx.resources.add('Ceph RADOS Gateway (scale-out)', () => rgw.stop());
  const bucket = `scale-out-${randomBytes(3).toString('hex')}`;
  await rgw.createBucket(bucket);
  const s3 = rgw.wharfEnv(bucket);
  const one = await startWharfTarget(ctx.resources, s3);
  const other = await startWharfTarget(ctx.resources, s3, one);
  const lb = await startLoadBalancer([one, other].map((host) => new URL(host.origin).host));
  ctx.resources.add('HAProxy', () => lb.stop());
  const both: Target = { ...one, origin: lb.url, tokens: new RegistryTokens(lb.url, one.adminHeaders!.authorization) };

  const image = 'bench/scale-out';
  const client = new RegistryClient(one);
  const small = smallImage();
  await client.pushSmall(image, small.config, ctx.signal);
  await client.pushSmall(image, small.layer, ctx.signal);
  await client.putManifest(image, 'latest', small.manifest(), ctx.signal);
  const blob = new SyntheticBlob(ctx.scale.quick ? 8 * MiB : 64 * MiB);
  await client.pushMonolithic(image, blob, ctx.signal);
  const digest = await blob.digest();

  const manifests = async (endpoint: Endpoint): Promise<number> => {
    const path = `${endpoint.v2(image)}/manifests/latest`;
    const result = await runLoad({
      origin: endpoint.origin,
      path,
      method: 'GET',
      headers: await authorized(endpoint, path, { accept: MANIFEST_ACCEPT }),
      connections: CONNECTIONS,
      durationMs: ctx.scale.loadMs / 2,
    });
    if (result.errors > result.requests / 100) throw new Error(`${result.errors} errors of ${result.requests}: ${result.firstError}`);
    return result.rps;
  };
  const pulls = async (endpoint: Endpoint): Promise<number> => {
    const started = performance.now();
    await inParallel(PULLERS, PULLERS, async () => void (await new RegistryClient(endpoint).pullBlob(image, digest, ctx.signal)));
    return mbps(PULLERS * blob.size, (performance.now() - started) / 1000);
  };

  const figures = { manifests: { one: [] as number[], two: [] as number[] }, pulls: { one: [] as number[], two: [] as number[] } };
  for (let rep = 0; rep < ctx.scale.reps; rep++) {
    const order: ['one' | 'two', Target][] =
      rep % 2 === 0
        ? [
            ['one', one],
            ['two', both],
          ]
        : [
            ['two', both],
            ['one', one],
          ];
    for (const [which, endpoint] of order) {
      figures.manifests[which].push(await manifests(endpoint));
      figures.pulls[which].push(await pulls(endpoint));
    }
  }
  const row = (workload: string, unit: string, values: { one: number[]; two: number[] }): Row => {
    const two: Measured = { median: median(values.two), min: Math.min(...values.two), max: Math.max(...values.two), runs: values.two.length };
    const oneMedian = median(values.one);
    return {
      workload,
      unit,
      better: 'higher',
      wharf: two.median,
      distribution: 'n/a',
      note: `two hosts behind HAProxy, median of ${two.runs} (${two.min.toFixed(0)}–${two.max.toFixed(0)}); one host directly ${oneMedian.toFixed(0)} (${Math.min(...values.one).toFixed(0)}–${Math.max(...values.one).toFixed(0)}): ${(two.median / oneMedian).toFixed(2)}×; Distribution: not measured`,
    };
  };
  return [
    row(`two hosts on S3: manifest GET by tag, ${CONNECTIONS} conns`, 'req/s', figures.manifests),
    row(`two hosts on S3: ${PULLERS} concurrent pulls of ${Math.round(blob.size / MiB)} MiB, aggregate`, 'MB/s', figures.pulls),
  ];
}
