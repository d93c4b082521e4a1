import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional } from 'class-validator';

export class GcRequestDto {
  @ApiPropertyOptional({ description: 'Report what a run would free, and free nothing', default: false })
  @IsOptional()
  @IsBoolean()
  dryRun?: boolean;
}

class CountDto {
  @ApiProperty()
  count: number;
}

class FreedDto extends CountDto {
  @ApiProperty({ description: 'Bytes of blob data' })
  bytes: number;
}

class RetentionCountDto {
  @ApiProperty({ description: 'Tags removed by retention rules' })
  tags: number;

  @ApiProperty({ description: 'Manifests those tags left untagged, removed with them (not counted in a dry run)' })
  manifests: number;
}

class RemoteCacheCountDto {
  @ApiProperty({ description: 'Cached manifests not pulled within cacheRetentionDays' })
  manifests: number;

  @ApiProperty({ description: 'Cached blobs forgotten by age or beyond maxCacheBytes' })
  blobLinks: number;
}

class GcResultDto {
  @ApiProperty({ type: RetentionCountDto, description: "Local repositories' retention rules" })
  retention: RetentionCountDto;

  @ApiProperty({ type: CountDto, description: 'Manifests untagged longer than the untaggedManifestDays of their repository' })
  untaggedManifests: CountDto;

  @ApiProperty({ type: RemoteCacheCountDto, description: "Remote caches' age and size limits" })
  remoteCache: RemoteCacheCountDto;

  @ApiProperty({ type: CountDto, description: 'Upload sessions idle beyond WHARF_UPLOAD_MAX_IDLE_SECONDS, with their data' })
  uploadSessions: CountDto;

  @ApiProperty({ type: CountDto, description: 'Upload data no session owns (left by a crash), older than the grace period' })
  strayUploads: CountDto;

  @ApiProperty({ type: CountDto, description: 'Blob links of local repositories no manifest there references, older than the grace period' })
  blobLinks: CountDto;

  @ApiProperty({ type: FreedDto, description: 'Blobs no repository links any more: rows and bytes' })
  blobs: FreedDto;
}

export class GcRunDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ enum: ['schedule', 'api'] })
  trigger: string;

  @ApiProperty()
  dryRun: boolean;

  @ApiProperty({ enum: ['running', 'finished', 'failed', 'abandoned'], description: 'abandoned: its host stopped mid-run; the next run finishes the work' })
  status: string;

  @ApiPropertyOptional({ nullable: true })
  requestedBy: string | null;

  @ApiProperty({ description: 'host:pid that ran it' })
  host: string;

  @ApiPropertyOptional({ nullable: true, description: 'What a running run is doing now' })
  phase: string | null;

  @ApiProperty({ type: GcResultDto, description: 'Freed (or, dry, would free) so far' })
  result: GcResultDto;

  @ApiPropertyOptional({ nullable: true })
  error: string | null;

  @ApiProperty()
  startedAt: Date;

  @ApiProperty()
  heartbeatAt: Date;

  @ApiPropertyOptional({ nullable: true })
  finishedAt: Date | null;
}

export class GcStatusDto {
  @ApiPropertyOptional({ type: GcRunDto, nullable: true, description: 'The run in progress, on any host' })
  running: GcRunDto | null;

  @ApiProperty({ type: GcRunDto, isArray: true, description: 'The most recent runs, newest first' })
  runs: GcRunDto[];
}

class RemovedTagDto {
  @ApiProperty() image: string;
  @ApiProperty() tag: string;
  @ApiProperty({ description: 'The manifest the tag pointed at' }) digest: string;
}

export class RetentionOutcomeDto {
  @ApiProperty() repository: string;
  @ApiProperty() dryRun: boolean;
  @ApiProperty({ type: RemovedTagDto, isArray: true, description: 'Tags removed (or, dry, that would be)' }) removed: RemovedTagDto[];
  @ApiProperty({ description: 'Manifests left untagged and removed with them (0 in a dry run)' }) manifestsRemoved: number;
}
