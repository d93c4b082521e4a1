import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { RepositoryAdminService, RepositoryView } from '@wharf/registry';
import { RepositoryKeyPipe } from './repository-key.pipe';
import { RepositoryDto, RepositoryListQuery, RepositoryUpdateDto } from './repository.dto';

@ApiTags('repositories')
@Controller('api/repositories')
export class RepositoriesController {
  constructor(private readonly admin: RepositoryAdminService) {}

  @Get()
  @ApiOperation({ summary: 'List repositories, optionally of one class' })
  list(@Query() query: RepositoryListQuery): Promise<RepositoryView[]> {
    return this.admin.list(query.type);
  }

  @Get(':key')
  get(@Param('key', RepositoryKeyPipe) key: string): Promise<RepositoryView> {
    return this.admin.get(key);
  }

  @Put(':key')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a repository' })
  create(@Param('key', RepositoryKeyPipe) key: string, @Body() body: RepositoryDto): Promise<RepositoryView> {
    return this.admin.create(key, body);
  }

  @Post(':key')
  @HttpCode(200)
  @ApiOperation({ summary: 'Update a repository' })
  update(@Param('key', RepositoryKeyPipe) key: string, @Body() body: RepositoryUpdateDto): Promise<RepositoryView> {
    return this.admin.update(key, body);
  }

  @Delete(':key')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a repository with its tags, manifests and links' })
  delete(@Param('key', RepositoryKeyPipe) key: string): Promise<void> {
    return this.admin.delete(key);
  }
}
