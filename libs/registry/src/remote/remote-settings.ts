/** A remote repository's configuration, kept in `repositories.settings` (Artifactory's field names). */
export interface RemoteSettings {
  url: string;
  username?: string;
  /** The upstream password or token, encrypted with the server key; never returned, never logged. */
  passwordEncrypted?: string;
  /** Seconds a cached tag is served before it is revalidated upstream. */
  metadataRetrievalCachePeriod: number;
  /** Serve only what is cached; never ask the upstream. */
  offline: boolean;
  enableTokenAuthentication: boolean;
  connectTimeoutMillis: number;
  socketTimeoutMillis: number;
  /** Comma-separated image name patterns (`*` within a path segment, `**` across them). */
  includesPattern: string;
  excludesPattern: string;
  /** Hosts besides the upstream's own that may receive its credentials as a token realm. */
  tokenRealmAllowList: string[];
  /** One-segment names live under `library/` upstream (Docker Hub's official images). */
  libraryPrefix: boolean;
  /** Cached content not pulled for this many days is forgotten by garbage collection; 0: kept. */
  cacheRetentionDays: number;
  /** The cache's bytes beyond which garbage collection forgets blobs, least recently pulled first; 0: no limit. */
  maxCacheBytes: number;
}

export const DOCKER_HUB_URL = 'https://registry-1.docker.io';

export function isDockerHub(url: string): boolean {
  return new URL(url).host === 'registry-1.docker.io';
}

export function remoteDefaults(url = DOCKER_HUB_URL): RemoteSettings {
  return {
    url,
    metadataRetrievalCachePeriod: 600,
    offline: false,
    enableTokenAuthentication: true,
    connectTimeoutMillis: 10_000,
    socketTimeoutMillis: 30_000,
    includesPattern: '**',
    excludesPattern: '',
    tokenRealmAllowList: isDockerHub(url) ? ['auth.docker.io'] : [],
    libraryPrefix: isDockerHub(url),
    cacheRetentionDays: 0,
    maxCacheBytes: 0,
  };
}

export function readRemoteSettings(settings: Record<string, unknown>): RemoteSettings {
  const url = typeof settings.url === 'string' ? settings.url : DOCKER_HUB_URL;
  return { ...remoteDefaults(url), ...(settings as Partial<RemoteSettings>) };
}
