import { Row } from '../report';
import { RegistryClient } from '../registry-client';
import { SyntheticBlob } from '../synthetic-blob';
import { Target } from '../targets';
import { memoryOf, resetPeakMemory } from '../wharf-process';
import { BenchContext, both, mib, pick } from './common';

/**
 * Peak resident memory while a large blob streams in (monolithic push) and out (pull).
 * The peak (VmHWM) is reset first where the kernel allows it, so earlier workloads do not count;
 * the larger of it and RSS sampled every 20 ms is reported.
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
    if (target.pid === undefined) throw new Error('its process id is unknown');
    reset = (await resetPeakMemory(target.pid)) && reset;
    const before = await memoryOf(target.pid);
    const client = new RegistryClient(target);
    const blob = blobs.get(target.name)!;
    // The kernel updates VmHWM lazily; sampling VmRSS as well catches what it has not yet folded in.
    let sampled = before.rssMiB;
    const pid = target.pid;
    const sampler = setInterval(() => void memoryOf(pid).then((m) => (sampled = Math.max(sampled, m.rssMiB)), () => undefined), 20);
    try {
      await client.pushMonolithic('bench/memory', blob, signal);
      await client.pullBlob('bench/memory', await blob.digest(), signal);
    } finally {
      clearInterval(sampler);
    }
    const after = await memoryOf(target.pid);
    return { before: before.rssMiB, peak: Math.max(after.peakMiB, after.rssMiB, sampled) };
  });
  const size = mib(ctx.scale.memoryBytes);
  const note = reset ? undefined : 'peak since process start: the kernel refused to reset VmHWM';
  return [
    { workload: `peak RSS streaming ${size} in and out`, unit: 'MiB', better: 'lower', wharf: pick(result.wharf, (r) => r.peak), distribution: pick(result.distribution, (r) => r.peak), note },
    { workload: `  RSS before it`, unit: 'MiB', better: 'lower', wharf: pick(result.wharf, (r) => r.before), distribution: pick(result.distribution, (r) => r.before) },
    { workload: `  peak minus before`, unit: 'MiB', better: 'lower', wharf: pick(result.wharf, (r) => r.peak - r.before), distribution: pick(result.distribution, (r) => r.peak - r.before) },
  ];
}
