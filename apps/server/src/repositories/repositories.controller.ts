import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Principal } from '@wharf/auth';
import { RepositoryAdminService, RepositoryView } from '@wharf/registry';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { RepositoryKeyPipe } from './repository-key.pipe';
import { CachePurgeQuery, RepositoryDto, RepositoryListQuery, RepositoryUpdateDto } from './repository.dto';

@ApiTags('repositories')
@Controller('api/repositories')
export class RepositoriesController {
  constructor(private readonly admin: RepositoryAdminService) {}

  @Get()
  @ApiOperation({ summary: 'List repositories, optionally of one class' })
  list(@CurrentPrincipal() principal: Principal, @Query() query: RepositoryListQuery): Promise<RepositoryView[]> {
    return this.admin.list(principal, query.type);
  }

  @Get(':key')
  get(@CurrentPrincipal() principal: Principal, @Param('key', RepositoryKeyPipe) key: string): Promise<RepositoryView> {
    return this.admin.get(principal, key);
  }

  @Put(':key')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a repository' })
  create(@CurrentPrincipal() principal: Principal, @Param('key', RepositoryKeyPipe) key: string, @Body() body: RepositoryDto): Promise<RepositoryView> {
    return this.admin.create(principal, key, body);
  }

  @Post(':key')
  @HttpCode(200)
  @ApiOperation({ summary: 'Update a repository' })
  update(@CurrentPrincipal() principal: Principal, @Param('key', RepositoryKeyPipe) key: string, @Body() body: RepositoryUpdateDto): Promise<RepositoryView> {
    return this.admin.update(principal, key, body);
  }

  @Delete(':key/cache')
  @ApiOperation({ summary: 'Remove cached content of a remote repository (all, or ?image=<name>)' })
  purgeCache(@CurrentPrincipal() principal: Principal, @Param('key', RepositoryKeyPipe) key: string, @Query() query: CachePurgeQuery) {
    return this.admin.purgeCache(principal, key, query.image);
  }

  @Delete(':key')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a repository with its tags, manifests and links' })
  delete(@CurrentPrincipal() principal: Principal, @Param('key', RepositoryKeyPipe) key: string): Promise<void> {
    return this.admin.delete(principal, key);
  }
}
