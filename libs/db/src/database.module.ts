import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import { ClsModule } from 'nestjs-cls';
import { ClsPluginTransactional } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { DataSource } from 'typeorm';
import { Db } from './db';
import { buildDataSourceOptions } from './data-source-options';
import { migrate } from './migrate';
import { CHANGE_FEED_OPTIONS, ChangeFeed } from './change-feed';
import { PoolStats } from './pool-stats';
import { HealthQueries } from './queries/health.queries';
import { UserQueries } from './queries/user.queries';
import { GroupQueries } from './queries/group.queries';
import { PermissionQueries } from './queries/permission.queries';
import { AccessTokenQueries } from './queries/access-token.queries';
import { SigningKeyQueries } from './queries/signing-key.queries';
import { BlobQueries } from './queries/blob.queries';
import { DownloadLeaseQueries } from './queries/download-lease.queries';
import { ImageQueries } from './queries/image.queries';
import { ManifestQueries } from './queries/manifest.queries';
import { RepositoryQueries } from './queries/repository.queries';
import { TagQueries } from './queries/tag.queries';
import { PushRuleQueries } from './queries/push-rule.queries';
import { PromotionQueries } from './queries/promotion.queries';
import { UploadSessionQueries } from './queries/upload-session.queries';
import { ServerSettingQueries } from './queries/server-setting.queries';
import { GcQueries } from './queries/gc.queries';
import { StorageUsageQueries } from './queries/storage-usage.queries';
import { LifecycleQueries } from './queries/lifecycle.queries';
import { UiSessionQueries } from './queries/ui-session.queries';
import { AuditQueries } from './queries/audit.queries';
import { WebhookQueries } from './queries/webhook.queries';
import { WebhookDeliveryQueries } from './queries/webhook-delivery.queries';
import { ActorContext } from './audit/actor-context';
import { AuditTrail } from './audit/audit-trail';
import { RequestCountQueries } from './queries/request-count.queries';

const QUERIES = [
  RepositoryQueries,
  ImageQueries,
  ManifestQueries,
  TagQueries,
  PushRuleQueries,
  PromotionQueries,
  BlobQueries,
  DownloadLeaseQueries,
  UploadSessionQueries,
  HealthQueries,
  UserQueries,
  GroupQueries,
  PermissionQueries,
  AccessTokenQueries,
  SigningKeyQueries,
  ServerSettingQueries,
  GcQueries,
  StorageUsageQueries,
  LifecycleQueries,
  UiSessionQueries,
  AuditQueries,
  WebhookQueries,
  WebhookDeliveryQueries,
  RequestCountQueries,
];

@Module({})
export class DatabaseModule {
  /** `shared`: other instances may use the same database (not the embedded one). */
  static forRoot(url: string, options: { poolSize?: number; shared: boolean }): DynamicModule {
    return {
      module: DatabaseModule,
      global: true,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => buildDataSourceOptions(url, { poolSize: options.poolSize }),
          dataSourceFactory: async (dataSourceOptions) => {
            const dataSource = await new DataSource(dataSourceOptions!).initialize();
            try {
              await migrate(dataSource, { shared: options.shared });
            } catch (err) {
              await dataSource.destroy();
              throw err;
            }
            return dataSource;
          },
        }),
        // Transactions carried in async context: Db.transaction opens one, query classes join it.
        ClsModule.forRoot({
          global: true,
          plugins: [new ClsPluginTransactional({ adapter: new TransactionalAdapterTypeOrm({ dataSourceToken: getDataSourceToken() }) })],
        }),
      ],
      providers: [{ provide: CHANGE_FEED_OPTIONS, useValue: { url, shared: options.shared } }, Db, ChangeFeed, ActorContext, AuditTrail, PoolStats, ...QUERIES],
      exports: [Db, ChangeFeed, ActorContext, AuditTrail, PoolStats, ...QUERIES],
    };
  }
}
