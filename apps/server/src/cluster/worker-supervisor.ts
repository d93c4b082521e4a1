import cluster, { Worker } from 'node:cluster';
import { UploadHashingHub } from '@wharf/storage';
import { JsonLogger } from '../logging/json-logger';
import { MetricsHub } from './metrics-hub';

/** Crashes in this window beyond this count stop the restarts: something is wrong for good. */
const CRASH_WINDOW_MS = 60_000;
const MAX_CRASHES_IN_WINDOW = 5;
const RESTART_DELAY_MS = 1_000;

export interface SupervisorOptions {
  workers: number;
  /** How long workers get to finish their requests on SIGTERM before they are killed. */
  shutdownGraceSeconds: number;
  logger: JsonLogger;
  /** Fields for the line announcing that Wharf is up. */
  about: Record<string, unknown>;
}

/**
 * The primary process of a multi-process Wharf (WHARF_WORKERS > 1). It serves no requests: it
 * forks the workers, each a whole Wharf on the shared port (Node's cluster hands them the
 * connections in turn), replaces a worker that crashes, and stops them all on SIGTERM/SIGINT.
 * It hosts the uploads' hashing for all workers, so an upload whose chunks arrive at different
 * workers is hashed once, and answers a worker's /metrics with the figures of all workers
 * (MetricsHub). Workers migrate the database under a lock (see `migrate`), so they may start
 * together.
 *
 * Resolves with the exit code the primary should end with: 0 after a requested stop, 1 when
 * a worker failed before the service was up, or crashed too often.
 */
export function superviseWorkers(options: SupervisorOptions): Promise<number> {
  const { logger } = options;
  const crashes: number[] = [];
  let up = false;
  let stopping = false;
  let listening = 0;

  const hashing = new UploadHashingHub(options.workers);
  cluster.on('fork', (worker) => hashing.serve(worker));
  const metrics = new MetricsHub();
  cluster.on('fork', (worker) => metrics.serve(worker));

  return new Promise<number>((resolve) => {
    const finish = (code: number) => {
      const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead());
      if (alive.length === 0) return void hashing.close().finally(() => resolve(code));
      cluster.once('exit', () => finish(code));
    };
    const stopAll = (code: number) => {
      if (stopping) return;
      stopping = true;
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);
      for (const worker of workers) worker.process.kill('SIGTERM');
      // A worker that does not finish in its grace period (plus its own shutdown) is killed.
      setTimeout(() => workers.forEach((w) => w.isDead() || w.process.kill('SIGKILL')), (options.shutdownGraceSeconds + 10) * 1000).unref();
      finish(code);
    };

    cluster.on('listening', (worker, address) => {
      if (up) return void logger.log({ msg: `worker ${worker.process.pid} replaced a crashed one` }, 'Cluster');
      if (++listening < options.workers) return;
      up = true;
      const host = address.address?.includes(':') ? `[${address.address}]` : address.address;
      logger.announce({ msg: `Wharf listening on ${host}:${address.port} with ${options.workers} worker processes`, ...options.about }, 'Cluster');
    });

    cluster.on('exit', (worker, code, signal) => {
      if (stopping) return;
      const how = signal ? `signal ${signal}` : `code ${code}`;
      if (!up) {
        logger.error({ msg: `worker ${worker.process.pid} exited (${how}) before Wharf was up; stopping` }, 'Cluster');
        return stopAll(1);
      }
      const now = Date.now();
      crashes.push(now);
      while (crashes[0] < now - CRASH_WINDOW_MS) crashes.shift();
      if (crashes.length > MAX_CRASHES_IN_WINDOW) {
        logger.error({ msg: `${crashes.length} workers crashed within ${CRASH_WINDOW_MS / 1000} s; stopping` }, 'Cluster');
        return stopAll(1);
      }
      logger.error({ msg: `worker ${worker.process.pid} exited (${how}); starting another` }, 'Cluster');
      setTimeout(() => stopping || cluster.fork(), RESTART_DELAY_MS);
    });

    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => stopAll(0));
    for (let i = 0; i < options.workers; i++) cluster.fork();
  });
}
