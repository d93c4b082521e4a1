import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Principal } from '@wharf/auth';
import { LifecycleRules, ManifestView, ManifestViewService, RepositoryAdminService, RepositoryView, ResolutionView, RetentionOutcome } from '@wharf/registry';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { ApiProblems } from '../http/api-problems.decorator';
import { ApiOptionalCredentials } from '../http/api-security.decorator';
import { GcRequestDto, RetentionOutcomeDto } from '../system/gc.dto';
import { RepositoryKeyPipe } from './repository-key.pipe';
import { CachePurgeQuery, RepositoryDto, RepositoryListQuery, RepositoryUpdateDto, ResolveQuery } from './repository.dto';
import { CachePurgeResultDto, ManifestViewDto, RepositoryViewDto, ResolutionViewDto } from './repository-view.dto';

@ApiTags('repositories')
@Controller('api/repositories')
export class RepositoriesController {
  constructor(
    private readonly admin: RepositoryAdminService,
    private readonly manifests: ManifestViewService,
    private readonly lifecycle: LifecycleRules,
  ) {}

  @Get()
  @ApiOperation({ summary: 'List the repositories the caller may read, optionally of one class' })
  @ApiOptionalCredentials()
  @ApiOkResponse({ type: RepositoryViewDto, isArray: true })
  @ApiProblems(400, 401, 429)
  list(@CurrentPrincipal() principal: Principal, @Query() query: RepositoryListQuery): Promise<RepositoryView[]> {
    return this.admin.list(principal, query.type);
  }

  @Get(':key')
  @ApiOperation({ summary: 'One repository (needs read on it)' })
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
