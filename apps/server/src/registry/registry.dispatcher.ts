import { Injectable } from '@nestjs/common';
import { Request, Response } from 'express';
import { WharfConfig } from '@wharf/config';
import { RegistryError, RegistryRoute, parseRegistryRoute } from '@wharf/oci';
import { BlobsHandler } from './blobs.handler';
import { ListingsHandler } from './listings.handler';
import { ManifestsHandler } from './manifests.handler';
import { RegistryContext } from './registry-context';
import { UploadsHandler } from './uploads.handler';
import { RequestAuthenticator } from '../auth/request-authenticator';
import { publicOrigin } from '../auth/challenge';
import { RegistryAuthorizer } from './registry-authorizer';
import { HttpRequestMetrics } from '../metrics/http-request-metrics';

type Handler = (ctx: RegistryContext<any>) => Promise<void>;

/** Maps a parsed registry route and HTTP method to the handler that serves it. */
@Injectable()
export class RegistryDispatcher {
  private readonly table: Record<RegistryRoute['kind'], Partial<Record<string, Handler>>>;

  constructor(
    private readonly config: WharfConfig,
    private readonly authenticator: RequestAuthenticator,
    private readonly authorizer: RegistryAuthorizer,
    manifests: ManifestsHandler,
    blobs: BlobsHandler,
    uploads: UploadsHandler,
    listings: ListingsHandler,
    private readonly metrics: HttpRequestMetrics,
  ) {
    this.table = {
      base: { GET: async (ctx) => void ctx.res.status(200).json({}), HEAD: async (ctx) => void ctx.res.status(200).end() },
      catalog: { GET: (ctx) => listings.catalogue(ctx) },
      tags: { GET: (ctx) => listings.tags(ctx) },
      referrers: { GET: (ctx) => listings.referrers(ctx) },
      manifest: {
        GET: (ctx) => manifests.get(ctx, true),
        HEAD: (ctx) => manifests.get(ctx, false),
        PUT: (ctx) => manifests.put(ctx),
        DELETE: (ctx) => manifests.delete(ctx),
      },
      blob: { GET: (ctx) => blobs.get(ctx, true), HEAD: (ctx) => blobs.get(ctx, false), DELETE: (ctx) => blobs.delete(ctx) },
      uploads: { POST: (ctx) => uploads.start(ctx) },
      upload: { GET: (ctx) => uploads.status(ctx), PATCH: (ctx) => uploads.patch(ctx), PUT: (ctx) => uploads.put(ctx), DELETE: (ctx) => uploads.cancel(ctx) },
    };
  }

  async handle(req: Request, res: Response, prefix: string, repoKey?: string): Promise<void> {
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    // Pushed bytes never run as a page of this origin (which serves the UI and its session):
    // no type sniffing, and a document here would be sandboxed with nothing allowed.
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Security-Policy', "sandbox; default-src 'none'");
    const rest = req.path.length > prefix.length ? req.path.slice(prefix.length) : '';
    const route = parseRegistryRoute(rest, repoKey);
    this.metrics.routed(res, route.kind);
    const handler = this.table[route.kind][req.method];
    if (!handler) throw new RegistryError('UNSUPPORTED', `${req.method} is not supported on ${route.kind} endpoints`);
    // Bad credentials are a 401 like none; the exception filter adds the challenge.
    const auth = await this.authenticator.authenticate(req, res);
    await this.authorizer.authorize(req, auth, route);
    const name = 'image' in route ? (repoKey ? route.image : `${route.repoKey}/${route.image}`) : '';
    const config = this.config;
    await handler({
      req,
      res,
      route,
      prefix,
      name,
      auth,
      mayRead: (key) => this.authorizer.mayRead(auth, key),
      // Only Location headers need it, and req.protocol consults the trusted-proxy rules: not
      // worth doing on every manifest GET.
      get origin() {
        return publicOrigin(config, req);
      },
    });
  }
}
