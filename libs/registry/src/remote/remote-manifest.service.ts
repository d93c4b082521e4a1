import { createHash } from 'node:crypto';
import { Injectable, Logger, Optional } from '@nestjs/common';
import { Clock } from '@wharf/auth';
import { WharfConfig } from '@wharf/config';
import { ManifestQueries, RepositoryEntity, StoredManifest, TagQueries } from '@wharf/db';
import { MANIFEST_MEDIA_TYPES, RegistryError, accepts, isDigestLike, isValidTag, parseDigest, parseManifest } from '@wharf/oci';
import { HeldManifest, ManifestContent } from '../docker-repository';
import { findManifest } from '../find-manifest';
import { LocalManifestService } from '../local/local-manifest.service';
import { NO_REGISTRY_METRICS, RegistryMetrics } from '../metrics/registry-metrics';
import { NegativeCache } from './negative-cache';
import { RemoteSettings } from './remote-settings';
import { UpstreamClients } from './upstream-clients';
import { readCapped } from '../read-capped';
import { header, unreachable, upstreamFailure, discard } from './upstream-errors';
import { UpstreamUnavailableError } from './upstream';

const NOT_FOUND_TTL_MS = 30_000;

export interface RemoteTarget {
  repo: RepositoryEntity;
  settings: RemoteSettings;
  image: string;
  /** The name on the upstream (Docker Hub: with `library/`). */
  upstreamName: string;
}

/**
 * Manifests through a remote: the cache first; by digest cached for good once verified; by tag
 * served while fresh, then revalidated with a HEAD (free on Docker Hub) and refetched only when
 * the digest moved. When the upstream fails, a cached copy is served and a warning logged.
 */
@Injectable()
export class RemoteManifestService {
  private readonly logger = new Logger('RemoteManifests');
  private readonly notFound: NegativeCache;
  private readonly metrics: RegistryMetrics;

  constructor(
    private readonly local: LocalManifestService,
    private readonly manifests: ManifestQueries,
    private readonly tags: TagQueries,
    private readonly clients: UpstreamClients,
    private readonly config: WharfConfig,
    private readonly clock: Clock,
    @Optional() metrics?: RegistryMetrics,
  ) {
    this.notFound = new NegativeCache(NOT_FOUND_TTL_MS, () => this.clock.now());
    this.metrics = metrics ?? NO_REGISTRY_METRICS;
  }

  async get(target: RemoteTarget, reference: string, accept: string[]): Promise<ManifestContent> {
    const { repo, image } = target;
    const byDigest = isDigestLike(reference);
    if (!byDigest && !isValidTag(reference)) throw new RegistryError('MANIFEST_UNKNOWN', `invalid tag "${reference.slice(0, 140)}"`);
    const cached = await findManifest(this.manifests, repo.id, image, reference);
    const result = await this.resolve(target, reference, accept, cached);
    if (!byDigest && !accepts(accept, result.mediaType)) {
      throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${reference} is ${result.mediaType}, which the request's Accept header does not allow`);
    }
    return result;
  }

  /**
   * The cached manifest when it may be served without asking the upstream (by digest: always;
   * by tag: while fresh), else null. A virtual's first pass.
   */
  async held(target: RemoteTarget, reference: string, accept: string[]): Promise<HeldManifest | null> {
    const byDigest = isDigestLike(reference);
    if (!byDigest && !isValidTag(reference)) return null;
    const cached = await findManifest(this.manifests, target.repo.id, target.image, reference);
    if (!cached || (!byDigest && (!this.isFresh(cached, target.settings) || !accepts(accept, cached.mediaType)))) return null;
    this.metrics.remoteCache(target.repo.key, 'manifest', 'hit');
    return { ...view(cached), taggedAt: cached.tagUpdatedAt };
  }

  /** Each outcome is counted once: a hit, a miss (fetched), revalidated, or stale (the upstream not asked or failing). */
  private async resolve(target: RemoteTarget, reference: string, accept: string[], cached: StoredManifest | null): Promise<ManifestContent> {
    const remote = target.repo.key;
    if (cached && (isDigestLike(reference) || this.isFresh(cached, target.settings))) {
      this.metrics.remoteCache(remote, 'manifest', 'hit');
      return view(cached);
    }
    if (target.settings.offline) {
      this.metrics.remoteCache(remote, 'manifest', cached ? 'stale' : 'miss');
      if (cached) return view(cached);
      throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${reference} is not cached and ${target.repo.key} is offline`);
    }
    if (!cached) {
      this.metrics.remoteCache(remote, 'manifest', 'miss');
      return this.fetch(target, reference, accept);
    }
    try {
      return await this.revalidate(target, reference, accept, cached);
    } catch (err) {
      this.logger.warn({
        msg: 'upstream failed revalidating a tag; serving the cached manifest',
        remote: target.repo.key,
        image: target.image,
        tag: reference,
        error: (err as Error).message,
      });
      this.metrics.remoteCache(remote, 'manifest', 'stale');
      return view(cached);
    }
  }

  private isFresh(cached: StoredManifest, settings: RemoteSettings): boolean {
    return !!cached.tagUpdatedAt && cached.tagUpdatedAt.getTime() + settings.metadataRetrievalCachePeriod * 1000 > this.clock.now();
  }

  /** HEAD first: when the tag still names the cached digest, only its freshness is renewed. */
  private async revalidate(target: RemoteTarget, tag: string, accept: string[], cached: StoredManifest): Promise<ManifestContent> {
    const res = await this.clients.for(target.repo).request('HEAD', this.path(target, tag), { scope: this.scope(target), accept: acceptList(accept) });
    discard(res.body);
    if (res.status !== 200) throw new Error(`upstream answered ${res.status} to HEAD`);
    if (header(res, 'docker-content-digest') === cached.digest) {
      await this.tags.touch(target.repo.id, target.image, tag);
      this.metrics.remoteCache(target.repo.key, 'manifest', 'revalidated');
      return view(cached);
    }
    // Counted once fetched: a failed fetch serves the cached copy, counted as stale.
    const moved = await this.fetch(target, tag, accept);
    this.metrics.remoteCache(target.repo.key, 'manifest', 'miss');
    return moved;
  }

  private async fetch(target: RemoteTarget, reference: string, accept: string[]): Promise<ManifestContent> {
    const what = `manifest ${target.upstreamName}:${reference}`;
    const key = `${target.repo.id}|${target.image}|${reference}`;
    if (this.notFound.has(key)) throw new RegistryError('MANIFEST_UNKNOWN', `${what} not found upstream (recently)`);
    let res;
    try {
      res = await this.clients.for(target.repo).request('GET', this.path(target, reference), { scope: this.scope(target), accept: acceptList(accept) });
    } catch (err) {
      if (err instanceof UpstreamUnavailableError) throw unreachable(err, what);
      throw err;
    }
    if (res.status !== 200) {
      if (res.status === 404) this.notFound.add(key);
      throw upstreamFailure(res, 'MANIFEST_UNKNOWN', what);
    }
    const limit = this.config.maxManifestBytes;
    const content = await readCapped(res.body, limit, () => new RegistryError('UNAVAILABLE', `the upstream sent a manifest over the ${limit}-byte limit`));
    const expected = isDigestLike(reference) ? parseDigest(reference) : undefined;
    const algorithm = expected?.algorithm ?? 'sha256';
    const digest = `${algorithm}:${createHash(algorithm).update(content).digest('hex')}`;
    const claimed = expected?.value ?? header(res, 'docker-content-digest');
    if (claimed?.startsWith(`${algorithm}:`) && claimed !== digest) {
      throw new RegistryError('UNAVAILABLE', `the upstream's ${what} hashes to ${digest}, not ${claimed}: not cached`);
    }
    const parsed = parseManifest(content, header(res, 'content-type'));
    await this.local.store(target.repo, target.image, expected ? undefined : reference, digest, content, parsed);
    this.notFound.delete(key);
    return { digest, mediaType: parsed.mediaType, size: content.length, content };
  }

  private path(target: RemoteTarget, reference: string): string {
    return `/v2/${target.upstreamName}/manifests/${reference}`;
  }

  private scope(target: RemoteTarget): string {
    return `repository:${target.upstreamName}:pull`;
  }
}

/** The client's Accept goes upstream; a client that sent none gets every manifest type. */
function acceptList(accept: string[]): string[] {
  return accept.length ? accept : [...MANIFEST_MEDIA_TYPES];
}

function view(manifest: StoredManifest): ManifestContent {
  return { digest: manifest.digest, mediaType: manifest.mediaType, size: manifest.content.length, content: manifest.content };
}
