import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { WharfConfig } from '@wharf/config';
import { AuditQueries, WebhookDeliveryQueries } from '@wharf/db';

/** How often each host deletes what has aged out; the age is the truth, the timer only wakes the check. */
const CHECK_MS = 3_600_000;
/** Rows one statement deletes: short statements, so writers of new rows never wait long. */
const BATCH = 1_000;

/**
 * Deletes audit rows older than WHARF_AUDIT_RETENTION_DAYS, and the finished webhook deliveries
 * made from them as old, in batches, on every host (each batch skips rows another host is
 * deleting). A host that was down catches up at its next start.
 */
@Injectable()
export class AuditRetention implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('AuditRetention');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly queries: AuditQueries,
    private readonly deliveries: WebhookDeliveryQueries,
    private readonly config: WharfConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), CHECK_MS);
    this.timer.unref();
    void this.sweep();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** Deletes everything aged out (one sweep at a time per host). */
  sweep(): Promise<void> {
    this.running ??= this.deleteAged()
      .catch((err) => this.logger.warn({ msg: 'old audit rows not deleted; the next check tries again', error: (err as Error).message }))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async deleteAged(): Promise<void> {
    const days = this.config.auditRetentionDays;
    const rows = await this.inBatches((batch) => this.queries.deleteOlderThan(days, batch));
    const deliveries = await this.inBatches((batch) => this.deliveries.deleteFinishedOlderThan(days, batch));
    if (rows + deliveries > 0) this.logger.log({ msg: 'old audit rows deleted', rows, webhookDeliveries: deliveries, retentionDays: days });
  }

  /** Runs `deleteBatch` until a batch comes back short (or the host stops); how many it deleted. */
  private async inBatches(deleteBatch: (batch: number) => Promise<number>): Promise<number> {
    let total = 0;
    for (let deleted = BATCH; deleted === BATCH && !this.stopped; total += deleted) deleted = await deleteBatch(BATCH);
    return total;
  }
}
