/** Where a registry route is mounted: the prefix its path continues after, and the repository key of the scoped form. */
export interface RegistryMount {
  /** `/v2/` or `/api/docker/<repoKey>/v2/`. */
  prefix: string;
  repoKey?: string;
}

const SCOPED = /^\/api\/docker\/([^/]+)\/v2(\/|$)/;
/** Promotion's address (Artifactory's): under the scoped prefix, but no registry route. */
const PROMOTE = /^\/api\/docker\/[^/]+\/v2\/promote$/;

/**
 * The registry mount a path is under, or undefined for anything else, including the token
 * endpoint (/v2/token) and promotion (/api/docker/<key>/v2/promote), ordinary REST routes.
 * The key is the raw path segment, not a decoded one, so validation sees what was sent.
 */
export function registryMount(path: string): RegistryMount | undefined {
  if (path === '/v2' || path.startsWith('/v2/')) return path === '/v2/token' ? undefined : { prefix: '/v2/' };
  if (PROMOTE.test(path)) return undefined;
  const scoped = SCOPED.exec(path);
  return scoped ? { prefix: `/api/docker/${scoped[1]}/v2/`, repoKey: scoped[1] } : undefined;
}

/** Whether a path belongs to the registry API (either path form), including /v2/token. */
export function isRegistryPath(path: string): boolean {
  return path === '/v2/token' || registryMount(path) !== undefined;
}
