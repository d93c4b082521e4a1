import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Principal } from '@wharf/auth';
import { PromotionRecord } from '@wharf/db';
import { PromotionResult, PromotionService } from '@wharf/promotion';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { ApiProblems } from '../http/api-problems.decorator';
import { ApiOptionalCredentials } from '../http/api-security.decorator';
import { RepositoryKeyPipe } from '../repositories/repository-key.pipe';
import { PromoteDto, PromotionListQuery, PromotionRecordDto, PromotionResultDto } from './promotion.dto';

/**
 * Promotion, at Artifactory's address. The registry lane claims /api/docker/<key>/v2/ except
 * this one path (registry-paths.ts), which no registry route can be: it reaches Nest.
 */
@ApiTags('promotion')
@Controller()
export class PromotionController {
  constructor(private readonly promotions: PromotionService) {}

  @Post('api/docker/:key/v2/promote')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Copy or move an image (one tag or all) with its index children and referrers into another repository, in one transaction; needs read on the source (and delete to move), write on the target; its push rules apply',
  })
  @ApiOkResponse({ type: PromotionResultDto })
  @ApiProblems(400, 401, 403, 404, 415, 429)
  promote(@CurrentPrincipal() principal: Principal, @Param('key', RepositoryKeyPipe) key: string, @Body() body: PromoteDto): Promise<PromotionResult> {
    return this.promotions.promote(principal, key, body);
  }

  @Get('api/promotions')
  @ApiOperation({ summary: 'Promotions (provenance), newest first, of the repositories the caller may read' })
  @ApiOptionalCredentials()
  @ApiOkResponse({ type: PromotionRecordDto, isArray: true })
  @ApiProblems(400, 401, 429)
  list(@CurrentPrincipal() principal: Principal, @Query() query: PromotionListQuery): Promise<PromotionRecord[]> {
    return this.promotions.list(principal, query);
  }
}
