import { Readable } from 'node:stream';
import { RepositoryEntity } from '@wharf/db';
import { ByteRange } from '@wharf/storage';
import { LocalSettings } from './kinds/local-settings';

export interface ManifestContent {
  digest: string;
  mediaType: string;
  size: number;
  content: Buffer;
}

/** A manifest as a repository holds it, for the first pass of a virtual's resolution. */
export interface HeldManifest extends ManifestContent {
  /** When the tag was pushed or cached (by tag only): the timestamp mode of virtuals compares these. */
  taggedAt?: Date;
}

/**
 * Whether the caller may read a repository: a virtual skips the members it may not read, as if
 * they were absent.
 */
export type ReadFilter = (repoKey: string) => Promise<boolean>;

/** The source of a cross-repository mount, as the request named it. */
export interface MountSource {
  repoKey: string;
  image: string;
  /** Which of a virtual source's members the caller may read. */
  mayRead?: ReadFilter;
}

export interface BlobInfo {
  digest: string;
  size: number;
}

/** What `statBlob` found: whether the bytes are in this server's store, or only upstream. */
export interface BlobStat extends BlobInfo {
  stored: boolean;
}

export interface UploadStatus {
  id: string;
  /** Bytes received so far. */
  size: number;
}

export interface PageRequest {
  n?: number;
  last?: string;
}

export interface ReferrersIndex {
  schemaVersion: 2;
  mediaType: string;
  manifests: Array<{ mediaType: string; digest: string; size: number; artifactType?: string; annotations?: Record<string, string> }>;
}

export interface AppendRequest {
  body: Readable;
  /** Start offset from Content-Range, when the client sent one. */
  start?: number;
  /** Content-Length, when the client sent one. */
  length?: number;
}

/** Who reads a manifest, as far as a repository's rules ask. */
export interface ManifestReader {
  /**
   * Whether the caller may push to the repository it addressed: requireSignature serves it
   * unsigned manifests, since a signer (`cosign sign`) fetches what it signs. Asked only then.
   */
  mayPush?: () => Promise<boolean>;
}

/** How the caller of a write authenticated: what a local repository's push rules ask. */
export interface Writer {
  /** An access token authenticated the request: directly, or through a registry token obtained with one. */
  accessToken: boolean;
}

/** Where a promotion's manifest is held as rows: the repository, and the digest its reference named. */
export interface PromotionSource {
  repository: RepositoryEntity;
  digest: string;
  /**
   * Makes everything the manifest references stored there: a remote fetches and verifies what
   * it had not cached (an index's children, their blobs). Called once the promotion is known to
   * be allowed, so a refused one costs no download.
   */
  fetchContent(): Promise<void>;
}

/** Where a promotion into a repository lands (a local repository) and the push rules it obeys there. */
export interface PromotionTarget {
  repository: RepositoryEntity;
  rules: LocalSettings;
}

/**
 * What every repository kind offers the HTTP layer. Only the resolver knows which kind it
 * is talking to; local, remote and virtual repositories implement this one interface.
 */
export interface DockerRepository {
  readonly key: string;

  getManifest(image: string, reference: string, accept: string[], reader?: ManifestReader): Promise<ManifestContent>;
  /**
   * The manifest as held here, asking no upstream: a local's, a remote's cached copy (a tag only
   * while fresh). Null when not held. A virtual's first pass asks its members this.
   */
  heldManifest(image: string, reference: string, accept: string[], reader?: ManifestReader): Promise<HeldManifest | null>;
  /** Whether this repository hosts (not merely caches) content under the image name: priority resolution. */
  hostsImage(image: string): Promise<boolean>;
  /** Whether anything is asked beyond what is held (an upstream): a virtual's second pass. */
  readonly hasUpstream: boolean;
  /** Whether content is pushed here (a local repository) rather than cached: priority resolution. */
  readonly hosted: boolean;
  putManifest(image: string, reference: string, content: Buffer, contentType?: string): Promise<{ digest: string; subject?: string }>;
  deleteManifest(image: string, reference: string): Promise<void>;
  /** Deletes the image with all its tags and manifests (the Docker v1 API's repository deletion). */
  deleteImage(image: string): Promise<void>;
  /**
   * Refuses (DENIED) a writer the push rules of the repository receiving writes to `image`
   * exclude; called once per write request, after the permission check.
   */
  checkWriter(image: string, writer: Writer): void;
  /**
   * Promotion reads rows, not bytes: the repository holding `image:reference` (a virtual's
   * member that answers it), as a pull resolves it; what a pull would refuse (requireSignature)
   * is refused.
   */
  promotionSource(image: string, reference: string): Promise<PromotionSource>;
  /** Where promotions into this repository land: itself, a virtual's deployment target; null for a remote. */
  promotionTarget(image: string): PromotionTarget | null;
  listTags(image: string, page: PageRequest): Promise<string[]>;
  listImages(page: PageRequest): Promise<string[]>;
  referrers(image: string, digest: string, artifactType?: string): Promise<ReferrersIndex>;

  statBlob(image: string, digest: string): Promise<BlobStat>;
  /** The blob if stored for this repository, asking no upstream; null when not. */
  heldBlob(image: string, digest: string): Promise<BlobStat | null>;
  /** Opens what `statBlob` found, so the blob is looked up once per request. */
  openBlob(image: string, blob: BlobStat, range?: ByteRange): Promise<Readable>;
  deleteBlob(image: string, digest: string): Promise<void>;
  /** Links a blob another repository holds; null when the source does not have it. */
  mountBlob(image: string, digest: string, from: MountSource): Promise<BlobInfo | null>;

  startUpload(image: string): Promise<UploadStatus>;
  getUpload(image: string, uploadId: string): Promise<UploadStatus>;
  appendUpload(image: string, uploadId: string, request: AppendRequest): Promise<UploadStatus>;
  /** Appends the final body (if any), verifies against `digest` and makes the blob visible. */
  commitUpload(image: string, uploadId: string, digest: string, request?: AppendRequest): Promise<BlobInfo>;
  cancelUpload(image: string, uploadId: string): Promise<void>;
}
