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

export const API_CHALLENGE = 'Basic realm="Wharf", charset="UTF-8"';
