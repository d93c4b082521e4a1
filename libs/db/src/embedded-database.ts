import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { EmbeddedDatabaseUnreadableError } from './embedded-database-unreadable.error';

/**
 * The embedded default: PGlite (Postgres compiled to WASM) in-process, served over the
 * Postgres wire protocol on a loopback port so the same `pg` driver, the same entities and
 * the same migrations run unchanged. PGlite serves one connection at a time.
 */
export class EmbeddedDatabase {
  private constructor(
    readonly url: string,
    private readonly stopServer: () => Promise<void>,
  ) {}

  static async start(dataDir: string): Promise<EmbeddedDatabase> {
    await fs.mkdir(dataDir, { recursive: true });
    // Both packages ship ESM first; load them lazily so the Postgres path never pays for WASM.
    const { PGlite } = await import('@electric-sql/pglite');
    const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
    // A failure to create a new database is not a damaged one.
    const existing = await fs.access(path.join(dataDir, 'PG_VERSION')).then(
      () => true,
      () => false,
    );
    const db = await PGlite.create({ dataDir }).catch((err) => {
      throw existing ? new EmbeddedDatabaseUnreadableError(dataDir, err) : err;
    });
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
    await server.start();
    const url = `postgres://postgres@${server.getServerConn()}/postgres`;
    return new EmbeddedDatabase(url, async () => {
      await server.stop();
      await db.close();
    });
  }

  stop(): Promise<void> {
    return this.stopServer();
  }
}
