/** Worker → primary: this worker's metrics can be collected. */
export const METRICS_READY = 'wharf:metrics-ready';
/** Worker → primary: `{ id }`, a scrape to answer with every worker's figures. */
export const METRICS_SCRAPE = 'wharf:metrics-scrape';
/** Primary → worker: `{ id, text }` or `{ id, error }`, the answer to its scrape. */
export const METRICS_SCRAPED = 'wharf:metrics-scraped';
/** Primary → worker: `{ gather }`, send your figures. */
export const METRICS_COLLECT = 'wharf:metrics-collect';
/** Worker → primary: `{ gather, metrics }` (prom-client's getMetricsAsJSON) or `{ gather, error }`. */
export const METRICS_COLLECTED = 'wharf:metrics-collected';

/** Longer than a scrape of a busy worker takes; Prometheus's own default timeout is 10 s. */
const GATHER_TIMEOUT_MS = 8_000;

/** A worker process as the hub sees it (a cluster Worker). */
export interface MetricsPeer {
  on(event: 'message', listener: (message: any) => void): unknown;
  on(event: 'exit', listener: () => void): unknown;
  send(message: unknown): unknown;
  isConnected(): boolean;
}

interface Gather {
  waiting: Set<MetricsPeer>;
  collected: object[];
  failed?: string;
  done(): void;
}

/**
 * The primary's side of /metrics with several worker processes: whichever worker Prometheus
 * reaches asks here, and gets the figures of all workers added up by prom-client's
 * AggregatorRegistry (counters and histograms summed; gauges as each declares). Only workers
 * that said they are ready are asked, so a worker still starting (or replacing a crashed one)
 * does not hold up a scrape; one that exits meanwhile is no longer waited for. prom-client's
 * own clusterMetrics() would ask every connected worker and fail the scrape for a starting one.
 */
export class MetricsHub {
  private readonly ready = new Set<MetricsPeer>();
  private readonly gathers = new Map<number, Gather>();
  private nextGather = 1;

  serve(worker: MetricsPeer): void {
    worker.on('message', (message: Record<string, any> | undefined) => {
      if (message?.[METRICS_READY]) this.ready.add(worker);
      else if (message?.[METRICS_SCRAPE]) void this.scrape(worker, message[METRICS_SCRAPE].id);
      else if (message?.[METRICS_COLLECTED]) this.collected(worker, message[METRICS_COLLECTED]);
    });
    worker.on('exit', () => {
      this.ready.delete(worker);
      for (const gather of this.gathers.values()) if (gather.waiting.delete(worker) && gather.waiting.size === 0) gather.done();
    });
  }

  private async scrape(requester: MetricsPeer, id: number): Promise<void> {
    const answer = (fields: { text?: string; error?: string }) => requester.isConnected() && requester.send({ [METRICS_SCRAPED]: { id, ...fields } });
    try {
      const collected = await this.gather();
      // Loaded at the first scrape: a primary that is never scraped stays without it (~10 MiB).
      const { AggregatorRegistry } = await import('prom-client');
      answer({ text: await AggregatorRegistry.aggregate(collected).metrics() });
    } catch (err) {
      answer({ error: (err as Error).message });
    }
  }

  /** Every ready worker's figures, once all have answered. */
  private gather(): Promise<object[]> {
    const id = this.nextGather++;
    const workers = [...this.ready].filter((worker) => worker.isConnected());
    return new Promise<object[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        gather.failed ??= `${gather.waiting.size} worker process(es) did not send their metrics within ${GATHER_TIMEOUT_MS} ms`;
        gather.done();
      }, GATHER_TIMEOUT_MS);
      const gather: Gather = {
        waiting: new Set(workers),
        collected: [],
        done: () => {
          clearTimeout(timer);
          this.gathers.delete(id);
          // Part of the figures would look like counters going back: a failed scrape is better.
          if (gather.failed) reject(new Error(gather.failed));
          else resolve(gather.collected);
        },
      };
      this.gathers.set(id, gather);
      for (const worker of workers) worker.send({ [METRICS_COLLECT]: { gather: id } });
      if (workers.length === 0) gather.done();
    });
  }

  private collected(worker: MetricsPeer, reply: { gather: number; metrics?: object[]; error?: string }): void {
    const gather = this.gathers.get(reply.gather);
    if (!gather?.waiting.delete(worker)) return;
    if (reply.error !== undefined) gather.failed ??= `a worker process could not collect its metrics: ${reply.error}`;
    else gather.collected.push(reply.metrics ?? []);
    if (gather.waiting.size === 0) gather.done();
  }
}
