import * as fs from 'node:fs/promises';
import { AddressInfo } from 'node:net';
import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { WharfConfig } from '@wharf/config';
import { EmbeddedDatabase } from '@wharf/db';
import { AppModule } from './app.module';
import { setupOpenApi } from './http/openapi';
import { requestBodyParser } from './http/request-body-parser';
import { RegistryLane } from './registry/registry-lane';
import { JsonLogger } from './logging/json-logger';

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
export async function startWharf(config: WharfConfig): Promise<RunningWharf> {
  await fs.mkdir(config.dataDir, { recursive: true });
  const embedded = config.databaseUrl ? undefined : await EmbeddedDatabase.start(config.embeddedDatabaseDir);
  const databaseUrl = config.databaseUrl ?? embedded!.url;
  try {
    const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, databaseUrl, embedded ? 1 : 10), {
      bodyParser: false,
      logger: new JsonLogger(config.logLevel),
    });
    configureHttp(app);
    const server = await app.listen(config.port, config.host);
    // Blob uploads can be long and slow; Node's default 5-minute request timeout would cut them.
    server.requestTimeout = 0;
    server.keepAliveTimeout = 65_000;
    const { address, port } = server.address() as AddressInfo;
    return {
      app,
      address: `${address.includes(':') ? `[${address}]` : address}:${port}`,
      close: async () => {
        // Graceful: in-flight requests get a grace period, idle keep-alive sockets go at once.
        const force = setTimeout(() => server.closeAllConnections(), config.shutdownGraceSeconds * 1000);
        server.closeIdleConnections();
        await app.close();
        clearTimeout(force);
        await embedded?.stop();
      },
    };
  } catch (err) {
    await embedded?.stop();
    throw err;
  }
}

function configureHttp(app: NestExpressApplication): void {
  app.set('trust proxy', 'loopback');
  app.set('etag', false);
  app.disable('x-powered-by');
  // Ahead of Express, its body parsers and Nest's routes, which registry requests do not need.
  app.get(RegistryLane).attach(app.getHttpServer(), app.getHttpAdapter().getInstance());
  // Registry bodies (blobs, manifests) are streamed by their handlers, which the lane reached
  // first; the token endpoint takes a form, the REST API JSON.
  app.use(requestBodyParser());
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  setupOpenApi(app);
  app.enableShutdownHooks();
}
