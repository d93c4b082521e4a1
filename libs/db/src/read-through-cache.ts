import { ChangeFeed, ChangeTopic } from './change-feed';

/**
 * A bounded in-memory copy of query results, emptied whenever the change feed reports one of
 * its topics. A load that started before an invalidation is not stored: it may hold old rows.
 */
export class ReadThroughCache<V> {
  private readonly entries = new Map<string, V>();
  private generation = 0;

  constructor(
    private readonly feed: ChangeFeed,
    topics: ChangeTopic[],
    private readonly maxEntries = 10_000,
  ) {
    for (const topic of topics) feed.on(topic, () => this.clear());
  }

  async get(key: string, load: () => Promise<V>): Promise<V> {
    if (!this.feed.reliable) return load();
    if (this.entries.has(key)) return this.entries.get(key)!;
    const generation = this.generation;
    const value = await load();
    if (generation === this.generation && this.feed.reliable) {
      if (this.entries.size >= this.maxEntries) this.entries.clear();
      this.entries.set(key, value);
    }
    return value;
  }

  clear(): void {
    this.generation += 1;
    this.entries.clear();
  }
}
