import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Row } from '../report';
import { Resources, Target } from '../targets';

const MiB = 1024 * 1024;

/** Sizes, counts and durations; BENCH_QUICK=1 shrinks them tenfold for a smoke run. */
export interface Scale {
  quick: boolean;
  blobBytes: number;
  chunkBytes: number;
  concurrentPushes: number;
  concurrentBlobBytes: number;
  loadMs: number;
  manifestPuts: number;
  tags: number;
  tagPage: number;
  pullThroughBytes: number;
  memoryBytes: number;
  /** Repetitions of the throughput measurements (the median is reported). */
  reps: number;
  /** The bound of one workload: half for each target (setup has its own). */
  workloadTimeoutMs: number;
}

export function scale(quick: boolean): Scale {
  const f = quick ? 0.1 : 1;
  const mib = (n: number) => Math.round(n * f) * MiB;
  return {
    quick,
    blobBytes: mib(512),
    chunkBytes: 16 * MiB,
    concurrentPushes: 8,
    concurrentBlobBytes: mib(64),
    loadMs: 10_000 * f,
    manifestPuts: Math.round(200 * f),
    tags: Math.round(1000 * f),
    tagPage: Math.round(100 * f),
    pullThroughBytes: mib(256),
    memoryBytes: mib(1024),
    workloadTimeoutMs: quick ? 60_000 : 240_000,
    reps: 3,
  };
}

export interface BenchContext {
  scale: Scale;
  resources: Resources;
  wharf: Target;
  distribution: Target;
  /** Aborted on SIGINT/SIGTERM or when the whole run's time is up. */
  signal: AbortSignal;
}

export type Workload = (ctx: BenchContext) => Promise<Row[]>;

export const MB = 1e6;
export const mbps = (bytes: number, seconds: number): number => bytes / MB / seconds;
export const mib = (bytes: number): string => `${Math.round(bytes / MiB)} MiB`;

/** Drops the page cache so a timed write starts from the same state (root only; silently skipped). */
export function dropCaches(): void {
  spawnSync('sync');
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '1');
  } catch {
    // Not root, or a read-only /proc/sys: the figure is then just noisier.
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.floor((sorted.length - 1) / 2)];
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Runs `fn` on one target under its own deadline; a failure or timeout becomes a string for the cell. */
async function runOn<T>(ctx: BenchContext, target: Target, timeoutMs: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T | string> {
  const controller = new AbortController();
  const onAbort = () => controller.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(new Error('timed out'));
      reject(new Error(`timed out after ${timeoutMs / 1000} s`));
    }, timeoutMs);
  });
  try {
    if (ctx.signal.aborted) throw new Error('aborted');
    return await Promise.race([fn(controller.signal), timeout]);
  } catch (err) {
    console.error(`  ${target.name}: ${(err as Error).message}`);
    return controller.signal.aborted ? 'timed out' : 'failed';
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onAbort);
  }
}

/**
 * Runs `fn` against both targets, Wharf first, each under its own deadline (half the
 * workload's bound); a failure or timeout on one side becomes that side's cell.
 */
export async function both<T>(ctx: BenchContext, fn: (target: Target, signal: AbortSignal) => Promise<T>): Promise<{ wharf: T | string; distribution: T | string }> {
  const timeoutMs = ctx.scale.workloadTimeoutMs / 2;
  const wharf = await runOn(ctx, ctx.wharf, timeoutMs, (signal) => fn(ctx.wharf, signal));
  const distribution = await runOn(ctx, ctx.distribution, timeoutMs, (signal) => fn(ctx.distribution, signal));
  return { wharf, distribution };
}

/** Repeated measurements of one figure: the median is reported, the range shown. */
export interface Measured {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export type Both<T> = { wharf: T | string; distribution: T | string };

/**
 * Measures `fn` `reps` times on each target, alternating which goes first (W D, D W, W D...)
 * so neither always meets the state the other left (page cache, writeback). Each run has
 * its share of the workload's bound; one failure fails that target's cells. `fn` returns
 * the figures named in `keys`.
 */
export async function bothRepeatedAll<K extends string>(
  ctx: BenchContext,
  reps: number,
  keys: readonly K[],
  fn: (target: Target, signal: AbortSignal, rep: number) => Promise<Record<K, number>>,
): Promise<Record<K, Both<Measured>>> {
  const timeoutMs = ctx.scale.workloadTimeoutMs / 2 / reps;
  const runs = new Map<Target, Record<K, number>[] | string>([
    [ctx.wharf, []],
    [ctx.distribution, []],
  ]);
  for (let rep = 0; rep < reps; rep++) {
    const order = rep % 2 === 0 ? [ctx.wharf, ctx.distribution] : [ctx.distribution, ctx.wharf];
    for (const target of order) {
      const sofar = runs.get(target)!;
      if (typeof sofar === 'string') continue;
      const value = await runOn(ctx, target, timeoutMs, (signal) => fn(target, signal, rep));
      if (typeof value === 'string') runs.set(target, value);
      else sofar.push(value);
    }
  }
  const summary = (r: Record<K, number>[] | string, key: K): Measured | string => {
    if (typeof r === 'string') return r;
    const v = r.map((run) => run[key]);
    return { median: median(v), min: Math.min(...v), max: Math.max(...v), runs: v.length };
  };
  const out = {} as Record<K, Both<Measured>>;
  for (const key of keys) out[key] = { wharf: summary(runs.get(ctx.wharf)!, key), distribution: summary(runs.get(ctx.distribution)!, key) };
  return out;
}

/** One figure measured `reps` times on each target. */
export async function bothRepeated(ctx: BenchContext, reps: number, fn: (target: Target, signal: AbortSignal, rep: number) => Promise<number>): Promise<Both<Measured>> {
  return (await bothRepeatedAll(ctx, reps, ['value'], async (target, signal, rep) => ({ value: await fn(target, signal, rep) }))).value;
}

/** A table row from repeated measurements: medians, with the ranges in the note. */
export function measuredRow(workload: string, unit: string, better: 'higher' | 'lower', result: Both<Measured>, note?: string): Row {
  const range = (m: Measured | string) => (typeof m === 'string' ? m : `${fmt(m.min)}–${fmt(m.max)}`);
  const runs = [result.wharf, result.distribution].find((m): m is Measured => typeof m !== 'string')?.runs;
  return {
    workload,
    unit,
    better,
    wharf: pick(result.wharf, (m) => m.median),
    distribution: pick(result.distribution, (m) => m.median),
    note: [runs ? `median of ${runs}; ranges W ${range(result.wharf)}, D ${range(result.distribution)}` : undefined, note].filter(Boolean).join('; '),
  };
}

function fmt(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** Picks a figure out of a both() result, passing failures through. */
export function pick<T>(value: T | string, get: (v: T) => number): number | string {
  return typeof value === 'string' ? value : get(value);
}

/** Runs `fn` with up to `concurrency` calls in flight. */
export async function inParallel(count: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(count, concurrency) }, worker));
}
