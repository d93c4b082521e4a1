// Builds container images for tests without any network: random gzip'd tar layers, image
// configs, OCI/Docker manifests and indexes, as Buffers (for HTTP-level tests) or written out as
// an OCI image layout directory (for skopeo's `oci:` transport).
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';

export const MediaTypes = {
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OciEmpty: 'application/vnd.oci.empty.v1+json',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export type ImageFormat = 'oci' | 'docker';

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

export const AMD64: Platform = { architecture: 'amd64', os: 'linux' };
export const ARM64: Platform = { architecture: 'arm64', os: 'linux', variant: 'v8' };

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** Any content-addressed blob: a layer, a config, a manifest. */
export interface Blob {
  bytes: Buffer;
  digest: string;
  mediaType: string;
}

export interface Layer extends Blob {
  /** sha256 of the uncompressed tar: what the config's rootfs.diff_ids lists. */
  diffId: string;
}

export interface BuiltImage {
  manifest: Blob;
  config: Blob;
  layers: Layer[];
  platform: Platform;
}

export interface BuiltIndex {
  index: Blob;
  images: BuiltImage[];
}

export function sha256Digest(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function descriptorOf(blob: Blob, extra: Partial<Descriptor> = {}): Descriptor {
  return { mediaType: blob.mediaType, digest: blob.digest, size: blob.bytes.length, ...extra };
}

export function blobOf(bytes: Buffer, mediaType: string): Blob {
  return { bytes, digest: sha256Digest(bytes), mediaType };
}

// --- tar ------------------------------------------------------------------------------------

export interface TarEntry {
  /** Path inside the archive; directories end with '/'. Must fit ustar's 100-byte name field. */
  name: string;
  content?: Buffer;
  mode?: number;
}

const BLOCK = 512;
// A fixed mtime keeps a tar's bytes a function of its entries only.
const TAR_MTIME = 1_700_000_000;

/** A minimal POSIX ustar archive: regular files and directories, owned by root. */
export function tarArchive(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const isDir = entry.name.endsWith('/');
    const content = isDir ? Buffer.alloc(0) : (entry.content ?? Buffer.alloc(0));
    parts.push(tarHeader(entry.name, content.length, isDir, entry.mode ?? (isDir ? 0o755 : 0o644)));
    parts.push(content);
    const padding = (BLOCK - (content.length % BLOCK)) % BLOCK;
    if (padding) parts.push(Buffer.alloc(padding));
  }
  // The end of an archive is two zero blocks.
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

/** A POSIX ustar header, owned by root: a regular file, or a directory. */
export function tarHeader(name: string, size: number, isDir = false, mode = 0o644): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar entry name too long for ustar: ${name}`);
  const header = Buffer.alloc(BLOCK);
  const octal = (value: number, width: number): string => `${value.toString(8).padStart(width - 1, '0')}\0`;
  header.write(name, 0, 100, 'utf8');
  header.write(octal(mode, 8), 100, 8, 'ascii');
  header.write(octal(0, 8), 108, 8, 'ascii'); // uid
  header.write(octal(0, 8), 116, 8, 'ascii'); // gid
  header.write(octal(size, 12), 124, 12, 'ascii');
  header.write(octal(TAR_MTIME, 12), 136, 12, 'ascii');
  header.write(isDir ? '5' : '0', 156, 1, 'ascii');
  header.write('ustar\0', 257, 6, 'ascii');
  header.write('00', 263, 2, 'ascii');
  header.write('root', 265, 32, 'ascii');
  header.write('root', 297, 32, 'ascii');
  // The checksum is computed with its own field read as eight spaces.
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return header;
}

// --- blobs ----------------------------------------------------------------------------------

/**
 * A gzip'd tar holding one directory and one file of `size` random bytes. The random file name
 * and content make every layer unique, so tests never share blobs by accident.
 */
export function randomLayer(size = 1024, format: ImageFormat = 'oci'): Layer {
  const id = randomBytes(6).toString('hex');
  const tar = tarArchive([{ name: 'wharf/' }, { name: `wharf/${id}.bin`, content: randomBytes(size) }]);
  const bytes = gzipSync(tar);
  const mediaType = format === 'docker' ? MediaTypes.DockerLayerGzip : MediaTypes.OciLayerGzip;
  return { bytes, digest: sha256Digest(bytes), mediaType, diffId: sha256Digest(tar) };
}

/** Random bytes under an arbitrary media type, e.g. for artifact or upload tests. */
export function randomBlob(size = 1024, mediaType = 'application/octet-stream'): Blob {
  return blobOf(randomBytes(size), mediaType);
}

export interface ImageConfigOptions {
  platform?: Platform;
  layers: Layer[];
  format?: ImageFormat;
}

/** A runnable-looking image config whose rootfs lists the layers' diff ids in order. */
export function imageConfig({ platform = AMD64, layers, format = 'oci' }: ImageConfigOptions): Blob {
  const created = new Date(TAR_MTIME * 1000).toISOString();
  const config = {
    created,
    architecture: platform.architecture,
    ...(platform.variant ? { variant: platform.variant } : {}),
    os: platform.os,
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.diffId) },
    history: layers.map((_, i) => ({ created, created_by: `wharf test layer ${i + 1}` })),
  };
  return blobOf(json(config), format === 'docker' ? MediaTypes.DockerConfig : MediaTypes.OciConfig);
}

export interface ImageManifestOptions {
  config: Blob | Descriptor;
  layers: Array<Blob | Descriptor>;
  /** Defaults to the OCI image manifest. */
  mediaType?: string;
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** An image manifest; `mediaType` picks OCI or Docker schema2 (both carry it in the body). */
export function imageManifest(options: ImageManifestOptions): Blob {
  const mediaType = options.mediaType ?? MediaTypes.OciManifest;
  const order = mediaType === MediaTypes.DockerManifest ? dockerOrder : (d: Descriptor) => d;
  const body = {
    schemaVersion: 2,
    mediaType,
    ...(options.artifactType ? { artifactType: options.artifactType } : {}),
    config: order(toDescriptor(options.config)),
    layers: options.layers.map((layer) => order(toDescriptor(layer))),
    ...(options.subject ? { subject: options.subject } : {}),
    ...(options.annotations ? { annotations: options.annotations } : {}),
  };
  return blobOf(json(body), mediaType);
}

export interface ImageIndexOptions {
  /** Children with their platforms; a Blob child gets no platform. */
  manifests: Array<Descriptor | { manifest: Blob; platform: Platform }>;
  /** Defaults to the OCI image index. */
  mediaType?: string;
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export function imageIndex(options: ImageIndexOptions): Blob {
  const mediaType = options.mediaType ?? MediaTypes.OciIndex;
  const order = mediaType === MediaTypes.DockerManifestList ? dockerOrder : (d: Descriptor) => d;
  const manifests = options.manifests.map((child) => order('manifest' in child ? descriptorOf(child.manifest, { platform: child.platform }) : child));
  const body = {
    schemaVersion: 2,
    mediaType,
    ...(options.artifactType ? { artifactType: options.artifactType } : {}),
    manifests,
    ...(options.subject ? { subject: options.subject } : {}),
    ...(options.annotations ? { annotations: options.annotations } : {}),
  };
  return blobOf(json(body), mediaType);
}

function toDescriptor(item: Blob | Descriptor): Descriptor {
  return 'bytes' in item ? descriptorOf(item) : item;
}

/**
 * Docker's Go types serialise descriptors as mediaType, size, digest (OCI's as mediaType, digest,
 * size). Clients that re-serialise a manifest (podman push from local storage) reproduce the
 * same bytes, hence the same digest, only if we use the order their types use.
 */
function dockerOrder(descriptor: Descriptor): Descriptor {
  const { mediaType, size, digest, ...rest } = descriptor;
  return { mediaType, size, digest, ...rest } as Descriptor;
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

// --- whole images ---------------------------------------------------------------------------

export interface BuildImageOptions {
  layerCount?: number;
  layerSize?: number;
  platform?: Platform;
  /** 'docker' gives schema2 media types for manifest, config and layers. */
  format?: ImageFormat;
}

export function buildImage(options: BuildImageOptions = {}): BuiltImage {
  const { layerCount = 2, layerSize = 1024, platform = AMD64, format = 'oci' } = options;
  const layers = Array.from({ length: layerCount }, () => randomLayer(layerSize, format));
  const config = imageConfig({ platform, layers, format });
  const mediaType = format === 'docker' ? MediaTypes.DockerManifest : MediaTypes.OciManifest;
  const manifest = imageManifest({ config, layers, mediaType });
  return { manifest, config, layers, platform };
}

export interface BuildIndexOptions {
  platforms?: Platform[];
  layerCount?: number;
  layerSize?: number;
  /** 'docker' gives a manifest list of schema2 manifests. */
  format?: ImageFormat;
}

/** A multi-arch image: one complete image per platform under one index. */
export function buildIndex(options: BuildIndexOptions = {}): BuiltIndex {
  const { platforms = [AMD64, ARM64], format = 'oci', ...rest } = options;
  const images = platforms.map((platform) => buildImage({ ...rest, platform, format }));
  const index = imageIndex({
    manifests: images.map((image) => ({ manifest: image.manifest, platform: image.platform })),
    mediaType: format === 'docker' ? MediaTypes.DockerManifestList : MediaTypes.OciIndex,
  });
  return { index, images };
}

/** Every blob an image or index needs, the top-level manifest included, without duplicates. */
export function allBlobs(built: BuiltImage | BuiltIndex): Blob[] {
  const images = 'index' in built ? built.images : [built];
  const blobs: Blob[] = 'index' in built ? [built.index] : [];
  for (const image of images) blobs.push(image.manifest, image.config, ...image.layers);
  return [...new Map(blobs.map((blob) => [blob.digest, blob])).values()];
}

export function topManifest(built: BuiltImage | BuiltIndex): Blob {
  return 'index' in built ? built.index : built.manifest;
}

// --- OCI image layout -----------------------------------------------------------------------

const REF_NAME = 'org.opencontainers.image.ref.name';

/**
 * Writes `built` as an OCI image layout at `dir`, tagged `tag` in index.json, so that
 * `skopeo copy oci:<dir>:<tag> ...` reads it.
 */
export async function writeOciLayout(dir: string, built: BuiltImage | BuiltIndex, tag = 'latest'): Promise<void> {
  if (topManifest(built).mediaType !== MediaTypes.OciManifest && topManifest(built).mediaType !== MediaTypes.OciIndex) {
    // skopeo's oci: transport ignores index.json entries whose media type is not OCI.
    throw new Error('an OCI layout can only hold OCI manifests; use writeImageSource for Docker schema2');
  }
  const blobDir = path.join(dir, 'blobs', 'sha256');
  await fs.mkdir(blobDir, { recursive: true });
  for (const blob of allBlobs(built)) {
    await fs.writeFile(path.join(blobDir, blob.digest.slice('sha256:'.length)), blob.bytes);
  }
  await fs.writeFile(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const top = descriptorOf(topManifest(built), { annotations: { [REF_NAME]: tag } });
  await fs.writeFile(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [top] }));
}

export interface OciLayout {
  dir: string;
  /** index.json's descriptors, e.g. of what skopeo wrote there. */
  manifests: Descriptor[];
  readBlob(digest: string): Promise<Buffer>;
  /** The descriptor tagged `tag` (org.opencontainers.image.ref.name), or the only one. */
  find(tag?: string): Descriptor;
}

/** Reads an OCI image layout written by anyone (skopeo, podman, writeOciLayout). */
export async function readOciLayout(dir: string): Promise<OciLayout> {
  const index = JSON.parse(await fs.readFile(path.join(dir, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
  const manifests = index.manifests ?? [];
  return {
    dir,
    manifests,
    readBlob: async (digest: string) => {
      const [algorithm, hex] = digest.split(':');
      return fs.readFile(path.join(dir, 'blobs', algorithm, hex));
    },
    find: (tag?: string) => {
      const found = tag === undefined && manifests.length === 1 ? manifests[0] : manifests.find((d) => d.annotations?.[REF_NAME] === tag);
      if (!found) throw new Error(`no manifest tagged ${tag ?? '(any)'} in ${dir}`);
      return found;
    },
  };
}

/**
 * Writes a single image in skopeo's `dir:` format (manifest.json plus one file per blob, named by
 * hex digest). Unlike an OCI layout it takes any manifest media type, so a Docker schema2 image
 * keeps its bytes and digest through `skopeo copy dir:<dir> docker://...`.
 */
export async function writeDirImage(dir: string, image: BuiltImage): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'version'), 'Directory Transport Version: 1.1\n');
  await fs.writeFile(path.join(dir, 'manifest.json'), image.manifest.bytes);
  for (const blob of [image.config, ...image.layers]) {
    await fs.writeFile(path.join(dir, blob.digest.slice('sha256:'.length)), blob.bytes);
  }
}

/**
 * Writes `built` where skopeo can read it and returns the source reference for `skopeo copy`:
 * `oci:<dir>:<tag>` for OCI content, `dir:<dir>` for a Docker schema2 image.
 */
export async function writeImageSource(dir: string, built: BuiltImage | BuiltIndex, tag = 'latest'): Promise<string> {
  const mediaType = topManifest(built).mediaType;
  if (mediaType === MediaTypes.OciManifest || mediaType === MediaTypes.OciIndex) {
    await writeOciLayout(dir, built, tag);
    return `oci:${dir}:${tag}`;
  }
  if ('index' in built) throw new Error(`no skopeo source format written for a ${mediaType} list`);
  await writeDirImage(dir, built);
  return `dir:${dir}`;
}

export interface DirImage {
  dir: string;
  /** manifest.json's bytes, exactly as the registry served them. */
  manifest: Buffer;
  digest: string;
  readBlob(digest: string): Promise<Buffer>;
}

/** Reads a single image skopeo wrote with `skopeo copy ... dir:<dir>`. */
export async function readDirImage(dir: string): Promise<DirImage> {
  const manifest = await fs.readFile(path.join(dir, 'manifest.json'));
  return {
    dir,
    manifest,
    digest: sha256Digest(manifest),
    readBlob: (digest: string) => fs.readFile(path.join(dir, digest.slice(digest.indexOf(':') + 1))),
  };
}
