import { Request } from 'express';
import { WharfConfig } from '@wharf/config';

/** Where clients are told to fetch registry tokens: the public base URL, else the request's own origin. */
export function publicOrigin(config: WharfConfig, req: Request): string {
  return config.publicUrl ?? `${req.protocol}://${req.get('host')}`;
}

/** `WWW-Authenticate` for registry routes, naming the scope the request needed when there is one. */
export function registryChallenge(config: WharfConfig, req: Request, scope?: string): string {
  const parts = [`realm="${publicOrigin(config, req)}/v2/token"`, `service="${config.authService}"`];
  if (scope) parts.push(`scope="${scope}"`);
  return `Bearer ${parts.join(',')}`;
}

const API_CHALLENGE = 'Basic realm="Wharf", charset="UTF-8"';

/**
 * `WWW-Authenticate` for the REST API. The web UI marks its calls `X-Requested-With:
 * XMLHttpRequest` (as Spring Security and Rails read it): a Basic challenge there would make the
 * browser open its own password dialog over the page, so those get a scheme browsers do not
 * prompt for, naming the UI's sign-in.
 */
export function apiChallenge(req: Request): string {
  return req.get('x-requested-with') === 'XMLHttpRequest' ? 'Session realm="Wharf", sign-in="/api/session"' : API_CHALLENGE;
}
