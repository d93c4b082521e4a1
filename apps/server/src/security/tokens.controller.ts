import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AccessTokenView, AccessTokensService, CreatedAccessToken, Principal } from '@wharf/auth';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { ApiProblems } from '../http/api-problems.decorator';
import { ApiPasswordLogin } from '../http/api-security.decorator';
import { AccessTokenViewDto } from './access-token-view.dto';
import { CreatedAccessTokenDto } from './created-access-token.dto';
import { TokenCreateDto, TokenListQuery } from './token.dto';

@ApiTags('security')
@Controller('api/security/tokens')
export class TokensController {
  constructor(private readonly tokens: AccessTokensService) {}

  @Get()
  @ApiOperation({ summary: "List the caller's access tokens (admins: everyone's, or ?user=); never the secrets" })
  @ApiOkResponse({ type: AccessTokenViewDto, isArray: true })
  @ApiProblems(400, 401, 403, 404, 429)
  list(@CurrentPrincipal() principal: Principal, @Query() query: TokenListQuery): Promise<AccessTokenView[]> {
    return this.tokens.list(principal, query.user);
  }

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create an access token for the caller; the answer holds the secret, shown this once (needs a password login)' })
  @ApiPasswordLogin()
  @ApiCreatedResponse({ type: CreatedAccessTokenDto })
  @ApiProblems(400, 401, 403, 415, 429)
  create(@CurrentPrincipal() principal: Principal, @Body() body: TokenCreateDto): Promise<CreatedAccessToken> {
    return this.tokens.create(principal, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an access token (its owner or an admin); effective at once' })
  @ApiNoContentResponse({ description: 'Revoked (revoking twice is fine)' })
  @ApiProblems(401, 404, 429)
  revoke(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    return this.tokens.revoke(principal, id);
  }
}
