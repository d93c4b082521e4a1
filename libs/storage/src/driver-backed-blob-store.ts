import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { Digest, RegistryError } from '@wharf/oci';
import { AppendOptions, BlobFence, BlobStore, ByteRange, StoredUpload, UploadReader } from './blob-store';
import { InlineUploadHashes } from './inline-upload-hashes';
import { KeyedQueue } from './keyed-queue';
import { UploadHasher } from './upload-hasher';
import { FileWriter, StorageDriver } from './driver/storage-driver';
import { PathNotFoundError } from './driver/storage-errors';

const UPLOAD_ID = /^[0-9a-f-]{36}$/;
const HEX = /^[0-9a-f]+$/;

/**
 * The blob store over any storage driver: layout (`/blobs/<algorithm>/<2 hex>/<hex>`,
 * `/uploads/<id>`), the upload lifecycle, hashing, digest and size checks and deduplication,
 * written once. Unverified bytes never reach a digest's path: an upload is checked, then moved.
 *
 * Hashing: where the driver keeps files on this machine's disk, a thread reads each upload
 * back from the page cache as it is written (off the event loop; shared by worker processes
 * through the primary); elsewhere the bytes are hashed as they pass. Either way a hash that does
 * not cover an upload (its earlier chunks went to another instance) is made again from the
 * stored bytes when it is verified.
 */
export class DriverBackedBlobStore extends BlobStore {
  private readonly fileHasher = UploadHasher.forThisProcess();
  private readonly inlineHashes = new InlineUploadHashes();
  /** Per-upload queue: overlapping appends would interleave bytes and desync the hash state. */
  private readonly locks = new KeyedQueue();

  constructor(
    private readonly driver: StorageDriver,
    private readonly options: { redirectSeconds?: number } = {},
  ) {
    super();
  }

  async redirectUrl(digest: Digest): Promise<string | undefined> {
    const seconds = this.options.redirectSeconds ?? 0;
    return seconds > 0 ? this.driver.redirectUrl(blobPath(digest), { method: 'GET', expiresInSeconds: seconds }) : undefined;
  }

  /** Stops the hashing worker; Nest calls this on shutdown (the name is its lifecycle hook). */
  async onModuleDestroy(): Promise<void> {
    await this.fileHasher.close();
  }

  async stat(digest: Digest): Promise<{ size: number } | null> {
    return this.orNull(async () => ({ size: (await this.driver.stat(blobPath(digest))).size }));
  }

  async read(digest: Digest, range?: ByteRange): Promise<Readable> {
    try {
      return await this.driver.reader(blobPath(digest), range?.start ?? 0, range?.end);
    } catch (err) {
      if (err instanceof PathNotFoundError) throw new RegistryError('BLOB_UNKNOWN', `blob ${digest.value} is not stored`);
      throw err;
    }
  }

  async delete(digest: Digest): Promise<void> {
    await this.orNull(() => this.driver.delete(blobPath(digest)));
  }

  async createUpload(uploadId: string): Promise<void> {
    const path = uploadPath(uploadId);
    // A reused id must not adopt someone else's bytes.
    if (await this.orNull(() => this.driver.stat(path))) throw Object.assign(new Error(`upload ${uploadId} exists`), { code: 'EEXIST' });
    this.forget(uploadId);
    await (await this.driver.writer(path)).close();
  }

  async uploadSize(uploadId: string): Promise<number | null> {
    const writer = await this.resume(uploadPath(uploadId));
    if (!writer) return null;
    await writer.close();
    return writer.size;
  }

  appendUpload(uploadId: string, body: Readable, options: AppendOptions): Promise<number> {
    return this.locks.run(uploadId, async () => {
      const path = uploadPath(uploadId);
      const writer = await this.openUpload(path);
      const previousSize = writer.size;
      const local = this.driver.localPath(path);
      const inline = local ? undefined : this.inlineHashes.begin(uploadId, previousSize);
      try {
        if (previousSize !== options.expectedOffset) {
          throw new RegistryError('RANGE_INVALID', `upload ${uploadId} holds ${previousSize} bytes but the chunk starts at offset ${options.expectedOffset}`, undefined, {
            Range: `0-${Math.max(previousSize - 1, 0)}`,
          });
        }
        const size = await writer.write(checkedBody(body, options.expectedLength, inline?.hash), {
          onProgress: (written) => {
            if (local) this.fileHasher.extend(uploadId, local, written);
            options.onProgress?.(written);
          },
        });
        inline?.done(size);
        if (local) this.fileHasher.extend(uploadId, local, size, true);
        return size;
      } catch (err) {
        // The write left the upload as it was; the hashes go back there too.
        inline?.undo();
        this.fileHasher.rewind(uploadId, previousSize);
        throw err;
      } finally {
        await writer.close();
      }
    });
  }

  truncateUpload(uploadId: string, size: number): Promise<number> {
    return this.locks.run(uploadId, async () => {
      const writer = await this.openUpload(uploadPath(uploadId));
      try {
        if (writer.size <= size) return writer.size;
        await writer.truncate(size);
        // A running hash past `size` covered the bytes just cut (and a hashing hub shared by
        // worker processes outlives the one that died writing them).
        this.fileHasher.rewind(uploadId, size);
        this.inlineHashes.forget(uploadId);
        return size;
      } finally {
        await writer.close();
      }
    });
  }

  verifyUpload(uploadId: string, digest: Digest, expectedSize?: number): Promise<{ size: number }> {
    return this.withUpload(uploadId, async (upload) => ({ size: await this.verify(upload, digest, expectedSize) }));
  }

  commitUpload(uploadId: string, digest: Digest, expectedSize?: number, fence: BlobFence = (_size, place) => place()): Promise<{ size: number }> {
    return this.withUpload(uploadId, async (upload) => {
      const size = await this.verify(upload, digest, expectedSize);
      // Durable before it is visible under the digest (the filesystem's fsync).
      await this.finish(upload);
      const target = blobPath(digest);
      let placed = false;
      try {
        await fence(size, async () => {
          placed = true;
          if (await this.orNull(() => this.driver.stat(target))) {
            // Dedup: identical verified bytes are already stored; never touch the existing file.
            await this.discard(upload);
            return;
          }
          // Another commit of the same digest may win between the check and the move; moving over
          // it then swaps identical, verified bytes, which readers cannot tell apart.
          await this.driver.move(upload.path, target);
          this.forget(uploadId);
        });
      } catch (err) {
        // Refused before its bytes were placed (a quota): the upload is over and leaves nothing.
        if (!placed) await this.discard(upload).catch(() => undefined);
        throw err;
      }
      return { size };
    });
  }

  async uploads(): Promise<StoredUpload[]> {
    const written = await this.driver.listWritten('/uploads');
    return written.map((file) => ({ id: file.path.slice('/uploads/'.length), modifiedAt: file.modifiedAt })).filter((upload) => UPLOAD_ID.test(upload.id));
  }

  async readUpload(uploadId: string): Promise<UploadReader> {
    const local = this.driver.localPath(uploadPath(uploadId));
    // Elsewhere (S3) an upload cannot be read before it is committed: readers wait for the blob.
    if (!local) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', 'uploads on this storage are readable once committed');
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      // An open descriptor survives the commit's rename and a discard's unlink.
      handle = await open(local, 'r');
    } catch (err) {
      if (err.code === 'ENOENT') throw new RegistryError('BLOB_UPLOAD_UNKNOWN');
      throw err;
    }
    return {
      read: async (buffer, position) => (await handle.read(buffer, 0, buffer.length, position)).bytesRead,
      close: () => handle.close(),
    };
  }

  async deleteUpload(uploadId: string): Promise<void> {
    // Not queued behind a running append: a client's DELETE must not wait for a stalled PATCH.
    const path = uploadPath(uploadId);
    await this.discard({ id: uploadId, path, writer: await this.resume(path), size: 0 });
  }

  /**
   * Runs `task` on the upload, opened once: its writer while the upload is open, none once it
   * is committed under its own path (S3, after a verify that read it back).
   */
  private withUpload<T>(uploadId: string, task: (upload: HeldUpload) => Promise<T>): Promise<T> {
    return this.locks.run(uploadId, async () => {
      const path = uploadPath(uploadId);
      const writer = await this.resume(path);
      const size = writer ? writer.size : (await this.orNull(() => this.driver.stat(path)))?.size;
      if (size === undefined) throw new RegistryError('BLOB_UPLOAD_UNKNOWN');
      const upload: HeldUpload = { id: uploadId, path, writer, size };
      try {
        return await task(upload);
      } finally {
        await upload.writer?.close();
      }
    });
  }

  /** The upload's size once its bytes match `digest` (and `expectedSize`); otherwise discards it and throws. */
  private async verify(upload: HeldUpload, digest: Digest, expectedSize?: number): Promise<number> {
    const { size } = upload;
    if (expectedSize !== undefined && size !== expectedSize) {
      await this.discard(upload);
      throw new RegistryError('SIZE_INVALID', `upload holds ${size} bytes but ${expectedSize} were declared`);
    }
    const computed = await this.hash(upload, digest.algorithm);
    if (computed !== digest.hex) {
      await this.discard(upload);
      throw new RegistryError('DIGEST_INVALID', `upload content does not match: expected ${digest.value}, computed ${digest.algorithm}:${computed}`);
    }
    return size;
  }

  private async hash(upload: HeldUpload, algorithm: Digest['algorithm']): Promise<string> {
    const local = this.driver.localPath(upload.path);
    if (local) return this.fileHasher.digest(upload.id, local, upload.size, algorithm);
    const running = algorithm === 'sha256' ? this.inlineHashes.digest(upload.id, upload.size) : undefined;
    if (running) return running;
    // Bytes this process did not see: make the upload readable (S3 completes its multipart
    // upload under the upload's own path, never a digest's) and hash it from the store.
    await this.finish(upload);
    const hash = createHash(algorithm);
    for await (const chunk of await this.driver.reader(upload.path)) hash.update(chunk);
    return hash.digest('hex');
  }

  /** Commits the upload's writer, if it still has one: its bytes whole and durable under its own path. */
  private async finish(upload: HeldUpload): Promise<void> {
    const { writer } = upload;
    upload.writer = null;
    await writer?.commit();
  }

  /** The writer of an open upload, where the last one left it; null when there is none. */
  private resume(path: string): Promise<FileWriter | null> {
    return this.orNull(() => this.driver.writer(path, { append: true }));
  }

  private async openUpload(path: string): Promise<FileWriter> {
    const writer = await this.resume(path);
    if (!writer) throw new RegistryError('BLOB_UPLOAD_UNKNOWN');
    return writer;
  }

  /** Removes an upload, open (a writer's state) or committed under its path. */
  private async discard(upload: HeldUpload): Promise<void> {
    this.forget(upload.id);
    const { writer } = upload;
    upload.writer = null;
    await writer?.cancel();
    await this.orNull(() => this.driver.delete(upload.path));
  }

  private forget(uploadId: string): void {
    this.fileHasher.forget(uploadId);
    this.inlineHashes.forget(uploadId);
  }

  /** The operation's result, or null when its path is missing. */
  private async orNull<T>(operation: () => Promise<T>): Promise<T | null> {
    try {
      return await operation();
    } catch (err) {
      if (err instanceof PathNotFoundError) return null;
      throw err;
    }
  }
}

/** An upload being verified or committed, opened once. */
interface HeldUpload {
  id: string;
  path: string;
  /** Null once committed under its own path (or cancelled). */
  writer: FileWriter | null;
  size: number;
}

function blobPath(digest: Digest): string {
  // Digests are validated upstream; this guards the path against a hand-built one.
  if (!HEX.test(digest.hex) || (digest.algorithm !== 'sha256' && digest.algorithm !== 'sha512')) {
    throw new RegistryError('DIGEST_INVALID', `invalid digest ${digest.value}`);
  }
  return `/blobs/${digest.algorithm}/${digest.hex.slice(0, 2)}/${digest.hex}`;
}

function uploadPath(uploadId: string): string {
  // The id becomes a path, so anything but a UUID shape could escape the directory.
  if (!UPLOAD_ID.test(uploadId)) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', 'invalid upload id');
  return `/uploads/${uploadId}`;
}

/**
 * The request body as the writer takes it: stopped early when it runs past `expectedLength`,
 * failed when it ends short of it (so the write leaves nothing), and hashed inline when asked.
 */
async function* checkedBody(body: AsyncIterable<Buffer>, expectedLength: number | undefined, hash?: ReturnType<typeof createHash>): AsyncGenerator<Buffer> {
  let received = 0;
  for await (const chunk of body) {
    received += chunk.length;
    // Stop early rather than write an oversized body.
    if (expectedLength !== undefined && received > expectedLength) throw lengthMismatch(expectedLength, received);
    hash?.update(chunk);
    yield chunk;
  }
  if (expectedLength !== undefined && received !== expectedLength) throw lengthMismatch(expectedLength, received);
}

function lengthMismatch(expected: number, received: number): RegistryError {
  // An oversized body is cut off at the first chunk past the limit, so its count is a floor.
  const got = received > expected ? `at least ${received}` : `${received}`;
  return new RegistryError('SIZE_INVALID', `expected a body of ${expected} bytes but received ${got}`);
}
