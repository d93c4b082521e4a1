import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Dispatcher, Pool } from 'undici';

/**
 * A fixed-duration HTTP load on keep-alive connections, built on undici's Pool because it
 * ends a HEAD answer at its headers even when they carry a Content-Length (wrk and autocannon
 * wait for the body that never comes). One worker per connection, each with one request in
 * flight: a closed loop, so the rate is what the server sustains at that concurrency.
 */
export interface LoadOptions {
  origin: string;
  path: string;
  method: 'GET' | 'HEAD';
  headers: Record<string, string>;
  connections: number;
  durationMs: number;
  /** The status every answer must have; others are counted as errors. */
  expectStatus?: number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  /** The first unexpected status or error message, to say why errors happened. */
  firstError?: string;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Connections opened during the timed part: more than `connections` means they were not kept alive. */
  connects: number;
  /**
   * The 99th percentile of this process's own event-loop delay during the timed part: time in
   * which answers that had arrived waited for the client, and so part of every latency above.
   */
  clientLoopDelayP99Ms: number;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { origin, path, method, headers, connections, durationMs, expectStatus = 200 } = options;
  const pool = new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const histogram = new LatencyHistogram();
  let requests = 0;
  let errors = 0;
  let firstError: string | undefined;

  // Warm up outside the timing: connections (TCP handshakes), the server's credential cache
  // and caches of its own, and its JIT, for a fifth of the duration (at most 2 s).
  const warmUntil = performance.now() + Math.min(2000, durationMs / 5);
  await Promise.all(
    Array.from({ length: connections }, async () => {
      do await once(pool, method, path, headers).catch(() => undefined);
      while (performance.now() < warmUntil);
    }),
  );

  let connects = 0;
  pool.on('connect', () => connects++);
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const started = performance.now();
  const deadline = started + durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        const status = await once(pool, method, path, headers);
        if (status !== expectStatus) {
          errors++;
          firstError ??= `status ${status}`;
        }
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
        // A refused connection fails at once: do not spin.
        await new Promise((r) => setTimeout(r, 10));
      }
      histogram.record(performance.now() - t0);
      requests++;
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const seconds = (performance.now() - started) / 1000;
  loopDelay.disable();
  await pool.destroy();
  return {
    requests,
    errors,
    firstError,
    seconds,
    rps: requests / seconds,
    p50Ms: histogram.percentile(50),
    p99Ms: histogram.percentile(99),
    maxMs: histogram.max,
    connects,
    clientLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
  };
}

// undici closes the connection after every HEAD unless told not to (its guard against servers
// that send a body anyway); registries do not, and real clients keep the connection.
async function once(pool: Pool, method: 'GET' | 'HEAD', path: string, headers: Record<string, string>): Promise<number> {
  const res: Dispatcher.ResponseData = await pool.request({ method, path, headers, reset: false });
  await res.body.dump();
  return res.statusCode;
}

/**
 * Log-linear buckets (1% wide) from 1 µs to about 10 min: constant memory whatever the
 * request count, percentiles within 1%.
 */
export class LatencyHistogram {
  private static readonly GROWTH = Math.log(1.01);
  private readonly counts = new Float64Array(2200);
  private total = 0;
  max = 0;

  record(ms: number): void {
    const us = Math.max(1, ms * 1000);
    const index = Math.min(this.counts.length - 1, Math.floor(Math.log(us) / LatencyHistogram.GROWTH));
    this.counts[index]++;
    this.total++;
    if (ms > this.max) this.max = ms;
  }

  get count(): number {
    return this.total;
  }

  /** The upper bound of the bucket holding the p-th percentile, in ms. */
  percentile(p: number): number {
    if (this.total === 0) return NaN;
    const rank = Math.ceil((p / 100) * this.total);
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(this.max, Math.exp((i + 1) * LatencyHistogram.GROWTH) / 1000);
    }
    return this.max;
  }
}
