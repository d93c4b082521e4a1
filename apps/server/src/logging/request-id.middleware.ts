import { randomUUID } from 'node:crypto';
import { Injectable, Logger, NestMiddleware } from '@nestjs/common';
import { NextFunction, Request, Response } from 'express';
import { WharfConfig } from '@wharf/config';
import { levelEnabled } from './json-logger';

declare module 'express-serve-static-core' {
  interface Request {
    id?: string;
  }
}

const INCOMING_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Gives every request an id (the client's X-Request-Id when sane), echoes it, and writes
 * one access-log line when the response ends. Headers are never logged: they carry secrets.
 */
@Injectable()
export class RequestIdMiddleware implements NestMiddleware {
  private readonly logger = new Logger('http');
  /** Below info (LOG_LEVEL=warn) the access log is off, and so is its per-request bookkeeping. */
  private readonly accessLog: boolean;

  constructor(config: WharfConfig) {
    this.accessLog = levelEnabled('info', config.logLevel);
  }

  use(req: Request, res: Response, next: NextFunction): void {
    const incoming = req.headers['x-request-id'];
    req.id = typeof incoming === 'string' && INCOMING_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', req.id);
    if (!this.accessLog) {
      next();
      return;
    }
    const started = process.hrtime.bigint();
    res.on('close', () => {
      this.logger.log({
        msg: 'request',
        reqId: req.id,
        method: req.method,
        path: req.path,
        status: res.statusCode,
        // Set by authentication (registry routes, REST guard, token endpoint); absent: none succeeded.
        user: req.principal?.username ?? 'anonymous',
        ...(req.principal?.tokenScope ? { tokenId: req.principal.tokenScope.tokenId } : {}),
        ms: Number(process.hrtime.bigint() - started) / 1e6,
        aborted: !res.writableFinished,
      });
    });
    next();
  }
}
