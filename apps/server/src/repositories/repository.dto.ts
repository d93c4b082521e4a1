import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsNotEmpty, IsObject, IsOptional, IsString, IsUrl, Length, Matches, Max, MaxLength, Min } from 'class-validator';
import { Type } from 'class-transformer';
import { IMAGE_NAME, REPOSITORY_KEY } from '@wharf/oci';
import { MAX_UNIQUE_TAGS_LIMIT, RetentionPolicy } from '@wharf/registry';

const RCLASSES = ['local', 'remote', 'virtual'] as const;

/** Fields of one kind or another (remote, virtual), in Artifactory's names; the service refuses those of another kind. */
class KindFields {
  @ApiPropertyOptional({ description: 'Upstream registry URL', default: 'https://registry-1.docker.io' })
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true }, { message: 'url must be an http(s) URL' })
  url?: string;

  @ApiPropertyOptional({ description: 'Upstream user name' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  username?: string;

  @ApiPropertyOptional({ description: 'Upstream password or token; stored encrypted, returned masked; "" removes it' })
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  password?: string;

  @ApiPropertyOptional({ description: 'Seconds a cached tag is served before it is revalidated', default: 600 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(31_536_000)
  metadataRetrievalCachePeriod?: number;

  @ApiPropertyOptional({ description: 'Serve only cached content', default: false })
  @IsOptional()
  @IsBoolean()
  offline?: boolean;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  enableTokenAuthentication?: boolean;

  @ApiPropertyOptional({ default: 10000 })
  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(600_000)
  connectTimeoutMillis?: number;

  @ApiPropertyOptional({ description: 'Read timeout', default: 30000 })
  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  socketTimeoutMillis?: number;

  @ApiPropertyOptional({ description: 'Remote and virtual: comma-separated image name patterns to serve (* within a segment, ** across)', default: '**' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  includesPattern?: string;

  @ApiPropertyOptional({ description: 'Remote and virtual: comma-separated image name patterns to refuse', default: '' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  excludesPattern?: string;

  @ApiPropertyOptional({ description: 'Hosts besides the upstream that may receive its credentials as a token realm', type: [String] })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  tokenRealmAllowList?: string[];

  @ApiPropertyOptional({ description: 'Map one-segment names to library/<name> upstream (default: true for Docker Hub)' })
  @IsOptional()
  @IsBoolean()
  libraryPrefix?: boolean;

  @ApiPropertyOptional({ description: 'Virtual: member keys (local, remote or virtual) in resolution order', type: [String], example: ['docker-local', 'docker-hub'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @Matches(REPOSITORY_KEY, { each: true, message: 'repositories must hold repository keys' })
  repositories?: string[];

  @ApiPropertyOptional({ description: 'Virtual: the local member that receives pushes; null for none', type: String, nullable: true, example: 'docker-local' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  defaultDeploymentRepo?: string | null;

  @ApiPropertyOptional({ description: 'Virtual: among members holding a tag, the most recently pushed or cached wins', default: false })
  @IsOptional()
  @IsBoolean()
  resolveDockerTagsByTimestamp?: boolean;

  @ApiPropertyOptional({ description: 'Virtual: once a local member holds an image name, it resolves from local members only', default: true })
  @IsOptional()
  @IsBoolean()
  priorityResolution?: boolean;

  @ApiPropertyOptional({
    description:
      'Local: false refuses (DENIED) moving an existing tag to other content, deleting it, or deleting a manifest that carries tags; pushing the same manifest again succeeds',
    default: true,
  })
  @IsOptional()
  @IsBoolean()
  allowTagOverwrite?: boolean;

  @ApiPropertyOptional({ description: 'Local: after a push, the oldest tags of the image beyond this many are removed (manifests stay until GC); 0 is unlimited', default: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_UNIQUE_TAGS_LIMIT)
  maxUniqueTags?: number;

  @ApiPropertyOptional({ description: 'Local: uploads, manifest pushes and deletions only with an access token, never a password', default: false })
  @IsOptional()
  @IsBoolean()
  mustUseAuthTokenForPush?: boolean;

  @ApiPropertyOptional({ description: "Local: a manifest is served only once a signature (cosign's or Notation's) refers to it; pushing is allowed", default: false })
  @IsOptional()
  @IsBoolean()
  requireSignature?: boolean;

  @ApiPropertyOptional({
    description: "Local: bytes the repository's blobs may take, each counted once; a blob push beyond it is refused (DENIED); 0 is no quota",
    default: 0,
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  quotaBytes?: number;

  @ApiPropertyOptional({
    description: 'Local: garbage collection removes manifests untagged this many days (an index child or a referrer whose subject remains stays); 0 is never',
    default: 0,
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(36_500)
  untaggedManifestDays?: number;

  @ApiPropertyOptional({
    description:
      'Local: tag retention, applied with garbage collection or on demand (POST /api/repositories/{key}/retention). A tag stays when any rule for its image keeps it: {"rules":[{"images":"team/**","keepLatest":10,"keepDays":30,"alwaysKeep":["v*","release-*"]}]}; null removes the rules. Never applied where allowTagOverwrite is false',
    nullable: true,
    example: { rules: [{ images: '**', keepLatest: 10, keepDays: 30, alwaysKeep: ['v*'] }] },
  })
  @IsOptional()
  @IsObject()
  retention?: RetentionPolicy | null;

  @ApiPropertyOptional({ description: 'Remote: cached content not pulled for this many days is forgotten by garbage collection; 0 keeps it', default: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(36_500)
  cacheRetentionDays?: number;

  @ApiPropertyOptional({ description: "Remote: the cache's size beyond which garbage collection forgets blobs, least recently pulled first; 0 is no limit", default: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  maxCacheBytes?: number;
}

/** The body of PUT (create) and POST (update) /api/repositories/{key}, in Artifactory's shape. */
export class RepositoryDto extends KindFields {
  @ApiPropertyOptional({ description: 'Must equal the key in the path when given', example: 'docker-local' })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  @Matches(REPOSITORY_KEY, { message: 'key must be 1 to 64 lowercase letters, digits, "." and "-", starting and ending with a letter or digit' })
  key?: string;

  @ApiProperty({ enum: RCLASSES })
  @IsIn(RCLASSES)
  rclass: (typeof RCLASSES)[number];

  @ApiProperty({ enum: ['docker'] })
  @IsIn(['docker'])
  packageType: 'docker';

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  description?: string;

  @ApiPropertyOptional({ description: 'Anyone, logged in or not, may pull (default false)' })
  @IsOptional()
  @IsBoolean()
  anonymousRead?: boolean;
}

/** Every field optional: only what is sent changes. */
export class RepositoryUpdateDto extends PartialType(RepositoryDto) {}

export class RepositoryListQuery {
  @ApiPropertyOptional({ enum: RCLASSES })
  @IsOptional()
  @IsIn(RCLASSES)
  type?: (typeof RCLASSES)[number];
}

export class CachePurgeQuery {
  @ApiPropertyOptional({ description: 'Only this image, e.g. library/nginx' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  @Matches(IMAGE_NAME, { message: 'image must be an image name: lowercase path components [a-z0-9] separated by ".", "_", "__", "-" and "/"' })
  image?: string;
}

export class ResolveQuery {
  @ApiProperty({ description: 'Image name within the virtual repository', example: 'team/app' })
  @IsString()
  @Length(1, 255)
  image: string;

  @ApiProperty({ description: 'Tag or digest', example: '1.4' })
  @IsString()
  @Length(1, 200)
  reference: string;
}

const LIMIT_RULE = { description: 'At most this many', type: 'integer', default: 50, minimum: 1, maximum: 500 } as const;

/** A page's size, shared by the keyset-paged listings. */
class PageSizeQuery {
  @ApiPropertyOptional(LIMIT_RULE)
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

export class ImageListQuery extends PageSizeQuery {
  @ApiPropertyOptional({ description: 'Only image names containing this, in any case', example: 'app' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  q?: string;

  @ApiPropertyOptional({ description: 'Names after this one, in byte order: the `next` of the previous page', example: 'team/app' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  after?: string;
}

export class TagListQuery extends PageSizeQuery {
  @ApiProperty({ description: 'Image name within the repository', example: 'team/app' })
  @IsString()
  @Length(1, 255)
  image: string;

  @ApiPropertyOptional({ description: 'Tags after this one, in byte order: the `next` of the previous page', example: '1.4' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  after?: string;
}

export class ImageQuery {
  @ApiProperty({ description: 'Image name within the repository', example: 'team/app' })
  @IsString()
  @Length(1, 255)
  image: string;
}

export class TagQuery extends ImageQuery {
  @ApiProperty({ description: 'The tag', example: '1.4' })
  @IsString()
  @Length(1, 128)
  tag: string;
}
