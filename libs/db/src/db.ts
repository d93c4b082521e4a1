import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { EntityManager, EntityTarget, ObjectLiteral, Repository } from 'typeorm';

/**
 * The database as query classes see it: the transaction open in the caller's async context
 * (carried by @nestjs-cls/transactional), else the shared pool. A service opens a transaction
 * with `transaction(fn)` and every query it calls inside joins it, with no manager threaded
 * through the calls.
 */
@Injectable()
export class Db {
  constructor(private readonly host: TransactionHost<TransactionalAdapterTypeOrm>) {}

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
  transaction<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.host.withTransaction(() => fn(this.host.tx));
  }
}
