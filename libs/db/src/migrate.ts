import { DataSource } from 'typeorm';

/** Any fixed 64-bit key ("WharfMig"); it only has to differ from other advisory locks on the database. */
const MIGRATION_LOCK_KEY = 0x57686172664d6967n.toString();

/**
 * Applies pending migrations. With a shared database it holds a Postgres advisory lock while
 * doing so: instances (or worker processes) starting at once take turns, and the later ones
 * find nothing left to apply. TypeORM alone would let them all create the same tables, fail
 * and retry. The embedded database belongs to one process: no lock needed.
 */
export async function migrate(dataSource: DataSource, options: { shared: boolean }): Promise<void> {
  if (!options.shared) {
    await dataSource.runMigrations({ transaction: 'all' });
    return;
  }
  const lock = dataSource.createQueryRunner();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await dataSource.runMigrations({ transaction: 'all' });
  } finally {
    // Releasing the connection's session ends the lock even if the unlock query fails.
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.release();
  }
}
