import type { GcResult } from '../lifecycle/garbage-collector';

/**
 * What a remote's cache did for one request: served it (`hit`), had to fetch it (`miss`: not
 * cached, or a tag that moved upstream), confirmed a tag with the upstream and served the
 * cached copy (`revalidated`), or served the cached copy because the upstream could not be
 * asked (`stale`: offline, or the revalidation failed).
 */
export type RemoteCacheResult = 'hit' | 'miss' | 'revalidated' | 'stale';

/** How a garbage collection that changed something ended, and what it removed. */
export interface GcOutcome {
  status: 'finished' | 'failed';
  result: GcResult;
  /** When it ended, ms since the epoch. */
  endedAt: number;
}

/**
 * What the registry counts for monitoring, recorded where it happens. An interface here keeps
 * the libraries free of a metrics library: the server provides the implementation (Prometheus),
 * and without one (unit tests, tools) nothing is recorded. Every method must be cheap and must
 * not throw: they run on request paths.
 */
export abstract class RegistryMetrics {
  /** A blob upload was committed to `repository` (the key the client addressed). */
  abstract blobPushed(repository: string, bytes: number): void;
  /** A blob body (or the range asked for) was sent to a client of `repository`. */
  abstract blobPulled(repository: string, bytes: number): void;
  abstract remoteCache(repository: string, kind: 'manifest' | 'blob', result: RemoteCacheResult): void;
  /** A request to the upstream of remote `repository` failed (unreachable, timed out, or a 5xx after retries). */
  abstract upstreamError(repository: string): void;
  /** A garbage collection (not a dry run) ended. */
  abstract gcFinished(outcome: GcOutcome): void;
  /** Retention rules removed tags and the manifests they left untagged (a GC run or on demand). */
  abstract retentionRemoved(tags: number, manifests: number): void;
}

/** Records nothing: what the libraries use when the server provides no RegistryMetrics. */
export const NO_REGISTRY_METRICS: RegistryMetrics = {
  blobPushed: () => undefined,
  blobPulled: () => undefined,
  remoteCache: () => undefined,
  upstreamError: () => undefined,
  gcFinished: () => undefined,
  retentionRemoved: () => undefined,
};
