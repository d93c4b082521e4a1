import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { BlobQueries, RepositoryEntity, UploadSessionQueries } from '@wharf/db';
import { RegistryError, parseDigest } from '@wharf/oci';
import { BlobStorageDriver } from '@wharf/storage';
import { AppendRequest, BlobInfo, UploadStatus } from '../docker-repository';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Blob upload sessions: the session row lives in Postgres (so an upload survives a restart),
 * the bytes in the storage driver's upload area until verified.
 */
@Injectable()
export class LocalUploadService {
  constructor(
    private readonly sessions: UploadSessionQueries,
    private readonly blobs: BlobQueries,
    private readonly storage: BlobStorageDriver,
  ) {}

  async start(repo: RepositoryEntity, image: string): Promise<UploadStatus> {
    const id = randomUUID();
    await this.storage.createUpload(id);
    await this.sessions.create(id, repo.id, image);
    return { id, size: 0 };
  }

  async status(repo: RepositoryEntity, image: string, uploadId: string): Promise<UploadStatus> {
    const session = await this.find(repo, image, uploadId);
    return { id: session.id, size: session.size };
  }

  async append(repo: RepositoryEntity, image: string, uploadId: string, request: AppendRequest): Promise<UploadStatus> {
    const session = await this.find(repo, image, uploadId);
    if (request.start !== undefined && request.start !== session.size) {
      throw outOfOrder(session.size, `chunk starts at ${request.start} but the upload holds ${session.size} bytes`);
    }
    const size = await this.storage.appendUpload(uploadId, request.body, { expectedOffset: session.size, expectedLength: request.length });
    if (!(await this.sessions.advance(uploadId, session.size, size))) {
      throw outOfOrder(session.size, 'the upload was changed by a concurrent request');
    }
    return { id: uploadId, size };
  }

  async commit(repo: RepositoryEntity, image: string, uploadId: string, digest: string, request?: AppendRequest): Promise<BlobInfo> {
    const target = parseDigest(digest);
    let session = await this.find(repo, image, uploadId);
    if (request) {
      await this.append(repo, image, uploadId, request);
      session = await this.find(repo, image, uploadId);
    }
    try {
      const { size } = await this.storage.commitUpload(uploadId, target);
      await this.blobs.recordAndLink(repo.id, target.value, size);
      return { digest: target.value, size };
    } finally {
      // Committed or refused, the session is over: a mismatching upload leaves nothing behind.
      await this.sessions.delete(session.id);
    }
  }

  async cancel(repo: RepositoryEntity, image: string, uploadId: string): Promise<void> {
    await this.find(repo, image, uploadId);
    await this.sessions.delete(uploadId);
    await this.storage.deleteUpload(uploadId);
  }

  private async find(repo: RepositoryEntity, image: string, uploadId: string) {
    const session = UUID.test(uploadId) ? await this.sessions.find(uploadId) : null;
    if (!session || session.repositoryId !== repo.id || session.imageName !== image) {
      throw new RegistryError('BLOB_UPLOAD_UNKNOWN', `upload ${uploadId.slice(0, 40)} not found for ${repo.key}/${image}`);
    }
    return session;
  }
}

function outOfOrder(size: number, message: string): RegistryError {
  return new RegistryError('RANGE_INVALID', message, { size }, size > 0 ? { Range: `0-${size - 1}` } : {});
}
