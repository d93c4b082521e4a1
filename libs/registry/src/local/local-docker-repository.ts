import { Readable } from 'node:stream';
import { ImageQueries, RepositoryEntity } from '@wharf/db';
import { ByteRange } from '@wharf/storage';
import { MANIFEST_MEDIA_TYPES, RegistryError } from '@wharf/oci';
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
import { LocalSettings, readLocalSettings } from '../kinds/local-settings';
import { LocalBlobService } from './local-blob.service';
import { LocalManifestService } from './local-manifest.service';
import { LocalUploadService } from './local-upload.service';

export interface LocalServices {
  manifests: LocalManifestService;
  blobs: LocalBlobService;
  uploads: LocalUploadService;
  images: ImageQueries;
  /** The repositories a mount `from` the named repository may take the blob from. */
  mountSources(key: string, mayRead?: ReadFilter): Promise<RepositoryEntity[]>;
}

/** A hosted repository: everything is stored here, in Postgres and the blob store. */
export class LocalDockerRepository implements DockerRepository {
  readonly hasUpstream = false;
  readonly hosted = true;
  private readonly settings: LocalSettings;

  constructor(
    private readonly repo: RepositoryEntity,
    private readonly services: LocalServices,
  ) {
    this.settings = readLocalSettings(repo.settings);
  }

  get key(): string {
    return this.repo.key;
  }

  async getManifest(image: string, reference: string, accept: string[], reader?: ManifestReader): Promise<ManifestContent> {
    const manifest = await this.services.manifests.get(this.repo, image, reference, accept);
    if (this.settings.requireSignature) await this.services.manifests.checkSigned(this.repo, image, reference, manifest, reader);
    return manifest;
  }

  /** An unsigned manifest under requireSignature is refused here too: a virtual then shows why. */
  async heldManifest(image: string, reference: string, accept: string[], reader?: ManifestReader): Promise<HeldManifest | null> {
    const manifest = await this.services.manifests.held(this.repo, image, reference, accept);
    if (manifest && this.settings.requireSignature) await this.services.manifests.checkSigned(this.repo, image, reference, manifest, reader);
    return manifest;
  }

  async hostsImage(image: string): Promise<boolean> {
    return (await this.services.images.findId(this.repo.id, image)) !== null;
  }

  putManifest(image: string, reference: string, content: Buffer, contentType?: string) {
    return this.services.manifests.put(this.repo, image, reference, content, contentType, this.settings);
  }

  deleteManifest(image: string, reference: string): Promise<void> {
    return this.services.manifests.delete(this.repo, image, reference, this.settings);
  }

  deleteImage(image: string): Promise<void> {
    return this.services.manifests.deleteImage(this.repo, image, this.settings);
  }

  checkWriter(_image: string, writer: Writer): void {
    if (this.settings.mustUseAuthTokenForPush && !writer.accessToken) {
      throw new RegistryError(
        'DENIED',
        `${this.repo.key} accepts pushes and deletions only with an access token (mustUseAuthTokenForPush), not a password: log in with a token as the password`,
      );
    }
  }

  async promotionSource(image: string, reference: string): Promise<PromotionSource> {
    const manifest = await this.getManifest(image, reference, [...MANIFEST_MEDIA_TYPES]);
    return { repository: this.repo, digest: manifest.digest, fetchContent: async () => undefined };
  }

  promotionTarget(): PromotionTarget {
    return { repository: this.repo, rules: this.settings };
  }

  listTags(image: string, page: PageRequest): Promise<string[]> {
    return this.services.manifests.listTags(this.repo, image, page);
  }

  listImages(page: PageRequest): Promise<string[]> {
    return this.services.images.catalog(this.repo.id, page);
  }

  referrers(image: string, digest: string, artifactType?: string): Promise<ReferrersIndex> {
    return this.services.manifests.referrers(this.repo, image, digest, artifactType);
  }

  async statBlob(_image: string, digest: string): Promise<BlobStat> {
    return { ...(await this.services.blobs.stat(this.repo, digest)), stored: true };
  }

  async heldBlob(image: string, digest: string): Promise<BlobStat | null> {
    try {
      return await this.statBlob(image, digest);
    } catch (err) {
      if (err instanceof RegistryError && err.code === 'BLOB_UNKNOWN') return null;
      throw err;
    }
  }

  openBlob(_image: string, blob: BlobStat, range?: ByteRange): Promise<Readable> {
    return this.services.blobs.open(blob, range);
  }

  deleteBlob(image: string, digest: string): Promise<void> {
    return this.services.blobs.delete(this.repo, digest, image);
  }

  async mountBlob(_image: string, digest: string, from: MountSource): Promise<BlobInfo | null> {
    const sources = from.repoKey === this.repo.key ? [this.repo] : await this.services.mountSources(from.repoKey, from.mayRead);
    for (const source of sources) {
      const mounted = await this.services.blobs.mount(this.repo, digest, source);
      if (mounted) return mounted;
    }
    return null;
  }

  startUpload(image: string): Promise<UploadStatus> {
    return this.services.uploads.start(this.repo, image);
  }

  getUpload(image: string, uploadId: string): Promise<UploadStatus> {
    return this.services.uploads.status(this.repo, image, uploadId);
  }

  appendUpload(image: string, uploadId: string, request: AppendRequest): Promise<UploadStatus> {
    return this.services.uploads.append(this.repo, image, uploadId, request);
  }

  commitUpload(image: string, uploadId: string, digest: string, request?: AppendRequest): Promise<BlobInfo> {
    return this.services.uploads.commit(this.repo, image, uploadId, digest, request);
  }

  cancelUpload(image: string, uploadId: string): Promise<void> {
    return this.services.uploads.cancel(this.repo, image, uploadId);
  }
}
