import { STATUS_CODES } from 'node:http';
import { HttpException, Injectable, Logger } from '@nestjs/common';
import { Request, Response } from 'express';
import { WharfConfig } from '@wharf/config';
import { ERROR_CATALOGUE, RegistryError } from '@wharf/oci';
import { apiChallenge, registryChallenge } from '../auth/challenge';
import { isRegistryPath } from '../registry/registry-paths';

/**
 * Renders every error: registry routes get the distribution spec's
 * `{"errors":[{code,message,detail}]}`, the REST API a JSON problem body. Used by the Nest
 * exception filter and by the registry lane, which runs outside Nest's routing.
 */
@Injectable()
export class ErrorResponder {
  private readonly logger = new Logger('HttpExceptionFilter');

  constructor(private readonly config: WharfConfig) {}

  respond(exception: unknown, req: Request, res: Response): void {
    if (res.headersSent) {
      // Mid-stream failure: the only honest signal left is a broken connection.
      res.destroy();
      return;
    }
    if (isClientAbort(exception)) {
      // The client went away mid-body: nothing to answer, and not a server fault.
      this.logger.warn({ msg: 'client aborted the request', reqId: req.id });
      res.destroy();
      return;
    }
    const error = toRegistryError(exception);
    if (error.status >= 500) {
      // A typed error is an expected condition (an upstream down): a warning, no stack trace.
      if (exception instanceof RegistryError) this.logger.warn({ msg: 'request failed', reqId: req.id, code: error.code, detail: error.message });
      else this.logger.error({ msg: 'request failed', reqId: req.id, err: describe(exception) });
    }
    res.set(error.headers);
    const registry = isRegistryPath(req.path);
    if (error.status === 401 && !res.get('WWW-Authenticate')) {
      // A 401 always tells the client how to authenticate.
      res.set('WWW-Authenticate', registry ? registryChallenge(this.config, req) : apiChallenge(req));
    }
    if (registry) {
      res.set('Docker-Distribution-API-Version', 'registry/2.0');
      res.status(error.status).json({ errors: [error.toJSON()] });
    } else {
      const body = exception instanceof HttpException ? exception.getResponse() : undefined;
      res
        .status(error.status)
        .type('application/problem+json')
        .json({
          status: error.status,
          title: STATUS_CODES[error.status] ?? 'Error',
          detail: error.message,
          ...(typeof body === 'object' && body && 'message' in body && Array.isArray(body.message) ? { errors: body.message } : {}),
        });
    }
  }
}

function toRegistryError(exception: unknown): RegistryError {
  if (exception instanceof RegistryError) return exception;
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const code =
      status === 404
        ? 'NAME_UNKNOWN'
        : status === 401
          ? 'UNAUTHORIZED'
          : status === 403
            ? 'DENIED'
            : status === 429
              ? 'TOOMANYREQUESTS'
              : status === 405
                ? 'UNSUPPORTED'
                : undefined;
    const body = exception.getResponse();
    const message = typeof body === 'object' && body && 'message' in body ? [body.message].flat().join('; ') : exception.message;
    const error = new RegistryError(code ?? (status >= 500 ? 'UNKNOWN' : 'UNSUPPORTED'), message);
    return Object.assign(error, { status });
  }
  return new RegistryError('UNKNOWN', ERROR_CATALOGUE.UNKNOWN.message);
}

function isClientAbort(exception: unknown): boolean {
  const err = exception as { code?: string; message?: string } | null;
  return err?.code === 'ECONNRESET' || err?.code === 'ERR_STREAM_PREMATURE_CLOSE' || err?.message === 'aborted';
}

function describe(exception: unknown): string {
  return exception instanceof Error ? `${exception.name}: ${exception.message}\n${exception.stack ?? ''}` : String(exception);
}
