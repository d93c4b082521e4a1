import { statfs } from 'node:fs/promises';
import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Principal, requireAdmin } from '@wharf/auth';
import { WharfConfig } from '@wharf/config';
import { RepositoryUsageRow, StorageUsageQueries } from '@wharf/db';
import { describeStorage } from '@wharf/storage';

const FOLD_MS = 15_000;

export interface StorageInfo {
  /** Blobs stored, each once (deduplicated), against what they would take stored once per repository. */
  binaries: { count: number; bytes: number; bytesWithoutDedup: number; savedByDedup: number };
  /** Where the bytes are, and the free space there (a filesystem; an object store reports none). */
  fileStore: { type: 'filesystem' | 's3'; location: string; totalBytes?: number; freeBytes?: number };
  /** Per repository: its images, manifests, tags, the blobs it links and their bytes, and the bytes only it links. */
  repositories: RepositoryUsageRow[];
}

/** Where the space goes (Artifactory's storageinfo): read from usage tables kept up to date as blobs come and go. */
@Injectable()
export class StorageInfoService implements OnModuleInit, OnModuleDestroy {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly usage: StorageUsageQueries,
    private readonly config: WharfConfig,
  ) {}

  onModuleInit(): void {
    // Keeps the backlog of changes short, so a read folds little; a fold running elsewhere will do.
    this.timer = setInterval(() => void this.usage.fold(false).catch(() => undefined), FOLD_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async info(principal: Principal): Promise<StorageInfo> {
    requireAdmin(principal, 'read storage info');
    await this.usage.fold(true);
    const [repositories, totals, fileStore] = await Promise.all([this.usage.repositories(), this.usage.totals(), this.fileStore()]);
    return {
      binaries: { count: totals.blobs, bytes: totals.bytes, bytesWithoutDedup: totals.bytesWithoutDedup, savedByDedup: totals.bytesWithoutDedup - totals.bytes },
      fileStore,
      repositories,
    };
  }

  private async fileStore(): Promise<StorageInfo['fileStore']> {
    const location = describeStorage(this.config);
    if (this.config.storage === 's3') return { type: 's3', location };
    const fs = await statfs(this.config.blobRoot);
    return { type: 'filesystem', location, totalBytes: fs.blocks * fs.bsize, freeBytes: fs.bavail * fs.bsize };
  }
}
