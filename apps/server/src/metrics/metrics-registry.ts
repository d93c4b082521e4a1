import { Injectable } from '@nestjs/common';
import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * This process's Prometheus registry: Wharf's own metrics and Node's process metrics (CPU,
 * memory, heap, event loop lag, GC, handles). One per application rather than prom-client's
 * global one, so that servers sharing a process (the e2e suites boot several) keep their own
 * figures.
 */
@Injectable()
export class MetricsRegistry extends Registry {
  constructor() {
    super();
    collectDefaultMetrics({ register: this });
  }
}
