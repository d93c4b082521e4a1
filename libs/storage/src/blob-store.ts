import { Readable } from 'node:stream';
import { Digest } from '@wharf/oci';

/** An inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface AppendOptions {
  /** The upload's size the caller believes it has; a different size is a conflict (RANGE_INVALID). */
  expectedOffset: number;
  /** When the request declared a Content-Length: receiving more or fewer bytes is SIZE_INVALID. */
  expectedLength?: number;
  /** Hears the upload's size each time more of the body is in it (readable by `readUpload`). */
  onProgress?: (size: number) => void;
}

/** Random reads of an upload while it is still being written. */
export interface UploadReader {
  /** Fills `buffer` from `position`; the number of bytes read (0 at the current end). */
  read(buffer: Buffer, position: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * Runs `place` (which puts the verified bytes at their digest path, or drops them when the blob
 * is there already) while the caller holds whatever keeps garbage collection away from the blob:
 * BlobQueries.fenced, which also links the blob before it lets go.
 */
export type BlobFence = (size: number, place: () => Promise<void>) => Promise<void>;

/** One upload's data in the upload area, and when it was last written. */
export interface StoredUpload {
  id: string;
  modifiedAt: Date;
}

/**
 * Where blob bytes live. Content-addressed and shared by every repository: one copy per
 * digest. Uploads are written to a temporary area, verified and only then made visible.
 * Implemented once, over any storage driver, by DriverBackedBlobStore.
 */
export abstract class BlobStore {
  /** The size of a stored blob, or null when it is not stored. */
  abstract stat(digest: Digest): Promise<{ size: number } | null>;

  /**
   * A stream of a stored blob or of an inclusive range of it (the filesystem driver's is a
   * FileRangeStream: prefer its `pipeInto` for sending it). Throws BLOB_UNKNOWN when the
   * blob is not stored. The caller validates the range against the size first.
   */
  abstract read(digest: Digest, range?: ByteRange): Promise<Readable>;

  /**
   * A short-lived URL from which a client fetches the stored blob directly (S3 with redirects
   * on), or undefined: the bytes go through Wharf.
   */
  abstract redirectUrl(digest: Digest): Promise<string | undefined>;

  /** Removes a stored blob (garbage collection only). Missing is not an error. */
  abstract delete(digest: Digest): Promise<void>;

  /** Creates an empty upload area for a new upload session. */
  abstract createUpload(uploadId: string): Promise<void>;

  /** The number of bytes an upload holds, or null when it does not exist. */
  abstract uploadSize(uploadId: string): Promise<number | null>;

  /**
   * Streams `body` onto the end of an upload and returns its new size. If the stream fails,
   * is aborted or does not match `expectedLength`, the upload is cut back to the size it had
   * and the error is rethrown (SIZE_INVALID for a length mismatch): a failed append leaves
   * no trace.
   */
  abstract appendUpload(uploadId: string, body: Readable, options: AppendOptions): Promise<number>;

  /**
   * Cuts an upload back to `size` bytes, the size its session acknowledged: bytes beyond it were
   * written by an append that never finished (its process died mid-request) and are no part of
   * the upload. Returns the size the upload then holds: below `size` only when acknowledged
   * bytes were lost. The caller makes sure no append of this upload is in flight.
   */
  abstract truncateUpload(uploadId: string, size: number): Promise<number>;

  /**
   * Checks the upload against `digest` (and `expectedSize` when given) without storing it:
   * the same checks and errors as commitUpload (a mismatching upload is deleted). Lets a
   * caller act on verified bytes before the slower durable commit.
   */
  abstract verifyUpload(uploadId: string, digest: Digest, expectedSize?: number): Promise<{ size: number }>;

  /**
   * Verifies the upload against `digest` (and `expectedSize` when given), makes it durable
   * (fsync of the file and the directory) and moves it into the content-addressed store. If
   * the blob is already stored, the upload is dropped (dedup). On mismatch throws
   * DIGEST_INVALID or SIZE_INVALID and deletes the upload. Returns the blob's size. The move
   * (or drop) runs inside `fence`.
   */
  abstract commitUpload(uploadId: string, digest: Digest, expectedSize?: number, fence?: BlobFence): Promise<{ size: number }>;

  /**
   * Opens an upload for reading while it is written, e.g. to serve a download to a second
   * client as it arrives. The reader keeps working after the upload is committed or deleted.
   * Throws BLOB_UPLOAD_UNKNOWN when the upload is already gone.
   */
  abstract readUpload(uploadId: string): Promise<UploadReader>;

  /** Deletes an upload's data. Missing is not an error. */
  abstract deleteUpload(uploadId: string): Promise<void>;

  /** Every upload with data in the upload area (written to, or left by a crash), for garbage collection. */
  abstract uploads(): Promise<StoredUpload[]>;
}
