import * as fs from 'node:fs/promises';
import { AddressInfo } from 'node:net';
import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { WharfConfig } from '@wharf/config';
import { EmbeddedDatabase } from '@wharf/db';
import { DataDirLock } from '@wharf/storage';
import { AppModule } from './app.module';
import { ClientErrorPolicy } from './http/client-error-policy';
import { setupOpenApi } from './http/openapi';
import { requestBodyParser } from './http/request-body-parser';
import { RegistryLane } from './registry/registry-lane';
import { JsonLogger } from './logging/json-logger';
import { MetricsEndpoint } from './metrics/metrics-endpoint';
import { WebUi } from './web/web-ui';

// For main.ts, which loads the application (and @wharf/db) only once it knows it needs it: the
// build rewrites the path alias of static imports only.
export { EmbeddedDatabaseUnreadableError } from '@wharf/db';
export { ServerKeyMismatchError } from '@wharf/auth';

export interface RunningWharf {
  app: NestExpressApplication;
  /** The address actually bound, e.g. `127.0.0.1:43121`. */
  address: string;
  close(): Promise<void>;
}

/**
 * Starts Wharf: the embedded database when no DATABASE_URL is set, migrations, the HTTP
 * server. Shared by main.ts and the e2e tests, so tests boot exactly what users run.
 */
export async function startWharf(config: WharfConfig, logger = new JsonLogger(config.logLevel)): Promise<RunningWharf> {
  await fs.mkdir(config.dataDir, { recursive: true });
  // Two processes on one embedded database destroy it. On Postgres, instances may share the
  // data directory: blobs are written by rename, and the database is the truth.
  const lock = config.databaseUrl ? undefined : await DataDirLock.acquire(config.dataDir);
  if (lock?.kind === 'pid-file') {
    logger.warn(
      {
        msg: `the flock command is missing: ${lock.file} holds this process's pid instead of an OS lock; if a start is refused naming a live process that is no Wharf, delete that file`,
      },
      'Wharf',
    );
  }
  let embedded: EmbeddedDatabase | undefined;
  try {
    if (!config.databaseUrl) {
      const started = Date.now();
      embedded = await EmbeddedDatabase.start(config.embeddedDatabaseDir, {
        onCrash: (err) => {
          logger.error({ msg: `Wharf cannot go on: ${err.message}` }, 'Wharf');
          process.exit(1);
        },
      });
      logger.log({ msg: `embedded database opened in ${Date.now() - started} ms`, dir: config.embeddedDatabaseDir }, 'Wharf');
    }
    // The embedded server runs one transaction at a time, but a few connections let the next
    // query's bytes be on their way while one runs (manifest GET by digest ~1.13x with 4 over 1).
    const poolSize = embedded ? 4 : 10;
    const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, config.databaseUrl ?? embedded!.url, poolSize), {
      bodyParser: false,
      logger,
      // A failing provider (the blob storage probe) throws here, for main.ts to report, instead
      // of Nest ending the process with a line that has lost the reason.
      abortOnError: false,
    });
    configureHttp(app, config);
    const server = await app.listen(config.port, config.host);
    // Blob uploads can be long and slow; Node's default 5-minute request timeout would cut them.
    server.requestTimeout = 0;
    server.keepAliveTimeout = 65_000;
    const { address, port } = server.address() as AddressInfo;
    let closing: Promise<void> | undefined;
    return {
      app,
      address: `${address.includes(':') ? `[${address}]` : address}:${port}`,
      // Once: a worker may be told to stop twice (SIGTERM and its primary going away).
      close: () =>
        (closing ??= (async () => {
          // Graceful: in-flight requests get a grace period, idle keep-alive sockets go at once.
          const force = setTimeout(() => server.closeAllConnections(), config.shutdownGraceSeconds * 1000);
          server.closeIdleConnections();
          await app.close();
          clearTimeout(force);
          await embedded?.stop();
          await lock?.release();
        })()),
    };
  } catch (err) {
    await embedded?.stop();
    await lock?.release();
    throw err;
  }
}

function configureHttp(app: NestExpressApplication, config: WharfConfig): void {
  app.set('trust proxy', 'loopback');
  app.set('etag', false);
  app.disable('x-powered-by');
  // Ahead of Express, its body parsers and Nest's routes, which registry requests do not need.
  app.get(RegistryLane).attach(app.getHttpServer(), app.getHttpAdapter().getInstance());
  new ClientErrorPolicy().attach(app.getHttpServer());
  // A scraper's endpoint with its own token, not a REST route: ahead of Nest's guards and body parsers.
  app.get(MetricsEndpoint).attach(app.getHttpAdapter().getInstance());
  // Registry bodies (blobs, manifests) are streamed by their handlers, which the lane reached
  // first; the token endpoint takes a form, the REST API JSON.
  app.use(requestBodyParser());
  new WebUi(config.uiDir ?? WebUi.defaultDir()).attach(app.getHttpAdapter().getInstance());
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  setupOpenApi(app);
  // No enableShutdownHooks: main.ts stops on signals through RunningWharf.close, which also
  // closes the embedded database and releases the data directory.
}
