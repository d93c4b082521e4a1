import { randomUUID } from 'node:crypto';
import { PassThrough, Readable, Transform, TransformCallback } from 'node:stream';
import { Injectable, Logger } from '@nestjs/common';
import { BlobQueries } from '@wharf/db';
import { Digest, RegistryError, parseDigest } from '@wharf/oci';
import { BlobStorageDriver, ByteRange } from '@wharf/storage';
import { BlobInfo } from '../docker-repository';
import { RemoteTarget } from './remote-manifest.service';
import { UpstreamClients } from './upstream-clients';
import { header, unreachable, upstreamFailure, discard } from './upstream-errors';
import { UpstreamUnavailableError } from './upstream';

const CHUNK = 1024 * 1024;

/**
 * Blobs through a remote. A cache miss streams from the upstream to the client and to disk at
 * once; the digest is checked at the end and only verified bytes enter the store. Concurrent
 * requests for one uncached blob share a single upstream download (the others are served
 * from disk when it completes), and the download finishes even if its client goes away.
 */
@Injectable()
export class RemoteBlobService {
  private readonly logger = new Logger('RemoteBlobs');
  private readonly downloads = new Map<string, Promise<BlobInfo>>();

  constructor(
    private readonly blobs: BlobQueries,
    private readonly storage: BlobStorageDriver,
    private readonly clients: UpstreamClients,
  ) {}

  async stat(target: RemoteTarget, digest: string): Promise<BlobInfo> {
    const value = parseDigest(digest).value;
    const cached = await this.blobs.findLinked(target.repo.id, value);
    if (cached) return { digest: value, size: cached.size };
    if (target.settings.offline) throw new RegistryError('BLOB_UNKNOWN', `blob ${value} is not cached and ${target.repo.key} is offline`);
    const res = await this.request(target, 'HEAD', value);
    discard(res.body);
    const size = Number(header(res, 'content-length'));
    if (!Number.isSafeInteger(size)) throw new RegistryError('UNAVAILABLE', `the upstream gave no size for blob ${value}`);
    return { digest: value, size };
  }

  async open(target: RemoteTarget, digest: string, range?: ByteRange): Promise<Readable> {
    const parsed = parseDigest(digest);
    if (await this.blobs.findLinked(target.repo.id, parsed.value)) return this.storage.read(parsed, range);
    if (target.settings.offline) throw new RegistryError('BLOB_UNKNOWN', `blob ${parsed.value} is not cached and ${target.repo.key} is offline`);

    const key = `${target.repo.id}|${parsed.value}`;
    const running = this.downloads.get(key);
    if (running || range) {
      // Followers and range requests are served from disk once the one download is done.
      await (running ?? this.drain(await this.download(target, parsed, key)));
      return this.storage.read(parsed, range);
    }
    return this.download(target, parsed, key);
  }

  /** Starts the one upstream download of a blob; returns the stream for the client that started it. */
  private async download(target: RemoteTarget, digest: Digest, key: string): Promise<Readable> {
    const res = await this.request(target, 'GET', digest.value);
    const length = Number(header(res, 'content-length'));
    const uploadId = randomUUID();
    await this.storage.createUpload(uploadId);

    const toDisk = new PassThrough({ highWaterMark: CHUNK });
    let verified!: (ok: boolean, err?: Error) => void;
    const toClient = new HoldLastChunk(new Promise<Error | undefined>((resolve) => (verified = (ok, err) => resolve(ok ? undefined : err))));
    res.body.pipe(toDisk);
    res.body.pipe(toClient);
    // A client that goes away stops receiving; the cache write goes on.
    toClient.on('close', () => res.body.unpipe(toClient));
    // pipe() does not pass a source error on: both sides must hear of it, or the client stalls.
    res.body.on('error', (err) => (toDisk.destroy(err), toClient.destroy(err)));

    const done = (async () => {
      try {
        await this.storage.appendUpload(uploadId, toDisk, { expectedOffset: 0, expectedLength: Number.isSafeInteger(length) ? length : undefined });
        const { size } = await this.storage.commitUpload(uploadId, digest);
        await this.blobs.recordAndLink(target.repo.id, digest.value, size);
        return { digest: digest.value, size };
      } catch (err) {
        await this.storage.deleteUpload(uploadId).catch(() => undefined);
        this.logger.warn({ msg: 'upstream blob not cached', remote: target.repo.key, digest: digest.value, error: (err as Error).message });
        throw err;
      } finally {
        this.downloads.delete(key);
      }
    })();
    this.downloads.set(key, done);
    done.then(
      () => verified(true),
      (err) => verified(false, err instanceof Error ? err : new Error(String(err))),
    );
    return toClient;
  }

  private async drain(stream: Readable): Promise<void> {
    stream.resume();
    await new Promise<void>((resolve, reject) => stream.on('end', resolve).on('error', reject));
  }

  private async request(target: RemoteTarget, method: 'GET' | 'HEAD', digest: string) {
    const what = `blob ${digest} of ${target.upstreamName}`;
    try {
      const res = await this.clients.for(target.repo).request(method, `/v2/${target.upstreamName}/blobs/${digest}`, { scope: `repository:${target.upstreamName}:pull` });
      if (res.status !== 200) throw upstreamFailure(res, 'BLOB_UNKNOWN', what);
      return res;
    } catch (err) {
      if (err instanceof UpstreamUnavailableError) throw unreachable(err, what);
      throw err;
    }
  }
}

/**
 * Passes bytes through one chunk late and releases the last one only when the digest has been
 * verified: a client of a corrupted download gets a short body (an error), never bad bytes
 * that look complete.
 */
class HoldLastChunk extends Transform {
  private held?: Buffer;

  constructor(private readonly verification: Promise<Error | undefined>) {
    super({ highWaterMark: CHUNK });
  }

  _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const previous = this.held;
    this.held = chunk;
    callback(null, previous);
  }

  _flush(callback: TransformCallback): void {
    this.verification.then((err) => (err ? callback(err) : callback(null, this.held)));
  }
}
