import { Readable } from 'node:stream';
import { ImageQueries, RepositoryEntity } from '@wharf/db';
import { MANIFEST_MEDIA_TYPES, RegistryError, parseManifest } from '@wharf/oci';
import { ByteRange } from '@wharf/storage';
import { BlobInfo, BlobStat, DockerRepository, HeldManifest, ManifestContent, PageRequest, PromotionSource, ReferrersIndex, UploadStatus } from '../docker-repository';
import { LocalManifestService } from '../local/local-manifest.service';
import { RemoteBlobService } from './remote-blob.service';
import { RemoteManifestService, RemoteTarget } from './remote-manifest.service';
import { RemoteSettings, readRemoteSettings } from './remote-settings';
import { RemoteTagService } from './remote-tag.service';
import { imageAllowed } from '../image-patterns';
import { upstreamImageName } from './upstream-name';

export interface RemoteServices {
  manifests: RemoteManifestService;
  blobs: RemoteBlobService;
  tags: RemoteTagService;
  localManifests: LocalManifestService;
  images: ImageQueries;
}

/** A pull-through cache: a local store of what was fetched, plus an upstream client. Read-only. */
export class RemoteDockerRepository implements DockerRepository {
  readonly hosted = false;
  private readonly settings: RemoteSettings;

  constructor(
    private readonly repo: RepositoryEntity,
    private readonly services: RemoteServices,
  ) {
    this.settings = readRemoteSettings(repo.settings);
  }

  get key(): string {
    return this.repo.key;
  }

  /** An offline remote serves only its cache: a virtual's second pass has nothing to ask it. */
  get hasUpstream(): boolean {
    return !this.settings.offline;
  }

  getManifest(image: string, reference: string, accept: string[]): Promise<ManifestContent> {
    return this.services.manifests.get(this.target(image), reference, accept);
  }

  async heldManifest(image: string, reference: string, accept: string[]): Promise<HeldManifest | null> {
    return this.allowed(image) ? this.services.manifests.held(this.target(image), reference, accept) : null;
  }

  /** A cache hosts nothing: priority resolution is about names that local repositories own. */
  async hostsImage(): Promise<boolean> {
    return false;
  }

  listTags(image: string, page: PageRequest): Promise<string[]> {
    return this.services.tags.list(this.target(image), page);
  }

  listImages(page: PageRequest): Promise<string[]> {
    return this.services.images.catalog(this.repo.id, page);
  }

  referrers(image: string, digest: string, artifactType?: string): Promise<ReferrersIndex> {
    return this.services.localManifests.referrers(this.repo, image, digest, artifactType);
  }

  statBlob(image: string, digest: string): Promise<BlobStat> {
    return this.services.blobs.stat(this.target(image), digest);
  }

  async heldBlob(image: string, digest: string): Promise<BlobStat | null> {
    return this.allowed(image) ? this.services.blobs.held(this.target(image), digest) : null;
  }

  openBlob(image: string, blob: BlobStat, range?: ByteRange): Promise<Readable> {
    return this.services.blobs.open(this.target(image), blob, range);
  }

  async mountBlob(): Promise<BlobInfo | null> {
    throw this.readOnly();
  }
  async putManifest(): Promise<{ digest: string }> {
    throw this.readOnly();
  }
  async deleteManifest(): Promise<void> {
    throw this.readOnly();
  }
  async deleteImage(): Promise<void> {
    throw this.readOnly();
  }
  /** The manifest, cached as a pull caches it; its children and blobs once the promotion goes ahead. */
  async promotionSource(image: string, reference: string): Promise<PromotionSource> {
    const manifest = await this.getManifest(image, reference, [...MANIFEST_MEDIA_TYPES]);
    return { repository: this.repo, digest: manifest.digest, fetchContent: () => this.cacheReferenced(image, manifest) };
  }

  /** A cache is filled by pulls, never by promotion. */
  promotionTarget(): null {
    return null;
  }

  private async cacheReferenced(image: string, manifest: ManifestContent): Promise<void> {
    const parsed = parseManifest(manifest.content, manifest.mediaType);
    // Foreign layers (with urls) live elsewhere: a pull would not fetch them from here either.
    const blobs = [parsed.config, ...parsed.layers].filter((d): d is NonNullable<typeof d> => !!d && !d.urls?.length);
    await Promise.all(blobs.map((blob) => this.services.blobs.ensureCached(this.target(image), blob.digest)));
    for (const child of parsed.manifests) await this.cacheReferenced(image, await this.getManifest(image, child.digest, [...MANIFEST_MEDIA_TYPES]));
  }

  /** Nothing is written here: every write is refused as read-only. */
  checkWriter(): void {}
  async deleteBlob(): Promise<void> {
    throw this.readOnly();
  }
  async startUpload(): Promise<UploadStatus> {
    throw this.readOnly();
  }
  async getUpload(): Promise<UploadStatus> {
    throw this.readOnly();
  }
  async appendUpload(): Promise<UploadStatus> {
    throw this.readOnly();
  }
  async commitUpload(): Promise<BlobInfo> {
    throw this.readOnly();
  }
  async cancelUpload(): Promise<void> {
    throw this.readOnly();
  }

  private allowed(image: string): boolean {
    return imageAllowed(image, this.settings.includesPattern, this.settings.excludesPattern);
  }

  private target(image: string): RemoteTarget {
    if (!this.allowed(image)) {
      throw new RegistryError('NAME_UNKNOWN', `${this.repo.key}/${image} is excluded by the remote's include/exclude patterns`);
    }
    return { repo: this.repo, settings: this.settings, image, upstreamName: upstreamImageName(this.settings.libraryPrefix, image) };
  }

  private readOnly(): RegistryError {
    return new RegistryError('UNSUPPORTED', `${this.repo.key} is a remote repository (a read-only cache of ${this.settings.url}): push to a local repository`);
  }
}
