import { Row } from '../report';
import { RegistryClient } from '../registry-client';
import { SyntheticBlob } from '../synthetic-blob';
import { Target } from '../targets';
import { BenchContext, bothRepeated, dropCaches, mbps, measuredRow, mib } from './common';

/**
 * Large blobs pushed monolithically (POST, then one PUT with the whole body) and in 16 MiB
 * PATCHes, then one pulled back from a cold and from a warm page cache (read once, untimed,
 * just before each warm pull). Every push is of a
 * blob new to the target (no dedup shortcut); the page cache is dropped before each timed push.
 */
export async function blobTransfer(ctx: BenchContext): Promise<Row[]> {
  const { blobBytes, chunkBytes, reps } = ctx.scale;
  const image = 'bench/blob';
  const pushed = new Map<Target, string>();

  const mono = await bothRepeated(ctx, reps, async (target, signal) => {
    const blob = new SyntheticBlob(blobBytes);
    await blob.digest();
    dropCaches();
    const t = await new RegistryClient(target).pushMonolithic(image, blob, signal);
    pushed.set(target, await blob.digest());
    return mbps(t.bytes, t.seconds);
  });
  const chunked = await bothRepeated(ctx, reps, async (target, signal) => {
    const blob = new SyntheticBlob(blobBytes);
    await blob.digest();
    dropCaches();
    const t = await new RegistryClient(target).pushChunked(image, blob, chunkBytes, signal);
    return mbps(t.bytes, t.seconds);
  });
  const pull = (cold: boolean) =>
    bothRepeated(ctx, reps, async (target, signal) => {
      const digest = pushed.get(target);
      if (!digest) throw new Error('nothing to pull: the push failed');
      const client = new RegistryClient(target);
      // Warm means warm for each target: the other target's cold runs drop the page cache.
      if (cold) dropCaches();
      else await client.pullBlob(image, digest, signal);
      const t = await client.pullBlob(image, digest, signal);
      return mbps(t.bytes, t.seconds);
    });
  const cold = await pull(true);
  const warm = await pull(false);

  const size = mib(blobBytes);
  return [
    measuredRow(`blob push ${size}, monolithic`, 'MB/s', 'higher', mono),
    measuredRow(`blob push ${size}, ${mib(chunkBytes)} chunks`, 'MB/s', 'higher', chunked),
    measuredRow(`blob pull ${size}, cold page cache`, 'MB/s', 'higher', cold),
    measuredRow(`blob pull ${size}, warm page cache`, 'MB/s', 'higher', warm),
  ];
}
