import 'reflect-metadata';
import cluster from 'node:cluster';
import { ConfigError, WharfConfig, loadConfig } from '@wharf/config';
import { superviseWorkers } from './cluster/worker-supervisor';
import { JsonLogger } from './logging/json-logger';

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
  if (config.workers > 1 && cluster.isPrimary) {
    process.exitCode = await superviseWorkers({ workers: config.workers, shutdownGraceSeconds: config.shutdownGraceSeconds, logger, about: about(config) });
    return;
  }
  // Loaded here, not at the top: the primary of a multi-process Wharf never needs the
  // application, and importing it added ~60 MiB (measured) to a process that only supervises.
  const { startWharf } = await import('./bootstrap');
  const wharf = await startWharf(config);
  if (cluster.isWorker) {
    // The primary announces the service once all workers listen. Without it this worker gets
    // no more connections: it finishes what it has and goes.
    process.once('disconnect', () => void wharf.close().finally(() => process.exit(0)));
    return;
  }
  logger.announce({ msg: `Wharf listening on ${wharf.address}`, ...about(config) }, 'Wharf');
}

function about(config: WharfConfig): Record<string, unknown> {
  return { dataDir: config.dataDir, database: config.databaseUrl ? 'postgres' : 'embedded', workers: config.workers };
}

main().catch((err) => {
  process.stderr.write(`Wharf failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
