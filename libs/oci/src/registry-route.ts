import { assertImageName, isValidRepositoryKey } from './names';
import { RegistryError } from './registry-error';

interface ImageRoute {
  repoKey: string;
  image: string;
}

/** One parsed registry request path, whichever of the two path forms it came in. */
export type RegistryRoute =
  | { kind: 'base' }
  | { kind: 'catalog'; repoKey?: string }
  | ({ kind: 'tags' } & ImageRoute)
  | ({ kind: 'manifest'; reference: string } & ImageRoute)
  | ({ kind: 'blob'; digest: string } & ImageRoute)
  | ({ kind: 'uploads' } & ImageRoute)
  | ({ kind: 'upload'; uploadId: string } & ImageRoute)
  | ({ kind: 'referrers'; digest: string } & ImageRoute);

// The name part is greedy, so `a/manifests/b/manifests/latest` names image `a/manifests/b`.
const ENDPOINTS: Array<[RegExp, (name: string, arg: string) => Omit<RegistryRoute, 'repoKey' | 'image'> & { name: string }]> = [
  [/^(.+)\/tags\/list$/, (name) => ({ kind: 'tags', name })],
  [/^(.+)\/manifests\/([^/]+)$/, (name, reference) => ({ kind: 'manifest', name, reference })],
  [/^(.+)\/blobs\/uploads\/?$/, (name) => ({ kind: 'uploads', name })],
  [/^(.+)\/blobs\/uploads\/([^/]+)$/, (name, uploadId) => ({ kind: 'upload', name, uploadId })],
  [/^(.+)\/blobs\/([^/]+)$/, (name, digest) => ({ kind: 'blob', name, digest })],
  [/^(.+)\/referrers\/([^/]+)$/, (name, digest) => ({ kind: 'referrers', name, digest })],
];

/**
 * Parses the part of a registry path after `/v2/`. With `repoKey` (the
 * `/api/docker/<repoKey>/v2/...` form) the whole name is the image; otherwise the first
 * segment of the name is the repository key. Names are validated raw, before any
 * percent-decoding, so `%2e%2e` can never become `..`.
 */
export function parseRegistryRoute(rest: string, repoKey?: string): RegistryRoute {
  if (repoKey !== undefined && !isValidRepositoryKey(repoKey)) {
    throw new RegistryError('NAME_INVALID', `invalid repository key "${repoKey.slice(0, 80)}"`);
  }
  if (rest === '' || rest === '/') return { kind: 'base' };
  if (rest === '_catalog') return { kind: 'catalog', repoKey };

  for (const [pattern, build] of ENDPOINTS) {
    const match = pattern.exec(rest);
    if (!match) continue;
    const { name, ...route } = build(match[1], decode(match[2] ?? ''));
    return { ...route, ...splitName(name, repoKey) } as RegistryRoute;
  }
  throw new RegistryError('NAME_INVALID', `no registry endpoint matches "/v2/${rest.slice(0, 200)}"`);
}

function splitName(name: string, repoKey?: string): ImageRoute {
  if (repoKey !== undefined) return { repoKey, image: assertImageName(name) };
  const slash = name.indexOf('/');
  if (slash < 0) {
    throw new RegistryError('NAME_INVALID', `"${name.slice(0, 80)}" names no image: use <repoKey>/<image>, for example docker-local/${name.slice(0, 40)}`);
  }
  const key = name.slice(0, slash);
  if (!isValidRepositoryKey(key)) throw new RegistryError('NAME_INVALID', `invalid repository key "${key.slice(0, 80)}"`);
  return { repoKey: key, image: assertImageName(name.slice(slash + 1)) };
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
