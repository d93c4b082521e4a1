import { Injectable } from '@nestjs/common';
import { AuditTrail, BlobQueries, RepositoryEntity, StorageUsageQueries } from '@wharf/db';
import { RegistryError } from '@wharf/oci';
import { readLocalSettings } from '../kinds/local-settings';

/** A local repository's quota (`quotaBytes`), checked where a blob is linked into it. */
@Injectable()
export class QuotaGuard {
  constructor(
    private readonly usage: StorageUsageQueries,
    private readonly blobs: BlobQueries,
    private readonly audit: AuditTrail,
  ) {}

  /**
   * Inside the transaction that links `digest` into `repo`: DENIED when the blob would take the
   * repository beyond its quota. Usage counts each of the repository's blobs once, so a blob it
   * links already costs nothing. The usage row stays held until the link is committed.
   */
  async admit(repo: RepositoryEntity, digest: string, size: number): Promise<void> {
    const quota = readLocalSettings(repo.settings).quotaBytes;
    if (!quota) return;
    const used = await this.usage.lockedBytes(repo.id);
    if (used + size <= quota || (await this.blobs.findLinked(repo.id, digest))) return;
    throw await this.refuse(repo, `blob ${digest}`, size, used, quota, digest);
  }

  /** The same for a promotion into `repo` of these manifests: what they bring that it lacks. */
  async admitManifests(repo: RepositoryEntity, manifestIds: string[]): Promise<void> {
    const quota = readLocalSettings(repo.settings).quotaBytes;
    if (!quota) return;
    const used = await this.usage.lockedBytes(repo.id);
    const adding = await this.usage.bytesNewTo(repo.id, manifestIds);
    if (used + adding > quota) throw await this.refuse(repo, 'the promoted image', adding, used, quota);
  }

  /** The refusal, recorded in the audit log once the refused transaction has rolled back. */
  private async refuse(repo: RepositoryEntity, what: string, size: number, used: number, quota: number, digest?: string): Promise<RegistryError> {
    await this.audit.recordAfterTransaction({
      action: 'quota.exceeded',
      repository: repo.key,
      digest,
      details: { what, quotaBytes: quota, usedBytes: used, addingBytes: size },
    });
    return overQuota(repo, what, size, used, quota);
  }
}

function overQuota(repo: RepositoryEntity, what: string, size: number, used: number, quota: number): RegistryError {
  return new RegistryError(
    'DENIED',
    `${repo.key} is over its quota: ${what} (${formatBytes(size)}) would take it to ${formatBytes(used + size)}, and its quota is ${formatBytes(quota)} (${formatBytes(used)} in use); delete images and run garbage collection, or raise quotaBytes`,
    { quotaBytes: quota, usedBytes: used, addingBytes: size },
  );
}

/** Bytes for people: `1.5 GiB (1610612736 bytes)`. */
export function formatBytes(bytes: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 'bytes';
  for (const next of units) {
    if (value < 1024) break;
    value /= 1024;
    unit = next;
  }
  return unit === 'bytes' ? `${bytes} bytes` : `${value.toFixed(1)} ${unit} (${bytes} bytes)`;
}
