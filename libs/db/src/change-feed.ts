import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { Db } from './db';

export type ChangeTopic = 'repositories' | 'security' | 'tags';
const TOPICS: readonly ChangeTopic[] = ['repositories', 'security', 'tags'];
const CHANNEL = 'wharf_changes';
const RECONNECT_MS = 1_000;

export const CHANGE_FEED_OPTIONS = Symbol('CHANGE_FEED_OPTIONS');
export interface ChangeFeedOptions {
  url: string;
  /** Whether other instances may share the database: then changes travel by LISTEN/NOTIFY. */
  shared: boolean;
}

/**
 * Tells in-memory caches that rows they copied have changed, in this instance and, through
 * Postgres LISTEN/NOTIFY, in every other instance on the same database. While the listening
 * connection is down the feed is not `reliable` and caches read through to the database.
 */
@Injectable()
export class ChangeFeed implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('ChangeFeed');
  private readonly listeners = new Map<ChangeTopic, Array<() => void>>();
  private client?: Client;
  private readonly abandoned = new WeakSet<Client>();
  private listening = false;
  private stopped = false;

  constructor(
    @Inject(CHANGE_FEED_OPTIONS) private readonly options: ChangeFeedOptions,
    @InjectDataSource() private readonly db: DataSource,
    @Inject(Db) private readonly transactions: Pick<Db, 'afterTransaction'>,
  ) {}

  /** Whether a cache may trust that it hears of every change. */
  get reliable(): boolean {
    return !this.options.shared || this.listening;
  }

  on(topic: ChangeTopic, listener: () => void): void {
    this.listeners.set(topic, [...(this.listeners.get(topic) ?? []), listener]);
  }

  /**
   * Call after the change is committed, so no instance can reload the old rows afterwards.
   * Called inside a transaction (a change made together with its audit record), this instance's
   * caches are emptied at once, so reads in the transaction see its writes, and everything is
   * told again once the transaction has ended: a copy loaded meanwhile may hold either side.
   */
  async publish(topic: ChangeTopic): Promise<void> {
    this.deliver(topic);
    if (this.transactions.afterTransaction(() => this.publish(topic))) return;
    if (this.options.shared) await this.db.query('SELECT pg_notify($1, $2)', [CHANNEL, topic]);
  }

  async onModuleInit(): Promise<void> {
    if (this.options.shared) await this.listen();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    await this.client?.end().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    const client = new Client({ connectionString: this.options.url });
    client.on('notification', (message) => {
      if (TOPICS.includes(message.payload as ChangeTopic)) this.deliver(message.payload as ChangeTopic);
    });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      this.client = client;
      this.listening = true;
      // Whatever changed while nobody listened is unknown: start from empty caches.
      TOPICS.forEach((topic) => this.deliver(topic));
    } catch (err) {
      this.lost(client, err as Error);
    }
  }

  private lost(client: Client, err?: Error): void {
    // 'error' and 'end' both report one loss: schedule one reconnect per client, not one per event.
    if (this.abandoned.has(client)) return;
    this.abandoned.add(client);
    this.listening = false;
    this.client = undefined;
    client.end().catch(() => undefined);
    if (this.stopped) return;
    this.logger.warn({ msg: 'change feed connection lost; caches bypassed until it is back', error: err?.message });
    setTimeout(() => void this.listen(), RECONNECT_MS).unref();
  }

  private deliver(topic: ChangeTopic): void {
    for (const listener of this.listeners.get(topic) ?? []) listener();
  }
}
