import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { WharfConfig } from '@wharf/config';
import { GcQueries, ServerSettingQueries } from '@wharf/db';
import { CronExpressionParser } from 'cron-parser';
import { GarbageCollector } from './garbage-collector';

/** How often each host looks whether a scheduled run is due. */
const CHECK_MS = 60_000;

/**
 * Runs garbage collection on WHARF_GC_SCHEDULE. The timer only wakes the check; whether a run is
 * due is read from the database (the last scheduled run against the schedule's latest time), so
 * a run missed while every host was down happens at the next start, a restart does not run it
 * twice, and of several hosts (or worker processes) one runs it.
 */
@Injectable()
export class GcScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('GcScheduler');
  private timer?: NodeJS.Timeout;
  private checking?: Promise<void>;
  /** The installation's first start, read once: it never changes. */
  private since?: Date;

  constructor(
    private readonly collector: GarbageCollector,
    private readonly queries: GcQueries,
    private readonly settings: ServerSettingQueries,
    private readonly config: WharfConfig,
  ) {}

  onApplicationBootstrap(): void {
    const schedule = this.config.gc.schedule;
    if (!schedule) return;
    const check = () => {
      this.checking ??= this.runIfDue(schedule)
        .catch((err) => this.logger.error({ msg: 'scheduled garbage collection did not run', error: (err as Error).message }))
        .finally(() => (this.checking = undefined));
    };
    this.timer = setInterval(check, CHECK_MS);
    this.timer.unref();
    check();
  }

  onApplicationShutdown(): void {
    // A run in progress is stopped by the collector's own shutdown.
    clearInterval(this.timer);
  }

  private async runIfDue(schedule: string): Promise<void> {
    const due = CronExpressionParser.parse(schedule, { tz: 'UTC', currentDate: new Date() }).prev().toDate();
    // The schedule counts from the installation's first start: a new one does not run at once for yesterday's time.
    this.since ??= new Date(await this.settings.getOrSet('gc_schedule_since', new Date().toISOString()));
    const since = this.since;
    const last = await this.queries.lastScheduledStart();
    if (due < since || (last && last >= due)) return;
    if (await this.collector.runScheduled()) this.logger.log({ msg: 'scheduled garbage collection ran', due: due.toISOString() });
  }
}
