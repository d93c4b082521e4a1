import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type {
  ChildView,
  ConfigView,
  DescriptorView,
  HistoryEntry,
  ImagePage,
  ImageSummary,
  ManifestView,
  ReferrerView,
  ResolutionStep,
  ResolutionView,
  TagPage,
  TagSummary,
} from '@wharf/registry';
import { PromotionRecordDto } from '../promotion/promotion.dto';

const RCLASSES = ['local', 'remote', 'virtual'];

export class RepositoryStatsDto {
  @ApiProperty({ description: 'Its image names (one whose manifests were all deleted counts until the image is deleted)' }) images: number;
  @ApiProperty({ description: 'Bytes of the blobs the repository links, each once' }) bytes: number;
}

/** A repository as the API shows it: the common fields, then its kind's own. */
export class RepositoryViewDto {
  @ApiProperty({ example: 'docker-local' }) key: string;
  @ApiProperty({ enum: RCLASSES }) rclass: string;
  @ApiProperty({ enum: ['docker'] }) packageType: string;
  @ApiProperty() description: string;
  @ApiProperty() anonymousRead: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiProperty({
    enum: ['read', 'write', 'delete', 'manage'],
    isArray: true,
    description: "What the caller may do to the repository (a virtual's write and delete are its deployment target's), so a UI offers only those",
  })
  actions: string[];
  @ApiPropertyOptional({
    type: RepositoryStatsDto,
    description:
      'Local and remote (a virtual has none): its images, and the bytes of its blobs from the usage counters, brought up to date as the answer is read (a few seconds behind only while another host folds them)',
  })
  stats?: RepositoryStatsDto;

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

const STRING_MAP = { type: 'object', additionalProperties: { type: 'string' } } as const;

export class DescriptorViewDto implements DescriptorView {
  @ApiProperty({ example: 'sha256:…' }) digest: string;
  @ApiProperty() mediaType: string;
  @ApiProperty({ description: 'Bytes, as the descriptor declares them' }) size: number;
}

export class HistoryEntryDto implements HistoryEntry {
  @ApiPropertyOptional() created?: string;
  @ApiPropertyOptional({ description: 'The build step that made the layer' }) createdBy?: string;
  @ApiPropertyOptional({ description: 'The step made no layer' }) emptyLayer?: boolean;
  @ApiPropertyOptional() comment?: string;
}

export class ConfigViewDto extends DescriptorViewDto implements ConfigView {
  @ApiPropertyOptional({ example: 'linux' }) os?: string;
  @ApiPropertyOptional({ example: 'arm64' }) architecture?: string;
  @ApiPropertyOptional({ example: 'v8' }) variant?: string;
  @ApiPropertyOptional({ description: 'When the image was built, as its config says' }) created?: string;
  @ApiPropertyOptional() author?: string;
  @ApiPropertyOptional({ type: [String] }) entrypoint?: string[];
  @ApiPropertyOptional({ type: [String] }) cmd?: string[];
  @ApiPropertyOptional({ type: [String], example: ['PATH=/usr/bin:/bin'] }) env?: string[];
  @ApiPropertyOptional() workingDir?: string;
  @ApiPropertyOptional() user?: string;
  @ApiPropertyOptional({ type: [String], example: ['80/tcp'] }) exposedPorts?: string[];
  @ApiPropertyOptional({ ...STRING_MAP }) labels?: Record<string, string>;
  @ApiPropertyOptional({ type: [HistoryEntryDto], description: 'Build steps, oldest first' }) history?: HistoryEntryDto[];
}

export class ChildViewDto extends DescriptorViewDto implements ChildView {
  @ApiPropertyOptional({ example: 'linux/arm64/v8', description: 'os/architecture[/variant], when the index names a platform' }) platform?: string;
}

export class ReferrerViewDto extends DescriptorViewDto implements ReferrerView {
  @ApiPropertyOptional({ example: 'application/vnd.dev.cosign.artifact.sig.v1+json' }) artifactType?: string;
  @ApiPropertyOptional({ ...STRING_MAP }) annotations?: Record<string, string>;
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
  @ApiPropertyOptional({ description: "Its artifactType, or for an artifact (not a container image) its config's media type" }) artifactType?: string;
  @ApiPropertyOptional({ ...STRING_MAP, description: "The manifest's annotations" }) annotations?: Record<string, string>;
  @ApiProperty({ type: [DescriptorViewDto], description: "An image manifest's layers, in order; empty for an index" }) layers: DescriptorViewDto[];
  @ApiProperty({
    type: ConfigViewDto,
    nullable: true,
    description: "An image manifest's config; null for an index. For a container image config held by the repository (at most 1 MiB), what it says; otherwise only the descriptor",
  })
  config: ConfigViewDto | null;
  @ApiProperty({ type: [ChildViewDto], description: "An index's manifests, with their platforms; empty otherwise" }) children: ChildViewDto[];
  @ApiProperty({ type: [ReferrerViewDto], description: 'Manifests of the image (where it is held) whose subject is this one: signatures, SBOMs, attestations' })
  referrers: ReferrerViewDto[];
  @ApiPropertyOptional({ description: 'The digest of the manifest this one refers to (its subject)' }) subject?: string;
}

export class ImageSummaryDto implements ImageSummary {
  @ApiProperty({ example: 'team/app' }) name: string;
  @ApiProperty({ description: "Its tags; a virtual's: summed over the members holding it" }) tags: number;
  @ApiProperty({ format: 'date-time', description: 'The latest tag change or manifest push' }) updatedAt: string;
  @ApiProperty({ type: [String], description: "The repository itself; a virtual's members holding it, in resolution order", example: ['docker-local'] })
  repositories: string[];
}

export class ImagePageDto implements ImagePage {
  @ApiProperty({ type: [ImageSummaryDto] }) images: ImageSummaryDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `after` for the next page; null on the last page' }) next: string | null;
}

export class TagSummaryDto implements TagSummary {
  @ApiProperty({ example: '1.4' }) name: string;
  @ApiProperty({ example: 'sha256:…' }) digest: string;
  @ApiProperty() mediaType: string;
  @ApiProperty({
    description: 'Bytes: an image manifest with its config and layers; an index, that of each child the repository holds, summed (best effort)',
  })
  size: number;
  @ApiProperty({
    type: [String],
    example: ['linux/amd64', 'linux/arm64/v8'],
    description: "An index's platforms (attestations left out); an image's, from its config when the repository holds it; empty for artifacts",
  })
  platforms: string[];
  @ApiProperty({ format: 'date-time', description: 'When the tag was last set (a remote: cached or revalidated)' }) pushedAt: string;
  @ApiProperty({ example: 'docker-local', description: "The repository holding the tag: a virtual's member" }) repository: string;
}

export class TagPageDto implements TagPage {
  @ApiProperty({ type: [TagSummaryDto] }) tags: TagSummaryDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `after` for the next page; null on the last page' }) next: string | null;
}
