import 'reflect-metadata';
import cluster from 'node:cluster';
import { ConfigError, WharfConfig, loadConfig } from '@wharf/config';
import { DataDirLockedError, StorageUnusableError, describeStorage } from '@wharf/storage';
import { superviseWorkers } from './cluster/worker-supervisor';
import { JsonLogger } from './logging/json-logger';
import type { RunningWharf } from './bootstrap';

async function main(): Promise<void> {
  let config: WharfConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = new JsonLogger(config.logLevel);
  if (cluster.isPrimary) logger.log({ msg: 'Wharf starting', ...about(config) }, 'Wharf');
  if (config.workers > 1 && cluster.isPrimary) {
    process.exitCode = await superviseWorkers({ workers: config.workers, shutdownGraceSeconds: config.shutdownGraceSeconds, logger, about: about(config) });
    logger.log({ msg: 'Wharf stopped' }, 'Wharf');
    return;
  }
  // Loaded here, not at the top: the primary of a multi-process Wharf never needs the
  // application, and importing it added ~60 MiB (measured) to a process that only supervises.
  const { startWharf, EmbeddedDatabaseUnreadableError, ServerKeyMismatchError } = await import('./bootstrap');
  let wharf: RunningWharf;
  try {
    wharf = await startWharf(config, logger);
  } catch (err) {
    // These say what happened and what to do; a stack trace would only bury that.
    if (err instanceof DataDirLockedError) fail(2, err.message);
    if (err instanceof StorageUnusableError) fail(2, err.message);
    if (err instanceof ServerKeyMismatchError) fail(2, err.message);
    if (err instanceof EmbeddedDatabaseUnreadableError) fail(1, err.message);
    throw err;
  }
  stopOnSignals(wharf, logger);
  if (cluster.isWorker) {
    // The primary announces the service once all workers listen. Without it this worker gets
    // no more connections: it finishes what it has and goes.
    process.once('disconnect', () => void wharf.close().finally(() => process.exit(0)));
    return;
  }
  logger.announce({ msg: `Wharf listening on ${wharf.address}`, ...about(config) }, 'Wharf');
}

/**
 * SIGTERM/SIGINT: finish in-flight requests (within the grace period), close the embedded
 * database, release the data directory, exit 0. A repeated signal changes nothing: a worker
 * gets SIGINT from the terminal and SIGTERM from its primary, and must not be cut short.
 */
function stopOnSignals(wharf: RunningWharf, logger: JsonLogger): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.log({ msg: `Wharf stopping (${signal})` }, 'Wharf');
    wharf.close().then(
      () => {
        logger.log({ msg: 'Wharf stopped' }, 'Wharf');
        process.exit(0);
      },
      (err) => {
        logger.error({ msg: 'Wharf failed to stop cleanly', error: err instanceof Error ? err.message : String(err) }, 'Wharf');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

function about(config: WharfConfig): Record<string, unknown> {
  return {
    dataDir: config.dataDir,
    database: config.databaseUrl ? 'postgres' : 'embedded',
    databaseAt: databaseAt(config),
    storage: config.storage,
    storageAt: describeStorage(config),
    workers: config.workers,
  };
}

/** Where the data is, without credentials: the embedded database's directory, or Postgres's host/database. */
function databaseAt(config: WharfConfig): string {
  if (!config.databaseUrl) return config.embeddedDatabaseDir;
  const url = new URL(config.databaseUrl);
  return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
}

function fail(code: number, message: string): never {
  process.stderr.write(`Wharf cannot start: ${message}\n`);
  process.exit(code);
}

main().catch((err) => {
  process.stderr.write(`Wharf failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
