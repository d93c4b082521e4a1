import { BadRequestException, PayloadTooLargeException, UnsupportedMediaTypeException } from '@nestjs/common';
import { json, NextFunction, Request, Response, urlencoded } from 'express';

type Middleware = (req: Request, res: Response, next: NextFunction) => void;

/**
 * Bodies of the routes Express serves (the registry lane streams its own): the token endpoint
 * takes a form, the REST API JSON. A REST body of another type would otherwise arrive as `{}`
 * and be refused field by field, which sends the caller after the wrong mistake; parse errors
 * become Nest exceptions so the one error responder renders them.
 */
export function requestBodyParser(): Middleware {
  const parseJson = json({ limit: '1mb' });
  const parseForm = urlencoded({ extended: false, limit: '64kb' });
  return (req, res, next) => {
    const done: NextFunction = (err?: unknown) => next(err === undefined ? undefined : asHttpException(err));
    if (req.path === '/v2/token') return parseForm(req, res, done);
    if (hasBody(req) && !req.is(['application/json', '+json'])) {
      return next(new UnsupportedMediaTypeException('expected a JSON body: send it with Content-Type: application/json'));
    }
    parseJson(req, res, done);
  };
}

function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

function asHttpException(err: unknown): unknown {
  const type = (err as { type?: string }).type;
  if (type === 'entity.parse.failed') return new BadRequestException(`the body is not valid JSON: ${(err as Error).message}`);
  if (type === 'entity.too.large') return new PayloadTooLargeException('the body is too large');
  return err;
}
