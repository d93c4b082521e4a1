import { Injectable, NotFoundException, Optional } from '@nestjs/common';
import { AccessControl, Principal } from '@wharf/auth';
import { AuditTrail, LifecycleQueries, RepositoryQueries, RepositoryRow, TagRow } from '@wharf/db';
import { readLocalSettings } from '../kinds/local-settings';
import { readRemoteSettings } from '../remote/remote-settings';
import { drain } from './drain';
import { PullRecorder } from './pull-recorder';
import { NO_REGISTRY_METRICS, RegistryMetrics } from '../metrics/registry-metrics';
import { tagsToRemove } from './retention-policy';

/** Manifests one transaction of a sweep takes. */
const BATCH = 200;

export interface RetentionOutcome {
  repository: string;
  dryRun: boolean;
  /** The tags retention removed (or, dry, would remove), with the manifest each pointed at. */
  removed: Array<{ image: string; tag: string; digest: string }>;
  /** Manifests left with no tag by it and removed with their tags (not counted in a dry run). */
  manifestsRemoved: number;
}

export interface LifecycleResult {
  retention: { tags: number; manifests: number };
  untaggedManifests: { count: number };
  remoteCache: { manifests: number; blobLinks: number };
}

/**
 * The rules repositories set for what they keep: tag retention and untagged manifests of local
 * repositories, and the age and size limits of remote caches. Each removes metadata only (tags,
 * manifests, blob links); the bytes go with the blob sweep of the same garbage collection.
 */
@Injectable()
export class LifecycleRules {
  private readonly metrics: RegistryMetrics;

  constructor(
    private readonly queries: LifecycleQueries,
    private readonly pulls: PullRecorder,
    private readonly access: AccessControl,
    private readonly repositories: RepositoryQueries,
    private readonly audit: AuditTrail,
    @Optional() metrics?: RegistryMetrics,
  ) {
    this.metrics = metrics ?? NO_REGISTRY_METRICS;
  }

  /** Every repository's rules, in the order a garbage collection runs them. */
  async applyAll(dryRun: boolean, goOn: () => void): Promise<LifecycleResult> {
    await this.pulls.flush();
    const result: LifecycleResult = { retention: { tags: 0, manifests: 0 }, untaggedManifests: { count: 0 }, remoteCache: { manifests: 0, blobLinks: 0 } };
    for (const repo of await this.queries.repositories('local')) {
      goOn();
      const outcome = await this.retain(repo, dryRun);
      result.retention.tags += outcome.removed.length;
      result.retention.manifests += outcome.manifestsRemoved;
      const days = readLocalSettings(repo.settings).untaggedManifestDays;
      if (days > 0) result.untaggedManifests.count += await this.untagged(repo.id, days * 86_400, dryRun);
    }
    for (const repo of await this.queries.repositories('remote')) {
      goOn();
      const { cacheRetentionDays, maxCacheBytes } = readRemoteSettings(repo.settings);
      if (cacheRetentionDays > 0) {
        const evicted = await this.queries.evictUnpulled(repo.id, cacheRetentionDays, dryRun);
        result.remoteCache.manifests += evicted.manifests;
        result.remoteCache.blobLinks += evicted.blobLinks;
      }
      if (maxCacheBytes > 0) result.remoteCache.blobLinks += await this.queries.evictBeyond(repo.id, maxCacheBytes, dryRun);
    }
    if (!dryRun) await this.queries.changed();
    return result;
  }

  /** One repository's retention on demand (needs manage on it). */
  async retainNow(principal: Principal, key: string, dryRun: boolean): Promise<RetentionOutcome> {
    await this.access.require(principal, key, 'manage');
    const repo = await this.repositories.findByKey(key);
    if (repo?.rclass !== 'local') throw new NotFoundException(`${key} is not a local repository: retention applies to local repositories`);
    await this.pulls.flush();
    const outcome = await this.retain(repo, dryRun);
    if (!dryRun) {
      await this.queries.changed();
      // After the batches it sums up, each committed on its own (a GC run's rules are in its gc.run row).
      await this.audit.record({
        action: 'repository.retention',
        repository: key,
        details: { tagsRemoved: outcome.removed.length, manifestsRemoved: outcome.manifestsRemoved, removed: outcome.removed.slice(0, 100) },
      });
    }
    return outcome;
  }

  /**
   * Removes the tags the repository's retention rules do not keep, then the manifests that were
   * left without a tag (and nothing else needs). Immutable tags (allowTagOverwrite false) are
   * never removed.
   */
  private async retain(repo: RepositoryRow, dryRun: boolean): Promise<RetentionOutcome> {
    const settings = readLocalSettings(repo.settings);
    const outcome: RetentionOutcome = { repository: repo.key, dryRun, removed: [], manifestsRemoved: 0 };
    if (!settings.retention || !settings.allowTagOverwrite) return outcome;
    const byImage = new Map<string, TagRow[]>();
    for (const tag of await this.queries.tags(repo.id)) byImage.set(tag.image, [...(byImage.get(tag.image) ?? []), tag]);
    const doomed: TagRow[] = [];
    for (const [image, tags] of byImage) {
      const names = new Set(tagsToRemove(settings.retention, image, tags));
      doomed.push(...tags.filter((tag) => names.has(tag.name)));
    }
    const removed = dryRun ? doomed : await this.queries.removeTags(doomed);
    outcome.removed = removed.map((tag) => ({ image: tag.image, tag: tag.name, digest: tag.digest }));
    if (!dryRun && removed.length > 0) {
      const tagged = [...new Set(removed.map((tag) => tag.digest))];
      const digests = [...tagged, ...(await this.queries.dependents(repo.id, tagged))];
      outcome.manifestsRemoved = await drain(() => this.queries.collectUntagged(repo.id, 0, BATCH, digests));
    }
    if (!dryRun && removed.length > 0) this.metrics.retentionRemoved(removed.length, outcome.manifestsRemoved);
    return outcome;
  }

  private async untagged(repositoryId: string, ageSeconds: number, dryRun: boolean): Promise<number> {
    if (dryRun) return this.queries.countUntagged(repositoryId, ageSeconds);
    return drain(() => this.queries.collectUntagged(repositoryId, ageSeconds, BATCH));
  }
}
