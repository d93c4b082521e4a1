import { Injectable } from '@nestjs/common';
import { Db } from '../db';
import { countRows, returnedRows } from './count-rows';

export interface WebhookRow {
  id: string;
  name: string;
  url: string;
  events: string[];
  /** Repository keys or `*` patterns. */
  repositories: string[];
  /** The signing secret, sealed with the server key. */
  secretSealed: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface WebhookValues {
  url: string;
  events: string[];
  repositories: string[];
  /** Undefined keeps the secret a webhook has. */
  secretSealed?: string;
}

const COLUMNS = `id, name, url, events, repositories, secret_sealed AS "secretSealed", created_at AS "createdAt", updated_at AS "updatedAt"`;

/** Webhook definitions (a handful of rows: read whole). */
@Injectable()
export class WebhookQueries {
  constructor(private readonly db: Db) {}

  list(): Promise<WebhookRow[]> {
    return this.db.query(`SELECT ${COLUMNS} FROM webhooks ORDER BY name`);
  }

  async findByName(name: string): Promise<WebhookRow | null> {
    const rows = await this.db.query(`SELECT ${COLUMNS} FROM webhooks WHERE name = $1`, [name]);
    return rows[0] ?? null;
  }

  /**
   * Creates or replaces the named webhook; whether it was created. Without `secretSealed` only an
   * existing webhook is replaced (keeping its secret): null when there is none.
   */
  async upsert(name: string, values: WebhookValues): Promise<{ created: boolean; webhook: WebhookRow } | null> {
    if (values.secretSealed === undefined) {
      const rows = await this.db.query(`UPDATE webhooks SET url = $2, events = $3, repositories = $4, updated_at = now() WHERE name = $1 RETURNING ${COLUMNS}`, [
        name,
        values.url,
        values.events,
        values.repositories,
      ]);
      const webhook = returnedRows<WebhookRow>(rows)[0];
      return webhook ? { created: false, webhook } : null;
    }
    const rows = await this.db.query(
      `INSERT INTO webhooks (name, url, events, repositories, secret_sealed) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (name) DO UPDATE SET url = EXCLUDED.url, events = EXCLUDED.events, repositories = EXCLUDED.repositories,
         secret_sealed = EXCLUDED.secret_sealed, updated_at = now()
       RETURNING ${COLUMNS}, (xmax = 0) AS created`,
      [name, values.url, values.events, values.repositories, values.secretSealed],
    );
    const { created, ...webhook } = rows[0];
    return { created, webhook };
  }

  /** Deletes the webhook with its delivery log; whether there was one. */
  async delete(name: string): Promise<boolean> {
    return countRows(await this.db.query(`DELETE FROM webhooks WHERE name = $1 RETURNING id`, [name])) > 0;
  }

  /** Whether any webhook subscribes to `event`. */
  async anySubscribes(event: string): Promise<boolean> {
    const rows = await this.db.query(`SELECT EXISTS (SELECT 1 FROM webhooks WHERE $1 = ANY(events)) AS any`, [event]);
    return rows[0].any;
  }
}
