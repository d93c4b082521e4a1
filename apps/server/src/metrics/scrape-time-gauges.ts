import { Injectable, Logger } from '@nestjs/common';
import { PoolStats, UploadSessionQueries } from '@wharf/db';
import { UpstreamClients } from '@wharf/registry';
import { Gauge } from 'prom-client';
import { MetricsRegistry } from './metrics-registry';

/**
 * Figures read when Prometheus scrapes, not kept up to date in between: the database pool and
 * remote circuit breakers of this process, and the upload sessions open in the database.
 * Across worker processes the pool figures add up; the upload sessions are the database's (the
 * same for every worker: the largest is taken); a circuit counts as open if it is in any worker.
 */
@Injectable()
export class ScrapeTimeGauges {
  private readonly logger = new Logger('Metrics');

  constructor(registry: MetricsRegistry, pool: PoolStats, uploads: UploadSessionQueries, upstreams: UpstreamClients) {
    const registers = [registry];
    new Gauge({
      name: 'wharf_db_pool_connections',
      help: 'Database connections of the pool, by state: open (total), idle, and queries waiting for one; max is the pool size',
      labelNames: ['state'],
      registers,
      collect() {
        const use = pool.read();
        this.set({ state: 'total' }, use.total);
        this.set({ state: 'idle' }, use.idle);
        this.set({ state: 'waiting' }, use.waiting);
        this.set({ state: 'max' }, use.max);
      },
    });
    const logger = this.logger;
    new Gauge({
      name: 'wharf_upload_sessions_open',
      help: 'Blob upload sessions begun and not yet committed, cancelled or collected (all hosts: read from the database)',
      registers,
      aggregator: 'max',
      async collect() {
        // A scrape goes on without this figure rather than failing whole while the database is away.
        try {
          this.set(await uploads.countOpen());
        } catch (err) {
          logger.warn({ msg: 'open upload sessions not counted for metrics', error: (err as Error).message });
        }
      },
    });
    new Gauge({
      name: 'wharf_remote_circuit_open',
      help: "1 while a remote repository's upstream circuit breaker is not closed (failing fast, or waiting for its probe), else 0",
      labelNames: ['repository'],
      registers,
      aggregator: 'max',
      collect() {
        for (const { repository, state } of upstreams.circuits()) this.set({ repository }, state === 'closed' ? 0 : 1);
      },
    });
  }
}
