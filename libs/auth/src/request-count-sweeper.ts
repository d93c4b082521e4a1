import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { RequestCountQueries } from '@wharf/db';
import { Clock } from './clock';

const SWEEP_MS = 60_000;

/**
 * Deletes the request counts that no limit reads any more (past their `expires_at`), once a
 * minute on every instance: the rows are the record and the limiters ignore expired ones, so
 * this only keeps the table small, and several instances sweeping at once do no harm.
 */
@Injectable()
export class RequestCountSweeper implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('RequestCountSweeper');
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly counts: RequestCountQueries,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async sweep(): Promise<void> {
    await this.counts.deleteExpired(new Date(this.clock.now())).catch((err) => this.logger.warn({ msg: 'expired request counts not deleted', error: (err as Error).message }));
  }
}
