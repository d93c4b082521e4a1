import { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Injectable } from '@nestjs/common';
import type { RegistryRoute } from '@wharf/oci';
import { Counter, Histogram } from 'prom-client';
import { MetricsRegistry } from './metrics-registry';

/**
 * What a request was, for the request metrics: the registry's manifest, blob and upload
 * endpoints; `registry` for its other endpoints (base, catalog, tags, referrers) and registry
 * paths that name no endpoint; the token endpoint; the REST API (/api, /health, /v1); anything
 * else (the web UI, /metrics, unknown paths).
 */
export type HttpClass = 'manifest' | 'blob' | 'upload' | 'registry' | 'token' | 'api' | 'other';

const CLASSES: readonly HttpClass[] = ['manifest', 'blob', 'upload', 'registry', 'token', 'api', 'other'];
/** Node's parser accepts some 30 methods; the rare ones share a label. */
const METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE', 'OPTIONS', 'other'] as const;
/** Upper bounds in seconds: a cached manifest GET is well under a millisecond; blob transfers take seconds to minutes. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

const CLASS_OF_ROUTE: Record<RegistryRoute['kind'], HttpClass> = {
  manifest: 'manifest',
  blob: 'blob',
  uploads: 'upload',
  upload: 'upload',
  base: 'registry',
  catalog: 'registry',
  tags: 'registry',
  referrers: 'registry',
};

const STARTED = Symbol('wharf.metrics.started');
const CLASS = Symbol('wharf.metrics.class');

interface Measured extends ServerResponse {
  [STARTED]: number;
  [CLASS]: HttpClass;
}

/** One class and method's figures: duration buckets (not cumulative: summed on export), sum, count, and counts by status. */
interface Cell {
  buckets: Float64Array;
  sum: number;
  count: number;
  statuses: Map<number, number>;
}

/**
 * `wharf_http_requests_total{class,method,status}` and `wharf_http_request_duration_seconds{class,method}`,
 * measured when a response finishes. Kept cheap for the hot path (a manifest GET): the figures
 * are plain numbers in cells made at start for every class and method, so a request costs a
 * clock read, a listener, two property lookups, a bucket search and a few additions; label
 * strings are built only when scraped. (prom-client's own label children hash and validate
 * their labels on every call: ~1 µs a request against ~15 ns here, measured.) A response that
 * never finishes (its client went away) is not counted.
 */
@Injectable()
export class HttpRequestMetrics {
  private readonly cells: Record<string, Record<string, Cell>> = {};
  private readonly onFinish: (this: ServerResponse) => void;

  constructor(registry: MetricsRegistry) {
    for (const cls of CLASSES) {
      this.cells[cls] = Object.create(null);
      for (const method of METHODS) this.cells[cls][method] = { buckets: new Float64Array(BUCKETS.length + 1), sum: 0, count: 0, statuses: new Map() };
    }
    const cells = this.cells;
    this.onFinish = function (this: ServerResponse) {
      const res = this as Measured;
      const byMethod = cells[res[CLASS]];
      const cell = byMethod[res.req.method ?? 'other'] ?? byMethod.other;
      const seconds = (performance.now() - res[STARTED]) / 1000;
      let bucket = 0;
      while (bucket < BUCKETS.length && seconds > BUCKETS[bucket]) bucket++;
      cell.buckets[bucket]++;
      cell.sum += seconds;
      cell.count++;
      cell.statuses.set(res.statusCode, (cell.statuses.get(res.statusCode) ?? 0) + 1);
    };
    new TalliedCounter(registry, () => this.counted());
    new TalliedHistogram(registry, () => this.timed());
  }

  /** Starts measuring a request as `cls` (which `routed` may still refine). */
  begin(res: ServerResponse, cls: HttpClass): void {
    const measured = res as Measured;
    measured[STARTED] = performance.now();
    measured[CLASS] = cls;
    res.on('finish', this.onFinish);
  }

  /** The registry route the request turned out to be. */
  routed(res: ServerResponse, kind: RegistryRoute['kind']): void {
    (res as Measured)[CLASS] = CLASS_OF_ROUTE[kind];
  }

  /** The class of a request that is no registry route (those are `registry` until routed). */
  static classOf(path: string): HttpClass {
    if (path === '/v2/token') return 'token';
    if (path.startsWith('/api/') || path.startsWith('/health/') || path.startsWith('/v1/')) return 'api';
    return 'other';
  }

  private counted(): CounterValue[] {
    const values: CounterValue[] = [];
    for (const cls of CLASSES) {
      for (const method of METHODS) {
        for (const [status, value] of this.cells[cls][method].statuses) values.push({ labels: { class: cls, method, status }, value });
      }
    }
    return values;
  }

  private timed(): HistogramValue[] {
    const values: HistogramValue[] = [];
    for (const cls of CLASSES) {
      for (const method of METHODS) {
        const cell = this.cells[cls][method];
        if (cell.count === 0) continue;
        let cumulative = 0;
        BUCKETS.forEach((le, i) => {
          cumulative += cell.buckets[i];
          values.push({ metricName: `${DURATION}_bucket`, labels: { class: cls, method, le }, value: cumulative });
        });
        values.push({ metricName: `${DURATION}_bucket`, labels: { class: cls, method, le: '+Inf' }, value: cell.count });
        values.push({ metricName: `${DURATION}_sum`, labels: { class: cls, method }, value: cell.sum });
        values.push({ metricName: `${DURATION}_count`, labels: { class: cls, method }, value: cell.count });
      }
    }
    return values;
  }
}

const REQUESTS = 'wharf_http_requests_total';
const DURATION = 'wharf_http_request_duration_seconds';
const DURATION_HELP = 'Time from a request arriving to its response finishing, by class of endpoint and method';
type CounterValue = { labels: Partial<Record<'class' | 'method' | 'status', string | number>>; value: number };
type HistogramValue = { metricName: string; labels: Partial<Record<'class' | 'method' | 'le', string | number>>; value: number };

/** prom-client's counter, whose values are the tally's (read when scraped) instead of its own. */
class TalliedCounter extends Counter<'class' | 'method' | 'status'> {
  constructor(
    registry: MetricsRegistry,
    private readonly values: () => CounterValue[],
  ) {
    super({ name: REQUESTS, help: 'HTTP requests answered, by class of endpoint, method and status', labelNames: ['class', 'method', 'status'], registers: [registry] });
  }

  override async get() {
    return { ...(await super.get()), values: this.values() };
  }
}

/** prom-client's histogram, whose values are the tally's (read when scraped) instead of its own. */
class TalliedHistogram extends Histogram<'class' | 'method'> {
  constructor(
    registry: MetricsRegistry,
    private readonly values: () => HistogramValue[],
  ) {
    super({
      name: DURATION,
      help: DURATION_HELP,
      labelNames: ['class', 'method'],
      buckets: BUCKETS,
      registers: [registry],
    });
  }

  // prom-client writes a histogram's text from getForPromString and collects it for a cluster
  // with get(); both answer the tally (its labels already whole, so get() need not splay them).
  override get(): ReturnType<Histogram<'class' | 'method'>['get']> {
    return this.getForPromString() as unknown as ReturnType<Histogram<'class' | 'method'>['get']>;
  }

  async getForPromString() {
    return { name: DURATION, help: DURATION_HELP, type: 'histogram', aggregator: 'sum', values: this.values() };
  }
}
