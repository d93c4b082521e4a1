import { Readable } from 'node:stream';
import { ErrorCode, RegistryError } from '@wharf/oci';
import { UpstreamResponse, UpstreamUnavailableError } from './upstream';

/** What an upstream failure means to our client: the upstream's words, in our catalogue. */
export function upstreamFailure(res: UpstreamResponse, notFound: ErrorCode, what: string): RegistryError {
  discard(res.body);
  if (res.status === 404) return new RegistryError(notFound, `${what} not found upstream`);
  if (res.status === 429) {
    const retryAfter = header(res, 'retry-after');
    return new RegistryError('TOOMANYREQUESTS', `the upstream is rate limiting and ${what} is not cached`, undefined, retryAfter ? { 'Retry-After': retryAfter } : {});
  }
  if (res.status === 401 || res.status === 403) {
    return new RegistryError('UNAVAILABLE', `the upstream refused access to ${what} (status ${res.status}): check the remote's credentials`);
  }
  return new RegistryError('UNAVAILABLE', `the upstream answered ${res.status} for ${what}, which is not cached`);
}

export function unreachable(err: unknown, what: string): RegistryError {
  const reason = err instanceof UpstreamUnavailableError ? err.message : String(err);
  return new RegistryError('UNAVAILABLE', `the upstream is unreachable and ${what} is not cached: ${reason}`);
}

export function header(res: UpstreamResponse, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function discard(body: Readable): void {
  body.on('error', () => undefined);
  body.resume();
}
