import { Injectable, Logger } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { ClsService } from 'nestjs-cls';
import { EntityManager, EntityTarget, ObjectLiteral, Repository } from 'typeorm';

/** Where the outermost transaction of a context keeps what is to run once it has ended. */
const AFTER_TRANSACTION = Symbol('wharf:after-transaction');

/**
 * The database as query classes see it: the transaction open in the caller's async context
 * (carried by @nestjs-cls/transactional), else the shared pool. A service opens a transaction
 * with `transaction(fn)` and every query it calls inside joins it, with no manager threaded
 * through the calls.
 */
@Injectable()
export class Db {
  private readonly logger = new Logger('Db');

  constructor(
    private readonly host: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly cls: ClsService,
  ) {}

  /** The transaction's manager, or the pool's. */
  get manager(): EntityManager {
    return this.host.tx;
  }

  getRepository<Entity extends ObjectLiteral>(target: EntityTarget<Entity>): Repository<Entity> {
    return this.host.tx.getRepository(target);
  }

  query<T = any>(sql: string, parameters?: unknown[]): Promise<T> {
    return this.host.tx.query(sql, parameters);
  }

  /**
   * Runs `fn` in a transaction, or inside the one already open (nested calls join it). `fn`
   * receives the transaction's manager for code that wants it explicitly.
   */
  async transaction<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (this.host.isTransactionActive()) return this.host.withTransaction(() => fn(this.host.tx));
    const after: Array<() => Promise<unknown> | unknown> = [];
    try {
      return await this.cls.run({ ifNested: 'inherit' }, () => {
        this.cls.set(AFTER_TRANSACTION, after);
        return this.host.withTransaction(() => fn(this.host.tx));
      });
    } finally {
      for (const callback of after) {
        try {
          await callback();
        } catch (err) {
          this.logger.warn({ msg: 'a step after a transaction failed', error: (err as Error).message });
        }
      }
    }
  }

  /**
   * Queues `callback` to run once the transaction open in this context has ended, committed or
   * rolled back; false (and nothing queued) when none is open. For what must not happen inside
   * it: telling other instances about a change they could not see yet, or recording a refusal
   * that the transaction's rollback would take back.
   */
  afterTransaction(callback: () => Promise<unknown> | unknown): boolean {
    if (!this.host.isTransactionActive()) return false;
    const queue = this.cls.get<Array<() => unknown> | undefined>(AFTER_TRANSACTION);
    if (!queue) return false;
    queue.push(callback);
    return true;
  }
}
