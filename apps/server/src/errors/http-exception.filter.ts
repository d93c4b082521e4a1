import { ArgumentsHost, Catch, ExceptionFilter, Injectable } from '@nestjs/common';
import { Request, Response } from 'express';
import { ErrorResponder } from './error-responder';

/** Every error out of Nest's routing (the REST API, the token endpoint), rendered by the ErrorResponder. */
@Catch()
@Injectable()
export class HttpExceptionFilter implements ExceptionFilter {
  constructor(private readonly responder: ErrorResponder) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    this.responder.respond(exception, http.getRequest<Request>(), http.getResponse<Response>());
  }
}
