import { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { BlobQueries, RepositoryEntity } from '@wharf/db';
import { RegistryError, parseDigest } from '@wharf/oci';
import { BlobStore, ByteRange } from '@wharf/storage';
import { BlobInfo } from '../docker-repository';

/** Blob reads, deletes and mounts for local repositories: a blob is visible through a link. */
@Injectable()
export class LocalBlobService {
  constructor(
    private readonly blobs: BlobQueries,
    private readonly storage: BlobStore,
  ) {}

  async stat(repo: RepositoryEntity, digest: string): Promise<BlobInfo> {
    const value = parseDigest(digest).value;
    const linked = await this.blobs.findLinked(repo.id, value);
    if (!linked) throw new RegistryError('BLOB_UNKNOWN', `blob ${value} not found in ${repo.key}`);
    return { digest: value, size: linked.size };
  }

  /** Reads a blob `stat` found linked: the link is not looked up again. */
  open(blob: BlobInfo, range?: ByteRange): Promise<Readable> {
    return this.storage.read(parseDigest(blob.digest), range);
  }

  /** Unlinks the blob from the repository; the bytes stay for other repositories or GC. */
  async delete(repo: RepositoryEntity, digest: string): Promise<void> {
    const value = parseDigest(digest).value;
    if (!(await this.blobs.unlink(repo.id, value))) throw new RegistryError('BLOB_UNKNOWN', `blob ${value} not found in ${repo.key}`);
  }

  async mount(target: RepositoryEntity, digest: string, source: RepositoryEntity): Promise<BlobInfo | null> {
    const value = parseDigest(digest).value;
    const linked = await this.blobs.findLinked(source.id, value);
    if (!linked) return null;
    await this.blobs.recordAndLink(target.id, value, linked.size);
    return { digest: value, size: linked.size };
  }
}
