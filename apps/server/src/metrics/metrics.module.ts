import { Global, Module } from '@nestjs/common';
import { RegistryMetrics, RegistryModule } from '@wharf/registry';
import { CacheInvalidationCounter } from './cache-invalidation-counter';
import { ClusterMetricsLink } from './cluster-metrics-link';
import { HttpRequestMetrics } from './http-request-metrics';
import { MetricsEndpoint } from './metrics-endpoint';
import { MetricsRegistry } from './metrics-registry';
import { PrometheusRegistryMetrics } from './prometheus-registry-metrics';
import { ScrapeTimeGauges } from './scrape-time-gauges';

/**
 * Prometheus metrics. Global: the libraries' services take RegistryMetrics where they record
 * (optionally: without this module they record nothing), and the registry lane and handlers
 * take HttpRequestMetrics and RegistryMetrics.
 */
@Global()
@Module({
  // For the remotes' circuit breakers (UpstreamClients).
  imports: [RegistryModule],
  providers: [
    MetricsRegistry,
    HttpRequestMetrics,
    PrometheusRegistryMetrics,
    { provide: RegistryMetrics, useExisting: PrometheusRegistryMetrics },
    ScrapeTimeGauges,
    CacheInvalidationCounter,
    ClusterMetricsLink,
    MetricsEndpoint,
  ],
  exports: [MetricsRegistry, HttpRequestMetrics, RegistryMetrics, MetricsEndpoint],
})
export class MetricsModule {}
