import { BadRequestException, Injectable } from '@nestjs/common';
import { AccessControl, Principal } from '@wharf/auth';
import {
  AuditTrail,
  ClosureManifest,
  Db,
  ImageQueries,
  PromotionQueries,
  PromotionRecord,
  PushRuleQueries,
  RepositoryEntity,
  RepositoryQueries,
  TagPointer,
  TagQueries,
} from '@wharf/db';
import { COSIGN_TAG, RegistryError } from '@wharf/oci';
import { DockerRepository, PromotionTarget, QuotaGuard, RepositoryResolver, SIGNATURE_ARTIFACT_TYPES, readLocalSettings } from '@wharf/registry';
import { PromotionRequest, PromotionResult } from './promotion-types';

/** Postgres' deadlock and serialization failures: the transaction is safe to run again. */
const RETRYABLE = new Set(['40P01', '40001']);
const ATTEMPTS = 3;

/** Thrown to roll a dry run's transaction back, carrying what it would have done. */
class DryRunDone {
  constructor(readonly result: PromotionResult) {}
}

/** The source side once resolved: the repository holding the rows, the tags to promote, and how to fetch what it lacks. */
interface Source {
  holder: RepositoryEntity;
  tags: string[];
  fetchContent(): Promise<void>;
}

/**
 * Promotion, Artifactory's `POST /api/docker/<repoKey>/v2/promote`: copies or moves an image's
 * tags with everything they carry (an index's children, referrers such as signatures and
 * SBOMs, cosign's tag-convention attachments) into another repository. Metadata only: blobs
 * are shared by digest, so the target gains links, not bytes. All of it happens in one
 * transaction, in which the target's push rules are checked; a dry run is the same transaction
 * rolled back, so it answers exactly what the promotion would do or why it would be refused.
 */
@Injectable()
export class PromotionService {
  constructor(
    private readonly db: Db,
    private readonly access: AccessControl,
    private readonly resolver: RepositoryResolver,
    private readonly images: ImageQueries,
    private readonly repositories: RepositoryQueries,
    private readonly promotions: PromotionQueries,
    private readonly rules: PushRuleQueries,
    private readonly tagQueries: TagQueries,
    private readonly quota: QuotaGuard,
    private readonly audit: AuditTrail,
  ) {}

  async promote(principal: Principal, sourceKey: string, request: PromotionRequest): Promise<PromotionResult> {
    const image = request.dockerRepository;
    const targetImage = request.targetDockerRepository ?? image;
    const copy = request.copy ?? false;
    if (request.targetTag !== undefined && request.tag === undefined) throw new BadRequestException('targetTag needs tag: name the one tag to retag');
    await this.access.require(principal, sourceKey, 'read');
    await this.access.require(principal, request.targetRepo, 'write', `write permission on ${request.targetRepo} (targetRepo)`);

    const writer = { accessToken: principal.tokenScope !== undefined };
    const targetRepository = await this.resolver.resolve(request.targetRepo);
    const target = targetRepository.promotionTarget(targetImage);
    if (!target) {
      throw new BadRequestException(
        `targetRepo ${request.targetRepo} cannot receive promotions: promote into a local repository, or a virtual repository with a defaultDeploymentRepo`,
      );
    }
    targetRepository.checkWriter(targetImage, writer);

    // A remote is refused before anything is asked of its upstream; a virtual's member once resolved.
    if (!copy) this.checkMovableKind((await this.repositories.findByKey(sourceKey))!);
    const source = await this.locate(principal, sourceKey, image, request.tag);
    // Compared where the rows are: a virtual on either side may name the same repository.
    if (source.holder.id === target.repository.id && image === targetImage && (request.targetTag ?? request.tag) === request.tag) {
      throw new BadRequestException(
        `source and target are the same (${source.holder.key}/${image}${request.tag ? `:${request.tag}` : ''}): set targetRepo, targetDockerRepository or targetTag`,
      );
    }
    if (!copy) await this.checkMovable(principal, source.holder, image, writer);
    await source.fetchContent();

    for (let attempt = 1; ; attempt += 1) {
      try {
        const result = await this.db.transaction(() => this.run(principal, sourceKey, request, source, target, copy));
        await this.tagQueries.changed();
        return result;
      } catch (err) {
        if (err instanceof DryRunDone) return err.result;
        if (attempt < ATTEMPTS && RETRYABLE.has(err?.driverError?.code ?? err?.code)) continue;
        throw err;
      }
    }
  }

  /** Promotions (newest first) from or into repositories the caller may read. */
  async list(principal: Principal, filter: { repository?: string; image?: string; digest?: string; limit?: number }): Promise<PromotionRecord[]> {
    return this.promotions.list({ ...filter, readable: await this.access.readableKeys(principal), limit: filter.limit ?? 100 });
  }

  /**
   * The repository whose rows hold the tags (a virtual's member that answers them). Without
   * `tag`, every tag of the image: only for a local source, as a remote's upstream (or a
   * virtual's) may list thousands.
   */
  private async locate(principal: Principal, sourceKey: string, image: string, tag?: string): Promise<Source> {
    const repository: DockerRepository = await this.resolver.resolve(sourceKey, (member) => this.access.mayReadMember(principal, member));
    if (tag === undefined && !repository.hosted) {
      throw new BadRequestException(`tag is required when promoting from ${sourceKey}, which is not a local repository: name the tag to promote`);
    }
    const tags = tag !== undefined ? [tag] : await repository.listTags(image, {});
    if (tags.length === 0) throw new RegistryError('NAME_UNKNOWN', `image ${sourceKey}/${image} has no tags to promote`);
    const located = await Promise.all(tags.map((each) => repository.promotionSource(image, each)));
    return {
      holder: located[0].repository,
      tags,
      fetchContent: async () => {
        for (const each of located) await each.fetchContent();
      },
    };
  }

  /** Moving deletes from the source: it must be local, the caller must hold delete, and its push rules must allow it. */
  private async checkMovable(principal: Principal, holder: RepositoryEntity, image: string, writer: { accessToken: boolean }): Promise<void> {
    this.checkMovableKind(holder);
    await this.access.require(principal, holder.key, 'delete', `delete permission on ${holder.key} (moving removes the image from it; set copy to true to keep it)`);
    (await this.resolver.resolve(holder.key)).checkWriter(image, writer);
    if (!readLocalSettings(holder.settings).allowTagOverwrite) {
      throw new RegistryError(
        'DENIED',
        `moving would delete tags of ${holder.key}/${image}, and ${holder.key} does not allow tag overwrite or deletion (allowTagOverwrite is false): set copy to true`,
      );
    }
  }

  private checkMovableKind(repository: RepositoryEntity): void {
    if (repository.rclass === 'remote') {
      throw new BadRequestException(`${repository.key} is a remote repository: promotion can only copy from it (set copy to true)`);
    }
  }

  /** The promotion's one transaction. */
  private async run(principal: Principal, requestedSource: string, request: PromotionRequest, source: Source, target: PromotionTarget, copy: boolean): Promise<PromotionResult> {
    const image = request.dockerRepository;
    const targetImage = request.targetDockerRepository ?? image;
    const holder = source.holder;
    const sourceImageId = await this.images.findId(holder.id, image);
    const pointers = sourceImageId ? await this.promotions.lockTags(sourceImageId, source.tags, !copy) : [];
    const missing = source.tags.filter((tag) => !pointers.some((p) => p.name === tag));
    if (missing.length || !sourceImageId) {
      // Another promotion moved them, or a deletion came first.
      throw new RegistryError('MANIFEST_UNKNOWN', `tag ${missing.join(', ')} not found in ${holder.key}/${image}`);
    }
    const closure = await this.promotions.closure(sourceImageId, [...new Set(pointers.map((p) => p.digest))]);
    const cosignTags = await this.promotions.cosignTags(sourceImageId, closure);

    await this.quota.admitManifests(
      target.repository,
      closure.map((m) => m.id),
    );
    const targetImageId = await this.images.ensure(target.repository.id, targetImage);
    const { manifestsAdded, blobsLinked } = await this.promotions.copy(
      closure.map((m) => m.id),
      targetImageId,
      target.repository.id,
    );
    const promoted = pointers.map((p) => ({ source: p.name, target: request.targetTag ?? p.name, digest: p.digest }));
    // Once each: promoting every tag already names cosign's.
    const tags = new Map<string, TagPointer>([...promoted.map((t) => ({ name: t.target, digest: t.digest })), ...cosignTags].map((t) => [t.name, t]));
    const refused = await this.promotions.setTags(targetImageId, [...tags.values()], !target.rules.allowTagOverwrite);
    if (refused.length) {
      throw new RegistryError(
        'DENIED',
        `tag ${refused.join(', ')} of ${target.repository.key}/${targetImage} already points at other content, and ${target.repository.key} does not allow tag overwrite (allowTagOverwrite is false): promote under a new targetTag`,
      );
    }
    if (target.rules.requireSignature) await this.checkSigned(target, targetImage, promoted);
    const pruned = target.rules.maxUniqueTags
      ? await this.rules.pruneTags(
          targetImageId,
          target.rules.maxUniqueTags,
          promoted.map((t) => t.target),
          COSIGN_TAG.source,
        )
      : [];
    const removedManifests = copy
      ? 0
      : await this.promotions.removeMoved(
          sourceImageId,
          source.tags,
          closure.map((m) => m.id),
        );

    const result = this.result(request, requestedSource, holder, target, copy, promoted, closure, { manifestsAdded, blobsLinked, pruned, removedManifests });
    if (request.dryRun) throw new DryRunDone(result);
    const record = await this.promotions.record({
      username: principal.username ?? null,
      tokenId: principal.tokenScope?.tokenId ?? null,
      requestedSource,
      sourceRepository: holder.key,
      sourceImage: image,
      requestedTarget: request.targetRepo,
      targetRepository: target.repository.key,
      targetImage,
      copy,
      tags: promoted,
      digests: closure.map((m) => m.digest),
    });
    // One row per tag, under the target: what arrived where (webhooks deploy from it); the source in details.
    for (const tag of promoted) {
      await this.audit.record({
        action: 'promote',
        repository: target.repository.key,
        image: targetImage,
        tag: tag.target,
        digest: tag.digest,
        details: { promotionId: record.id, copy, source: { repository: holder.key, image, tag: tag.source }, requestedTarget: request.targetRepo },
      });
    }
    return { ...result, id: record.id, createdAt: record.createdAt.toISOString() };
  }

  /** Under requireSignature, every promoted manifest must arrive signed (its signature promoted with it). */
  private async checkSigned(target: PromotionTarget, image: string, promoted: PromotionResult['tags']): Promise<void> {
    for (const tag of promoted) {
      // What cosign attaches by tag is not itself signed: it is the signature.
      if (COSIGN_TAG.test(tag.source)) continue;
      if (await this.rules.isSigned(target.repository.id, image, tag.digest, SIGNATURE_ARTIFACT_TYPES)) continue;
      throw new RegistryError(
        'DENIED',
        `${tag.source} (${tag.digest}) is not signed, and ${target.repository.key} accepts only signed images (requireSignature): sign it with cosign or Notation in the source first`,
      );
    }
  }

  private result(
    request: PromotionRequest,
    requestedSource: string,
    holder: RepositoryEntity,
    target: PromotionTarget,
    copy: boolean,
    promoted: PromotionResult['tags'],
    closure: ClosureManifest[],
    effects: { manifestsAdded: number; blobsLinked: number; pruned: string[]; removedManifests: number },
  ): PromotionResult {
    const referrers = closure.filter((m) => m.referrer).length;
    return {
      id: null,
      createdAt: null,
      dryRun: request.dryRun ?? false,
      copy,
      source: { repository: requestedSource, heldBy: holder.key, image: request.dockerRepository },
      target: { repository: request.targetRepo, deployedTo: target.repository.key, image: request.targetDockerRepository ?? request.dockerRepository },
      tags: promoted,
      manifests: closure.length - referrers,
      referrers,
      manifestsAdded: effects.manifestsAdded,
      blobsLinked: effects.blobsLinked,
      prunedTags: effects.pruned,
      ...(copy ? {} : { removedFromSource: { tags: promoted.map((t) => t.source), manifests: effects.removedManifests } }),
    };
  }
}
