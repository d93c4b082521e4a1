import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { BlobQueries, RepositoryEntity, UploadSessionEntity, UploadSessionQueries } from '@wharf/db';
import { RegistryError, parseDigest } from '@wharf/oci';
import { BlobStore, KeyedQueue } from '@wharf/storage';
import { AppendRequest, BlobInfo, UploadStatus } from '../docker-repository';
import { QuotaGuard } from './quota-guard';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Blob upload sessions: the session row lives in Postgres (so an upload survives a restart),
 * the bytes in the storage driver's upload area until verified.
 */
@Injectable()
export class LocalUploadService {
  /**
   * Appends and commits of one upload, one at a time in this process, each from reading the
   * session to acknowledging the bytes: until then another could take the new bytes for ones
   * a dead server left behind, and cut them. Appends of one upload sent at once to different
   * processes are not serialised (a client breaking the chunk order); the digest check at
   * commit refuses whatever they make of the file.
   */
  private readonly queue = new KeyedQueue();

  constructor(
    private readonly sessions: UploadSessionQueries,
    private readonly blobs: BlobQueries,
    private readonly storage: BlobStore,
    private readonly quota: QuotaGuard,
  ) {}

  async start(repo: RepositoryEntity, image: string): Promise<UploadStatus> {
    const id = randomUUID();
    // The session first: garbage collection takes upload data that has no session.
    await this.sessions.create(id, repo.id, image);
    await this.storage.createUpload(id).catch(async (err) => {
      await this.sessions.delete(id);
      throw err;
    });
    return { id, size: 0 };
  }

  async status(repo: RepositoryEntity, image: string, uploadId: string): Promise<UploadStatus> {
    const session = await this.find(repo, image, uploadId);
    return { id: session.id, size: session.size };
  }

  async append(repo: RepositoryEntity, image: string, uploadId: string, request: AppendRequest): Promise<UploadStatus> {
    return this.queue.run(uploadId, async () => this.appendToSession(await this.find(repo, image, uploadId), request));
  }

  async commit(repo: RepositoryEntity, image: string, uploadId: string, digest: string, request?: AppendRequest): Promise<BlobInfo> {
    const target = parseDigest(digest);
    return this.queue.run(uploadId, async () => {
      const session = await this.find(repo, image, uploadId);
      // A refused last chunk leaves the session for the client to send it again.
      if (request) await this.appendToSession(session, request);
      else await this.settle(session);
      try {
        const { size } = await this.storage.commitUpload(uploadId, target, undefined, (size, place) =>
          this.blobs.fenced(target.value, size, async () => {
            await this.quota.admit(repo, target.value, size);
            await place();
            await this.blobs.link(repo.id, target.value);
          }),
        );
        return { digest: target.value, size };
      } finally {
        // Committed or refused, the session is over: a mismatching upload leaves nothing behind.
        await this.sessions.delete(session.id);
      }
    });
  }

  async cancel(repo: RepositoryEntity, image: string, uploadId: string): Promise<void> {
    await this.find(repo, image, uploadId);
    await this.sessions.delete(uploadId);
    await this.storage.deleteUpload(uploadId);
  }

  private async appendToSession(session: UploadSessionEntity, request: AppendRequest): Promise<UploadStatus> {
    if (request.start !== undefined && request.start !== session.size) {
      throw outOfOrder(session.size, `chunk starts at ${request.start} but the upload holds ${session.size} bytes`);
    }
    await this.settle(session);
    const size = await this.storage.appendUpload(session.id, request.body, { expectedOffset: session.size, expectedLength: request.length });
    if (!(await this.sessions.advance(session.id, session.size, size))) {
      throw outOfOrder(session.size, 'the upload was changed by a concurrent request');
    }
    return { id: session.id, size };
  }

  /**
   * Makes the upload hold exactly the bytes its session acknowledged, the offset clients are
   * told to continue from. Bytes beyond it were written by a PATCH whose server died before
   * acknowledging them (the session advances after the append); the client sends them again.
   * Acknowledged bytes missing from disk (a machine crash before they were flushed) move the
   * session back, so the client resumes from what the disk holds.
   */
  private async settle(session: UploadSessionEntity): Promise<void> {
    const held = await this.storage.truncateUpload(session.id, session.size);
    if (held < session.size) {
      await this.sessions.advance(session.id, session.size, held);
      throw outOfOrder(held, `the upload holds ${held} of the ${session.size} bytes acknowledged (lost in a crash): continue from byte ${held}`);
    }
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
