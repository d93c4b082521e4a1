import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

class BinariesDto {
  @ApiProperty({ description: 'Blobs stored, each once' }) count: number;
  @ApiProperty({ description: 'Their bytes, each blob once (what the storage holds)' }) bytes: number;
  @ApiProperty({ description: 'The bytes if each repository kept its own copy of each blob it links' }) bytesWithoutDedup: number;
  @ApiProperty({ description: 'bytesWithoutDedup - bytes' }) savedByDedup: number;
}

class FileStoreDto {
  @ApiProperty({ enum: ['filesystem', 's3'] }) type: string;
  @ApiProperty({ description: 'A directory, or s3://bucket/prefix' }) location: string;
  @ApiPropertyOptional({ description: 'Filesystem: the size of the filesystem holding the blobs' }) totalBytes?: number;
  @ApiPropertyOptional({ description: 'Filesystem: space left for Wharf there' }) freeBytes?: number;
}

class RepositoryUsageDto {
  @ApiProperty() key: string;
  @ApiProperty({ enum: ['local', 'remote', 'virtual'] }) rclass: string;
  @ApiProperty() images: number;
  @ApiProperty() manifests: number;
  @ApiProperty() tags: number;
  @ApiProperty({ description: 'Blobs the repository links' }) blobs: number;
  @ApiProperty({ description: 'Their bytes, each blob once' }) bytes: number;
  @ApiProperty({ description: 'Bytes of the blobs no other repository links: what deleting this repository would free' }) uniqueBytes: number;
  @ApiPropertyOptional({ description: 'Local: its quota, when it has one' }) quotaBytes?: number;
}

export class StorageInfoDto {
  @ApiProperty({ type: BinariesDto }) binaries: BinariesDto;
  @ApiProperty({ type: FileStoreDto }) fileStore: FileStoreDto;
  @ApiProperty({ type: RepositoryUsageDto, isArray: true }) repositories: RepositoryUsageDto[];
}
