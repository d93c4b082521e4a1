import { Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiExtraModels, ApiOkResponse, ApiOperation, ApiQuery, ApiResponse, ApiSecurity, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { Request, Response } from 'express';
import { Public } from '../auth/public.decorator';
import { ApiOptionalCredentials } from '../http/api-security.decorator';
import { RegistryErrorsDto } from './registry-errors.dto';
import { RegistryTokenDto } from './registry-token.dto';
import { TokenEndpoint } from './token-endpoint.service';
import { TokenRequestFormDto } from './token-request-form.dto';

const REGISTRY_ERROR = { 'application/json': { schema: { $ref: getSchemaPath(RegistryErrorsDto) } } };
const CHALLENGE = { 'WWW-Authenticate': { description: 'Bearer realm="<public URL>/v2/token",service="wharf"', schema: { type: 'string' } } };
const GRANTED = 'A token granting what the caller holds of the asked scopes (asking for more is not an error: the token lists less)';
const RETRY_AFTER = { 'Retry-After': { description: 'Seconds until a login may be tried again', schema: { type: 'integer' } } };

/**
 * The Docker registry token endpoint (`realm` of the challenge): GET with Basic credentials or
 * none, and POST with the OAuth2 form that `docker login` may use. Part of the registry
 * protocol, so its errors use the registry envelope, not problem+json.
 */
@ApiTags('registry token')
@ApiExtraModels(RegistryErrorsDto)
@ApiResponse({ status: 401, description: 'Bad credentials; carries the registry challenge', headers: CHALLENGE, content: REGISTRY_ERROR })
@ApiResponse({ status: 429, description: 'Too many failed logins for this user and address', headers: RETRY_AFTER, content: REGISTRY_ERROR })
@Controller('v2/token')
export class TokenController {
  constructor(private readonly endpoint: TokenEndpoint) {}

  @Public()
  @Get()
  @ApiOperation({
    summary: 'Get a registry token (Docker token spec)',
    description:
      'With Basic credentials (password or access token), Bearer with an access token (wharf_...), or none (anonymous). A registry JWT is no credential for another token.',
  })
  @ApiOptionalCredentials()
  @ApiOkResponse({ type: RegistryTokenDto, description: GRANTED })
  @ApiQuery({
    name: 'service',
    required: false,
    type: String,
    description: "Accepted as sent; tokens always name this server's service (WHARF_AUTH_SERVICE, default wharf)",
    example: 'wharf',
  })
  @ApiQuery({
    name: 'scope',
    required: false,
    type: String,
    isArray: true,
    style: 'form',
    explode: true,
    description: 'Repeatable; each may hold several space-separated scopes, e.g. repository:docker-local/app:pull,push or registry:catalog:*',
  })
  @ApiQuery({ name: 'offline_token', required: false, type: Boolean, description: 'true: add a refresh token (not for anonymous callers)' })
  @ApiQuery({ name: 'client_id', required: false, type: String, description: 'The client, e.g. docker; accepted and not checked', example: 'docker' })
  get(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.endpoint.get(req, res);
  }

  @Public()
  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Get a registry token with the OAuth2 form',
    description: 'grant_type=password with username and password (or an access token), or grant_type=refresh_token with refresh_token. The Authorization header is not read.',
  })
  // Credentials travel in the form, none in the headers.
  @ApiSecurity({})
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiBody({ type: TokenRequestFormDto })
  @ApiOkResponse({ type: RegistryTokenDto, description: GRANTED })
  @ApiResponse({ status: 405, description: 'grant_type is neither password nor refresh_token', content: REGISTRY_ERROR })
  post(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.endpoint.post(req, res);
  }
}
