import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { LifecycleQueries } from '@wharf/db';

const FLUSH_MS = 5_000;
/** Beyond this many pending pulls a flush starts at once, so memory stays bounded under load. */
const MAX_PENDING = 10_000;

/**
 * When manifests and cached blobs were last pulled, for retention and cache eviction. A pull
 * only notes what it served in memory; the notes are written every few seconds in two
 * statements, whatever their number (a pull-heavy registry writes nothing per pull). A crash
 * loses at most the last few seconds of pull times, which only makes content look less recently
 * pulled than it was.
 */
@Injectable()
export class PullRecorder implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('PullRecorder');
  private manifests = new Set<string>();
  private blobs = new Map<string, { repositoryId: string; digest: string }>();
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly queries: LifecycleQueries) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  manifestPulled(manifestId: string): void {
    this.manifests.add(manifestId);
    this.flushIfFull();
  }

  cachedBlobPulled(repositoryId: string, digest: string): void {
    this.blobs.set(`${repositoryId}|${digest}`, { repositoryId, digest });
    this.flushIfFull();
  }

  /** Writes the pulls noted so far (tests and lifecycle runs call it to see up-to-date times). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const manifests = [...this.manifests];
      const blobs = [...this.blobs.values()];
      this.manifests = new Set();
      this.blobs = new Map();
      if (manifests.length === 0 && blobs.length === 0) return;
      await this.queries.recordPulls(manifests, blobs).catch((err) => this.logger.warn({ msg: 'pull times not recorded', error: (err as Error).message }));
    });
    return this.flushing;
  }

  private flushIfFull(): void {
    if (this.manifests.size + this.blobs.size >= MAX_PENDING) void this.flush();
  }
}
