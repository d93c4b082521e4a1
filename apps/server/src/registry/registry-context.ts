import { Request, Response } from 'express';
import { RegistryRoute } from '@wharf/oci';
import { ReadFilter } from '@wharf/registry';
import { Authentication } from '../auth/request-authenticator';

/** One registry request: the parsed route plus how to build URLs in the form it came in. */
export interface RegistryContext<R extends RegistryRoute = RegistryRoute> {
  req: Request;
  res: Response;
  route: R;
  /** `/v2/` or `/api/docker/<repoKey>/v2/`. */
  prefix: string;
  /** The name as the client addressed it: `<repoKey>/<image>` or `<image>`. */
  name: string;
  /** Scheme and host for absolute Location headers. */
  origin: string;
  /** Who is calling, already authorized for the route itself. */
  auth: Authentication;
  /** Whether the caller may read another repository: a virtual's members it may not read are skipped. */
  mayRead: ReadFilter;
}

/** An absolute URL under the same path form, e.g. `blobs/uploads/<id>`. */
export function urlFor(ctx: RegistryContext, suffix: string): string {
  return `${ctx.origin}${ctx.prefix}${ctx.name}/${suffix}`;
}

export function queryString(ctx: RegistryContext, key: string): string | undefined {
  const value = ctx.req.query[key];
  return typeof value === 'string' ? value : undefined;
}

export function contentLength(ctx: RegistryContext): number | undefined {
  const raw = ctx.req.headers['content-length'];
  return raw === undefined ? undefined : Number(raw);
}

/** Whether the request carries a body (a length above zero, or a chunked stream). */
export function hasBody(ctx: RegistryContext): boolean {
  const length = contentLength(ctx);
  return (length !== undefined && length > 0) || (length === undefined && ctx.req.headers['transfer-encoding'] !== undefined);
}
