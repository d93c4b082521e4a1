import { constants } from 'node:fs';
import { FileHandle, mkdir, open, rename, stat, truncate, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { Digest, RegistryError } from '@wharf/oci';
import { appendBatched } from './batched-file-append';
import { fsyncDir, mkdirDurably } from './durable-fs';
import { FileRangeStream } from './file-range-stream';
import { KeyedQueue } from './keyed-queue';
import { UploadHasher } from './upload-hasher';
import { AppendOptions, BlobStorageDriver, ByteRange, UploadReader } from './blob-storage-driver';

const UPLOAD_ID = /^[0-9a-f-]{36}$/;
const HEX = /^[0-9a-f]+$/;

/**
 * Stores blobs as plain files: `<root>/blobs/<algorithm>/<2 hex>/<hex>`, with uploads in
 * `<root>/uploads/<id>`. Both trees live under one root so the final rename never crosses
 * filesystems.
 */
export class FilesystemBlobStorageDriver extends BlobStorageDriver {
  private readonly blobsDir: string;
  private readonly uploadsDir: string;
  /**
   * Hashing while the bytes are written saves re-reading a large upload at commit. Trusting
   * its running state assumes appends to one upload never overlap across instances; the
   * upload session's offset check in the database is what guarantees that. Worker processes
   * of one Wharf share the state through the primary; separate instances do not (an upload
   * continued on another one is hashed there from the file).
   */
  private readonly hasher = UploadHasher.forThisProcess();
  /** Per-upload queue: overlapping appends would interleave bytes and desync the hash state. */
  private readonly locks = new KeyedQueue();
  private ready?: Promise<void>;

  constructor(rootDir: string) {
    super();
    this.blobsDir = join(rootDir, 'blobs');
    this.uploadsDir = join(rootDir, 'uploads');
  }

  /** Stops the hashing worker; Nest calls this on shutdown (the name is its lifecycle hook). */
  async onModuleDestroy(): Promise<void> {
    await this.hasher.close();
  }

  /** Creates the directory layout. Idempotent; every operation awaits it anyway. */
  init(): Promise<void> {
    this.ready ??= Promise.all([mkdir(this.blobsDir, { recursive: true }), mkdir(this.uploadsDir, { recursive: true })]).then(
      () => undefined,
      (err) => {
        this.ready = undefined; // let a later call retry, e.g. after a volume is mounted
        throw err;
      },
    );
    return this.ready;
  }

  async stat(digest: Digest): Promise<{ size: number } | null> {
    await this.init();
    try {
      return { size: (await stat(this.blobPath(digest))).size };
    } catch (err) {
      if (err.code === 'ENOENT') return null;
      throw err;
    }
  }

  async read(digest: Digest, range?: ByteRange): Promise<Readable> {
    await this.init();
    // Open before returning so a missing blob is a clean 404 rather than a stream error
    // after the response headers have gone out.
    let handle: FileHandle;
    try {
      handle = await open(this.blobPath(digest), 'r');
    } catch (err) {
      if (err.code === 'ENOENT') throw new RegistryError('BLOB_UNKNOWN', `blob ${digest.value} is not stored`);
      throw err;
    }
    try {
      const end = range ? range.end : (await handle.stat()).size - 1;
      // The stream owns the handle and closes it on end or destroy.
      return new FileRangeStream(handle, range?.start ?? 0, end);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async delete(digest: Digest): Promise<void> {
    await this.init();
    await unlinkIfExists(this.blobPath(digest));
  }

  async createUpload(uploadId: string): Promise<void> {
    const file = await this.uploadPath(uploadId);
    this.hasher.forget(uploadId);
    // 'wx' fails on an existing file: a reused id must not adopt someone else's bytes.
    const handle = await open(file, 'wx');
    await handle.close();
  }

  async uploadSize(uploadId: string): Promise<number | null> {
    const file = await this.uploadPath(uploadId);
    try {
      return (await stat(file)).size;
    } catch (err) {
      if (err.code === 'ENOENT') return null;
      throw err;
    }
  }

  appendUpload(uploadId: string, body: Readable, options: AppendOptions): Promise<number> {
    return this.exclusive(uploadId, async () => {
      const file = await this.uploadPath(uploadId);
      // No O_CREAT: appending to an upload that was never created (or was deleted) is an error.
      const handle = await openUpload(file, constants.O_WRONLY | constants.O_APPEND);
      let previousSize: number;
      try {
        previousSize = (await handle.stat()).size;
      } catch (err) {
        await handle.close();
        throw err;
      }
      if (previousSize !== options.expectedOffset) {
        await handle.close();
        throw new RegistryError('RANGE_INVALID', `upload ${uploadId} holds ${previousSize} bytes but the chunk starts at offset ${options.expectedOffset}`, undefined, {
          Range: `0-${Math.max(previousSize - 1, 0)}`,
        });
      }

      let received = 0;
      const { expectedLength } = options;
      try {
        await appendBatched(
          body,
          handle,
          (chunk) => {
            received += chunk.length;
            // Stop early rather than write an oversized body to disk.
            if (expectedLength !== undefined && received > expectedLength) throw lengthMismatch(expectedLength, received);
          },
          (written) => {
            this.hasher.extend(uploadId, file, previousSize + written);
            options.onProgress?.(previousSize + written);
          },
        );
        if (expectedLength !== undefined && received !== expectedLength) throw lengthMismatch(expectedLength, received);
      } catch (err) {
        // A concurrent deleteUpload leaves nothing to cut back; report the original failure.
        await truncate(file, previousSize).catch((truncateErr) => {
          if (truncateErr.code !== 'ENOENT') throw truncateErr;
        });
        this.hasher.rewind(uploadId, previousSize);
        throw err;
      } finally {
        await handle.close();
      }

      const size = previousSize + received;
      this.hasher.extend(uploadId, file, size, true);
      return size;
    });
  }

  truncateUpload(uploadId: string, size: number): Promise<number> {
    return this.exclusive(uploadId, async () => {
      const file = await this.uploadPath(uploadId);
      let held: number;
      try {
        held = (await stat(file)).size;
      } catch (err) {
        if (err.code === 'ENOENT') throw new RegistryError('BLOB_UPLOAD_UNKNOWN');
        throw err;
      }
      if (held <= size) return held;
      await truncate(file, size);
      // A running hash past `size` covered the bytes just cut (and a hashing hub shared by
      // worker processes outlives the one that died writing them).
      this.hasher.rewind(uploadId, size);
      return size;
    });
  }

  verifyUpload(uploadId: string, digest: Digest, expectedSize?: number): Promise<{ size: number }> {
    return this.exclusive(uploadId, async () => {
      const file = await this.uploadPath(uploadId);
      const handle = await openUpload(file, 'r');
      try {
        return { size: await this.verify(uploadId, file, handle, digest, expectedSize) };
      } finally {
        await handle.close();
      }
    });
  }

  commitUpload(uploadId: string, digest: Digest, expectedSize?: number): Promise<{ size: number }> {
    return this.exclusive(uploadId, async () => {
      const file = await this.uploadPath(uploadId);
      const target = this.blobPath(digest);
      const handle = await openUpload(file, 'r');
      let size: number;
      try {
        size = await this.verify(uploadId, file, handle, digest, expectedSize);
        // The rename below is only durable if the data it points at reached the disk first.
        await handle.sync();
      } finally {
        await handle.close();
      }

      if (await exists(target)) {
        // Dedup: identical verified bytes are already stored; never touch the existing file.
        await this.discardUpload(uploadId, file);
        return { size };
      }
      await mkdirDurably(dirname(target));
      // Between the check and the rename another commit of the same digest may win; renaming
      // over it then swaps identical, verified bytes, which readers cannot tell apart.
      await rename(file, target);
      await fsyncDir(dirname(target));
      this.hasher.forget(uploadId);
      return { size };
    });
  }

  async readUpload(uploadId: string): Promise<UploadReader> {
    // An open descriptor survives the commit's rename and a discard's unlink.
    const handle = await openUpload(await this.uploadPath(uploadId), 'r');
    return {
      read: async (buffer, position) => (await handle.read(buffer, 0, buffer.length, position)).bytesRead,
      close: () => handle.close(),
    };
  }

  async deleteUpload(uploadId: string): Promise<void> {
    await this.discardUpload(uploadId, await this.uploadPath(uploadId));
  }

  private async discardUpload(uploadId: string, file: string): Promise<void> {
    this.hasher.forget(uploadId);
    await unlinkIfExists(file);
  }

  /** The upload's size once its bytes match `digest` (and `expectedSize`); otherwise discards it and throws. */
  private async verify(uploadId: string, file: string, handle: FileHandle, digest: Digest, expectedSize?: number): Promise<number> {
    const size = (await handle.stat()).size;
    if (expectedSize !== undefined && size !== expectedSize) {
      await this.discardUpload(uploadId, file);
      throw new RegistryError('SIZE_INVALID', `upload holds ${size} bytes but ${expectedSize} were declared`);
    }
    const computed = await this.hasher.digest(uploadId, file, size, digest.algorithm);
    if (computed !== digest.hex) {
      await this.discardUpload(uploadId, file);
      throw new RegistryError('DIGEST_INVALID', `upload content does not match: expected ${digest.value}, computed ${digest.algorithm}:${computed}`);
    }
    return size;
  }

  private blobPath(digest: Digest): string {
    // Digests are validated upstream; this guards the path against a hand-built one.
    if (!HEX.test(digest.hex) || (digest.algorithm !== 'sha256' && digest.algorithm !== 'sha512')) {
      throw new RegistryError('DIGEST_INVALID', `invalid digest ${digest.value}`);
    }
    return join(this.blobsDir, digest.algorithm, digest.hex.slice(0, 2), digest.hex);
  }

  private async uploadPath(uploadId: string): Promise<string> {
    // The id becomes a file name, so anything but a UUID shape could escape the directory.
    if (!UPLOAD_ID.test(uploadId)) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', `invalid upload id`);
    await this.init();
    return join(this.uploadsDir, uploadId);
  }

  private exclusive<T>(uploadId: string, task: () => Promise<T>): Promise<T> {
    return this.locks.run(uploadId, task);
  }
}

function lengthMismatch(expected: number, received: number): RegistryError {
  // An oversized body is cut off at the first chunk past the limit, so its count is a floor.
  const got = received > expected ? `at least ${received}` : `${received}`;
  return new RegistryError('SIZE_INVALID', `expected a body of ${expected} bytes but received ${got}`);
}

async function openUpload(file: string, flags: string | number): Promise<FileHandle> {
  try {
    return await open(file, flags);
  } catch (err) {
    if (err.code === 'ENOENT') throw new RegistryError('BLOB_UPLOAD_UNKNOWN');
    throw err;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (err.code === 'ENOENT') return false;
    throw err;
  }
}

async function unlinkIfExists(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  }
}
