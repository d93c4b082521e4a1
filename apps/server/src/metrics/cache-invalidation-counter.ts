import { Injectable } from '@nestjs/common';
import { ChangeFeed, ChangeTopic } from '@wharf/db';
import { Counter } from 'prom-client';
import { MetricsRegistry } from './metrics-registry';

/** Every topic the change feed carries (a Record, so a new topic fails to compile until listed). */
const TOPICS = Object.keys({ repositories: true, security: true, tags: true } satisfies Record<ChangeTopic, true>) as ChangeTopic[];

/**
 * `wharf_cache_invalidations_total{topic}`: how often this process's in-memory caches of a
 * topic were emptied, for a change made here or announced by another instance. A high rate
 * means the caches rarely help.
 */
@Injectable()
export class CacheInvalidationCounter {
  constructor(registry: MetricsRegistry, feed: ChangeFeed) {
    const counter = new Counter({
      name: 'wharf_cache_invalidations_total',
      help: 'In-memory caches emptied because their rows changed (here or on another instance), by topic',
      labelNames: ['topic'],
      registers: [registry],
    });
    for (const topic of TOPICS) {
      counter.inc({ topic }, 0);
      feed.on(topic, () => counter.inc({ topic }));
    }
  }
}
