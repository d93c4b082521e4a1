import { Injectable, NestMiddleware } from '@nestjs/common';
import { NextFunction, Request, Response } from 'express';
import { WharfConfig } from '@wharf/config';
import { ActorContext, RequestActor } from '@wharf/db';
import { publicOrigin } from '../auth/challenge';

/**
 * Makes each request the actor of the work it starts, for the audit log: REST requests through
 * Nest's middleware, registry requests through the registry lane. The fields are read from the
 * request when a row is written, so the principal that authentication puts on it later counts.
 */
@Injectable()
export class RequestActorMiddleware implements NestMiddleware {
  constructor(
    private readonly actors: ActorContext,
    private readonly config: WharfConfig,
  ) {}

  use(req: Request, _res: Response, next: NextFunction): void {
    this.actors.run(actorOf(req, this.config), next);
  }
}

function actorOf(req: Request, config: WharfConfig): RequestActor {
  return {
    get requestId() {
      return req.id;
    },
    get address() {
      return req.ip;
    },
    get username() {
      return req.principal?.username;
    },
    get tokenId() {
      return req.principal?.tokenScope?.tokenId;
    },
    get method() {
      return req.method;
    },
    get host() {
      return req.get('host');
    },
    get userAgent() {
      return req.get('user-agent');
    },
    get origin() {
      return publicOrigin(config, req);
    },
  };
}
