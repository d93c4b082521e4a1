import { Row } from '../report';
import { RegistryClient } from '../registry-client';
import { SyntheticBlob } from '../synthetic-blob';
import { BenchContext, bothRepeated, dropCaches, mbps, measuredRow, mib } from './common';

/** N distinct blobs pushed at once (monolithic, one connection each); the aggregate rate. */
export async function concurrentPush(ctx: BenchContext): Promise<Row[]> {
  const { concurrentPushes: n, concurrentBlobBytes: size, reps } = ctx.scale;
  const result = await bothRepeated(ctx, reps, async (target, signal, rep) => {
    const blobs = Array.from({ length: n }, () => new SyntheticBlob(size));
    for (const blob of blobs) await blob.digest();
    const client = new RegistryClient(target);
    dropCaches();
    const started = performance.now();
    await Promise.all(blobs.map((blob, i) => client.pushMonolithic(`bench/concurrent-${rep}-${i}`, blob, signal)));
    return mbps(n * size, (performance.now() - started) / 1000);
  });
  return [measuredRow(`${n} concurrent pushes of ${mib(size)}`, 'aggregate MB/s', 'higher', result)];
}
