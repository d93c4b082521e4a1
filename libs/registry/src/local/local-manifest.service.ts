import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AuditTrail, BlobQueries, Db, ImageQueries, ManifestQueries, PushRuleQueries, RepositoryEntity, TagQueries } from '@wharf/db';
import { ManifestReferenceKind } from '@wharf/db';
import { COSIGN_TAG, MediaType, ParsedManifest, RegistryError, accepts, isDigestLike, isValidTag, parseDigest, parseManifest } from '@wharf/oci';
import { WharfConfig } from '@wharf/config';
import { HeldManifest, ManifestContent, ManifestReader, PageRequest, ReferrersIndex } from '../docker-repository';
import { findManifest } from '../find-manifest';
import { LocalSettings } from '../kinds/local-settings';
import { PullRecorder } from '../lifecycle/pull-recorder';

/** Artifact types of signatures: cosign's (OCI 1.1 referrers mode) and Notation's. */
export const SIGNATURE_ARTIFACT_TYPES = ['application/vnd.dev.cosign.artifact.sig.v1+json', 'application/vnd.cncf.notary.signature'];

/** The push rules a write obeys; remote caches write without any. */
export type PushRules = Pick<LocalSettings, 'allowTagOverwrite' | 'maxUniqueTags'>;

/** Manifests, tags and referrers of local repositories: Postgres only, no disk. */
@Injectable()
export class LocalManifestService {
  constructor(
    private readonly db: Db,
    private readonly config: WharfConfig,
    private readonly images: ImageQueries,
    private readonly manifests: ManifestQueries,
    private readonly tags: TagQueries,
    private readonly blobs: BlobQueries,
    private readonly rules: PushRuleQueries,
    private readonly pulls: PullRecorder,
    private readonly audit: AuditTrail,
  ) {}

  async get(repo: RepositoryEntity, image: string, reference: string, accept: string[]): Promise<ManifestContent> {
    const manifest = await findManifest(this.manifests, repo.id, image, isDigestLike(reference) ? reference : assertTag(reference));
    if (!manifest) throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${reference} not found in ${repo.key}/${image}`);
    // Fetching by digest names exact bytes, so the client gets them whatever it accepts.
    if (!isDigestLike(reference) && !accepts(accept, manifest.mediaType)) {
      throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${reference} is ${manifest.mediaType}, which the request's Accept header does not allow`);
    }
    this.pulls.manifestPulled(manifest.id);
    return { digest: manifest.digest, mediaType: manifest.mediaType, size: manifest.content.length, content: manifest.content };
  }

  /** What `get` would answer, or null where it would answer MANIFEST_UNKNOWN (a virtual's first pass). */
  async held(repo: RepositoryEntity, image: string, reference: string, accept: string[]): Promise<HeldManifest | null> {
    const byDigest = isDigestLike(reference);
    if (!byDigest && !isValidTag(reference)) return null;
    const manifest = await findManifest(this.manifests, repo.id, image, reference);
    if (!manifest || (!byDigest && !accepts(accept, manifest.mediaType))) return null;
    this.pulls.manifestPulled(manifest.id);
    return { digest: manifest.digest, mediaType: manifest.mediaType, size: manifest.content.length, content: manifest.content, taggedAt: manifest.tagUpdatedAt };
  }

  async put(repo: RepositoryEntity, image: string, reference: string, content: Buffer, contentType?: string, rules?: PushRules): Promise<{ digest: string; subject?: string }> {
    if (content.length > this.config.maxManifestBytes) {
      throw new RegistryError('MANIFEST_TOO_LARGE', `manifest is ${content.length} bytes; the limit is ${this.config.maxManifestBytes}`);
    }
    const byDigest = isDigestLike(reference) ? parseDigest(reference) : undefined;
    if (!byDigest) assertTag(reference);
    const algorithm = byDigest?.algorithm ?? 'sha256';
    const digest = `${algorithm}:${createHash(algorithm).update(content).digest('hex')}`;
    if (byDigest && byDigest.value !== digest) {
      throw new RegistryError('DIGEST_INVALID', `manifest digest is ${digest}, not ${byDigest.value} as the reference says`);
    }
    const parsed = parseManifest(content, contentType);
    // Checked inside the writing transaction, which keeps what it found linked from garbage collection until it commits.
    await this.store(repo, image, byDigest ? undefined : reference, digest, content, parsed, rules, () => this.checkReferences(repo, image, parsed), true);
    return { digest, subject: parsed.subject?.digest };
  }

  /**
   * Records verified manifest bytes (and moves `tag` to them) without checking that what they
   * reference is stored: a pull-through cache fetches blobs and children lazily. With `rules`
   * (a local repository's push rules), a tag that may not move refuses other content, and the
   * image's oldest tags beyond `maxUniqueTags` go, all in the same transaction. A client's push
   * (`pushed`) is recorded in the audit log in that transaction too; a cache fill is not.
   */
  async store(
    repo: RepositoryEntity,
    image: string,
    tag: string | undefined,
    digest: string,
    content: Buffer,
    parsed: ParsedManifest,
    rules?: PushRules,
    check?: () => Promise<void>,
    pushed = false,
  ): Promise<void> {
    await this.db.transaction(async () => {
      await check?.();
      const imageId = await this.images.ensure(repo.id, image);
      const manifestId = await this.manifests.upsert(imageId, {
        digest,
        mediaType: parsed.mediaType,
        content,
        artifactType: parsed.artifactType,
        subjectDigest: parsed.subject?.digest,
        annotations: parsed.annotations,
        references: referencesOf(parsed),
      });
      const pruned = tag ? await this.tag(repo, image, imageId, tag, manifestId, rules) : [];
      if (pushed) {
        await this.audit.record({
          action: 'push',
          repository: repo.key,
          image,
          tag,
          digest,
          details: { mediaType: parsed.mediaType, size: content.length, ...(pruned.length ? { prunedTags: pruned } : {}) },
        });
      }
    });
    if (tag) await this.tags.changed();
  }

  /** Points `tag` at the manifest under the push rules; the tags pruned beyond maxUniqueTags. */
  private async tag(repo: RepositoryEntity, image: string, imageId: string, tag: string, manifestId: string, rules?: PushRules): Promise<string[]> {
    if (rules && !rules.allowTagOverwrite) {
      const held = await this.rules.tagOnce(imageId, tag, manifestId);
      if (held !== manifestId) {
        throw new RegistryError(
          'DENIED',
          `tag ${tag} of ${repo.key}/${image} already points at other content, and ${repo.key} does not allow tag overwrite (allowTagOverwrite is false): push a new tag`,
        );
      }
    } else {
      await this.tags.upsert(imageId, tag, manifestId);
    }
    // cosign's `sha256-<hex>.sig` tags are not versions of the image: pruning them would unsign it.
    return rules?.maxUniqueTags ? this.rules.pruneTags(imageId, rules.maxUniqueTags, [tag], COSIGN_TAG.source) : [];
  }

  /**
   * Every blob and child manifest must already be in the repository: blobs linked to it,
   * child manifests pushed to the same image. Foreign layers (with `urls`) live elsewhere,
   * and a subject may be pushed later, as the spec allows.
   */
  private async checkReferences(repo: RepositoryEntity, image: string, parsed: ParsedManifest) {
    const blobDigests = [parsed.config, ...parsed.layers].filter((d): d is NonNullable<typeof d> => !!d && !(d.urls && d.urls.length > 0)).map((d) => d.digest);
    const childDigests = parsed.manifests.map((d) => d.digest);
    const [linked, children] = await Promise.all([
      this.blobs.linkedDigests(repo.id, blobDigests, this.config.gc.graceSeconds / 2),
      this.manifests.existingDigests(await this.images.findId(repo.id, image), childDigests),
    ]);
    const missingBlobs = [...new Set(blobDigests.filter((d) => !linked.has(d)))];
    const missingChildren = [...new Set(childDigests.filter((d) => !children.has(d)))];
    if (missingBlobs.length || missingChildren.length) {
      const what = [...missingBlobs.map((d) => `blob ${d}`), ...missingChildren.map((d) => `manifest ${d}`)];
      throw new RegistryError('MANIFEST_BLOB_UNKNOWN', `manifest references content not in ${repo.key}/${image}: ${what.join(', ')}`, {
        blobs: missingBlobs,
        manifests: missingChildren,
      });
    }
  }

  /**
   * Refuses (DENIED) a manifest of a repository requiring signatures that no signature refers
   * to. Referrers themselves (signatures, SBOMs, attestations) and cosign's tag-convention
   * artifacts are served, so `cosign verify` works; so is everything to a caller who may push
   * here, so `cosign sign` (which fetches what it signs) works.
   */
  async checkSigned(repo: RepositoryEntity, image: string, reference: string, manifest: ManifestContent, reader?: ManifestReader): Promise<void> {
    if (COSIGN_TAG.test(reference) || hasSubject(manifest.content)) return;
    if (await this.rules.isSigned(repo.id, image, manifest.digest, SIGNATURE_ARTIFACT_TYPES)) return;
    if (await reader?.mayPush?.()) return;
    throw new RegistryError(
      'DENIED',
      `${repo.key}/${image}@${manifest.digest} is not signed, and ${repo.key} serves only signed manifests (requireSignature): sign it with cosign or Notation first`,
    );
  }

  /** By digest: the manifest and every tag on it. By tag: only the tag. Recorded in the audit log with the deletion. */
  async delete(repo: RepositoryEntity, image: string, reference: string, rules?: PushRules): Promise<void> {
    if (rules && !rules.allowTagOverwrite) await this.checkDeletable(repo, image, reference);
    if (isDigestLike(reference)) {
      const digest = parseDigest(reference).value;
      await this.db.transaction(async () => {
        const tags = await this.tags.pointingAt(repo.id, image, digest);
        if (!(await this.manifests.deleteByDigest(repo.id, image, digest))) {
          throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${reference} not found in ${repo.key}/${image}`);
        }
        await this.audit.record({ action: 'delete', repository: repo.key, image, digest, details: { kind: 'manifest', ...(tags.length ? { tags } : {}) } });
      });
      return;
    }
    const tag = assertTag(reference);
    await this.db.transaction(async () => {
      const digest = await this.tags.delete(repo.id, image, tag);
      if (!digest) throw new RegistryError('MANIFEST_UNKNOWN', `tag ${reference} not found in ${repo.key}/${image}`);
      await this.audit.record({ action: 'delete', repository: repo.key, image, tag, digest, details: { kind: 'tag' } });
    });
  }

  /** The image with all its tags and manifests; its blobs' links stay for garbage collection. */
  async deleteImage(repo: RepositoryEntity, image: string, rules?: PushRules): Promise<void> {
    const tags = await this.rules.tagCount(repo.id, image);
    if (tags === null) throw new RegistryError('NAME_UNKNOWN', `image ${repo.key}/${image} not found`);
    if (rules && !rules.allowTagOverwrite && tags > 0) throw overwriteDenied(repo, `deleting ${image} would delete its ${tags} tag(s)`);
    await this.db.transaction(async () => {
      if (!(await this.rules.deleteImage(repo.id, image))) throw new RegistryError('NAME_UNKNOWN', `image ${repo.key}/${image} not found`);
      await this.audit.record({ action: 'delete', repository: repo.key, image, details: { kind: 'image', tags } });
    });
  }

  /** Under allowTagOverwrite false a tag stays: neither it nor (by digest) a manifest carrying it may go. */
  private async checkDeletable(repo: RepositoryEntity, image: string, reference: string): Promise<void> {
    if (!isDigestLike(reference)) {
      if (await this.manifests.findByTag(repo.id, image, assertTag(reference))) throw overwriteDenied(repo, `tag ${reference} of ${image} cannot be deleted`);
      return;
    }
    const tags = await this.rules.tagsOn(repo.id, image, parseDigest(reference).value);
    if (tags.length) throw overwriteDenied(repo, `${reference} is tagged (or held by a tagged index): ${tags.slice(0, 10).join(', ')}; deleting it would delete or break them`);
  }

  async listTags(repo: RepositoryEntity, image: string, page: PageRequest): Promise<string[]> {
    const imageId = await this.images.findId(repo.id, image);
    if (!imageId) throw new RegistryError('NAME_UNKNOWN', `image ${repo.key}/${image} not found`);
    return this.tags.list(imageId, page);
  }

  async referrers(repo: RepositoryEntity, image: string, digest: string, artifactType?: string): Promise<ReferrersIndex> {
    const rows = await this.manifests.referrers(repo.id, image, parseDigest(digest).value, artifactType);
    return {
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: rows.map((r) => ({
        mediaType: r.mediaType,
        digest: r.digest,
        size: r.size,
        ...(r.artifactType ? { artifactType: r.artifactType } : {}),
        ...(r.annotations ? { annotations: r.annotations } : {}),
      })),
    };
  }
}

/** Everything a manifest points at: its config and layers, or an index's children. */
function referencesOf(parsed: ParsedManifest): Array<{ kind: ManifestReferenceKind; digest: string }> {
  const blobs = [parsed.config, ...parsed.layers].filter((d): d is NonNullable<typeof d> => !!d).map((d) => d.digest);
  return [
    ...[...new Set(blobs)].map((digest) => ({ kind: 'blob' as ManifestReferenceKind, digest })),
    ...[...new Set(parsed.manifests.map((d) => d.digest))].map((digest) => ({ kind: 'manifest' as ManifestReferenceKind, digest })),
  ];
}

function overwriteDenied(repo: RepositoryEntity, what: string): RegistryError {
  return new RegistryError('DENIED', `${what}: ${repo.key} does not allow tag overwrite or deletion (allowTagOverwrite is false)`);
}

/** Whether the manifest refers to another (a signature, SBOM or attestation), read from its bytes. */
function hasSubject(content: Buffer): boolean {
  try {
    const body = JSON.parse(content.toString('utf8'));
    return typeof body?.subject?.digest === 'string';
  } catch {
    return false;
  }
}

function assertTag(tag: string): string {
  if (!isValidTag(tag)) throw new RegistryError('MANIFEST_INVALID', `invalid tag "${tag.slice(0, 140)}": [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`);
  return tag;
}
