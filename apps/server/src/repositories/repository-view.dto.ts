import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { ManifestView, ResolutionStep, ResolutionView } from '@wharf/registry';
import { PromotionRecordDto } from '../promotion/promotion.dto';

const RCLASSES = ['local', 'remote', 'virtual'];

/** A repository as the API shows it: the common fields, then its kind's own. */
export class RepositoryViewDto {
  @ApiProperty({ example: 'docker-local' }) key: string;
  @ApiProperty({ enum: RCLASSES }) rclass: string;
  @ApiProperty({ enum: ['docker'] }) packageType: string;
  @ApiProperty() description: string;
  @ApiProperty() anonymousRead: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;

  @ApiPropertyOptional({ description: 'Remote: the upstream registry' }) url?: string;
  @ApiPropertyOptional({ description: 'Remote: upstream user name' }) username?: string;
  @ApiPropertyOptional({ description: 'Remote: "********" when a password is set, else ""' }) password?: string;
  @ApiPropertyOptional({ description: 'Remote' }) metadataRetrievalCachePeriod?: number;
  @ApiPropertyOptional({ description: 'Remote' }) offline?: boolean;
  @ApiPropertyOptional({ description: 'Remote' }) enableTokenAuthentication?: boolean;
  @ApiPropertyOptional({ description: 'Remote' }) connectTimeoutMillis?: number;
  @ApiPropertyOptional({ description: 'Remote' }) socketTimeoutMillis?: number;
  @ApiPropertyOptional({ description: 'Remote and virtual' }) includesPattern?: string;
  @ApiPropertyOptional({ description: 'Remote and virtual' }) excludesPattern?: string;
  @ApiPropertyOptional({ description: 'Remote', type: [String] }) tokenRealmAllowList?: string[];
  @ApiPropertyOptional({ description: 'Remote' }) libraryPrefix?: boolean;
  @ApiPropertyOptional({ description: 'Virtual: direct members in resolution order', type: [String] }) repositories?: string[];
  @ApiPropertyOptional({ description: 'Virtual: members with nested virtuals expanded, each once, as resolution asks them', type: [String] })
  resolvedRepositories?: string[];
  @ApiPropertyOptional({ description: 'Virtual: the local member receiving pushes', type: String, nullable: true }) defaultDeploymentRepo?: string | null;
  @ApiPropertyOptional({ description: 'Virtual' }) resolveDockerTagsByTimestamp?: boolean;
  @ApiPropertyOptional({ description: 'Virtual' }) priorityResolution?: boolean;
  @ApiPropertyOptional({ description: 'Local: whether tags may move to other content or be deleted' }) allowTagOverwrite?: boolean;
  @ApiPropertyOptional({ description: 'Local: tags kept per image, oldest removed first; 0 is unlimited' }) maxUniqueTags?: number;
  @ApiPropertyOptional({ description: 'Local: writes only with an access token' }) mustUseAuthTokenForPush?: boolean;
  @ApiPropertyOptional({ description: 'Local: manifests served only once signed' }) requireSignature?: boolean;
  @ApiPropertyOptional({ description: "Local: bytes the repository's blobs may take; 0 is no quota" }) quotaBytes?: number;
  @ApiPropertyOptional({ description: 'Local: days after which untagged manifests are collected; 0 is never' }) untaggedManifestDays?: number;
  @ApiPropertyOptional({ description: 'Local: tag retention rules, or null', nullable: true }) retention?: Record<string, unknown> | null;
  @ApiPropertyOptional({ description: 'Remote: days unpulled after which cached content is forgotten; 0 keeps it' }) cacheRetentionDays?: number;
  @ApiPropertyOptional({ description: 'Remote: cache size limit in bytes; 0 is none' }) maxCacheBytes?: number;
}

export class ResolutionStepDto implements ResolutionStep {
  @ApiProperty({ example: 'docker-local' }) repository: string;
  @ApiProperty({ enum: ['held', 'upstream'], description: 'held: what the member holds, no upstream asked; upstream: a remote asking its upstream' })
  pass: 'held' | 'upstream';
  @ApiProperty({ enum: ['found', 'missing', 'error'] }) result: 'found' | 'missing' | 'error';
  @ApiPropertyOptional() digest?: string;
  @ApiPropertyOptional() message?: string;
}

export class ResolutionViewDto implements ResolutionView {
  @ApiProperty({ example: 'docker' }) repository: string;
  @ApiProperty({ example: 'team/app' }) image: string;
  @ApiProperty({ example: '1.4' }) reference: string;
  @ApiProperty({ type: String, nullable: true, description: 'The member that serves it; null when none does' }) servedBy: string | null;
  @ApiPropertyOptional() digest?: string;
  @ApiPropertyOptional() mediaType?: string;
  @ApiProperty({ enum: ['local-only', 'not-applied', 'off'], description: 'local-only: a local member owns the name, so caches and upstreams were not considered' })
  priorityResolution: 'local-only' | 'not-applied' | 'off';
  @ApiProperty({ type: [ResolutionStepDto], description: 'Each member asked, in order' }) steps: ResolutionStepDto[];
}

export class CachePurgeResultDto {
  @ApiProperty() imagesRemoved: number;
}

export class ManifestViewDto implements ManifestView {
  @ApiProperty({ example: 'docker-prod' }) repository: string;
  @ApiProperty({ example: 'team/app' }) image: string;
  @ApiProperty({ example: '1.4' }) reference: string;
  @ApiProperty({ description: "The repository holding it: a virtual's member that serves it, else the repository itself" }) servedBy: string;
  @ApiProperty() digest: string;
  @ApiProperty() mediaType: string;
  @ApiProperty() size: number;
  @ApiProperty({ type: [String], description: 'Tags of the image on this manifest' }) tags: string[];
  @ApiProperty({ type: [PromotionRecordDto], description: 'Promotions that carried it, newest first: the stages it passed' }) promotions: PromotionRecordDto[];
}
