import { DynamicModule, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { AuthModule } from '@wharf/auth';
import { ConfigModule, WharfConfig } from '@wharf/config';
import { DatabaseModule } from '@wharf/db';
import { RegistryModule, RepositoryBrowseService } from '@wharf/registry';
import { PromotionModule } from '@wharf/promotion';
import { PromotionController } from './promotion/promotion.controller';
import { DataDirProbe } from '@wharf/storage';
import { HealthController } from './health/health.controller';
import { GcController } from './system/gc.controller';
import { SessionController } from './session/session.controller';
import { StorageInfoController } from './system/storage-info.controller';
import { SystemInfoController } from './system/system-info.controller';
import { SystemInfoService } from './system/system-info.service';
import { ErrorResponder } from './errors/error-responder';
import { NulFreeInputPipe } from './http/nul-free-input.pipe';
import { HttpExceptionFilter } from './errors/http-exception.filter';
import { RequestIdMiddleware } from './logging/request-id.middleware';
import { RequestActorMiddleware } from './audit/request-actor.middleware';
import { BlobsHandler } from './registry/blobs.handler';
import { ListingsHandler } from './registry/listings.handler';
import { ManifestsHandler } from './registry/manifests.handler';
import { RegistryDispatcher } from './registry/registry.dispatcher';
import { RegistryLane } from './registry/registry-lane';
import { UploadsHandler } from './registry/uploads.handler';
import { RepositoriesController } from './repositories/repositories.controller';
import { V1DeletionsController } from './repositories/v1-deletions.controller';
import { ApiAuthGuard } from './auth/api-auth.guard';
import { RegistryJwtStrategy } from './auth/registry-jwt.strategy';
import { RequestAuthenticator } from './auth/request-authenticator';
import { VerifiedJwts } from './auth/verified-jwts';
import { RegistryAuthorizer } from './registry/registry-authorizer';
import { TokenController } from './token/token.controller';
import { TokenEndpoint } from './token/token-endpoint.service';
import { SecurityModule } from './security/security.module';
import { WebhooksApiModule } from './webhooks/webhooks-api.module';
import { MetricsModule } from './metrics/metrics.module';

@Module({})
export class AppModule implements NestModule {
  static forRoot(config: WharfConfig, databaseUrl: string, poolSize?: number): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule.forRoot(databaseUrl, { poolSize, shared: !!config.databaseUrl }),
        AuthModule,
        PassportModule,
        RegistryModule,
        PromotionModule,
        SecurityModule,
        WebhooksApiModule,
        MetricsModule,
      ],
      // Registry routes are not controllers: RegistryLane serves them ahead of Nest's router.
      controllers: [
        HealthController,
        TokenController,
        RepositoriesController,
        V1DeletionsController,
        PromotionController,
        GcController,
        StorageInfoController,
        SystemInfoController,
        SessionController,
      ],
      providers: [
        ErrorResponder,
        { provide: APP_FILTER, useClass: HttpExceptionFilter },
        RequestIdMiddleware,
        RequestActorMiddleware,
        RegistryLane,
        { provide: APP_GUARD, useClass: ApiAuthGuard },
        { provide: APP_PIPE, useClass: NulFreeInputPipe },
        RegistryJwtStrategy,
        RequestAuthenticator,
        VerifiedJwts,
        RegistryAuthorizer,
        TokenEndpoint,
        { provide: DataDirProbe, useFactory: () => new DataDirProbe(config.dataDir) },
        RegistryDispatcher,
        ManifestsHandler,
        BlobsHandler,
        UploadsHandler,
        ListingsHandler,
        // The browse listings and system info serve the REST API only: provided here, beside their controllers.
        RepositoryBrowseService,
        SystemInfoService,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestIdMiddleware, RequestActorMiddleware).forRoutes('*');
  }
}
