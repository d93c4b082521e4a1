import { Row } from '../report';
import { RegistryClient, manifestFor } from '../registry-client';
import { SyntheticBlob } from '../synthetic-blob';
import { startPullThrough } from '../targets';
import { BenchContext, bothRepeatedAll, mbps, measuredRow, median, mib } from './common';

/** Clients pulling the same uncached layer at the same moment. */
const TOGETHER = 4;

/**
 * A layer pulled through a cache whose upstream is a second Distribution: Wharf's remote
 * repository against Distribution in proxy mode. The first pull streams from the upstream
 * while it is cached; the second is served from the cache. The manifest is fetched first,
 * untimed, as a client would. Each repetition uses a new image and layer, and one more that
 * four clients ask for at once.
 */
export async function pullThrough(ctx: BenchContext): Promise<Row[]> {
  const { reps, pullThroughBytes } = ctx.scale;
  const setup = await startPullThrough(ctx.resources, ctx.wharf);
  const upstream = new RegistryClient(setup.upstream);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const layers: string[] = [];
  const togetherLayers: string[] = [];
  const direct = { mbps: [] as number[], firstByteMs: [] as number[] };
  for (let rep = 0; rep < reps; rep++) {
    const image = `bench/pulled-${rep}`;
    const layer = new SyntheticBlob(pullThroughBytes);
    const digest = await layer.digest();
    await upstream.pushSmall(image, config, ctx.signal);
    await upstream.pushMonolithic(image, layer, ctx.signal);
    await upstream.putManifest(image, 'latest', manifestFor(config, digest, layer.size), ctx.signal);
    layers.push(digest);
    const t = await upstream.pullBlob(image, digest, ctx.signal);
    direct.mbps.push(mbps(t.bytes, t.seconds));
    direct.firstByteMs.push(t.firstByteMs ?? NaN);

    const together = new SyntheticBlob(pullThroughBytes);
    const togetherDigest = await together.digest();
    await upstream.pushSmall(`bench/together-${rep}`, config, ctx.signal);
    await upstream.pushMonolithic(`bench/together-${rep}`, together, ctx.signal);
    await upstream.putManifest(`bench/together-${rep}`, 'latest', manifestFor(config, togetherDigest, together.size), ctx.signal);
    togetherLayers.push(togetherDigest);
  }

  const caches = { ...ctx, wharf: { ...ctx.wharf, ...setup.wharf }, distribution: { ...ctx.distribution, ...setup.distribution } };
  const result = await bothRepeatedAll(caches, reps, ['first', 'firstByte', 'cached', 'togetherFirstByte'], async (target, signal, rep) => {
    const client = new RegistryClient(target);
    const image = `bench/pulled-${rep}`;
    await client.getManifest(image, 'latest', signal);
    const first = await client.pullBlob(image, layers[rep], signal);
    await new Promise((r) => setTimeout(r, 1000));
    const cached = await client.pullBlob(image, layers[rep], signal);
    // Several clients asking for one uncached layer at once (a CI fan-out): how long the last waits.
    await client.getManifest(`bench/together-${rep}`, 'latest', signal);
    const together = await Promise.all(Array.from({ length: TOGETHER }, () => client.pullBlob(`bench/together-${rep}`, togetherLayers[rep], signal)));
    return {
      first: mbps(first.bytes, first.seconds),
      firstByte: first.firstByteMs ?? NaN,
      cached: mbps(cached.bytes, cached.seconds),
      togetherFirstByte: Math.max(...together.map((t) => t.firstByteMs ?? NaN)),
    };
  });
  const size = mib(pullThroughBytes);
  return [
    measuredRow(`pull-through ${size}, first pull`, 'MB/s', 'higher', result.first, `direct from the upstream: ${median(direct.mbps).toFixed(0)} MB/s`),
    measuredRow(`pull-through ${size}, first pull: first byte`, 'ms', 'lower', result.firstByte, `direct from the upstream: ${median(direct.firstByteMs).toFixed(1)} ms`),
    measuredRow(`pull-through ${size}, cached pull`, 'MB/s', 'higher', result.cached),
    measuredRow(`pull-through ${size}, ${TOGETHER} clients at once: slowest first byte`, 'ms', 'lower', result.togetherFirstByte),
  ];
}
