import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AccessTokenView, AccessTokensService, CreatedAccessToken, Principal } from '@wharf/auth';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { TokenCreateDto, TokenListQuery } from './token.dto';

@ApiTags('security')
@Controller('api/security/tokens')
export class TokensController {
  constructor(private readonly tokens: AccessTokensService) {}

  @Get()
  @ApiOperation({ summary: "List the caller's access tokens (admins: everyone's, or ?user=); never the secrets" })
  list(@CurrentPrincipal() principal: Principal, @Query() query: TokenListQuery): Promise<AccessTokenView[]> {
    return this.tokens.list(principal, query.user);
  }

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create an access token for the caller; the answer holds the secret, shown this once' })
  create(@CurrentPrincipal() principal: Principal, @Body() body: TokenCreateDto): Promise<CreatedAccessToken> {
    return this.tokens.create(principal, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an access token (its owner or an admin); effective at once' })
  revoke(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    return this.tokens.revoke(principal, id);
  }
}
