import { Readable } from 'node:stream';
import { RepositoryEntity } from '@wharf/db';
import { MANIFEST_MEDIA_TYPES, MediaType, RegistryError, isDigestLike } from '@wharf/oci';
import { ByteRange } from '@wharf/storage';
import {
  AppendRequest,
  BlobInfo,
  BlobStat,
  DockerRepository,
  HeldManifest,
  ManifestContent,
  ManifestReader,
  MountSource,
  PageRequest,
  PromotionSource,
  PromotionTarget,
  ReadFilter,
  ReferrersIndex,
  UploadStatus,
  Writer,
} from '../docker-repository';
import { imageAllowed } from '../image-patterns';
import { VirtualSettings } from '../kinds/virtual-settings';
import { ManifestResolution, ResolutionStep } from './manifest-resolution';

export interface VirtualMember {
  key: string;
  repository: DockerRepository;
}

interface Hit {
  member: VirtualMember;
  manifest: HeldManifest;
}

/**
 * Many repositories under one name. Reads resolve in two passes, as Artifactory's do: first
 * every member answers from what it holds (no upstream asked), in order; then the members with
 * an upstream ask it, in order; the first hit wins. Priority resolution keeps a name that a
 * local member owns away from upstreams. Writes go to the deployment target. Members the caller
 * may not read are skipped as if absent. One instance serves one request.
 */
export class VirtualDockerRepository implements DockerRepository {
  readonly hosted = false;
  private readonly readable = new Map<string, Promise<boolean>>();
  /** Which member a `statBlob` answer came from, for the `openBlob` that follows it. */
  private readonly blobSources = new WeakMap<BlobStat, DockerRepository>();
  /** A member's refusal (a push rule such as requireSignature): the answer when no member serves the manifest. */
  private denied?: RegistryError;

  constructor(
    private readonly repo: RepositoryEntity,
    private readonly settings: VirtualSettings,
    private readonly allMembers: VirtualMember[],
    private readonly deployment: DockerRepository | null,
    private readonly mayRead?: ReadFilter,
  ) {}

  get key(): string {
    return this.repo.key;
  }

  get hasUpstream(): boolean {
    return this.allMembers.some((member) => member.repository.hasUpstream);
  }

  // --- manifests ------------------------------------------------------------------------------

  async getManifest(image: string, reference: string, accept: string[], reader?: ManifestReader): Promise<ManifestContent> {
    const resolution = await this.resolveManifest(image, reference, accept, true, reader);
    if (resolution.manifest) return resolution.manifest;
    throw resolution.error ?? this.denied ?? new RegistryError('MANIFEST_UNKNOWN', `manifest ${reference} not found in ${this.repo.key}/${image}`);
  }

  async heldManifest(image: string, reference: string, accept: string[], reader?: ManifestReader): Promise<HeldManifest | null> {
    return (await this.resolveManifest(image, reference, accept, false, reader)).manifest ?? null;
  }

  /**
   * The whole resolution with every member's answer, in the order asked: what the resolve
   * endpoint shows. `reader` reaches the deployment target only: pushing to the virtual is
   * pushing there, not to the other members.
   */
  async resolveManifest(image: string, reference: string, accept: string[], askUpstreams = true, reader?: ManifestReader): Promise<ManifestResolution> {
    const readerOf = (member: VirtualMember) => (member.key === this.deployment?.key ? reader : undefined);
    this.checkImage(image);
    const steps: ResolutionStep[] = [];
    const byTag = !isDigestLike(reference);
    const byTimestamp = byTag && this.settings.resolveDockerTagsByTimestamp;
    const hits: Hit[] = [];
    let asked = 0;
    // Members are checked for read access as they are reached: a hit in the first member
    // costs no access checks of the others.
    for (const member of this.allMembers) {
      asked += 1;
      if (!(await this.canRead(member))) continue;
      const manifest = await this.ask(member, steps, () => member.repository.heldManifest(image, reference, accept, readerOf(member)));
      if (manifest) {
        hits.push({ member, manifest });
        if (!byTimestamp) break;
      }
    }
    let winner = pick(hits, byTimestamp);
    // Priority resolution matters only when a cache would answer, or nothing held the name.
    const priorityOn = byTag && this.settings.priorityResolution;
    if (priorityOn && !winner?.member.repository.hosted && (await this.ownedLocally(image))) {
      // The first pass stopped at a cache's hit: the local members after it have not answered yet.
      for (const member of await this.members(this.allMembers.slice(asked).filter((each) => each.repository.hosted))) {
        const manifest = await this.ask(member, steps, () => member.repository.heldManifest(image, reference, accept, readerOf(member)));
        if (manifest) hits.push({ member, manifest });
      }
      winner = pick(
        hits.filter((hit) => hit.member.repository.hosted),
        byTimestamp,
      );
      // Only local members count for this name: what the caches answered is left out.
      const hosted = new Set(this.allMembers.filter((each) => each.repository.hosted).map((each) => each.key));
      return this.answer(
        winner,
        steps.filter((step) => hosted.has(step.repository)),
        'local-only',
      );
    }
    const priority = priorityOn ? 'not-applied' : 'off';
    if (winner || !askUpstreams) return this.answer(winner, steps, priority);

    let failure: RegistryError | undefined;
    for (const member of await this.members(this.allMembers.filter((each) => each.repository.hasUpstream))) {
      try {
        const manifest = await member.repository.getManifest(image, reference, accept);
        steps.push({ repository: member.key, pass: 'upstream', result: 'found', digest: manifest.digest });
        return this.answer({ member, manifest }, steps, priority);
      } catch (err) {
        if (!(err instanceof RegistryError)) throw err;
        const missing = err.code === 'MANIFEST_UNKNOWN' || err.code === 'NAME_UNKNOWN';
        steps.push({ repository: member.key, pass: 'upstream', result: missing ? 'missing' : 'error', ...(missing ? {} : { message: err.message }) });
        if (!missing) failure = err;
      }
    }
    return { ...this.answer(undefined, steps, priority), error: failure };
  }

  hostsImage(image: string): Promise<boolean> {
    return this.ownedLocally(image);
  }

  putManifest(image: string, reference: string, content: Buffer, contentType?: string) {
    return this.target(image).putManifest(image, reference, content, contentType);
  }

  deleteManifest(image: string, reference: string): Promise<void> {
    return this.target(image).deleteManifest(image, reference);
  }

  deleteImage(image: string): Promise<void> {
    return this.target(image).deleteImage(image);
  }

  /** The member a pull would take the manifest from, as it holds it. */
  async promotionSource(image: string, reference: string): Promise<PromotionSource> {
    const resolution = await this.resolveManifest(image, reference, [...MANIFEST_MEDIA_TYPES]);
    const member = this.allMembers.find((each) => each.key === resolution.servedBy);
    if (!member) throw resolution.error ?? this.denied ?? new RegistryError('MANIFEST_UNKNOWN', `manifest ${reference} not found in ${this.repo.key}/${image}`);
    return member.repository.promotionSource(image, reference);
  }

  promotionTarget(image: string): PromotionTarget | null {
    this.checkImage(image);
    return this.deployment?.promotionTarget(image) ?? null;
  }

  /** Writes land in the deployment target, so its rules decide. */
  checkWriter(image: string, writer: Writer): void {
    this.target(image).checkWriter(image, writer);
  }

  // --- listings -------------------------------------------------------------------------------

  /** The union of the members' tags, byte-sorted, one page of it. */
  async listTags(image: string, page: PageRequest): Promise<string[]> {
    this.checkImage(image);
    // A name a local member owns lists only local tags, as it resolves only from them.
    const localOnly = this.settings.priorityResolution && (await this.ownedLocally(image));
    const lists = await this.fromEach((member) => member.repository.listTags(image, page), localOnly ? (member) => member.repository.hosted : undefined);
    if (lists.every((list) => list === null)) throw new RegistryError('NAME_UNKNOWN', `image ${this.repo.key}/${image} not found`);
    return union(lists, page.n);
  }

  async listImages(page: PageRequest): Promise<string[]> {
    const lists = await this.fromEach((member) => member.repository.listImages(page));
    return union(
      lists.map((list) => list?.filter((name) => this.allowed(name)) ?? null),
      page.n,
    );
  }

  /** Every member's referrers of the digest, each manifest once. */
  async referrers(image: string, digest: string, artifactType?: string): Promise<ReferrersIndex> {
    this.checkImage(image);
    const indexes = await this.fromEach((member) => member.repository.referrers(image, digest, artifactType));
    const manifests = new Map<string, ReferrersIndex['manifests'][number]>();
    for (const index of indexes) for (const entry of index?.manifests ?? []) if (!manifests.has(entry.digest)) manifests.set(entry.digest, entry);
    return { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [...manifests.values()] };
  }

  // --- blobs ----------------------------------------------------------------------------------

  /** The first member holding the blob; only when none does, the members' upstreams in order. */
  async statBlob(image: string, digest: string): Promise<BlobStat> {
    const held = await this.heldBlob(image, digest);
    if (held) return held;
    let failure: RegistryError | undefined;
    for (const member of await this.members(this.allMembers.filter((each) => each.repository.hasUpstream))) {
      try {
        return this.remember(await member.repository.statBlob(image, digest), member.repository);
      } catch (err) {
        if (!(err instanceof RegistryError)) throw err;
        if (err.code !== 'BLOB_UNKNOWN' && err.code !== 'NAME_UNKNOWN') failure = err;
      }
    }
    throw failure ?? new RegistryError('BLOB_UNKNOWN', `blob ${digest} not found in ${this.repo.key}`);
  }

  async heldBlob(image: string, digest: string): Promise<BlobStat | null> {
    this.checkImage(image);
    for (const member of this.allMembers) {
      if (!(await this.canRead(member))) continue;
      const held = await member.repository.heldBlob(image, digest);
      if (held) return this.remember(held, member.repository);
    }
    return null;
  }

  openBlob(image: string, blob: BlobStat, range?: ByteRange): Promise<Readable> {
    const source = this.blobSources.get(blob);
    if (!source) throw new Error("openBlob needs the answer of this repository's statBlob");
    return source.openBlob(image, blob, range);
  }

  deleteBlob(image: string, digest: string): Promise<void> {
    return this.target(image).deleteBlob(image, digest);
  }

  mountBlob(image: string, digest: string, from: MountSource): Promise<BlobInfo | null> {
    return this.target(image).mountBlob(image, digest, from);
  }

  // --- uploads: all to the deployment target --------------------------------------------------

  startUpload(image: string): Promise<UploadStatus> {
    return this.target(image).startUpload(image);
  }

  getUpload(image: string, uploadId: string): Promise<UploadStatus> {
    return this.target(image).getUpload(image, uploadId);
  }

  appendUpload(image: string, uploadId: string, request: AppendRequest): Promise<UploadStatus> {
    return this.target(image).appendUpload(image, uploadId, request);
  }

  commitUpload(image: string, uploadId: string, digest: string, request?: AppendRequest): Promise<BlobInfo> {
    return this.target(image).commitUpload(image, uploadId, digest, request);
  }

  cancelUpload(image: string, uploadId: string): Promise<void> {
    return this.target(image).cancelUpload(image, uploadId);
  }

  // --- helpers --------------------------------------------------------------------------------

  /** Those of `members` (all by default) the caller may read, in resolution order. */
  private async members(members = this.allMembers): Promise<VirtualMember[]> {
    const allowed = await Promise.all(members.map((member) => this.canRead(member)));
    return members.filter((_, i) => allowed[i]);
  }

  /** Whether the caller may read a member, asked once per member and request. */
  private canRead(member: VirtualMember): Promise<boolean> {
    if (!this.mayRead) return Promise.resolve(true);
    let allowed = this.readable.get(member.key);
    if (!allowed) {
      allowed = this.mayRead(member.key);
      this.readable.set(member.key, allowed);
    }
    return allowed;
  }

  private async ownedLocally(image: string): Promise<boolean> {
    for (const member of await this.members(this.allMembers.filter((each) => each.repository.hosted))) {
      if (await member.repository.hostsImage(image)) return true;
    }
    return false;
  }

  /** One member's first-pass answer, recorded; a failing member counts as not holding it. */
  private async ask(member: VirtualMember, steps: ResolutionStep[], lookup: () => Promise<HeldManifest | null>): Promise<HeldManifest | null> {
    try {
      const manifest = await lookup();
      steps.push({ repository: member.key, pass: 'held', result: manifest ? 'found' : 'missing', ...(manifest ? { digest: manifest.digest } : {}) });
      return manifest;
    } catch (err) {
      if (!(err instanceof RegistryError) || err.status >= 500) throw err;
      if (err.code === 'DENIED') this.denied ??= err;
      steps.push({ repository: member.key, pass: 'held', result: 'missing', message: err.message });
      return null;
    }
  }

  private answer(winner: Hit | undefined, steps: ResolutionStep[], priorityResolution: ManifestResolution['priorityResolution']): ManifestResolution {
    if (!winner) return { steps, priorityResolution };
    const { taggedAt: _, ...manifest } = winner.manifest;
    return { steps, priorityResolution, servedBy: winner.member.key, manifest };
  }

  /** Each readable member's answer; a member that does not know the image answers null. */
  private async fromEach<T>(read: (member: VirtualMember) => Promise<T>, only?: (member: VirtualMember) => boolean): Promise<Array<T | null>> {
    return Promise.all(
      (await this.members(only ? this.allMembers.filter(only) : this.allMembers)).map((member) =>
        read(member).catch((err) => {
          if (err instanceof RegistryError && (err.code === 'NAME_UNKNOWN' || err.code === 'MANIFEST_UNKNOWN')) return null;
          throw err;
        }),
      ),
    );
  }

  private remember(blob: BlobStat, source: DockerRepository): BlobStat {
    this.blobSources.set(blob, source);
    return blob;
  }

  private target(image: string): DockerRepository {
    this.checkImage(image);
    if (!this.deployment) {
      throw new RegistryError(
        'DENIED',
        `${this.repo.key} is a virtual repository without a default deployment repository: push to one of its local members, or set defaultDeploymentRepo`,
      );
    }
    return this.deployment;
  }

  private allowed(image: string): boolean {
    return imageAllowed(image, this.settings.includesPattern, this.settings.excludesPattern);
  }

  private checkImage(image: string): void {
    if (!this.allowed(image)) throw new RegistryError('NAME_UNKNOWN', `${this.repo.key}/${image} is excluded by the virtual repository's include/exclude patterns`);
  }
}

/** The first hit, or in timestamp mode the most recently tagged (the earliest member on a tie). */
function pick(hits: Hit[], byTimestamp: boolean): Hit | undefined {
  if (!byTimestamp) return hits[0];
  return hits.reduce<Hit | undefined>((best, hit) => (!best || (hit.manifest.taggedAt?.getTime() ?? 0) > (best.manifest.taggedAt?.getTime() ?? 0) ? hit : best), undefined);
}

/** Byte-sorted, de-duplicated, at most `n`. */
function union(lists: Array<string[] | null>, n?: number): string[] {
  const all = [...new Set(lists.flatMap((list) => list ?? []))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return n === undefined ? all : all.slice(0, n);
}
