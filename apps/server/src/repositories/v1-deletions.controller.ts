import { Controller, Delete, HttpCode, Param } from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Principal } from '@wharf/auth';
import { ImageDeletionService } from '@wharf/registry';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { ApiProblems } from '../http/api-problems.decorator';
import { RepositoryKeyPipe } from './repository-key.pipe';

const TAG_SUFFIX = /^(.+)\/tags\/([^/]+)$/;

/**
 * The Docker v1 API's deletions Artifactory documents, as aliases of the registry's: image names
 * span segments, so one wildcard route takes both forms; a path ending in `/tags/<tag>` deletes
 * that tag. (The registry lane claims /v2 and /api/docker/<key>/v2 only, so /v1 reaches Nest.)
 */
@ApiTags('repositories')
@Controller('v1/repositories')
export class V1DeletionsController {
  constructor(private readonly deletions: ImageDeletionService) {}

  @Delete(':key/*path')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Docker v1 API: delete an image with all its tags and manifests (`<image>`), or one tag (`<image>/tags/<tag>`); needs delete; push rules apply',
  })
  @ApiParam({ name: 'path', description: '`<image>` or `<image>/tags/<tag>`', example: 'team/app/tags/1.4' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems(400, 401, 403, 404, 429)
  delete(@CurrentPrincipal() principal: Principal, @Param('key', RepositoryKeyPipe) key: string, @Param('path') path: string | string[]): Promise<void> {
    const rest = Array.isArray(path) ? path.join('/') : path;
    const tag = TAG_SUFFIX.exec(rest);
    return tag ? this.deletions.deleteTag(principal, key, tag[1], tag[2]) : this.deletions.deleteImage(principal, key, rest);
  }
}
