import { Injectable } from '@nestjs/common';
import { Db } from '../db';
import { AuditQueries } from '../queries/audit.queries';
import { AuditAction, WEBHOOK_EVENT_OF } from './audit-actions';
import { ActorContext, RequestActor } from './actor-context';

/** What happened; who, from where and under which request come from the actor in context. */
export interface AuditEvent {
  action: AuditAction;
  /** A repository key. */
  repository?: string;
  image?: string;
  tag?: string;
  digest?: string;
  /** The rest, for people reading the log: never a secret. */
  details?: Record<string, unknown>;
  /** The user the row names instead of the actor's: the name a failed login tried. */
  username?: string;
}

const MAX_USERNAME = 255;

/**
 * Writes the audit log. A row joins the transaction open in the caller's context, so it is
 * committed with the change it records, or not at all: one INSERT more in a push's transaction
 * instead of a queue that a crash could lose. Events that change nothing (a failed login, a
 * refusal for quota) are written on their own. Rows of events webhooks can subscribe to are
 * marked pending: they are the webhooks' outbox.
 */
@Injectable()
export class AuditTrail {
  constructor(
    private readonly db: Db,
    private readonly queries: AuditQueries,
    private readonly actors: ActorContext,
  ) {}

  record(event: AuditEvent): Promise<void> {
    const actor = this.actors.current();
    const username = event.username ?? actor?.username;
    return this.queries.insert({
      action: event.action,
      // Attempted names come straight from clients: Postgres text holds no NUL, and a name has no use for megabytes.
      username: username === undefined ? null : username.replaceAll('\0', '\uFFFD').slice(0, MAX_USERNAME),
      tokenId: actor?.tokenId ?? null,
      address: actor?.address?.slice(0, 64) ?? null,
      requestId: actor?.requestId ?? null,
      request: actor ? requestOf(actor) : null,
      repository: event.repository ?? null,
      image: event.image ?? null,
      tag: event.tag ?? null,
      digest: event.digest ?? null,
      details: event.details ?? {},
      // The outbox of webhook deliveries: committed with the change, fanned out by the dispatcher.
      webhookPending: WEBHOOK_EVENT_OF[event.action] !== undefined,
    });
  }

  /**
   * Makes `change` and the rows `describe` derives from its result in one transaction: both or
   * neither. `describe` may answer nothing (the change turned out to change nothing).
   */
  recorded<T>(change: () => Promise<T>, describe: (result: T) => AuditEvent | AuditEvent[] | undefined): Promise<T> {
    return this.db.transaction(async () => {
      const result = await change();
      for (const event of [describe(result) ?? []].flat()) await this.record(event);
      return result;
    });
  }

  /**
   * Records a refusal made inside a transaction that its rollback would take back: once that
   * transaction has ended (at once when none is open).
   */
  async recordAfterTransaction(event: AuditEvent): Promise<void> {
    const record = () => this.record(event);
    if (!this.db.afterTransaction(record)) await record();
  }
}

/** What of the actor's request the audit row and a webhook event carry (NULs out, each field at most 1 KiB). */
export function requestOf(actor: RequestActor): Record<string, string> {
  const request: Record<string, string> = {};
  for (const key of ['method', 'host', 'userAgent', 'origin'] as const) {
    const value = actor[key];
    if (value) request[key] = value.replaceAll('\0', '').slice(0, 1024);
  }
  return request;
}
