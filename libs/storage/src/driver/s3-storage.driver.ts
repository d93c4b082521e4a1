import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { FileInfo, FileWriter, StorageDriver, assertValidPath } from './storage-driver';
import { InvalidOffsetError, PathNotFoundError } from './storage-errors';

const MiB = 1024 * 1024;
/** S3's smallest part but the last. */
export const S3_MIN_PART_BYTES = 5 * MiB;
/** The largest object CopyObject copies in one call; beyond it, a multipart copy. */
const SINGLE_COPY_LIMIT = 5 * 1024 * MiB;
const COPY_PART_BYTES = 1024 * MiB;
/**
 * Suffix of the object that holds an open write's state and its bytes not yet in a part.
 * `#` is no path character, so no path's key ends with it and `list` can leave these out.
 */
const TAIL = '#tail';

export interface S3StorageOptions {
  client: S3Client;
  bucket: string;
  /** Key prefix for everything Wharf stores (no leading or trailing slash), or '' for the bucket's root. */
  prefix?: string;
  /** Bytes per multipart part (at least 5 MiB): what one writer holds in memory at most. */
  partBytes?: number;
  /**
   * Server-side copies (a commit's move): one CopyObject up to `singleLimit` bytes, beyond it a
   * multipart copy in parts of `partBytes`. S3's own limits by default (5 GiB, 1 GiB parts).
   */
  copy?: { singleLimit: number; partBytes: number };
}

/**
 * Paths as objects of one bucket (`<prefix><path>`). Directories are key prefixes. A writer is
 * a multipart upload whose state lives in the bucket itself, in a tail object: the upload's id,
 * the parts that count, and the bytes short of a part. A write closed on one host continues on
 * another; a written file is visible only once committed.
 */
export class S3StorageDriver extends StorageDriver {
  readonly name = 's3';
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partBytes: number;
  private readonly copyLimits: { singleLimit: number; partBytes: number };

  constructor(options: S3StorageOptions) {
    super();
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = options.prefix ? `${options.prefix.replace(/^\/+|\/+$/g, '')}/` : '';
    this.partBytes = Math.max(S3_MIN_PART_BYTES, options.partBytes ?? 8 * MiB);
    this.copyLimits = options.copy ?? { singleLimit: SINGLE_COPY_LIMIT, partBytes: COPY_PART_BYTES };
  }

  async getContent(path: string): Promise<Buffer> {
    const res = await this.missingAs(path, () => this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(path) })));
    return Buffer.from(await res.Body!.transformToByteArray());
  }

  async putContent(path: string, content: Buffer): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(path), Body: content, ContentLength: content.length }));
  }

  async reader(path: string, offset = 0, end?: number): Promise<Readable> {
    const { size } = await this.stat(path);
    if (offset > size) throw new InvalidOffsetError(this.name, path, offset);
    const last = Math.min(end ?? size - 1, size - 1);
    // S3 answers 416 to a range that starts at the end.
    if (offset > last) return Readable.from([]);
    const res = await this.missingAs(path, () => this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(path), Range: `bytes=${offset}-${last}` })));
    return res.Body as Readable;
  }

  async writer(path: string, options: { append?: boolean } = {}): Promise<FileWriter> {
    const key = this.key(path);
    const writer = new S3Writer(this.client, this.bucket, key, this.partBytes);
    if (options.append) {
      if (!(await writer.resume())) throw new PathNotFoundError(this.name, path);
    } else {
      await writer.discardPrevious();
    }
    return writer;
  }

  async stat(path: string): Promise<FileInfo> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(path) }));
      return { path, size: head.ContentLength ?? 0, modifiedAt: head.LastModified ?? new Date(), isDirectory: false };
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const under = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${this.key(path)}/`, MaxKeys: 1 }));
    if (!under.KeyCount) throw new PathNotFoundError(this.name, path);
    return { path, size: 0, modifiedAt: under.Contents?.[0]?.LastModified ?? new Date(), isDirectory: true };
  }

  async list(path: string): Promise<string[]> {
    const prefix = `${this.key(path)}/`;
    const children = new Set<string>();
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }));
      for (const object of page.Contents ?? []) if (!object.Key!.endsWith(TAIL)) children.add(object.Key!.slice(prefix.length));
      for (const common of page.CommonPrefixes ?? []) children.add(common.Prefix!.slice(prefix.length, -1));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    if (children.size === 0) throw new PathNotFoundError(this.name, path);
    return [...children].sort().map((name) => `${path}/${name}`);
  }

  async listWritten(dir: string): Promise<Array<{ path: string; modifiedAt: Date }>> {
    const prefix = `${this.key(dir)}/`;
    // A file being written is its tail object (the multipart upload's state), under its path plus TAIL.
    const written = new Map<string, Date>();
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        const key = object.Key!.slice(prefix.length);
        const name = key.endsWith(TAIL) ? key.slice(0, -TAIL.length) : key;
        const modifiedAt = object.LastModified ?? new Date(0);
        const seen = written.get(name);
        if (!seen || seen < modifiedAt) written.set(name, modifiedAt);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return [...written].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, modifiedAt]) => ({ path: `${dir}/${name}`, modifiedAt }));
  }

  async move(source: string, destination: string): Promise<void> {
    const { size } = await this.stat(source);
    const from = this.key(source);
    const to = this.key(destination);
    if (size <= this.copyLimits.singleLimit) {
      await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: to, CopySource: this.copySource(from) }));
    } else {
      await this.copyInParts(from, to, size);
    }
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: from }));
  }

  async delete(path: string): Promise<void> {
    const key = this.key(path);
    const keys: string[] = [];
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      keys.push(key);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${key}/`, ContinuationToken: token }));
      for (const object of page.Contents ?? []) keys.push(object.Key!);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    if (keys.length === 0) throw new PathNotFoundError(this.name, path);
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000).map((Key) => ({ Key }));
      await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch, Quiet: true } }));
    }
  }

  async redirectUrl(path: string, options: { method: 'GET' | 'HEAD'; expiresInSeconds: number }): Promise<string> {
    const input = { Bucket: this.bucket, Key: this.key(path) };
    const command = options.method === 'HEAD' ? new HeadObjectCommand(input) : new GetObjectCommand(input);
    return getSignedUrl(this.client, command, { expiresIn: options.expiresInSeconds });
  }

  /** A multipart copy for objects beyond CopyObject's 5 GiB. */
  private async copyInParts(from: string, to: string, size: number): Promise<void> {
    const { UploadId } = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: to }));
    try {
      const parts: { PartNumber: number; ETag?: string }[] = [];
      const step = this.copyLimits.partBytes;
      for (let start = 0, number = 1; start < size; start += step, number++) {
        const end = Math.min(start + step, size) - 1;
        const res = await this.client.send(
          new UploadPartCopyCommand({ Bucket: this.bucket, Key: to, UploadId, PartNumber: number, CopySource: this.copySource(from), CopySourceRange: `bytes=${start}-${end}` }),
        );
        parts.push({ PartNumber: number, ETag: res.CopyPartResult?.ETag });
      }
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: to, UploadId, MultipartUpload: { Parts: parts } }));
    } catch (err) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: to, UploadId })).catch(() => undefined);
      throw err;
    }
  }

  private copySource(key: string): string {
    return `${this.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  private key(path: string): string {
    assertValidPath(this.name, path);
    return `${this.prefix}${path.slice(1)}`;
  }

  private async missingAs<T>(path: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (err) {
      if (isNotFound(err)) throw new PathNotFoundError(this.name, path);
      throw err;
    }
  }
}

interface Part {
  PartNumber: number;
  ETag: string;
  Size: number;
}

/** What the tail object's first line holds. */
interface TailState {
  uploadId?: string;
  parts: Part[];
}

/** One write of a key, as a multipart upload of full parts plus a tail object while open. */
class S3Writer implements FileWriter {
  private uploadId?: string;
  private parts: Part[] = [];
  /** Bytes received and not yet in a part: at most one part's worth (plus one chunk). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Whether anything differs from the tail object this writer was opened from. */
  private changed = false;
  private done = false;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly key: string,
    private readonly partBytes: number,
  ) {}

  get size(): number {
    return this.parts.reduce((sum, part) => sum + part.Size, 0) + this.pendingBytes;
  }

  /** Loads the state an earlier writer left with `close`; false when there is none. */
  async resume(): Promise<boolean> {
    let object: Buffer;
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key + TAIL }));
      object = Buffer.from(await res.Body!.transformToByteArray());
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
    // The state's JSON line, then the bytes. The state, not ListParts, says which parts count:
    // a failed write may have sent parts that are no part of the file.
    const newline = object.indexOf(0x0a);
    const state = JSON.parse(object.subarray(0, newline).toString()) as TailState;
    const tail = object.subarray(newline + 1);
    this.uploadId = state.uploadId;
    this.parts = state.parts;
    this.pending = tail.length > 0 ? [tail] : [];
    this.pendingBytes = tail.length;
    return true;
  }

  /** A new write of the key: what an unfinished earlier one left goes. */
  async discardPrevious(): Promise<void> {
    this.changed = true;
    const earlier = await this.findUpload();
    if (earlier) await this.abort(earlier);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key + TAIL }));
  }

  async write(body: AsyncIterable<Buffer>, options: { onProgress?: (size: number) => void } = {}): Promise<number> {
    this.assertOpen();
    this.changed = true;
    // All or nothing: on failure the state goes back to this. Parts sent meanwhile leave the
    // list (the next part of the same number replaces them in S3); the pending buffers are
    // the same objects, so holding them costs no copy.
    const before = { parts: this.parts.length, pending: [...this.pending], pendingBytes: this.pendingBytes };
    try {
      for await (const chunk of body) {
        this.pending.push(chunk);
        this.pendingBytes += chunk.length;
        if (this.pendingBytes >= this.partBytes) {
          await this.sendPart();
          options.onProgress?.(this.size);
        }
      }
    } catch (err) {
      this.parts.length = before.parts;
      this.pending = before.pending;
      this.pendingBytes = before.pendingBytes;
      throw err;
    }
    return this.size;
  }

  async truncate(size: number): Promise<void> {
    this.assertOpen();
    const inParts = this.size - this.pendingBytes;
    if (size > this.size || size < inParts) throw new InvalidOffsetError('s3', this.key, size);
    const tail = Buffer.concat(this.pending, this.pendingBytes).subarray(0, size - inParts);
    this.pending = tail.length > 0 ? [tail] : [];
    this.pendingBytes = tail.length;
    this.changed = true;
  }

  async close(): Promise<void> {
    this.finish();
    // Nothing to keep that the tail object does not hold already.
    if (!this.changed) return;
    const state: TailState = { uploadId: this.uploadId, parts: this.parts };
    const object = Buffer.concat([Buffer.from(`${JSON.stringify(state)}\n`), ...this.pending]);
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key + TAIL, Body: object, ContentLength: object.length }));
  }

  async cancel(): Promise<void> {
    this.finish();
    if (this.uploadId) await this.abort(this.uploadId);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key + TAIL }));
  }

  async commit(): Promise<void> {
    this.finish();
    if (this.parts.length === 0) {
      // Smaller than a part: one PUT. An upload begun by a write that failed holds only parts
      // that do not count.
      const content = Buffer.concat(this.pending, this.pendingBytes);
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key, Body: content, ContentLength: content.length }));
      if (this.uploadId) await this.abort(this.uploadId);
    } else {
      if (this.pendingBytes > 0) await this.sendPart();
      // Parts left out of the list (sent by a failed write) are discarded by S3 here.
      const parts = this.parts.map(({ PartNumber, ETag }) => ({ PartNumber, ETag }));
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId, MultipartUpload: { Parts: parts } }));
    }
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key + TAIL }));
  }

  private async sendPart(): Promise<void> {
    this.uploadId ??= (await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: this.key }))).UploadId!;
    const body = Buffer.concat(this.pending, this.pendingBytes);
    const PartNumber = this.parts.length + 1;
    const res = await this.client.send(new UploadPartCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId, PartNumber, Body: body, ContentLength: body.length }));
    this.parts.push({ PartNumber, ETag: res.ETag!, Size: body.length });
    this.pending = [];
    this.pendingBytes = 0;
  }

  private async findUpload(): Promise<string | undefined> {
    const res = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: this.key }));
    return res.Uploads?.find((upload) => upload.Key === this.key)?.UploadId;
  }

  private async abort(uploadId: string): Promise<void> {
    await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, UploadId: uploadId })).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }

  private assertOpen(): void {
    if (this.done) throw new Error(`the writer of ${this.key} is already closed, cancelled or committed`);
  }

  private finish(): void {
    this.assertOpen();
    this.done = true;
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.name === 'NoSuchUpload' || e?.$metadata?.httpStatusCode === 404;
}
