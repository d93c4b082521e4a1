import { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../../migrations';
import { ENTITIES } from './entities';

/**
 * TypeORM options of the server. Migrations run at boot, from `migrate` (under a lock when
 * the database is shared); `synchronize` is never used. The embedded database serves its
 * connections a transaction at a time.
 */
export function buildDataSourceOptions(url: string, options: { poolSize?: number } = {}): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: false,
    migrationsTransactionMode: 'all',
    synchronize: false,
    logging: ['error'],
    extra: { max: options.poolSize ?? 10 },
  };
}
