import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Principal } from '@wharf/auth';
import {
  ImageDeletionService,
  ImagePage,
  LifecycleRules,
  ManifestView,
  ManifestViewService,
  RepositoryAdminService,
  RepositoryBrowseService,
  RepositoryView,
  ResolutionView,
  RetentionOutcome,
  TagPage,
} from '@wharf/registry';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { ApiProblems } from '../http/api-problems.decorator';
import { ApiOptionalCredentials } from '../http/api-security.decorator';
import { GcRequestDto, RetentionOutcomeDto } from '../system/gc.dto';
import { RepositoryKeyPipe } from './repository-key.pipe';
import { CachePurgeQuery, ImageListQuery, ImageQuery, RepositoryDto, RepositoryListQuery, RepositoryUpdateDto, ResolveQuery, TagListQuery, TagQuery } from './repository.dto';
import { CachePurgeResultDto, ImagePageDto, ManifestViewDto, RepositoryViewDto, ResolutionViewDto, TagPageDto } from './repository-view.dto';

@ApiTags('repositories')
@Controller('api/repositories')
export class RepositoriesController {
  constructor(
    private readonly admin: RepositoryAdminService,
    private readonly manifests: ManifestViewService,
    private readonly lifecycle: LifecycleRules,
    private readonly browse: RepositoryBrowseService,
    private readonly deletions: ImageDeletionService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'List the repositories the caller may read, optionally of one class, each with what the caller may do to it' })
  @ApiOptionalCredentials()
  @ApiOkResponse({ type: RepositoryViewDto, isArray: true })
  @ApiProblems(400, 401, 429)
  list(@CurrentPrincipal() principal: Principal, @Query() query: RepositoryListQuery): Promise<RepositoryView[]> {
    return this.admin.list(principal, query.type);
  }

  @Get(':key')
  @ApiOperation({ summary: 'One repository (needs read on it), with what the caller may do to it' })
  @ApiOptionalCredentials()
  @ApiOkResponse({ type: RepositoryViewDto })
  @ApiProblems(401, 404, 429)
  get(@CurrentPrincipal() principal: Principal, @Param('key', RepositoryKeyPipe) key: string): Promise<RepositoryView> {
    return this.admin.get(principal, key);
  }

  @Put(':key')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a repository: local, remote or virtual (admins)' })
  @ApiCreatedResponse({ type: RepositoryViewDto })
  @ApiProblems(400, 401, 403, 409, 415, 429)
  create(@CurrentPrincipal() principal: Principal, @Param('key', RepositoryKeyPipe) key: string, @Body() body: RepositoryDto): Promise<RepositoryView> {
    return this.admin.create(principal, key, body);
  }

  @Post(':key')
  @HttpCode(200)
  @ApiOperation({ summary: "Update any of a repository's settings; fields not sent stay (needs manage)" })
  @ApiOkResponse({ type: RepositoryViewDto })
  @ApiProblems(400, 401, 403, 404, 415, 429)
  update(@CurrentPrincipal() principal: Principal, @Param('key', RepositoryKeyPipe) key: string, @Body() body: RepositoryUpdateDto): Promise<RepositoryView> {
    return this.admin.update(principal, key, body);
  }

  @Get(':key/resolve')
  @ApiOperation({ summary: 'Virtual: which member serves image:reference, and what each member answered, in order' })
  @ApiOptionalCredentials()
  @ApiOkResponse({ type: ResolutionViewDto })
  @ApiProblems(400, 401, 404, 429)
  resolve(@CurrentPrincipal() principal: Principal, @Param('key', RepositoryKeyPipe) key: string, @Query() query: ResolveQuery): Promise<ResolutionView> {
    return this.admin.resolve(principal, key, query.image, query.reference);
  }

  @Get(':key/manifest')
  @ApiOperation({ summary: 'One manifest (by tag or digest) as a pull finds it: where it is held, its tags, and the promotions that carried it' })
  @ApiOptionalCredentials()
  @ApiOkResponse({ type: ManifestViewDto })
  @ApiProblems(400, 401, 404, 429)
  manifest(@CurrentPrincipal() principal: Principal, @Param('key', RepositoryKeyPipe) key: string, @Query() query: ResolveQuery): Promise<ManifestView> {
    return this.manifests.view(principal, key, query.image, query.reference);
  }

  @Get(':key/images')
  @ApiOperation({
    summary: 'A page of the images held (with at least one manifest), by name in byte order: tag counts and last change (needs read)',
    description:
      'A virtual lists the names its members the caller may read hold, each with the members holding it in resolution order and their tags summed. Page with `after` = the `next` of the previous page.',
  })
  @ApiOptionalCredentials()
  @ApiOkResponse({ type: ImagePageDto })
  @ApiProblems(400, 401, 404, 429)
  images(@CurrentPrincipal() principal: Principal, @Param('key', RepositoryKeyPipe) key: string, @Query() query: ImageListQuery): Promise<ImagePage> {
    return this.browse.images(principal, key, query);
  }

  @Delete(':key/images')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an image with all its tags and manifests (needs delete; push rules apply; a virtual deletes in its deployment target)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems(400, 401, 403, 404, 429)
  deleteImage(@CurrentPrincipal() principal: Principal, @Param('key', RepositoryKeyPipe) key: string, @Query() query: ImageQuery): Promise<void> {
    return this.deletions.deleteImage(principal, key, query.image);
  }

  @Get(':key/tags')
  @ApiOperation({
    summary: "A page of an image's tags, by name in byte order: digest, size, platforms, when pushed (needs read)",
    description:
      'A virtual lists the tags of its members the caller may read, each from the member a pull would take it from. A remote lists what it has cached. 404 when the image is not there. Page with `after` = the `next` of the previous page.',
  })
  @ApiOptionalCredentials()
  @ApiOkResponse({ type: TagPageDto })
  @ApiProblems(400, 401, 404, 429)
  tags(@CurrentPrincipal() principal: Principal, @Param('key', RepositoryKeyPipe) key: string, @Query() query: TagListQuery): Promise<TagPage> {
    return this.browse.tags(principal, key, query.image, query);
  }

  @Delete(':key/tags')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a tag; its manifest stays (needs delete; push rules apply; a virtual deletes in its deployment target)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems(400, 401, 403, 404, 429)
  deleteTag(@CurrentPrincipal() principal: Principal, @Param('key', RepositoryKeyPipe) key: string, @Query() query: TagQuery): Promise<void> {
    return this.deletions.deleteTag(principal, key, query.image, query.tag);
  }

  @Post(':key/retention')
  @HttpCode(200)
  @ApiOperation({ summary: "Local: apply the repository's tag retention rules now, or with dryRun list what they would remove (needs manage)" })
  @ApiOkResponse({ type: RetentionOutcomeDto })
  @ApiProblems(400, 401, 403, 404, 415, 429)
  retain(@CurrentPrincipal() principal: Principal, @Param('key', RepositoryKeyPipe) key: string, @Body() body: GcRequestDto): Promise<RetentionOutcome> {
    return this.lifecycle.retainNow(principal, key, body.dryRun ?? false);
  }

  @Delete(':key/cache')
  @ApiOperation({ summary: 'Remove cached content of a remote repository (all, or ?image=<name>)' })
  @ApiOkResponse({ type: CachePurgeResultDto })
  @ApiProblems(400, 401, 403, 404, 429)
  purgeCache(@CurrentPrincipal() principal: Principal, @Param('key', RepositoryKeyPipe) key: string, @Query() query: CachePurgeQuery) {
    return this.admin.purgeCache(principal, key, query.image);
  }

  @Delete(':key')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a repository with its tags, manifests and links; it leaves every virtual at once' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems(401, 403, 404, 429)
  delete(@CurrentPrincipal() principal: Principal, @Param('key', RepositoryKeyPipe) key: string): Promise<void> {
    return this.admin.delete(principal, key);
  }
}
