import { Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Request, Response } from 'express';
import { Public } from '../auth/public.decorator';
import { TokenEndpoint } from './token-endpoint.service';

/**
 * The Docker registry token endpoint (`realm` of the challenge): GET with Basic credentials or
 * none, and POST with the OAuth2 form that `docker login` may use.
 */
// Part of the registry protocol, documented with it in the README rather than in the REST API's OpenAPI.
@ApiExcludeController()
@Controller('v2/token')
export class TokenController {
  constructor(private readonly endpoint: TokenEndpoint) {}

  @Public()
  @Get()
  get(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.endpoint.get(req, res);
  }

  @Public()
  @Post()
  @HttpCode(200)
  post(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.endpoint.post(req, res);
  }
}
