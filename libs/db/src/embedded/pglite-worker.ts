import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { CREATE_ARG, FromCreator, FromWorker, SERVE_ROLE, ToWorker, serializeError } from './protocol';
import { StatementCache } from './statement-cache';
import { WireBackend, WireServer } from './wire-server';

/**
 * The embedded database's side of EmbeddedDatabase: PGlite and its Postgres wire-protocol
 * server (wire-server.ts), in a worker thread of their own, so PGlite's WebAssembly runs beside
 * Wharf's event loop instead of on it. The same file also runs as a short-lived child process that only
 * creates a new database (initdb): creating one leaves hundreds of MiB behind in the process
 * that did it (measured: 745 against 276 MiB resident for the same database opened again, and
 * still ~190 MiB after a worker thread that created it had ended), and a process that ends
 * gives all of it back.
 *
 * Only Node built-ins, the PGlite packages and files of this directory are imported: the built
 * file is loaded on its own, without the application's path aliases.
 */

/**
 * Postgres settings on PGlite's command line (they win over the data directory's
 * postgresql.conf). Postgres touches all of its shared memory at start: PGlite's default
 * 128 MB of shared_buffers stayed resident, used or not (151 MiB of the WebAssembly memory
 * resident, against 29 MiB with 16 MB; measured). Wharf's tables are small, the operating
 * system's page cache holds what the buffers do not, and PGlite has a single backend, so
 * max_connections (which sizes the shared lock and process tables) can be small too.
 */
export const POSTGRES_SETTINGS = ['shared_buffers=16MB', 'max_connections=8'];

async function open(dataDir: string) {
  const { PGlite } = await import('@electric-sql/pglite');
  return PGlite.create({ dataDir, startParams: [...PGlite.defaultStartParams, ...POSTGRES_SETTINGS.flatMap((setting) => ['-c', setting])] });
}

async function serve(dataDir: string): Promise<void> {
  const port = parentPort!;
  const post = (message: FromWorker) => port.postMessage(message);
  let db: Awaited<ReturnType<typeof open>>;
  try {
    db = await open(dataDir);
  } catch (err) {
    post({ type: 'failed', phase: 'open', error: serializeError(err) });
    return;
  }
  const backend: WireBackend = {
    // Without syncToFs the call completes synchronously: NodeFS writes through to the files itself.
    run: (messages, onData) => db.execProtocolRawStream(messages, { syncToFs: false, onRawData: onData }),
    inTransaction: () => db.isInTransaction(),
  };
  const server = new WireServer(
    backend,
    (err) => {
      // PGlite threw instead of answering (a WebAssembly abort): nothing it holds can be trusted.
      // Thrown out of the thread, this ends it, and Wharf hears of it.
      setImmediate(() => {
        throw err;
      });
    },
    new StatementCache(),
  );
  const address = await server.listen('127.0.0.1');
  post({ type: 'listening', host: address.address, port: address.port });

  port.on('message', (message: ToWorker) => {
    if (message.type !== 'close') return;
    void (async () => {
      try {
        await server.close();
        await db.close();
        post({ type: 'closed' });
      } catch (err) {
        post({ type: 'failed', phase: 'close', error: serializeError(err) });
      }
      // Nothing else holds the thread: it ends once its port is closed.
      port.close();
    })();
  });
}

/** The child process: creates the database (PGlite runs initdb), closes it and exits 0; or says why over IPC and exits 1. */
async function create(dataDir: string): Promise<void> {
  // Its parent gone (even by SIGKILL, which closes the IPC channel), nobody waits for the database.
  process.on('disconnect', () => process.exit(1));
  try {
    const db = await open(dataDir);
    await db.close();
    process.exit(0);
  } catch (err) {
    process.send!({ type: 'failed', error: serializeError(err) } satisfies FromCreator, () => process.exit(1));
  }
}

if (!isMainThread && workerData?.role === SERVE_ROLE) {
  void serve(workerData.dataDir);
} else if (isMainThread && process.argv[2] === CREATE_ARG && process.argv[3] && process.send) {
  void create(process.argv[3]);
}
