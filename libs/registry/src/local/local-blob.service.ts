import { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { WharfConfig } from '@wharf/config';
import { AuditTrail, BlobQueries, Db, RepositoryEntity } from '@wharf/db';
import { RegistryError, parseDigest } from '@wharf/oci';
import { BlobStore, ByteRange } from '@wharf/storage';
import { BlobInfo } from '../docker-repository';
import { QuotaGuard } from './quota-guard';

/** Blob reads, deletes and mounts for local repositories: a blob is visible through a link. */
@Injectable()
export class LocalBlobService {
  constructor(
    private readonly blobs: BlobQueries,
    private readonly storage: BlobStore,
    private readonly config: WharfConfig,
    private readonly db: Db,
    private readonly quota: QuotaGuard,
    private readonly audit: AuditTrail,
  ) {}

  /**
   * A client that finds the blob here may rely on it (skip its upload, then push a manifest
   * naming it): the link is renewed when half of garbage collection's grace period has passed.
   */
  async stat(repo: RepositoryEntity, digest: string): Promise<BlobInfo> {
    const value = parseDigest(digest).value;
    const linked = await this.reliedOn(repo, value);
    if (!linked) throw new RegistryError('BLOB_UNKNOWN', `blob ${value} not found in ${repo.key}`);
    return { digest: value, size: linked.size };
  }

  /** Reads a blob `stat` found linked: the link is not looked up again. */
  open(blob: BlobInfo, range?: ByteRange): Promise<Readable> {
    return this.storage.read(parseDigest(blob.digest), range);
  }

  /** Unlinks the blob from the repository; the bytes stay for other repositories or GC. */
  async delete(repo: RepositoryEntity, digest: string, image?: string): Promise<void> {
    const value = parseDigest(digest).value;
    await this.db.transaction(async () => {
      if (!(await this.blobs.unlink(repo.id, value))) throw new RegistryError('BLOB_UNKNOWN', `blob ${value} not found in ${repo.key}`);
      await this.audit.record({ action: 'delete', repository: repo.key, image, digest: value, details: { kind: 'blob' } });
    });
  }

  async mount(target: RepositoryEntity, digest: string, source: RepositoryEntity): Promise<BlobInfo | null> {
    const value = parseDigest(digest).value;
    // Within one repository (docker manifest push mounts between images) the blob is there or not,
    // like a HEAD; holding the link and then renewing it would deadlock two such mounts at once.
    if (source.id === target.id) {
      const linked = await this.reliedOn(target, value);
      return linked && { digest: value, size: linked.size };
    }
    return this.db.transaction(async () => {
      const linked = await this.blobs.findLinkedHeld(source.id, value);
      if (!linked) return null;
      await this.quota.admit(target, value, linked.size);
      await this.blobs.link(target.id, value);
      return { digest: value, size: linked.size };
    });
  }

  /** The blob's link, renewed once half of garbage collection's grace period has passed: the caller is about to rely on it. */
  private reliedOn(repo: RepositoryEntity, digest: string): Promise<{ size: number } | null> {
    return this.blobs.findLinkedRenewing(repo.id, digest, this.config.gc.graceSeconds / 2);
  }
}
