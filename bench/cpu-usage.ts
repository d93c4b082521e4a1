import { readFileSync } from 'node:fs';
import * as os from 'node:os';

/**
 * CPU time of the whole machine and of this process with its reaped children (Wharf,
 * Distribution, helpers), from /proc: what other processes used meanwhile is the difference.
 * On a small machine a test suite running next to the bench skews every figure.
 */
export interface CpuSample {
  machineTicks: number;
  ownTicks: number;
  at: number;
}

const TICKS_PER_SECOND = 100;

export function sampleCpu(): CpuSample {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
  const machineTicks = cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] + (cpu[7] ?? 0);
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  // Fields 14-17 of stat (utime, stime, cutime, cstime) are 11-14 after the command name.
  const ownTicks = fields[11] + fields[12] + fields[13] + fields[14];
  return { machineTicks, ownTicks, at: Date.now() };
}

/** "other processes: N CPU-seconds (P% of the machine)" between two samples. */
export function otherLoad(from: CpuSample, to: CpuSample): string {
  const foreign = Math.max(0, to.machineTicks - from.machineTicks - (to.ownTicks - from.ownTicks)) / TICKS_PER_SECOND;
  const capacity = ((to.at - from.at) / 1000) * os.cpus().length;
  return `${foreign.toFixed(1)} CPU-seconds (${((100 * foreign) / capacity).toFixed(0)}% of the machine's ${os.cpus().length} cores over the run)`;
}
