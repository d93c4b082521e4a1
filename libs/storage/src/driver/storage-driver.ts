import { Readable } from 'node:stream';
import { InvalidPathError } from './storage-errors';

/** What `stat` knows of a path: a file with its size, or a directory (a prefix of other paths). */
export interface FileInfo {
  path: string;
  size: number;
  modifiedAt: Date;
  isDirectory: boolean;
}

/**
 * A file being written. Bytes written are readable (`reader`, `stat`) only once committed, except
 * where a driver says otherwise; `close` keeps them so that a later `writer(path, { append: true })`
 * (in this process or another host) continues where this one stopped.
 */
export interface FileWriter {
  /** Bytes in the file so far: what it held when opened plus what was written. */
  readonly size: number;
  /**
   * Streams `body` onto the end of the file and resolves with the new size. All or nothing: a
   * body that fails midway leaves the file as it was before this call (a registry acknowledges
   * a chunk only once it is whole), and the writer may go on. `onProgress` hears the size each
   * time more of the body is down (on the filesystem, readable at `localPath`).
   */
  write(body: AsyncIterable<Buffer>, options?: { onProgress?: (size: number) => void }): Promise<number>;
  /**
   * Cuts the file back to `size` (no more than it holds): bytes a writer that died wrote past
   * what was acknowledged. InvalidOffsetError where the driver cannot cut that deep (S3: into
   * parts already sent, which a dead writer's successor never has to).
   */
  truncate(size: number): Promise<void>;
  /** Keeps what was written for a later append; the writer is done. */
  close(): Promise<void>;
  /** Removes the file and everything written; the writer is done. */
  cancel(): Promise<void>;
  /** Makes the file whole and durable at its path; the writer is done. */
  commit(): Promise<void>;
}

/**
 * Where bytes live, as path-level operations (after Distribution's `StorageDriver`): the
 * layer above decides the layout, hashes, verifies digests, deduplicates and runs the upload
 * lifecycle, once for every driver. Paths are absolute, `/`-separated, of the characters
 * `[A-Za-z0-9._-]` per component (see `assertValidPath`). Drivers throw the typed errors of
 * `storage-errors.ts` for a missing path, a bad path and a bad offset.
 */
export abstract class StorageDriver {
  /** For messages and metrics: `filesystem`, `s3`. */
  abstract readonly name: string;

  /** The whole content of a small file (a few KiB: state, markers), into memory. */
  abstract getContent(path: string): Promise<Buffer>;

  /** Writes a small file whole, replacing any; readers see the old or the new content, never a part. */
  abstract putContent(path: string, content: Buffer): Promise<void>;

  /**
   * A stream of the file from `offset` (to `end`, inclusive, when given). PathNotFoundError when
   * missing, checked before the stream is returned; InvalidOffsetError beyond the end.
   */
  abstract reader(path: string, offset?: number, end?: number): Promise<Readable>;

  /** A writer at `path`: a new, empty file, or with `append` the file as a previous writer left it. */
  abstract writer(path: string, options?: { append?: boolean }): Promise<FileWriter>;

  /** PathNotFoundError when there is neither a file nor a directory at `path`. */
  abstract stat(path: string): Promise<FileInfo>;

  /** The direct children of a directory, as full paths, sorted. PathNotFoundError when it has none. */
  abstract list(path: string): Promise<string[]>;

  /**
   * The files directly under `dir`, committed or still being written (closed, not committed),
   * with when each was last written, sorted by path; none when there are none. What a sweep of
   * abandoned writes looks at.
   */
  abstract listWritten(dir: string): Promise<Array<{ path: string; modifiedAt: Date }>>;

  /** Moves a committed file to `destination`, replacing what is there. PathNotFoundError when missing. */
  abstract move(source: string, destination: string): Promise<void>;

  /** Removes a file, or a directory with everything under it. PathNotFoundError when nothing is there. */
  abstract delete(path: string): Promise<void>;

  /**
   * A URL from which a client may fetch the file directly for a short while, or undefined when
   * the driver serves no such URLs (the filesystem): the bytes then go through Wharf.
   */
  abstract redirectUrl(path: string, options: { method: 'GET' | 'HEAD'; expiresInSeconds: number }): Promise<string | undefined>;

  /**
   * Where the file is on this machine's disk, when it is (the filesystem): the blob store then
   * hashes it from the page cache on a thread, and lets readers follow it while it is written.
   */
  localPath(_path: string): string | undefined {
    return undefined;
  }
}

const PATH = /^(\/[A-Za-z0-9._-]+)+$/;

/** Absolute, no empty, `.` or `..` components: a path that cannot leave the driver's root. */
export function assertValidPath(driver: string, path: string): void {
  if (!PATH.test(path) || path.split('/').some((part) => part === '.' || part === '..')) throw new InvalidPathError(driver, path);
}
