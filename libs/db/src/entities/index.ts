import { BlobEntity } from './blob.entity';
import { ImageEntity } from './image.entity';
import { ManifestReferenceEntity } from './manifest-reference.entity';
import { ManifestEntity } from './manifest.entity';
import { RepositoryBlobEntity } from './repository-blob.entity';
import { RepositoryEntity } from './repository.entity';
import { TagEntity } from './tag.entity';
import { UploadSessionEntity } from './upload-session.entity';

export * from './blob.entity';
export * from './image.entity';
export * from './manifest-reference.entity';
export * from './manifest.entity';
export * from './repository-blob.entity';
export * from './repository.entity';
export * from './tag.entity';
export * from './upload-session.entity';

export const ENTITIES = [
  RepositoryEntity,
  ImageEntity,
  ManifestEntity,
  ManifestReferenceEntity,
  TagEntity,
  BlobEntity,
  RepositoryBlobEntity,
  UploadSessionEntity,
];
