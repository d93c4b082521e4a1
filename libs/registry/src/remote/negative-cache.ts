/**
 * Remembers upstream "not found" answers for a short while, so a burst of probes for a name
 * that does not exist reaches the upstream once. Entries expire by their own timestamps.
 */
export class NegativeCache {
  private readonly entries = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 10_000,
  ) {}

  has(key: string): boolean {
    const expires = this.entries.get(key);
    if (expires === undefined) return false;
    if (expires > this.now()) return true;
    this.entries.delete(key);
    return false;
  }

  add(key: string): void {
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(key, this.now() + this.ttlMs);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}
