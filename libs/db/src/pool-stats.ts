import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

export interface PoolUse {
  /** Connections open (idle or running a query). */
  total: number;
  idle: number;
  /** Queries waiting for a connection: a pool too small for the load. */
  waiting: number;
  /** The most connections the pool opens. */
  max: number;
}

/** This process's database connection pool as it stands (pg's pool, under TypeORM's driver). */
@Injectable()
export class PoolStats {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  read(): PoolUse {
    const pool = (this.dataSource.driver as PostgresDriver).master as Pool | undefined;
    if (!pool) return { total: 0, idle: 0, waiting: 0, max: 0 };
    return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: pool.options.max ?? 0 };
  }
}
