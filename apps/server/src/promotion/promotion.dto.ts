import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { IMAGE_NAME, REPOSITORY_KEY, TAG_PATTERN } from '@wharf/oci';
import type { PromotionRecord } from '@wharf/db';
import type { PromotedTag, PromotionRequest, PromotionResult } from '@wharf/promotion';

const KEY_RULE = '1 to 64 lowercase letters, digits, "." and "-"';
const IMAGE_RULE = 'lowercase path components [a-z0-9] separated by ".", "_", "__", "-" and "/", at most 255 characters';
const TAG_RULE = '[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}';

/** Artifactory's promotion body. */
export class PromoteDto implements PromotionRequest {
  @ApiProperty({ description: 'Repository to promote into: a local one, or a virtual with a defaultDeploymentRepo', example: 'docker-prod' })
  @IsString()
  @Matches(REPOSITORY_KEY, { message: `targetRepo must be a repository key: ${KEY_RULE}` })
  targetRepo: string;

  @ApiProperty({ description: 'Image name in the source repository', example: 'team/app' })
  @IsString()
  @MaxLength(255)
  @Matches(IMAGE_NAME, { message: `dockerRepository must be an image name: ${IMAGE_RULE}` })
  dockerRepository: string;

  @ApiPropertyOptional({ description: 'Image name in the target; dockerRepository by default', example: 'app' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  @Matches(IMAGE_NAME, { message: `targetDockerRepository must be an image name: ${IMAGE_RULE}` })
  targetDockerRepository?: string;

  @ApiPropertyOptional({ description: 'The tag to promote; every tag of the image when omitted (local sources only)', example: '1.4.2' })
  @IsOptional()
  @IsString()
  @Matches(TAG_PATTERN, { message: `tag must be a tag: ${TAG_RULE}` })
  tag?: string;

  @ApiPropertyOptional({ description: 'The tag in the target (with tag only); tag by default', example: 'stable' })
  @IsOptional()
  @IsString()
  @Matches(TAG_PATTERN, { message: `targetTag must be a tag: ${TAG_RULE}` })
  targetTag?: string;

  @ApiPropertyOptional({ description: 'Copy; false (the default, as in Artifactory) moves: the source tags are removed', default: false })
  @IsOptional()
  @IsBoolean()
  copy?: boolean;

  @ApiPropertyOptional({ description: 'Answer what would happen (or why it would be refused) without changing anything', default: false })
  @IsOptional()
  @IsBoolean()
  dryRun?: boolean;
}

class PromotedTagDto implements PromotedTag {
  @ApiProperty({ example: '1.4.2' }) source: string;
  @ApiProperty({ example: 'stable' }) target: string;
  @ApiProperty({ example: 'sha256:…' }) digest: string;
}

class PromotionSourceDto {
  @ApiProperty({ example: 'docker-dev' }) repository: string;
  @ApiProperty({ description: "The repository whose content was promoted: a virtual source's member", example: 'docker-dev' }) heldBy: string;
  @ApiProperty({ example: 'team/app' }) image: string;
}

class PromotionTargetDto {
  @ApiProperty({ example: 'docker-prod' }) repository: string;
  @ApiProperty({ description: "Where it landed: a virtual target's defaultDeploymentRepo", example: 'docker-prod' }) deployedTo: string;
  @ApiProperty({ example: 'team/app' }) image: string;
}

class RemovedFromSourceDto {
  @ApiProperty({ type: [String] }) tags: string[];
  @ApiProperty({ description: 'Manifests no tag of the source image keeps any more' }) manifests: number;
}

export class PromotionResultDto implements PromotionResult {
  @ApiProperty({ type: String, nullable: true, description: 'Provenance record id; null for a dry run' }) id: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) createdAt: string | null;
  @ApiProperty() dryRun: boolean;
  @ApiProperty() copy: boolean;
  @ApiProperty({ type: PromotionSourceDto }) source: PromotionSourceDto;
  @ApiProperty({ type: PromotionTargetDto }) target: PromotionTargetDto;
  @ApiProperty({ type: [PromotedTagDto] }) tags: PromotedTagDto[];
  @ApiProperty({ description: "Manifests promoted: images and an index's children" }) manifests: number;
  @ApiProperty({ description: 'Signatures, SBOMs and attestations promoted with them' }) referrers: number;
  @ApiProperty({ description: 'Of those, manifests the target did not hold yet' }) manifestsAdded: number;
  @ApiProperty({ description: 'Blobs newly linked into the target (shared by digest: no byte copied)' }) blobsLinked: number;
  @ApiProperty({ type: [String], description: "Tags the target's maxUniqueTags removed" }) prunedTags: string[];
  @ApiPropertyOptional({ type: RemovedFromSourceDto, description: 'A move: what left the source' }) removedFromSource?: RemovedFromSourceDto;
}

export class PromotionListQuery {
  @ApiPropertyOptional({ description: 'Promotions from or into this repository', example: 'docker-prod' })
  @IsOptional()
  @Matches(REPOSITORY_KEY, { message: `repository must be a repository key: ${KEY_RULE}` })
  repository?: string;

  @ApiPropertyOptional({ description: 'Promotions of this image (source or target name)', example: 'team/app' })
  @IsOptional()
  @MaxLength(255)
  @Matches(IMAGE_NAME, { message: `image must be an image name: ${IMAGE_RULE}` })
  image?: string;

  @ApiPropertyOptional({ description: 'Promotions that carried this manifest', example: 'sha256:…' })
  @IsOptional()
  @Matches(/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/, { message: 'digest must be a digest such as sha256:<hex>' })
  @MaxLength(200)
  digest?: string;

  @ApiPropertyOptional({ description: 'At most this many, newest first', default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

export class PromotionRecordDto implements PromotionRecord {
  @ApiProperty() id: string;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt: Date;
  @ApiProperty({ type: String, nullable: true, description: 'Who promoted' }) username: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The access token used, if one was' }) tokenId: string | null;
  @ApiProperty({ description: 'Source repository as addressed (maybe a virtual)' }) requestedSource: string;
  @ApiProperty({ description: 'Repository the content came from' }) sourceRepository: string;
  @ApiProperty() sourceImage: string;
  @ApiProperty({ description: 'Target repository as addressed (maybe a virtual)' }) requestedTarget: string;
  @ApiProperty({ description: 'Repository the content landed in' }) targetRepository: string;
  @ApiProperty() targetImage: string;
  @ApiProperty() copy: boolean;
  @ApiProperty({ type: [PromotedTagDto] }) tags: PromotedTagDto[];
  @ApiProperty({ type: [String], description: 'Every manifest promoted' }) digests: string[];
}
