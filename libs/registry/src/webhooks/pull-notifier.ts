import { randomUUID } from 'node:crypto';
import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { WharfConfig } from '@wharf/config';
import { ActorContext, NewDelivery, WebhookDeliveryQueries, WebhookQueries, WebhookRow, requestOf } from '@wharf/db';
import { RETRY_WINDOW_SECONDS, subscribers } from './webhook-dispatcher';
import { EventFacts, EventSource, envelopeEvent, thisSource } from './webhook-envelope';

/** How stale this host's list of pull subscribers may be (another host's change); a change here refreshes it at once. */
const REFRESH_MS = 5_000;
const FLUSH_MS = 1_000;
/** Beyond this many noted pulls a flush starts at once: memory stays bounded under load. */
const MAX_PENDING = 1_000;

export interface Pull {
  /** The repository key as the client addressed it (a virtual's too). */
  repository: string;
  image: string;
  /** The reference pulled, when it was a tag. */
  tag?: string;
  digest: string;
  mediaType: string;
  size: number;
}

/**
 * Pull events for webhooks. A manifest GET is the hottest request Wharf serves and changes
 * nothing, so it gets no audit row: when no webhook subscribes to pulls of its repository (an
 * in-memory check) it costs nothing; otherwise the pull is noted in memory and written as
 * deliveries every second in one statement. A crash can lose the last second of pull events,
 * never a change's.
 */
@Injectable()
export class PullNotifier implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('PullNotifier');
  private readonly source: EventSource;
  private listeners: WebhookRow[] = [];
  /** Pulls noted since the last flush, each with the webhooks it goes to. */
  private pending: { facts: EventFacts; targets: WebhookRow[] }[] = [];
  private timers: NodeJS.Timeout[] = [];
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly webhooks: WebhookQueries,
    private readonly deliveries: WebhookDeliveryQueries,
    private readonly actors: ActorContext,
    private readonly config: WharfConfig,
  ) {
    this.source = thisSource(config.port);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.refresh().catch(() => undefined);
    this.timers = [setInterval(() => void this.refresh().catch(() => undefined), REFRESH_MS), setInterval(() => void this.flush(), FLUSH_MS)];
    for (const timer of this.timers) timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    await this.flush();
  }

  /** Re-reads which webhooks subscribe to pulls. */
  async refresh(): Promise<void> {
    this.listeners = (await this.webhooks.list()).filter((webhook) => webhook.events.includes('pull'));
  }

  /** Notes a pull if a webhook wants it; who pulled is read from the request now, while it is there. */
  pulled(pull: Pull): void {
    if (this.listeners.length === 0) return;
    const at = new Date();
    const targets = subscribers(this.listeners, 'pull', pull.repository, at);
    if (targets.length === 0) return;
    const actor = this.actors.current();
    const facts: EventFacts = {
      at,
      action: 'pull',
      username: actor?.username ?? null,
      address: actor?.address ?? null,
      requestId: actor?.requestId ?? null,
      request: actor ? requestOf(actor) : {},
      repository: pull.repository,
      image: pull.image,
      tag: pull.tag ?? null,
      digest: pull.digest,
      details: { mediaType: pull.mediaType, size: pull.size },
    };
    this.pending.push({ facts, targets });
    if (this.pending.length >= MAX_PENDING) void this.flush();
  }

  /** Writes the pulls noted so far as deliveries. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const pulls = this.pending;
      this.pending = [];
      if (pulls.length === 0) return;
      const deliveries: NewDelivery[] = [];
      for (const { facts, targets } of pulls) {
        const event = envelopeEvent(randomUUID(), 'pull', facts, this.source, this.config.publicUrl);
        for (const webhook of targets) deliveries.push({ webhookId: webhook.id, event: 'pull', eventId: event.id, auditId: null, payload: event });
      }
      await this.deliveries
        .insert(deliveries, RETRY_WINDOW_SECONDS)
        .catch((err) => this.logger.warn({ msg: 'pull events not recorded', pulls: pulls.length, error: (err as Error).message }));
    });
    return this.flushing;
  }
}
