import { Injectable } from '@nestjs/common';
import { AccessControl, Principal } from '@wharf/auth';
import { ImageQueries, ImageSummaryRow, ManifestContentRow, ManifestQueries, RepositoryEntity, RepositoryQueries, TagQueries, TagSummaryRow } from '@wharf/db';
import { ParsedManifest, RegistryError, isValidImageName, parseManifest } from '@wharf/oci';
import { DockerRepository } from '../docker-repository';
import { imageAllowed } from '../image-patterns';
import { readVirtualSettings } from '../kinds/virtual-settings';
import { RepositoryResolver } from '../repository-resolver';
import { VirtualDockerRepository } from '../virtual/virtual-docker-repository';
import { isImageConfigType, platformString, readImageConfig } from './image-config';

export const BROWSE_DEFAULT_LIMIT = 50;
export const BROWSE_MAX_LIMIT = 500;
/** Reads of names before a page left short is answered as it is (its `next` goes on from there). */
const MAX_ROUNDS = 8;
/** Config blobs read at once for a page of tags. */
const CONFIG_READS = 8;
/** Platforms remembered by config digest (a digest's bytes never change). */
const PLATFORM_CACHE = 10_000;

export interface BrowseRequest {
  /** Names after this one, in byte order (the `next` of the previous page). */
  after?: string;
  /** At most this many (default 50, at most 500). */
  limit?: number;
  /** Image names containing this, in any case. */
  q?: string;
}

export interface ImageSummary {
  name: string;
  /** Tags of the image, summed over a virtual's members holding it. */
  tags: number;
  /** ISO time of the latest tag change or manifest push. */
  updatedAt: string;
  /** The repositories holding it: the repository itself, or a virtual's members in resolution order. */
  repositories: string[];
}

export interface ImagePage {
  images: ImageSummary[];
  /** The `after` of the next page; null on the last. */
  next: string | null;
}

export interface TagSummary {
  name: string;
  digest: string;
  mediaType: string;
  /** An image: manifest, config and layers; an index: that of each child held, summed (best effort). */
  size: number;
  /** `os/architecture[/variant]`: an index's entries (attestations left out), an image's config. */
  platforms: string[];
  /** ISO time the tag was last set (or, in a remote, revalidated). */
  pushedAt: string;
  /** The repository holding the tag: a virtual's member. */
  repository: string;
}

export interface TagPage {
  tags: TagSummary[];
  next: string | null;
}

/** A repository the caller browses: itself, or a virtual's readable members in resolution order. */
interface Scope {
  members: Array<{ entity: RepositoryEntity; repository: DockerRepository }>;
  /** A virtual's include/exclude patterns. */
  allows(image: string): boolean;
  /** A virtual's: once a local member holds a name, only local members answer for it. */
  priorityResolution: boolean;
  resolveTagsByTimestamp: boolean;
}

/**
 * The listings a UI browses with: a repository's images and an image's tags, each a page in
 * byte order with what a row shows (counts, sizes, platforms). A virtual lists what its members
 * the caller may read hold, as its resolution would find it. Needs read.
 */
@Injectable()
export class RepositoryBrowseService {
  private readonly platforms = new Map<string, string>();

  constructor(
    private readonly access: AccessControl,
    private readonly resolver: RepositoryResolver,
    private readonly repositories: RepositoryQueries,
    private readonly imageRows: ImageQueries,
    private readonly tagRows: TagQueries,
    private readonly manifestRows: ManifestQueries,
  ) {}

  async images(principal: Principal, key: string, request: BrowseRequest): Promise<ImagePage> {
    const scope = await this.scope(principal, key);
    const limit = limitOf(request);
    const place = new Map(scope.members.map((member, i) => [member.entity.id, { key: member.entity.key, i }]));
    const images: ImageSummary[] = [];
    let after = request.after;
    let more = false;
    // A page may come back short (a virtual's patterns, images whose manifests were deleted): read on, a bounded number of times.
    for (let round = 0; round < MAX_ROUNDS && images.length < limit; round++) {
      const batch = await this.imageRows.browse([...place.keys()], { after, contains: request.q || undefined, limit: limit - images.length });
      for (const rows of groupBy(batch.rows, (row) => row.name)) {
        if (scope.allows(rows[0].name)) images.push(imageSummary(rows, place));
      }
      more = batch.more;
      if (!more) break;
      after = batch.last;
    }
    // A full page goes on from its last name; a short one from where the reading stopped.
    const next = images.length >= limit ? images[images.length - 1].name : after;
    return { images, next: more ? (next ?? null) : null };
  }

  async tags(principal: Principal, key: string, image: string, request: BrowseRequest): Promise<TagPage> {
    const scope = await this.scope(principal, key);
    if (!isValidImageName(image)) throw new RegistryError('NAME_INVALID', `invalid image name "${image.slice(0, 140)}"`);
    const notFound = () => new RegistryError('NAME_UNKNOWN', `image ${key}/${image} not found`);
    if (!scope.allows(image)) throw notFound();
    const imageIds = await this.imageRows.findIds(
      scope.members.map((member) => member.entity.id),
      image,
    );
    let holders = scope.members.filter((member) => imageIds.has(member.entity.id));
    if (holders.length === 0) throw notFound();
    if (scope.priorityResolution && holders.some((member) => member.repository.hosted)) holders = holders.filter((member) => member.repository.hosted);
    const byImage = new Map(holders.map((member) => [imageIds.get(member.entity.id)!, member]));
    const limit = limitOf(request);
    const rows = await this.tagRows.browse([...byImage.keys()], { after: request.after, limit: limit + 1 });
    const winners = groupBy(rows, (row) => row.name).map((candidates) => pickTag(candidates, scope.resolveTagsByTimestamp));
    const page = winners.slice(0, limit);
    const contents = await this.contents(page);
    const children = await this.contents(
      [...contents.values()].flatMap((held) => (held.parsed?.isIndex ? held.parsed.manifests.map((child) => ({ imageId: held.imageId, digest: child.digest })) : [])),
    );
    const tags = await mapLimited(page, CONFIG_READS, async (row) => {
      const holder = byImage.get(row.imageId)!;
      const parsed = contents.get(pairKey(row))?.parsed;
      return {
        name: row.name,
        digest: row.digest,
        mediaType: row.mediaType,
        size: parsed?.isIndex ? sumChildren(parsed, row.imageId, children) : imageSize(row.size, parsed),
        platforms: parsed?.isIndex ? indexPlatforms(parsed) : await this.imagePlatforms(holder.repository, image, parsed),
        pushedAt: row.updatedAt.toISOString(),
        repository: holder.entity.key,
      };
    });
    return { tags, next: winners.length > limit ? page[page.length - 1].name : null };
  }

  private async scope(principal: Principal, key: string): Promise<Scope> {
    await this.access.require(principal, key, 'read');
    const repo = (await this.repositories.findByKey(key))!;
    const opened = await this.resolver.open(repo);
    if (!(opened instanceof VirtualDockerRepository)) {
      return { members: [{ entity: repo, repository: opened }], allows: () => true, priorityResolution: false, resolveTagsByTimestamp: false };
    }
    const settings = readVirtualSettings(repo.settings);
    const entities = (await Promise.all((await this.resolver.members(repo.id)).map((id) => this.resolver.findById(id)))).filter(
      (entity): entity is RepositoryEntity => entity !== null,
    );
    const readable = await Promise.all(entities.map((entity) => this.access.mayReadMember(principal, entity.key)));
    const members = await Promise.all(entities.filter((_, i) => readable[i]).map(async (entity) => ({ entity, repository: await this.resolver.open(entity) })));
    return {
      members,
      allows: (image) => imageAllowed(image, settings.includesPattern, settings.excludesPattern),
      priorityResolution: settings.priorityResolution,
      resolveTagsByTimestamp: settings.resolveDockerTagsByTimestamp,
    };
  }

  /** The manifests' bytes, parsed (null where they do not parse), by image and digest. */
  private async contents(wanted: Array<{ imageId: string; digest: string }>): Promise<Map<string, ManifestContentRow & { parsed: ParsedManifest | null }>> {
    const rows = await this.manifestRows.contents(wanted);
    return new Map(rows.map((row) => [pairKey(row), { ...row, parsed: tryParse(row) }]));
  }

  /** An image manifest's platform, from its config blob as the holding repository stores it. */
  private async imagePlatforms(repository: DockerRepository, image: string, parsed: ParsedManifest | null | undefined): Promise<string[]> {
    const config = parsed?.config;
    if (!config || !isImageConfigType(config.mediaType)) return [];
    let platform = this.platforms.get(config.digest);
    if (platform === undefined) {
      const body = await readImageConfig(repository, image, config.digest);
      platform = body ? platformString(body) : undefined;
      // Only what was found is remembered: a remote may cache the blob later.
      if (platform !== undefined) {
        if (this.platforms.size >= PLATFORM_CACHE) this.platforms.delete(this.platforms.keys().next().value!);
        this.platforms.set(config.digest, platform);
      }
    }
    return platform ? [platform] : [];
  }
}

function limitOf(request: BrowseRequest): number {
  return Math.min(Math.max(request.limit ?? BROWSE_DEFAULT_LIMIT, 1), BROWSE_MAX_LIMIT);
}

/** One name's images over the members holding it, as one entry. */
function imageSummary(rows: ImageSummaryRow[], place: Map<string, { key: string; i: number }>): ImageSummary {
  const ordered = [...rows].sort((a, b) => place.get(a.repositoryId)!.i - place.get(b.repositoryId)!.i);
  const latest = Math.max(...rows.map((row) => new Date(row.updatedAt).getTime()));
  return {
    name: rows[0].name,
    tags: rows.reduce((sum, row) => sum + row.tags, 0),
    updatedAt: new Date(latest).toISOString(),
    repositories: ordered.map((row) => place.get(row.repositoryId)!.key),
  };
}

/** Of the members holding a tag (in resolution order), the one a pull resolves: the first, or the most recently tagged. */
function pickTag(candidates: TagSummaryRow[], byTimestamp: boolean): TagSummaryRow {
  if (!byTimestamp) return candidates[0];
  return candidates.reduce((best, each) => (new Date(each.updatedAt).getTime() > new Date(best.updatedAt).getTime() ? each : best));
}

function tryParse(row: ManifestContentRow): ParsedManifest | null {
  try {
    return parseManifest(row.content, row.mediaType);
  } catch {
    return null;
  }
}

function imageSize(manifestSize: number, parsed: ParsedManifest | null | undefined): number {
  if (!parsed) return manifestSize;
  return manifestSize + (parsed.config?.size ?? 0) + parsed.layers.reduce((sum, layer) => sum + layer.size, 0);
}

/** Each child of the index the image holds, as an image's size; children not held count nothing. */
function sumChildren(index: ParsedManifest, imageId: string, children: Map<string, ManifestContentRow & { parsed: ParsedManifest | null }>): number {
  let total = 0;
  for (const digest of new Set(index.manifests.map((child) => child.digest))) {
    const child = children.get(pairKey({ imageId, digest }));
    if (child) total += imageSize(child.size, child.parsed?.isIndex ? null : child.parsed);
  }
  return total;
}

/** The platforms an index names, each once; attestation entries (`unknown/unknown`) left out. */
function indexPlatforms(index: ParsedManifest): string[] {
  const platforms = index.manifests.map((child) => platformString(child.platform)).filter((each): each is string => !!each && each !== 'unknown/unknown');
  return [...new Set(platforms)];
}

function pairKey(row: { imageId: string; digest: string }): string {
  return `${row.imageId}\n${row.digest}`;
}

/** Consecutive runs of items with the same key (the rows come sorted by it). */
function groupBy<T>(items: T[], keyOf: (item: T) => string): T[][] {
  const groups: T[][] = [];
  for (const item of items) {
    const last = groups[groups.length - 1];
    if (last && keyOf(last[0]) === keyOf(item)) last.push(item);
    else groups.push([item]);
  }
  return groups;
}

/** `map` over `items` with at most `concurrency` calls at a time, in order. */
async function mapLimited<T, R>(items: T[], concurrency: number, map: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await map(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
