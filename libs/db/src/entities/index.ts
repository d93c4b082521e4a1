import { BlobEntity } from './blob.entity';
import { ImageEntity } from './image.entity';
import { ManifestReferenceEntity } from './manifest-reference.entity';
import { ManifestEntity } from './manifest.entity';
import { RepositoryBlobEntity } from './repository-blob.entity';
import { RepositoryEntity } from './repository.entity';
import { TagEntity } from './tag.entity';
import { UploadSessionEntity } from './upload-session.entity';
import { UserEntity } from './user.entity';
import { GroupEntity } from './group.entity';
import { UserGroupEntity } from './user-group.entity';
import { PermissionEntity } from './permission.entity';
import { AccessTokenEntity } from './access-token.entity';
import { SigningKeyEntity } from './signing-key.entity';
import { VirtualMemberEntity } from './virtual-member.entity';

export * from './blob.entity';
export * from './image.entity';
export * from './manifest-reference.entity';
export * from './manifest.entity';
export * from './repository-blob.entity';
export * from './repository.entity';
export * from './tag.entity';
export * from './upload-session.entity';
export * from './user.entity';
export * from './group.entity';
export * from './user-group.entity';
export * from './permission.entity';
export * from './access-token.entity';
export * from './signing-key.entity';
export * from './virtual-member.entity';

export const ENTITIES = [
  RepositoryEntity,
  ImageEntity,
  ManifestEntity,
  ManifestReferenceEntity,
  TagEntity,
  BlobEntity,
  RepositoryBlobEntity,
  UploadSessionEntity,
  UserEntity,
  GroupEntity,
  UserGroupEntity,
  PermissionEntity,
  AccessTokenEntity,
  SigningKeyEntity,
  VirtualMemberEntity,
];
