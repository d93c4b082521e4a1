import { Module } from '@nestjs/common';
import { WharfConfig } from '@wharf/config';
import { BlobStorageDriver, FilesystemBlobStorageDriver } from '@wharf/storage';
import { LocalBlobService } from './local/local-blob.service';
import { LocalManifestService } from './local/local-manifest.service';
import { LocalUploadService } from './local/local-upload.service';
import { RepositoryResolver } from './repository-resolver';
import { CatalogService } from './catalog.service';
import { RepositoryAdminService } from './admin/repository-admin.service';

@Module({
  providers: [
    {
      provide: BlobStorageDriver,
      inject: [WharfConfig],
      useFactory: async (config: WharfConfig) => {
        const driver = new FilesystemBlobStorageDriver(config.blobRoot);
        await driver.init();
        return driver;
      },
    },
    LocalManifestService,
    LocalBlobService,
    LocalUploadService,
    RepositoryResolver,
    CatalogService,
    RepositoryAdminService,
  ],
  exports: [RepositoryResolver, CatalogService, RepositoryAdminService, BlobStorageDriver],
})
export class RegistryModule {}
