import { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Injectable } from '@nestjs/common';
import { Express, Request, Response } from 'express';
import { ErrorResponder } from '../errors/error-responder';
import { RequestIdMiddleware } from '../logging/request-id.middleware';
import { HttpRequestMetrics } from '../metrics/http-request-metrics';
import { RequestActorMiddleware } from '../audit/request-actor.middleware';
import { RegistryDispatcher } from './registry.dispatcher';
import { RegistryMount, registryMount } from './registry-paths';

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

const UNPARSABLE = 'the request target is not a valid URL\n';

function mountOf(req: Request): RegistryMount | undefined | 'unparsable' {
  try {
    return registryMount(req.path);
  } catch {
    return 'unparsable';
  }
}

/**
 * The OCI Distribution API under both path forms, served ahead of Express and Nest on the HTTP
 * server itself. Registry requests never needed a router (names span several segments, so the
 * dispatcher parses the path) nor Nest's guards, pipes and interceptors (the dispatcher
 * authenticates and authorizes). Profiles of the manifest load: Nest's router walk was ~15% of
 * a manifest GET (skipped since the lane became the first Express middleware); Express's own
 * app.handle, router and per-request final handler a further ~9% (skipped since the lane sits
 * on the server). Registry requests still get Express's request/response API: the lane gives
 * them the prototypes Express itself would. Everything else goes on to Express.
 */
@Injectable()
export class RegistryLane {
  constructor(
    private readonly dispatcher: RegistryDispatcher,
    private readonly requestIds: RequestIdMiddleware,
    private readonly actors: RequestActorMiddleware,
    private readonly errors: ErrorResponder,
    private readonly metrics: HttpRequestMetrics,
  ) {}

  /** Takes the server's requests, passing what is not a registry route to its listeners so far (Express). */
  attach(server: Server, express: Express): void {
    const others = server.listeners('request') as RequestListener[];
    server.removeAllListeners('request');
    server.on('request', (incoming: IncomingMessage, outgoing: ServerResponse) => {
      const req = incoming as Request;
      const res = outgoing as Response;
      // What Express's app.handle does first: req.path, res.status() and the rest then work.
      Object.setPrototypeOf(req, express.request);
      Object.setPrototypeOf(res, express.response);
      req.res = res;
      res.req = req;
      const mount = mountOf(req);
      // Every request the server takes is measured here, registry or not.
      this.metrics.begin(res, mount === 'unparsable' ? 'other' : mount ? 'registry' : HttpRequestMetrics.classOf(req.path));
      if (mount === 'unparsable') {
        // Node's parser passes some absolute-form targets (`http://[x/v2/`) whose path cannot
        // be read; a throw here would escape the server's request listener.
        res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(UNPARSABLE.length) }).end(UNPARSABLE);
        return;
      }
      if (!mount) {
        for (const listener of others) listener(incoming, outgoing);
        return;
      }
      this.requestIds.use(req, res, () => {
        this.actors.use(req, res, () => {
          this.dispatcher.handle(req, res, mount.prefix, mount.repoKey).catch((err) => this.errors.respond(err, req, res));
        });
      });
    });
  }
}
