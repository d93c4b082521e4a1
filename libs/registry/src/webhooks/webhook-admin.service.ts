import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { Principal, SecretBox, assertSecurityName, checkRepositoryPatterns, requireAdmin } from '@wharf/auth';
import { WharfConfig } from '@wharf/config';
import { AuditTrail, DeliveryRow, DeliveryStatus, WEBHOOK_EVENTS, WebhookDeliveryQueries, WebhookEvent, WebhookQueries, WebhookRow } from '@wharf/db';
import { PullNotifier } from './pull-notifier';
import { RETRY_WINDOW_SECONDS } from './webhook-dispatcher';
import { urlProblem } from './webhook-target-policy';

export const WEBHOOK_SECRET_MIN_LENGTH = 16;
export const WEBHOOK_SECRET_MAX_LENGTH = 1024;
export const DELIVERY_PAGE_DEFAULT = 50;
export const DELIVERY_PAGE_MAX = 500;

/** The body of PUT /api/webhooks/{name}. */
export interface WebhookDefinition {
  url: string;
  events: string[];
  /** Repository keys or `*` patterns; absent: every repository. */
  repositories?: string[];
  /** Signs every delivery; needed to create, kept when a replacement leaves it out. */
  secret?: string;
}

/** A webhook as the API shows it: never its secret. */
export interface WebhookView {
  name: string;
  url: string;
  events: WebhookEvent[];
  repositories: string[];
  createdAt: string;
  updatedAt: string;
}

export interface DeliveryView {
  id: string;
  event: string;
  eventId: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string | null;
  retryUntil: string;
  lastStatus: number | null;
  lastError: string | null;
  lastAttemptAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
  /** The envelope sent: `{"events": [payload]}`. */
  payload: unknown;
}

export interface DeliveryPage {
  deliveries: DeliveryView[];
  next: string | null;
}

/**
 * Webhooks, for admins: definitions (the secret stored sealed with the server key, like remote
 * repositories' upstream passwords, and never shown again), and each one's delivery log with a
 * way to send a delivery again.
 */
@Injectable()
export class WebhookAdminService {
  constructor(
    private readonly webhooks: WebhookQueries,
    private readonly deliveries: WebhookDeliveryQueries,
    private readonly secrets: SecretBox,
    private readonly audit: AuditTrail,
    private readonly pulls: PullNotifier,
    private readonly config: WharfConfig,
  ) {}

  async list(principal: Principal): Promise<WebhookView[]> {
    requireAdmin(principal, 'list webhooks');
    return (await this.webhooks.list()).map(view);
  }

  async get(principal: Principal, name: string): Promise<WebhookView> {
    requireAdmin(principal, 'read webhooks');
    return view(await this.find(name));
  }

  /** Creates or replaces the whole webhook (a replacement may leave the secret out to keep it); `created` tells which. */
  async replace(principal: Principal, name: string, definition: WebhookDefinition): Promise<{ created: boolean; webhook: WebhookView }> {
    requireAdmin(principal, 'change webhooks');
    assertSecurityName('webhook', name);
    const problem = urlProblem(definition.url, this.config.webhookAllowPrivate);
    if (problem) throw new BadRequestException(`url ${problem}`);
    const events = checkEvents(definition.events);
    const repositories = checkRepositoryPatterns(definition.repositories ?? ['*'], 'repositories');
    if (definition.secret !== undefined) checkSecret(definition.secret);
    const values = { url: definition.url, events, repositories, secretSealed: definition.secret === undefined ? undefined : this.secrets.encrypt(definition.secret) };
    const saved = await this.audit.recorded(
      () => this.webhooks.upsert(name, values),
      (saved) =>
        saved
          ? {
              action: 'webhook.saved',
              // The URL's origin only: receivers' URLs often carry a token in their path.
              details: { webhook: name, created: saved.created, target: new URL(definition.url).origin, events, repositories, secretChanged: definition.secret !== undefined },
            }
          : undefined,
    );
    // Without a secret only an existing webhook is replaced.
    if (!saved) throw new BadRequestException('secret is required to create a webhook: every delivery is signed with it');
    await this.pulls.refresh();
    return { created: saved.created, webhook: view(saved.webhook) };
  }

  async delete(principal: Principal, name: string): Promise<void> {
    requireAdmin(principal, 'delete webhooks');
    const deleted = await this.audit.recorded(
      () => this.webhooks.delete(name),
      (deleted) => (deleted ? { action: 'webhook.deleted', details: { webhook: name } } : undefined),
    );
    if (!deleted) throw new NotFoundException(`webhook ${name} not found`);
    await this.pulls.refresh();
  }

  /** The webhook's deliveries, newest first, a page at a time. */
  async deliveryLog(principal: Principal, name: string, query: { status?: DeliveryStatus; before?: string; limit?: number }): Promise<DeliveryPage> {
    requireAdmin(principal, 'read webhook deliveries');
    const webhook = await this.find(name);
    const limit = query.limit ?? DELIVERY_PAGE_DEFAULT;
    const rows = await this.deliveries.list(webhook.id, { status: query.status, before: query.before, limit: limit + 1 });
    const deliveries = rows.slice(0, limit).map(deliveryView);
    return { deliveries, next: rows.length > limit ? deliveries[deliveries.length - 1].id : null };
  }

  async delivery(principal: Principal, name: string, id: string): Promise<DeliveryView> {
    requireAdmin(principal, 'read webhook deliveries');
    const row = await this.deliveries.find((await this.find(name)).id, id);
    if (!row) throw new NotFoundException(`webhook ${name} has no delivery ${id}`);
    return deliveryView(row);
  }

  /** Sends a delivery again, whatever became of it: due at once, with a fresh day of retries. */
  async redeliver(principal: Principal, name: string, id: string): Promise<DeliveryView> {
    requireAdmin(principal, 'redeliver webhook deliveries');
    const row = await this.deliveries.redeliver((await this.find(name)).id, id, RETRY_WINDOW_SECONDS);
    if (!row) throw new NotFoundException(`webhook ${name} has no delivery ${id}`);
    return deliveryView(row);
  }

  private async find(name: string): Promise<WebhookRow> {
    const webhook = await this.webhooks.findByName(name);
    if (!webhook) throw new NotFoundException(`webhook ${name} not found`);
    return webhook;
  }
}

function checkEvents(events: string[]): WebhookEvent[] {
  if (!Array.isArray(events) || events.length === 0) throw new BadRequestException(`events must name at least one of ${WEBHOOK_EVENTS.join(', ')}`);
  const unknown = events.filter((event) => !(WEBHOOK_EVENTS as readonly string[]).includes(event));
  if (unknown.length) throw new BadRequestException(`events: unknown ${unknown.map((e) => `"${String(e).slice(0, 40)}"`).join(', ')}; events are ${WEBHOOK_EVENTS.join(', ')}`);
  return WEBHOOK_EVENTS.filter((event) => events.includes(event));
}

function checkSecret(secret: string): void {
  if (typeof secret !== 'string' || secret.length < WEBHOOK_SECRET_MIN_LENGTH || secret.length > WEBHOOK_SECRET_MAX_LENGTH) {
    throw new BadRequestException(`secret must be ${WEBHOOK_SECRET_MIN_LENGTH} to ${WEBHOOK_SECRET_MAX_LENGTH} characters (for example: openssl rand -hex 32)`);
  }
}

function view(webhook: WebhookRow): WebhookView {
  return {
    name: webhook.name,
    url: webhook.url,
    events: webhook.events as WebhookEvent[],
    repositories: webhook.repositories,
    createdAt: webhook.createdAt.toISOString(),
    updatedAt: webhook.updatedAt.toISOString(),
  };
}

function deliveryView(row: DeliveryRow): DeliveryView {
  return {
    id: row.id,
    event: row.event,
    eventId: row.eventId,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.nextAttemptAt?.toISOString() ?? null,
    retryUntil: row.retryUntil.toISOString(),
    lastStatus: row.lastStatus,
    lastError: row.lastError,
    lastAttemptAt: row.lastAttemptAt?.toISOString() ?? null,
    deliveredAt: row.deliveredAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    payload: row.payload,
  };
}
