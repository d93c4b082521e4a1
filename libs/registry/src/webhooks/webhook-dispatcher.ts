import { randomUUID } from 'node:crypto';
import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SecretBox, matchesRepositoryPattern } from '@wharf/auth';
import { WharfConfig } from '@wharf/config';
import { Db, DueDelivery, NewDelivery, WEBHOOK_EVENT_OF, WebhookDeliveryQueries, WebhookQueries, WebhookRow } from '@wharf/db';
import { EventSource, envelopeEvent, thisSource } from './webhook-envelope';
import { AttemptResult, WebhookSender } from './webhook-sender';

/** How often each host looks for work; the tables are the truth, the timer only wakes the look. */
const TICK_MS = 1_000;
/** Audit rows one fan-out transaction takes. */
const FAN_OUT_BATCH = 100;
/** Attempts one host runs at once: a slow receiver holds one of them, not the others' deliveries. */
const MAX_IN_FLIGHT = 16;
/** A claimed delivery is another host's to try once this has passed (an attempt takes at most ~10 s). */
const LEASE_SECONDS = 60;
/** After attempt n fails, the next comes 2^n seconds later, at most an hour... */
const MAX_BACKOFF_SECONDS = 3_600;
/** ...until a day after the delivery was made (or re-triggered): then it is given up, `failed`. */
export const RETRY_WINDOW_SECONDS = 86_400;

/** Where a delivery of an event goes: the webhooks that subscribe to it and match its repository. */
export function subscribers(webhooks: WebhookRow[], event: string, repository: string | null, at: Date): WebhookRow[] {
  return webhooks.filter(
    (webhook) =>
      webhook.events.includes(event) &&
      // A webhook hears of what happened once it existed.
      webhook.createdAt.getTime() <= at.getTime() &&
      // An event of no repository (a GC run) goes to every webhook that subscribes to it.
      (repository === null || webhook.repositories.some((pattern) => matchesRepositoryPattern(pattern, repository))),
  );
}

/**
 * Delivers webhooks, at least once, on every host. Each tick: (1) fan-out: pending audit rows
 * (committed with their changes) are claimed with SKIP LOCKED, become one delivery per matching
 * webhook, and lose their pending flag, all in one transaction; (2) delivery: due deliveries
 * are claimed (leased) and POSTed, up to MAX_IN_FLIGHT at once, each attempt recorded: delivered,
 * or tried again after 2^attempts s (at most an hour), or given up a day on. Nothing of this
 * runs in a push's request: a slow or dead receiver costs a push nothing. A restart loses
 * nothing: what was not delivered is still pending in the tables.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('WebhookDispatcher');
  private readonly source: EventSource;
  private readonly inFlight = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private stopping = false;

  constructor(
    private readonly db: Db,
    private readonly webhooks: WebhookQueries,
    private readonly deliveries: WebhookDeliveryQueries,
    private readonly sender: WebhookSender,
    private readonly secrets: SecretBox,
    private readonly config: WharfConfig,
  ) {
    this.source = thisSource(config.port);
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
    void this.tick();
  }

  /** Attempts in flight are cut short and left due at once, for this host's successor or another host. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.ticking;
    const cut = [...this.inFlight.entries()];
    for (const [, attempt] of cut) attempt.abort.abort();
    await Promise.all(cut.map(([, attempt]) => attempt.done));
    await this.deliveries.release(cut.map(([id]) => id)).catch(() => undefined);
  }

  /** One look for work; overlapping ticks are skipped. */
  tick(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    this.ticking ??= this.work()
      .catch((err) => this.logger.warn({ msg: 'webhook dispatch failed; the next tick tries again', error: (err as Error).message }))
      .finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async work(): Promise<void> {
    while (!this.stopping && (await this.fanOut()) === FAN_OUT_BATCH);
    if (this.stopping) return;
    for (const delivery of await this.deliveries.claimDue(MAX_IN_FLIGHT - this.inFlight.size, LEASE_SECONDS)) this.start(delivery);
  }

  /** Turns one batch of pending audit rows into deliveries; how many rows it took. */
  private fanOut(): Promise<number> {
    return this.db.transaction(async () => {
      const events = await this.deliveries.claimPendingEvents(FAN_OUT_BATCH);
      if (events.length === 0) return 0;
      const webhooks = await this.webhooks.list();
      const deliveries: NewDelivery[] = [];
      for (const row of events) {
        const event = WEBHOOK_EVENT_OF[row.action as keyof typeof WEBHOOK_EVENT_OF];
        if (!event) continue;
        const targets = subscribers(webhooks, event, row.repository, row.at);
        if (targets.length === 0) continue;
        // One event id for every webhook, the same on every retry: receivers can drop duplicates by it.
        const payload = envelopeEvent(randomUUID(), event, { ...row, auditId: row.id }, this.source, this.config.publicUrl);
        for (const webhook of targets) deliveries.push({ webhookId: webhook.id, event, eventId: payload.id, auditId: row.id, payload });
      }
      await this.deliveries.insert(deliveries, RETRY_WINDOW_SECONDS);
      await this.deliveries.clearPending(events.map((row) => row.id));
      return events.length;
    });
  }

  private start(delivery: DueDelivery): void {
    const abort = new AbortController();
    const done = this.attempt(delivery, abort.signal)
      .catch((err) =>
        this.logger.warn({ msg: 'a webhook attempt was not recorded; its lease runs out and it is tried again', delivery: delivery.id, error: (err as Error).message }),
      )
      .finally(() => this.inFlight.delete(delivery.id));
    this.inFlight.set(delivery.id, { abort, done });
  }

  private async attempt(delivery: DueDelivery, cancel: AbortSignal): Promise<void> {
    let result: AttemptResult;
    try {
      result = await this.sender.send(
        {
          url: delivery.url,
          secret: this.secrets.decrypt(delivery.secretSealed),
          body: Buffer.from(JSON.stringify({ events: [delivery.payload] })),
          headers: {
            'user-agent': 'Wharf-Webhook',
            'x-wharf-event': delivery.event,
            'x-wharf-delivery': delivery.id,
            'x-wharf-webhook': delivery.webhookName,
          },
        },
        cancel,
      );
    } catch (err) {
      result = { ok: false, status: null, error: (err as Error).message };
    }
    // Cut short by a shutdown: released, not counted against the receiver.
    if (this.stopping && cancel.aborted) return;
    if (result.ok) {
      await this.deliveries.delivered(delivery.id, result.status);
      return;
    }
    await this.deliveries.attemptFailed(delivery.id, result.status, result.error.slice(0, 2000), Math.min(2 ** delivery.attempts, MAX_BACKOFF_SECONDS));
    this.logger.debug({ msg: 'webhook attempt failed', webhook: delivery.webhookName, delivery: delivery.id, attempt: delivery.attempts, error: result.error });
  }
}
