import { Injectable } from '@nestjs/common';
import { NextFunction, Request, Response } from 'express';
import { ErrorResponder } from '../errors/error-responder';
import { RequestIdMiddleware } from '../logging/request-id.middleware';
import { RegistryDispatcher } from './registry.dispatcher';
import { registryMount } from './registry-paths';

/**
 * The OCI Distribution API under both path forms, served by an Express middleware mounted
 * ahead of Nest's routes. Registry requests never needed the router (names span several
 * segments, so the dispatcher parses the path) nor Nest's guards, pipes and interceptors (the
 * dispatcher authenticates and authorizes): skipping them took ~15% off a manifest GET in a
 * profile of the manifest load. Everything else passes through to Nest.
 */
@Injectable()
export class RegistryLane {
  constructor(
    private readonly dispatcher: RegistryDispatcher,
    private readonly requestIds: RequestIdMiddleware,
    private readonly errors: ErrorResponder,
  ) {}

  readonly middleware = (req: Request, res: Response, next: NextFunction): void => {
    const mount = registryMount(req.path);
    if (!mount) return next();
    this.requestIds.use(req, res, () => {
      this.dispatcher.handle(req, res, mount.prefix, mount.repoKey).catch((err) => this.errors.respond(err, req, res));
    });
  };
}
