import { hostname } from 'node:os';
import { BeforeApplicationShutdown, ConflictException, Injectable, Logger, NotFoundException, Optional } from '@nestjs/common';
import { Principal, requireAdmin } from '@wharf/auth';
import { WharfConfig } from '@wharf/config';
import { AuditEvent, AuditTrail, Freed, GcQueries, GcRunRow, GcTrigger, StorageUsageQueries } from '@wharf/db';
import { parseDigest } from '@wharf/oci';
import { BlobStore } from '@wharf/storage';
import { drain } from './drain';
import { LifecycleResult, LifecycleRules } from './lifecycle-rules';
import { NO_REGISTRY_METRICS, RegistryMetrics } from '../metrics/registry-metrics';

/** What a run freed, or in a dry run would free, per kind (a dry run counts each kind as things stand). */
export interface GcResult extends LifecycleResult {
  /** Upload sessions idle beyond WHARF_UPLOAD_MAX_IDLE_SECONDS, with their data. */
  uploadSessions: { count: number };
  /** Data in the upload area that no session owns (a crash's leftovers), older than the grace period. */
  strayUploads: { count: number };
  /** Blob links of local repositories that no manifest of the repository references, older than the grace period. */
  blobLinks: { count: number };
  /** Blobs no repository links any more: their bytes. */
  blobs: Freed;
}

export interface GcRunView extends Omit<GcRunRow, 'result'> {
  result: Partial<GcResult>;
}

/** Rows a sweep's transaction takes at once: short transactions, so pushes never wait long on one. */
const BATCH = 200;
/** A running GC renews its heartbeat this often; one silent for STALE_SECONDS has died. */
const HEARTBEAT_MS = 5_000;
const STALE_SECONDS = 30;

/**
 * Online garbage collection, safe while pushes, mounts, promotions and pulls go on. Each kind is
 * swept in order (repository rules, uploads, then links, then the blobs nothing links any more), in small batches
 * that each lock what they delete; the protocol that keeps a concurrent push's blob is in
 * GcQueries.collectLinks and collectBlobs. One run at a time across all hosts (the `running`
 * row of gc_runs); a run killed midway leaves every step it took complete, and the next run
 * finishes the work.
 */
@Injectable()
export class GarbageCollector implements BeforeApplicationShutdown {
  private readonly logger = new Logger('GarbageCollector');
  private readonly host = `${hostname()}:${process.pid}`;
  /** The run of this process, if any; on shutdown it stops after its current batch. */
  private current?: Promise<unknown>;
  private stopping = false;
  private readonly metrics: RegistryMetrics;

  constructor(
    private readonly queries: GcQueries,
    private readonly store: BlobStore,
    private readonly config: WharfConfig,
    private readonly rules: LifecycleRules,
    private readonly usage: StorageUsageQueries,
    private readonly audit: AuditTrail,
    @Optional() metrics?: RegistryMetrics,
  ) {
    this.metrics = metrics ?? NO_REGISTRY_METRICS;
  }

  /** An admin's on-demand run: the run once it has ended. CONFLICT while another runs. */
  async runNow(principal: Principal, dryRun: boolean): Promise<GcRunView> {
    requireAdmin(principal, 'run garbage collection');
    const run = await this.start('api', dryRun, principal.username);
    if (!run) throw new ConflictException(`garbage collection is running already (${this.describeRunning(await this.queries.recentRuns(1))}); try again when it has finished`);
    return this.complete(run);
  }

  /** A scheduled run; false when another run is live. */
  async runScheduled(): Promise<boolean> {
    const run = await this.start('schedule', false);
    if (!run) return false;
    await this.complete(run);
    return true;
  }

  /** The run in progress (if any) and the most recent ones. */
  async status(principal: Principal, limit = 20): Promise<{ running: GcRunView | null; runs: GcRunView[] }> {
    requireAdmin(principal, 'read garbage collection runs');
    const runs = await this.queries.recentRuns(limit);
    return { running: runs.find((run) => run.status === 'running') ?? null, runs };
  }

  async get(principal: Principal, id: string): Promise<GcRunView> {
    requireAdmin(principal, 'read garbage collection runs');
    const run = await this.queries.run(id);
    if (!run) throw new NotFoundException(`no garbage collection run ${id}`);
    return run;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.current;
  }

  private async start(trigger: GcTrigger, dryRun: boolean, requestedBy?: string): Promise<GcRunRow | null> {
    // A run left `running` by a process of this machine that is gone (killed) need not wait out its heartbeat.
    const running = (await this.queries.recentRuns(1)).find((run) => run.status === 'running');
    if (running && diedHere(running.host)) await this.queries.abandon(running.id);
    return this.queries.startRun({ trigger, dryRun, host: this.host, requestedBy }, STALE_SECONDS);
  }

  private describeRunning(runs: GcRunRow[]): string {
    const run = runs[0];
    return run ? `run ${run.id}, started ${run.startedAt.toISOString()} on ${run.host}` : 'on another host';
  }

  private complete(run: GcRunRow): Promise<GcRunView> {
    const done = this.sweep(run);
    this.current = done.finally(() => (this.current = undefined));
    return done;
  }

  private async sweep(run: GcRunRow): Promise<GcRunView> {
    const result: GcResult = {
      retention: { tags: 0, manifests: 0 },
      untaggedManifests: { count: 0 },
      remoteCache: { manifests: 0, blobLinks: 0 },
      uploadSessions: { count: 0 },
      strayUploads: { count: 0 },
      blobLinks: { count: 0 },
      blobs: { count: 0, bytes: 0 },
    };
    let phase = 'starting';
    const heartbeat = setInterval(() => void this.queries.progress(run.id, phase, result).catch(() => undefined), HEARTBEAT_MS);
    heartbeat.unref();
    const progress = async (next: string) => {
      this.goOn();
      phase = next;
      await this.queries.progress(run.id, phase, result);
    };
    this.logger.log({ msg: 'garbage collection started', run: run.id, dryRun: run.dryRun, trigger: run.trigger });
    try {
      await progress('repository rules');
      Object.assign(result, await this.rules.applyAll(run.dryRun, this.goOn));
      await progress('upload sessions');
      await this.uploadSessions(run.dryRun, result);
      await progress('stray uploads');
      await this.strayUploads(run.dryRun, result);
      await progress('blob links');
      await this.blobLinks(run.dryRun, result);
      await progress('blobs');
      await this.blobs(run.dryRun, result);
      clearInterval(heartbeat);
      await this.usage.fold(true);
      await this.audit.recorded(
        () => this.queries.finish(run.id, 'finished', result),
        () => gcEvent(run, 'finished', result),
      );
      this.logger.log({ msg: 'garbage collection finished', run: run.id, dryRun: run.dryRun, ...flatten(result) });
      if (!run.dryRun) this.metrics.gcFinished({ status: 'finished', result, endedAt: Date.now() });
    } catch (err) {
      clearInterval(heartbeat);
      const message = err instanceof Error ? err.message : String(err);
      await this.audit
        .recorded(
          () => this.queries.finish(run.id, 'failed', result, `${phase}: ${message}`),
          () => gcEvent(run, 'failed', result, `${phase}: ${message}`),
        )
        .catch(() => undefined);
      this.logger.error({ msg: 'garbage collection failed', run: run.id, phase, error: message });
      // What a failed run removed before it failed stays removed: counted too.
      if (!run.dryRun) this.metrics.gcFinished({ status: 'failed', result, endedAt: Date.now() });
    }
    return (await this.queries.run(run.id))!;
  }

  /** Between batches: a run stops when its process shuts down, each batch it finished complete. */
  private readonly goOn = (): void => {
    if (this.stopping) throw new Error('Wharf is shutting down; the next run finishes the work');
  };

  private async uploadSessions(dryRun: boolean, result: GcResult): Promise<void> {
    const maxIdle = this.config.gc.uploadMaxIdleSeconds;
    if (dryRun) {
      result.uploadSessions.count = await this.queries.countExpiredUploadSessions(maxIdle);
      return;
    }
    result.uploadSessions.count = await drain(async () => {
      // The session row goes first: a crash between the two leaves data without a session, which the stray sweep takes.
      const ids = await this.queries.collectExpiredUploadSessions(maxIdle, BATCH);
      for (const id of ids) await this.store.deleteUpload(id);
      return ids.length;
    }, this.goOn);
  }

  /**
   * Upload data no session owns. A pull-through download writes there without a session while
   * it runs; it writes continually, so the grace period on the last write keeps it.
   */
  private async strayUploads(dryRun: boolean, result: GcResult): Promise<void> {
    const cutoff = Date.now() - this.config.gc.graceSeconds * 1000;
    const old = (await this.store.uploads()).filter((upload) => upload.modifiedAt.getTime() < cutoff);
    for (let i = 0; i < old.length; i += BATCH) {
      this.goOn();
      const batch = old.slice(i, i + BATCH);
      // Sessions are looked up after listing: a session is created before its first byte is written.
      const live = await this.queries.liveUploadIds(batch.map((upload) => upload.id));
      const stray = batch.filter((upload) => !live.has(upload.id));
      if (!dryRun) for (const upload of stray) await this.store.deleteUpload(upload.id);
      result.strayUploads.count += stray.length;
    }
  }

  private async blobLinks(dryRun: boolean, result: GcResult): Promise<void> {
    const grace = this.config.gc.graceSeconds;
    if (dryRun) {
      result.blobLinks.count = await this.queries.countCollectableLinks(grace);
      return;
    }
    result.blobLinks.count = await drain(() => this.queries.collectLinks(grace, BATCH), this.goOn);
  }

  private async blobs(dryRun: boolean, result: GcResult): Promise<void> {
    if (dryRun) {
      result.blobs = await this.queries.countCollectableBlobs(this.config.gc.graceSeconds);
      return;
    }
    result.blobs.count = await drain(async () => {
      const freed = await this.queries.collectBlobs(BATCH, async (digests) => {
        for (const digest of digests) await this.store.delete(parseDigest(digest));
      });
      result.blobs.bytes += freed.bytes;
      return freed.count;
    }, this.goOn);
  }
}

/** Whether `host` (host:pid) names a process of this machine that no longer exists. */
function diedHere(host: string): boolean {
  const [name, pid] = host.split(':');
  if (name !== hostname() || !/^\d+$/.test(pid ?? '')) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** A run's row in the audit log, written with its end: who asked (none for the schedule), what it freed. */
function gcEvent(run: GcRunRow, status: 'finished' | 'failed', result: GcResult, error?: string): AuditEvent {
  return { action: 'gc.run', details: { run: run.id, trigger: run.trigger, dryRun: run.dryRun, status, ...flatten(result), ...(error ? { error } : {}) } };
}

function flatten(result: GcResult): Record<string, number> {
  return {
    retainedTagsRemoved: result.retention.tags,
    untaggedManifests: result.untaggedManifests.count + result.retention.manifests,
    remoteCacheLinks: result.remoteCache.blobLinks,
    uploadSessions: result.uploadSessions.count,
    strayUploads: result.strayUploads.count,
    blobLinks: result.blobLinks.count,
    blobs: result.blobs.count,
    bytesFreed: result.blobs.bytes,
  };
}
