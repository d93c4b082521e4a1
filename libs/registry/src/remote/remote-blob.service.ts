import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { PassThrough, Readable, Transform, TransformCallback, finished } from 'node:stream';
import { Injectable, Logger, Optional } from '@nestjs/common';
import { BlobQueries, DownloadLeaseQueries } from '@wharf/db';
import { Digest, RegistryError, parseDigest } from '@wharf/oci';
import { BlobStore, ByteRange } from '@wharf/storage';
import { BlobInfo, BlobStat } from '../docker-repository';
import { RemoteTarget } from './remote-manifest.service';
import { DownloadFollower, DownloadProgress } from './download-follower';
import { UpstreamClients } from './upstream-clients';
import { header, unreachable, upstreamFailure, discard } from './upstream-errors';
import { UpstreamUnavailableError } from './upstream';
import { PullRecorder } from '../lifecycle/pull-recorder';
import { NO_REGISTRY_METRICS, RegistryMetrics } from '../metrics/registry-metrics';

const CHUNK = 1024 * 1024;
/** What one socket read of the upstream body yields at most (Node reads 64 KiB at a time). */
const UPSTREAM_READ_BYTES = 64 * 1024;
/** A download lease lives this long unless renewed (every third of it while downloading). */
const LEASE_SECONDS = 15;
/** How often a host waiting for another host's download looks for the cached blob. */
const WAIT_POLL_MS = 100;

/**
 * Blobs through a remote. A cache miss streams from the upstream to the client and to disk at
 * once; the digest is checked at the end and only verified bytes enter the store. Concurrent
 * requests for one uncached blob share a single upstream download (the others read its upload
 * file as it grows), and the download finishes even if its client goes away. Across hosts a
 * lease in Postgres makes one download per blob: a host that finds another's lease waits for
 * the blob to be cached, and takes over if that lease expires without it.
 */
@Injectable()
export class RemoteBlobService {
  private readonly logger = new Logger('RemoteBlobs');
  private readonly downloads = new Map<string, RunningDownload>();
  /** This instance, as the holder of download leases (one per server, even two in one process). */
  private readonly leaseHolder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly metrics: RegistryMetrics;

  constructor(
    private readonly blobs: BlobQueries,
    private readonly leases: DownloadLeaseQueries,
    private readonly storage: BlobStore,
    private readonly clients: UpstreamClients,
    private readonly pulls: PullRecorder,
    @Optional() metrics?: RegistryMetrics,
  ) {
    this.metrics = metrics ?? NO_REGISTRY_METRICS;
  }

  /**
   * Resolves once this process's downloads into the remote have ended (cached or failed), so a
   * pull right after a purge fetches afresh instead of joining a download from before it.
   * Downloads on other hosts lose their lease to the purge and do not link what they fetch.
   */
  async settled(repoId: string): Promise<void> {
    const prefix = `${repoId}|`;
    await Promise.allSettled([...this.downloads].filter(([key]) => key.startsWith(prefix)).map(([, running]) => running.stored));
  }

  /**
   * The cached blob, without asking the upstream; null when not cached. A find is a cache hit
   * (what `stat` and a virtual's first pass both ask); a miss is counted by `stat` alone, as a
   * virtual may find the blob in another member.
   */
  async held(target: RemoteTarget, digest: string): Promise<BlobStat | null> {
    const value = parseDigest(digest).value;
    const cached = await this.blobs.findLinked(target.repo.id, value);
    if (!cached) return null;
    this.metrics.remoteCache(target.repo.key, 'blob', 'hit');
    return { digest: value, size: cached.size, stored: true };
  }

  async stat(target: RemoteTarget, digest: string): Promise<BlobStat> {
    const value = parseDigest(digest).value;
    const cached = await this.held(target, digest);
    if (cached) return cached;
    this.metrics.remoteCache(target.repo.key, 'blob', 'miss');
    if (target.settings.offline) throw new RegistryError('BLOB_UNKNOWN', `blob ${value} is not cached and ${target.repo.key} is offline`);
    const res = await this.request(target, 'HEAD', value);
    discard(res.body);
    const size = Number(header(res, 'content-length'));
    if (!Number.isSafeInteger(size)) throw new RegistryError('UNAVAILABLE', `the upstream gave no size for blob ${value}`);
    return { digest: value, size, stored: false };
  }

  async open(target: RemoteTarget, blob: BlobStat, range?: ByteRange): Promise<Readable> {
    const parsed = parseDigest(blob.digest);
    // Only a blob `stat` found upstream is looked up again: it may have been cached meanwhile.
    if (blob.stored || (await this.blobs.findLinked(target.repo.id, parsed.value))) {
      this.pulls.cachedBlobPulled(target.repo.id, parsed.value);
      return this.storage.read(parsed, range);
    }
    if (target.settings.offline) throw new RegistryError('BLOB_UNKNOWN', `blob ${parsed.value} is not cached and ${target.repo.key} is offline`);

    const key = `${target.repo.id}|${parsed.value}`;
    const running = await this.runningDownload(key, target, parsed);
    const follower = running && !range ? await this.follow(running) : undefined;
    if (follower) return follower;
    let stored = running?.stored;
    if (!stored) {
      const download = await this.download(target, parsed, key);
      if (!range) return download.stream;
      // A range is cut from the stored blob: download it whole first, for nobody.
      download.stream.on('error', () => undefined).resume(); // its failure is `stored`'s
      stored = download.stored;
    }
    // A range, or a download that cannot be followed: served from disk once stored.
    await stored;
    return this.storage.read(parsed, range);
  }

  /**
   * Caches the blob with no client to stream it to (promotion from a remote): one verified
   * download, shared with any already running.
   */
  async ensureCached(target: RemoteTarget, digest: string): Promise<void> {
    const parsed = parseDigest(digest);
    if (await this.blobs.findLinked(target.repo.id, parsed.value)) return;
    if (target.settings.offline) throw new RegistryError('BLOB_UNKNOWN', `blob ${parsed.value} is not cached and ${target.repo.key} is offline`);
    const key = `${target.repo.id}|${parsed.value}`;
    const running = await this.runningDownload(key, target, parsed);
    if (running) {
      await running.stored;
      return;
    }
    const download = await this.download(target, parsed, key);
    download.stream.on('error', () => undefined).resume(); // its failure is `stored`'s
    try {
      await download.stored;
    } catch (err) {
      // The upstream's fault, not the caller's: as for a manifest that does not match.
      if (err instanceof RegistryError && err.code === 'DIGEST_INVALID') {
        const computed = /computed (\S+)/.exec(err.message)?.[1] ?? 'another digest';
        throw new RegistryError('UNAVAILABLE', `the upstream sent blob ${parsed.value} with content that hashes to ${computed}: not cached`);
      }
      throw err;
    }
  }

  /**
   * This host's download of `key`, unless a cache purge (on any host) took its lease since it
   * began: that download caches nothing, so a pull after the purge starts a new one.
   */
  private async runningDownload(key: string, target: RemoteTarget, digest: Digest): Promise<RunningDownload | undefined> {
    const running = this.downloads.get(key);
    if (!running?.leased || (await this.leases.isHeld(target.repo.id, digest.value, running.holder))) return running;
    if (this.downloads.get(key) === running) this.downloads.delete(key);
    return undefined;
  }

  /**
   * A stream that reads a running download's upload file as it grows, when the download has
   * started and its length is known; otherwise undefined (the caller waits for the blob).
   */
  private async follow(running: RunningDownload): Promise<Readable | undefined> {
    const started = await running.started;
    if (!started || started.length === undefined) return undefined;
    try {
      return new DownloadFollower(await this.storage.readUpload(started.uploadId), started.length, started.progress);
    } catch (err) {
      // Already committed (moved into the store) or discarded: the stored blob decides.
      if (err instanceof RegistryError && err.code === 'BLOB_UPLOAD_UNKNOWN') return undefined;
      throw err;
    }
  }

  /**
   * Starts the one upstream download of a blob and returns the stream for the client that
   * started it. The download is registered before the first await, so requests arriving
   * meanwhile follow it instead of starting their own.
   */
  private async download(target: RemoteTarget, digest: Digest, key: string): Promise<{ stream: Readable; stored: Promise<BlobInfo> }> {
    let settle!: (outcome: Promise<BlobInfo>) => void;
    const shared = new Promise<BlobInfo>((resolve) => (settle = resolve));
    shared.catch(() => undefined);
    let announce!: (started: FollowableDownload | undefined) => void;
    // Its own lease holder: a purge ends this download's lease, not that of one started after it.
    const running: RunningDownload = {
      stored: shared,
      started: new Promise((resolve) => (announce = resolve)),
      holder: `${this.leaseHolder}:${randomUUID().slice(0, 8)}`,
      leased: false,
    };
    this.downloads.set(key, running);
    shared.finally(() => this.downloads.get(key) === running && this.downloads.delete(key)).catch(() => undefined);

    let started: { body: Readable; length?: number; uploadId: string } | undefined;
    let cachedElsewhere: BlobInfo | undefined;
    try {
      cachedElsewhere = await this.leaseOrWait(target, digest, running.holder);
      if (!cachedElsewhere) {
        running.leased = true;
        this.holdLease(target, digest, running.holder, shared);
        started = await this.begin(target, digest);
      }
    } catch (err) {
      announce(undefined);
      settle(Promise.reject(err));
      throw err;
    }
    if (!started) {
      // Another host downloaded it while this one waited: it is in the shared store now.
      announce(undefined);
      settle(Promise.resolve(cachedElsewhere!));
      return { stream: await this.storage.read(digest), stored: shared };
    }
    const { body, length, uploadId } = started;
    const progress = new DownloadProgress();
    announce({ uploadId, length, progress });
    // Object mode: the disk writer reads the chunks as they came. A byte-mode buffer hands its
    // reader everything queued as one Buffer, a copy of every byte (seen in the profile).
    const toDisk = new PassThrough({ objectMode: true, highWaterMark: CHUNK / UPSTREAM_READ_BYTES });
    // appendUpload attaches its own handlers only after a few awaits: an early upstream error
    // must not be an unhandled 'error' event (a crash).
    toDisk.on('error', () => undefined);
    let verified!: (err?: Error) => void;
    const toClient = new HoldLastChunk(new Promise<Error | undefined>((resolve) => (verified = resolve)));
    body.pipe(toDisk);
    body.pipe(toClient);
    // A client that goes away stops receiving; the cache write goes on.
    toClient.on('close', () => body.unpipe(toClient));
    // pipe() does not pass a source error on, and finished() also reports one that came before
    // this line: both sides must hear of it, or the client stalls.
    finished(body, (err) => {
      if (!err) return;
      toDisk.destroy(err);
      toClient.destroy(err);
    });

    const done = this.cache(target, digest, uploadId, running, toDisk, length, {
      progress: (size) => progress.advance(size),
      verified: () => {
        verified();
        progress.verify();
      },
    });
    // Released once the bytes check out; an earlier failure releases them too, with its error.
    done.catch((err) => {
      const error = err instanceof Error ? err : new Error(String(err));
      verified(error);
      // Verified bytes stay good even if storing them fails: followers may finish.
      if (!progress.verified) progress.fail(error);
    });
    settle(done);
    return { stream: toClient, stored: done };
  }

  /**
   * Resolves with nothing once this host holds the blob's download lease. While another host
   * holds it, waits for that host's download and resolves with the blob once it is cached; a
   * lease that ends without the blob (its host failed or died) is taken over.
   */
  private async leaseOrWait(target: RemoteTarget, digest: Digest, holder: string): Promise<BlobInfo | undefined> {
    const repoId = target.repo.id;
    const cached = async () => {
      const linked = await this.blobs.findLinked(repoId, digest.value);
      return linked ? { digest: digest.value, size: linked.size } : undefined;
    };
    for (;;) {
      if (await this.leases.acquire(repoId, digest.value, holder, LEASE_SECONDS)) return undefined;
      while (await this.leases.heldElsewhere(repoId, digest.value, holder)) {
        const blob = await cached();
        if (blob) return blob;
        await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
      }
      const blob = await cached();
      if (blob) return blob;
    }
  }

  /** Keeps a download's lease alive until `until` settles, then gives it up. */
  private holdLease(target: RemoteTarget, digest: Digest, holder: string, until: Promise<unknown>): void {
    const renew = () => this.leases.renew(target.repo.id, digest.value, holder, LEASE_SECONDS).catch(() => undefined);
    const renewal = setInterval(renew, (LEASE_SECONDS * 1000) / 3);
    until
      .finally(() => {
        clearInterval(renewal);
        return this.leases.release(target.repo.id, digest.value, holder);
      })
      .catch(() => undefined);
  }

  /** The upstream response and an upload area to write it to. */
  private async begin(target: RemoteTarget, digest: Digest): Promise<{ body: Readable; length?: number; uploadId: string }> {
    const res = await this.request(target, 'GET', digest.value);
    const length = Number(header(res, 'content-length'));
    const uploadId = randomUUID();
    try {
      await this.storage.createUpload(uploadId);
    } catch (err) {
      discard(res.body);
      throw err;
    }
    return { body: res.body, length: Number.isSafeInteger(length) ? length : undefined, uploadId };
  }

  /**
   * Writes the download to the store; only bytes matching the digest are kept. `verified`
   * runs as soon as they match, before the durable commit (fsync of the whole blob): the
   * clients have all they need then, and a commit that fails later costs only the cache entry.
   */
  private async cache(
    target: RemoteTarget,
    digest: Digest,
    uploadId: string,
    running: RunningDownload,
    body: Readable,
    length: number | undefined,
    events: CacheEvents,
  ): Promise<BlobInfo> {
    try {
      await this.storage.appendUpload(uploadId, body, { expectedOffset: 0, expectedLength: length, onProgress: events.progress });
      await this.storage.verifyUpload(uploadId, digest);
      events.verified();
      const { size } = await this.storage.commitUpload(uploadId, digest, undefined, (size, place) =>
        this.blobs.fenced(digest.value, size, async () => {
          await place();
          await this.leases.linkIfHeld(target.repo.id, digest.value, running.holder);
          // The lease is spent: a client arriving now follows this download to its end.
          running.leased = false;
        }),
      );
      return { digest: digest.value, size };
    } catch (err) {
      await this.storage.deleteUpload(uploadId).catch(() => undefined);
      this.logger.warn({ msg: 'upstream blob not cached', remote: target.repo.key, digest: digest.value, error: (err as Error).message });
      throw err;
    }
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

/** A download in flight: its outcome, and once the upstream answered, how to follow it. */
interface RunningDownload {
  stored: Promise<BlobInfo>;
  /** Undefined when the upstream request failed. */
  started: Promise<FollowableDownload | undefined>;
  /** Its name on the download lease. */
  holder: string;
  /** Whether it holds the lease (rather than waiting for another host's download). */
  leased: boolean;
}

interface FollowableDownload {
  uploadId: string;
  /** The upstream's Content-Length; without it a follower cannot know where the blob ends. */
  length?: number;
  progress: DownloadProgress;
}

interface CacheEvents {
  /** More of the download is in the upload file. */
  progress(size: number): void;
  /** The download matched its digest. */
  verified(): void;
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
