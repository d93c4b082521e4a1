import { randomBytes } from 'node:crypto';
import { startCephRgw } from '../../test/helpers/ceph-rgw';
import { Row } from '../report';
import { RegistryClient } from '../registry-client';
import { SyntheticBlob } from '../synthetic-blob';
import { Target, startDistributionOnS3, startWharfTarget } from '../targets';
import { BenchContext, bothRepeated, mbps, measuredRow, mib } from './common';

const MiB = 1024 * 1024;
/** Smaller than the disk rows' blob: the gateway's OSD keeps every object in memory. */
const BLOB_BYTES = 128 * MiB;

/**
 * Blob storage on S3 (issue 14 §5): Ceph's RADOS Gateway (one OSD in memory, on this machine),
 * Wharf with WHARF_STORAGE=s3 against Distribution with its own `s3` driver, each on a bucket of
 * the same gateway. A monolithic push, a pull through the registry, and a pull with redirects
 * (a second Wharf with WHARF_S3_REDIRECT=true against Distribution's default presigned
 * redirects), the client following the 307 as docker does. Each target pushes its own blobs.
 */
export async function s3Storage(ctx: BenchContext): Promise<Row[]> {
  const blobBytes = ctx.scale.quick ? 16 * MiB : BLOB_BYTES;
  const rgw = await startCephRgw({ memstoreBytes: 8 * 1024 * MiB });
  ctx.resources.add('Ceph RADOS Gateway', () => rgw.stop());
  const suffix = randomBytes(3).toString('hex');
  const bucket = async (name: string) => {
    await rgw.createBucket(`${name}-${suffix}`);
    return `${name}-${suffix}`;
  };
  const wharfSettings = async (name: string, redirect: boolean) => ({ ...rgw.wharfEnv(await bucket(name)), WHARF_S3_REDIRECT: String(redirect) });
  const streamed = {
    ...ctx,
    wharf: await startWharfTarget(ctx.resources, await wharfSettings('wharf', false)),
    distribution: await startDistributionOnS3(ctx.resources, rgw, await bucket('distribution'), false),
  };
  const redirected = {
    ...ctx,
    wharf: await startWharfTarget(ctx.resources, await wharfSettings('wharf-redirect', true)),
    distribution: await startDistributionOnS3(ctx.resources, rgw, await bucket('distribution-redirect'), true),
  };

  const image = 'bench/s3';
  const pushedTo = new Map<Target, string>();
  const push = (on: BenchContext) =>
    bothRepeated(on, ctx.scale.reps, async (target, signal) => {
      const blob = new SyntheticBlob(blobBytes);
      const t = await new RegistryClient(target).pushMonolithic(image, blob, signal);
      pushedTo.set(target, await blob.digest());
      return mbps(t.bytes, t.seconds);
    });
  const pushed = await push(streamed);
  await push(redirected); // untimed here: what the redirected pulls read
  const pull = (on: BenchContext, redirect: boolean) =>
    bothRepeated(on, ctx.scale.reps, async (target, signal) => {
      const digest = pushedTo.get(target);
      if (!digest) throw new Error('nothing to pull: the push failed');
      const client = new RegistryClient(target);
      const t = redirect ? await client.pullBlobRedirected(image, digest, signal) : await client.pullBlob(image, digest, signal);
      return mbps(t.bytes, t.seconds);
    });
  const through = await pull(streamed, false);
  const direct = await pull(redirected, true);

  const size = mib(blobBytes);
  const where = "both on one Ceph RADOS Gateway (memstore OSD) on this machine; Distribution's own s3 driver";
  return [
    measuredRow(`S3: blob push ${size}, monolithic`, 'MB/s', 'higher', pushed, where),
    measuredRow(`S3: blob pull ${size} through the registry`, 'MB/s', 'higher', through, 'Wharf WHARF_S3_REDIRECT=false; Distribution redirect disabled'),
    measuredRow(`S3: blob pull ${size} with redirect to a presigned URL`, 'MB/s', 'higher', direct, 'the client follows the 307 without credentials; timed from the registry GET'),
  ];
}
