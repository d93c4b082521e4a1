import { Module } from '@nestjs/common';
import { WharfConfig } from '@wharf/config';
import { BlobStore, DriverBackedBlobStore, StorageDriver, describeStorage, probeStorage, storageDriverFor } from '@wharf/storage';
import { LocalBlobService } from './local/local-blob.service';
import { LocalManifestService } from './local/local-manifest.service';
import { LocalUploadService } from './local/local-upload.service';
import { RepositoryResolver } from './repository-resolver';
import { CatalogService } from './catalog.service';
import { RepositoryAdminService } from './admin/repository-admin.service';
import { ImageDeletionService } from './admin/image-deletion.service';
import { ManifestViewService } from './admin/manifest-view.service';
import { RemoteBlobService } from './remote/remote-blob.service';
import { RemoteManifestService } from './remote/remote-manifest.service';
import { RemoteTagService } from './remote/remote-tag.service';
import { UpstreamClients } from './remote/upstream-clients';
import { RemoteSettingsBuilder } from './admin/remote-settings-builder';
import { LocalKind } from './kinds/local-kind';
import { RemoteKind } from './kinds/remote-kind';
import { RepositoryKinds } from './kinds/repository-kinds';
import { VirtualKind } from './kinds/virtual-kind';
import { GarbageCollector } from './lifecycle/garbage-collector';
import { GcScheduler } from './lifecycle/gc-scheduler';
import { QuotaGuard } from './local/quota-guard';
import { StorageInfoService } from './lifecycle/storage-info.service';
import { PullRecorder } from './lifecycle/pull-recorder';
import { LifecycleRules } from './lifecycle/lifecycle-rules';

@Module({
  providers: [
    {
      provide: StorageDriver,
      inject: [WharfConfig],
      useFactory: async (config: WharfConfig) => {
        const driver = await storageDriverFor(config);
        await probeStorage(driver, describeStorage(config));
        return driver;
      },
    },
    {
      provide: BlobStore,
      inject: [StorageDriver, WharfConfig],
      useFactory: (driver: StorageDriver, config: WharfConfig) => new DriverBackedBlobStore(driver, { redirectSeconds: config.s3?.redirectSeconds ?? 0 }),
    },
    LocalManifestService,
    LocalBlobService,
    LocalUploadService,
    RepositoryResolver,
    CatalogService,
    RepositoryAdminService,
    ImageDeletionService,
    ManifestViewService,
    UpstreamClients,
    RemoteSettingsBuilder,
    RemoteManifestService,
    RemoteBlobService,
    RemoteTagService,
    LocalKind,
    RemoteKind,
    VirtualKind,
    RepositoryKinds,
    GarbageCollector,
    GcScheduler,
    QuotaGuard,
    StorageInfoService,
    PullRecorder,
    LifecycleRules,
  ],
  exports: [
    RepositoryResolver,
    CatalogService,
    RepositoryAdminService,
    ImageDeletionService,
    ManifestViewService,
    BlobStore,
    StorageDriver,
    GarbageCollector,
    StorageInfoService,
    LifecycleRules,
    QuotaGuard,
    // Read by the server's metrics: each remote's circuit breaker.
    UpstreamClients,
  ],
})
export class RegistryModule {}
