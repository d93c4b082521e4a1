import { fork } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { EmbeddedDatabaseUnreadableError } from './embedded-database-unreadable.error';
import { CREATE_ARG, FromCreator, FromWorker, SERVE_ROLE, ToWorker, deserializeError } from './embedded/protocol';

export interface EmbeddedDatabaseOptions {
  /**
   * Called once if the database's thread ends on its own (a crash). Without it, Wharf says so
   * on stderr and exits 1: without its database it could only fail every request.
   */
  onCrash?: (err: Error) => void;
}

/** How long stop() waits for PGlite to close before it ends the thread anyway and says so. */
const CLOSE_TIMEOUT_MS = 60_000;

/**
 * The embedded default: PGlite (Postgres compiled to WASM) served over the Postgres wire
 * protocol on a loopback port, so the same `pg` driver, the same entities and the same
 * migrations run unchanged.
 *
 * PGlite runs in a worker thread (embedded/pglite-worker.ts) with its protocol server
 * (embedded/wire-server.ts): every query executes WebAssembly synchronously, which on Wharf's
 * own thread held up every request in flight meanwhile. PGlite has a single session: the server
 * lets several connections take turns on it, a whole transaction at a time, and prepares the
 * queries Wharf repeats (embedded/statement-cache.ts). A new database is created (initdb) by a
 * child process that then exits, taking the memory initdb leaves behind with it. Nothing of
 * PGlite is loaded into Wharf's thread, so the Postgres path never pays for it.
 */
export class EmbeddedDatabase {
  private stopping?: Promise<void>;
  private exited = false;

  private constructor(
    readonly url: string,
    private readonly worker: Worker,
    private readonly gone: Promise<void>,
  ) {}

  static async start(dataDir: string, options: EmbeddedDatabaseOptions = {}): Promise<EmbeddedDatabase> {
    await fs.mkdir(dataDir, { recursive: true });
    // A failure to create a new database is not a damaged one.
    const existing = await fs.access(path.join(dataDir, 'PG_VERSION')).then(
      () => true,
      () => false,
    );
    if (!existing) await create(dataDir);

    const worker = spawnThread(dataDir);
    const opened = await new Promise<FromWorker>((resolve, reject) => {
      const onMessage = (message: FromWorker) => {
        if (message.type === 'listening' || message.type === 'failed') settle(() => resolve(message));
      };
      const onError = (err: Error) => settle(() => reject(err));
      const onExit = (code: number) => settle(() => reject(new Error(`the embedded database's thread ended (exit code ${code}) before it listened`)));
      const settle = (then: () => void) => {
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
        then();
      };
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    }).catch(async (err) => {
      // The thread itself failed (before PGlite opened anything, or listening): not the files' fault.
      await worker.terminate();
      throw err;
    });
    if (opened.type !== 'listening') {
      await worker.terminate();
      const err = opened.type === 'failed' ? deserializeError(opened.error) : new Error(`unexpected ${opened.type}`);
      throw existing && opened.type === 'failed' && opened.phase === 'open' ? new EmbeddedDatabaseUnreadableError(dataDir, err) : err;
    }

    const gone = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    const db = new EmbeddedDatabase(`postgres://postgres@${opened.host}:${opened.port}/postgres`, worker, gone);
    const onCrash = options.onCrash ?? exitOnCrash;
    let failure: Error | undefined;
    worker.on('error', (err) => (failure ??= err));
    worker.once('exit', (code) => {
      db.exited = true;
      if (db.stopping) return;
      const reason = failure ? `${failure.name}: ${failure.message}` : `exit code ${code}`;
      onCrash(new Error(`the embedded database in ${dataDir} stopped unexpectedly (${reason})`, { cause: failure }));
    });
    return db;
  }

  /** Closes the protocol server and PGlite (flushing its data), and waits for the thread to end. */
  stop(): Promise<void> {
    this.stopping ??= this.close();
    return this.stopping;
  }

  private async close(): Promise<void> {
    if (this.exited) return;
    const answer = await within(
      CLOSE_TIMEOUT_MS,
      new Promise<FromWorker | undefined>((resolve) => {
        this.worker.on('message', (message: FromWorker) => {
          if (message.type === 'closed' || message.type === 'failed') resolve(message);
        });
        this.gone.then(() => resolve(undefined));
        this.worker.postMessage({ type: 'close' } satisfies ToWorker);
      }),
    );
    if (answer === TIMED_OUT) {
      await this.worker.terminate();
      throw new Error(`the embedded database did not close within ${CLOSE_TIMEOUT_MS / 1000} s`);
    }
    if (answer?.type === 'failed') {
      await this.worker.terminate();
      throw new Error(`closing the embedded database failed: ${answer.error.name}: ${answer.error.message}`);
    }
    // Closed: the thread ends on its own, and nothing it might have left running holds Wharf's exit up.
    if ((await within(5_000, this.gone)) === TIMED_OUT) await this.worker.terminate();
  }
}

const TIMED_OUT = Symbol('timed out');

async function within<T>(ms: number, promise: Promise<T>): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function exitOnCrash(err: Error): void {
  process.stderr.write(`Wharf cannot go on: ${err.message}\n`);
  process.exit(1);
}

/**
 * The worker's file beside this one: built JavaScript when Wharf runs from dist/, TypeScript
 * under ts-jest, which ts-node then compiles in the thread or child (they have no ts-jest).
 */
function workerEntry(): { file: string; typescript: boolean } {
  const extension = path.extname(__filename);
  return { file: path.join(__dirname, 'embedded', `pglite-worker${extension}`), typescript: extension === '.ts' };
}

function spawnThread(dataDir: string): Worker {
  const { file, typescript } = workerEntry();
  const workerData = { role: SERVE_ROLE, dataDir };
  if (!typescript) return new Worker(file, { workerData });
  const source = `require(${JSON.stringify(require.resolve('ts-node'))}).register({ transpileOnly: true }); require(${JSON.stringify(file)});`;
  return new Worker(source, { eval: true, workerData });
}

/** Creates the database in a child process; throws what PGlite threw there. */
async function create(dataDir: string): Promise<void> {
  const { file, typescript } = workerEntry();
  const child = fork(file, [CREATE_ARG, dataDir], {
    // Not Wharf's own flags (a --cpu-prof, say): this process only runs initdb.
    execArgv: typescript ? ['--require', require.resolve('ts-node/register/transpile-only')] : [],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4096);
  });
  let failure: Error | undefined;
  child.on('message', (message: FromCreator) => {
    if (message.type === 'failed') failure = deserializeError(message.error);
  });
  const code = await new Promise<number | string>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode, signal) => resolve(exitCode ?? signal ?? 'unknown'));
  });
  if (code === 0) return;
  throw failure ?? new Error(`creating the embedded database failed (exit ${code})${stderr.trim() ? `: ${stderr.trim()}` : ''}`);
}
