import { All, Controller, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Request, Response } from 'express';
import { RegistryDispatcher } from './registry.dispatcher';

/**
 * The OCI Distribution API under both path forms. Names span several path segments
 * (`team/project/app`), so the path is parsed by the dispatcher, not by the router.
 */
@ApiExcludeController()
@Controller()
export class RegistryController {
  constructor(private readonly dispatcher: RegistryDispatcher) {}

  @All(['v2', 'v2/*path'])
  v2(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.dispatcher.handle(req, res, '/v2/');
  }

  @All(['api/docker/:repoKey/v2', 'api/docker/:repoKey/v2/*path'])
  scoped(@Req() req: Request, @Res() res: Response): Promise<void> {
    // The raw segment, not the decoded :repoKey param, so validation sees what was sent.
    const repoKey = req.path.split('/')[3];
    return this.dispatcher.handle(req, res, `/api/docker/${repoKey}/v2/`, repoKey);
  }
}
