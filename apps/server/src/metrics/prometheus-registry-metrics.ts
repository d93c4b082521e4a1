import { Injectable } from '@nestjs/common';
import { GcOutcome, RegistryMetrics, RemoteCacheResult } from '@wharf/registry';
import { Counter, Gauge } from 'prom-client';
import { MetricsRegistry } from './metrics-registry';

/** What a garbage collection removes besides retention (counted by wharf_retention_removed_total), by label. */
const GC_REMOVED: Array<[string, (outcome: GcOutcome) => number]> = [
  ['untagged_manifest', ({ result }) => result.untaggedManifests.count],
  ['remote_cache_manifest', ({ result }) => result.remoteCache.manifests],
  ['remote_cache_blob_link', ({ result }) => result.remoteCache.blobLinks],
  ['upload_session', ({ result }) => result.uploadSessions.count],
  ['stray_upload', ({ result }) => result.strayUploads.count],
  ['blob_link', ({ result }) => result.blobLinks.count],
  ['blob', ({ result }) => result.blobs.count],
];

/**
 * The registry's figures as Prometheus metrics. Labels are repository keys (as many as the
 * admins made) and fixed words, never image names, tags or digests. None of these is recorded
 * on a local manifest GET (the hot path); a blob transfer or a remote lookup affords
 * prom-client's ~1 µs.
 */
@Injectable()
export class PrometheusRegistryMetrics extends RegistryMetrics {
  private readonly pushed: Counter<'repository'>;
  private readonly pulled: Counter<'repository'>;
  private readonly cache: Counter<'repository' | 'kind' | 'result'>;
  private readonly upstreamErrors: Counter<'repository'>;
  private readonly gcRuns: Counter<'status'>;
  private readonly gcFreedBytes: Counter;
  private readonly gcRemoved: Counter<'kind'>;
  private readonly gcLastRun: Gauge<'status'>;
  private readonly retention: Counter<'kind'>;

  constructor(registry: MetricsRegistry) {
    super();
    const registers = [registry];
    this.pushed = new Counter({ name: 'wharf_blob_bytes_pushed_total', help: 'Bytes of blob uploads committed, by repository addressed', labelNames: ['repository'], registers });
    this.pulled = new Counter({
      name: 'wharf_blob_bytes_pulled_total',
      help: 'Bytes of blob bodies sent (or redirected to the bucket), by repository addressed',
      labelNames: ['repository'],
      registers,
    });
    this.cache = new Counter({
      name: 'wharf_remote_cache_requests_total',
      help: "Remote repositories' cache lookups for clients: hit, miss (fetched upstream), revalidated (a tag confirmed upstream) or stale (served while the upstream was not asked or failed)",
      labelNames: ['repository', 'kind', 'result'],
      registers,
    });
    this.upstreamErrors = new Counter({
      name: 'wharf_remote_upstream_errors_total',
      help: "Requests to a remote repository's upstream that failed: unreachable, timed out, or a 5xx after retries",
      labelNames: ['repository'],
      registers,
    });
    this.gcRuns = new Counter({ name: 'wharf_gc_runs_total', help: 'Garbage collections run (dry runs not counted), by how they ended', labelNames: ['status'], registers });
    this.gcFreedBytes = new Counter({ name: 'wharf_gc_freed_bytes_total', help: 'Bytes of blobs garbage collection deleted', registers });
    this.gcRemoved = new Counter({ name: 'wharf_gc_removed_total', help: 'What garbage collection removed besides retention, by kind', labelNames: ['kind'], registers });
    this.gcLastRun = new Gauge({
      name: 'wharf_gc_last_run_timestamp_seconds',
      help: 'When the last garbage collection of this server ended, by how it ended',
      labelNames: ['status'],
      registers,
      aggregator: 'max',
    });
    this.retention = new Counter({
      name: 'wharf_retention_removed_total',
      help: 'Tags and manifests retention rules removed (by garbage collection or on demand)',
      labelNames: ['kind'],
      registers,
    });
  }

  blobPushed(repository: string, bytes: number): void {
    this.pushed.inc({ repository }, bytes);
  }

  blobPulled(repository: string, bytes: number): void {
    this.pulled.inc({ repository }, bytes);
  }

  remoteCache(repository: string, kind: 'manifest' | 'blob', result: RemoteCacheResult): void {
    this.cache.inc({ repository, kind, result });
  }

  upstreamError(repository: string): void {
    this.upstreamErrors.inc({ repository });
  }

  gcFinished(outcome: GcOutcome): void {
    this.gcRuns.inc({ status: outcome.status });
    this.gcLastRun.set({ status: outcome.status }, outcome.endedAt / 1000);
    this.gcFreedBytes.inc(outcome.result.blobs.bytes);
    for (const [kind, count] of GC_REMOVED) {
      const value = count(outcome);
      if (value > 0) this.gcRemoved.inc({ kind }, value);
    }
  }

  retentionRemoved(tags: number, manifests: number): void {
    if (tags > 0) this.retention.inc({ kind: 'tag' }, tags);
    if (manifests > 0) this.retention.inc({ kind: 'manifest' }, manifests);
  }
}
