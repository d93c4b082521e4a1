import { Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Request, Response } from 'express';
import { Public } from '../auth/public.decorator';
import { TokenEndpoint } from './token-endpoint.service';

/**
 * The Docker registry token endpoint (`realm` of the challenge): GET with Basic credentials or
 * none, and POST with the OAuth2 form that `docker login` may use.
 */
@ApiTags('auth')
@Controller('v2/token')
export class TokenController {
  constructor(private readonly endpoint: TokenEndpoint) {}

  @Public()
  @Get()
  @ApiOperation({ summary: 'Issue a registry bearer token (Docker token protocol)' })
  get(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.endpoint.get(req, res);
  }

  @Public()
  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'Issue a registry bearer token (OAuth2 password or refresh_token grant)' })
  post(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.endpoint.post(req, res);
  }
}
