import { DynamicModule, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ConfigModule, WharfConfig } from '@wharf/config';
import { DatabaseModule } from '@wharf/db';
import { RegistryModule } from '@wharf/registry';
import { DataDirProbe } from '@wharf/storage';
import { HealthController } from './health/health.controller';
import { HttpExceptionFilter } from './http-exception.filter';
import { RequestIdMiddleware } from './logging/request-id.middleware';
import { BlobsHandler } from './registry/blobs.handler';
import { ListingsHandler } from './registry/listings.handler';
import { ManifestsHandler } from './registry/manifests.handler';
import { RegistryController } from './registry/registry.controller';
import { RegistryDispatcher } from './registry/registry.dispatcher';
import { UploadsHandler } from './registry/uploads.handler';
import { RepositoriesController } from './repositories/repositories.controller';

@Module({})
export class AppModule implements NestModule {
  static forRoot(config: WharfConfig, databaseUrl: string, poolSize?: number): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config), DatabaseModule.forRoot(databaseUrl, poolSize), RegistryModule],
      controllers: [HealthController, RepositoriesController, RegistryController],
      providers: [
        { provide: APP_FILTER, useClass: HttpExceptionFilter },
        { provide: DataDirProbe, useFactory: () => new DataDirProbe(config.dataDir) },
        RegistryDispatcher,
        ManifestsHandler,
        BlobsHandler,
        UploadsHandler,
        ListingsHandler,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestIdMiddleware).forRoutes('*');
  }
}
