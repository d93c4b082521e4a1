import { Row } from '../report';
import { RegistryClient } from '../registry-client';
import { SyntheticBlob } from '../synthetic-blob';
import { Target } from '../targets';
import { memoryOf, resetPeakMemory } from '../wharf-process';
import { BenchContext, both, mib, pick } from './common';

/**
 * Memory while a large blob streams in (monolithic push) and out (pull), over all of a
 * target's processes (Wharf may run several workers): the peak of the summed PSS, sampled
 * every 20 ms, and the largest single process's RSS peak (VmHWM, reset first where the kernel
 * allows it, so earlier workloads do not count).
 */
export async function streamingMemory(ctx: BenchContext): Promise<Row[]> {
  const blobs = new Map<string, SyntheticBlob>();
  for (const target of [ctx.wharf, ctx.distribution]) {
    const blob = new SyntheticBlob(ctx.scale.memoryBytes);
    await blob.digest();
    blobs.set(target.name, blob);
  }
  let reset = true;
  const result = await both(ctx, async (target: Target, signal) => {
    const pid = target.pid;
    if (pid === undefined) throw new Error('its process id is unknown');
    reset = (await resetPeakMemory(pid)) && reset;
    const before = await memoryOf(pid);
    const client = new RegistryClient(target);
    const blob = blobs.get(target.name)!;
    let peakPss = before.pssMiB;
    let largestRss = 0;
    const sample = () =>
      memoryOf(pid).then((m) => {
        peakPss = Math.max(peakPss, m.pssMiB);
        largestRss = Math.max(largestRss, m.largestPeakRssMiB);
      });
    const sampler = setInterval(() => void sample().catch(() => undefined), 20);
    try {
      await client.pushMonolithic('bench/memory', blob, signal);
      await client.pullBlob('bench/memory', await blob.digest(), signal);
    } finally {
      clearInterval(sampler);
    }
    await sample();
    return { before: before.pssMiB, peak: peakPss, largestRss, processes: before.processes };
  });
  const size = mib(ctx.scale.memoryBytes);
  const processes = pick(result.wharf, (r) => r.processes);
  const notes = [
    typeof processes === 'number' ? `Wharf: ${processes} process${processes === 1 ? '' : 'es'}` : undefined,
    reset ? undefined : 'RSS peak since process start: the kernel refused to reset VmHWM',
  ].filter(Boolean);
  return [
    {
      workload: `peak memory streaming ${size} in and out, all processes (PSS)`,
      unit: 'MiB',
      better: 'lower',
      wharf: pick(result.wharf, (r) => r.peak),
      distribution: pick(result.distribution, (r) => r.peak),
      note: notes.join('; ') || undefined,
    },
    { workload: `  before it`, unit: 'MiB', better: 'lower', wharf: pick(result.wharf, (r) => r.before), distribution: pick(result.distribution, (r) => r.before) },
    {
      workload: `  peak minus before`,
      unit: 'MiB',
      better: 'lower',
      wharf: pick(result.wharf, (r) => r.peak - r.before),
      distribution: pick(result.distribution, (r) => r.peak - r.before),
    },
    {
      workload: `  peak RSS of the largest process`,
      unit: 'MiB',
      better: 'lower',
      wharf: pick(result.wharf, (r) => r.largestRss),
      distribution: pick(result.distribution, (r) => r.largestRss),
    },
  ];
}
