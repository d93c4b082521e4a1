import { Injectable } from '@nestjs/common';
import { AccessControl, Principal } from '@wharf/auth';
import { PromotionQueries, PromotionRecord, RepositoryQueries, TagQueries } from '@wharf/db';
import { MANIFEST_MEDIA_TYPES, ParsedManifest, RegistryError, isValidImageName, parseManifest } from '@wharf/oci';
import { DockerRepository, ManifestContent } from '../docker-repository';
import { RepositoryResolver } from '../repository-resolver';
import { VirtualDockerRepository } from '../virtual/virtual-docker-repository';
import { ImageConfigDetails, describeImageConfig, isImageConfigType, platformString, readImageConfig, stringMap } from './image-config';

export interface DescriptorView {
  digest: string;
  mediaType: string;
  size: number;
}

/** An image manifest's config: its descriptor, and for a container image what its config blob says. */
export interface ConfigView extends DescriptorView, ImageConfigDetails {}

/** A child of an index, with its platform (`os/architecture[/variant]`) when the index names one. */
export interface ChildView extends DescriptorView {
  platform?: string;
}

/** A manifest whose subject this one is (a signature, SBOM, attestation), as the referrers API lists it. */
export interface ReferrerView extends DescriptorView {
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** A manifest as the REST API shows it: what it is, where it is held, its tags, and the promotions it took part in. */
export interface ManifestView {
  repository: string;
  image: string;
  reference: string;
  /** The repository holding it: a virtual's member that serves it, else the repository itself. */
  servedBy: string;
  digest: string;
  mediaType: string;
  size: number;
  /** Tags of the image (where it is held) that point at it. */
  tags: string[];
  /** Promotions that carried it, newest first: the stages it passed, and when. */
  promotions: PromotionRecord[];
  /** Its `artifactType`, or for an artifact (not a container image) its config's media type. */
  artifactType?: string;
  annotations?: Record<string, string>;
  /** An image manifest's layers; empty for an index. */
  layers: DescriptorView[];
  /** An image manifest's config; null for an index. */
  config: ConfigView | null;
  /** An index's manifests; empty otherwise. */
  children: ChildView[];
  /** Manifests of the image (where it is held) whose subject is this one. */
  referrers: ReferrerView[];
  /** The digest of the manifest this one refers to, when it has a subject. */
  subject?: string;
}

@Injectable()
export class ManifestViewService {
  constructor(
    private readonly access: AccessControl,
    private readonly resolver: RepositoryResolver,
    private readonly repositories: RepositoryQueries,
    private readonly tags: TagQueries,
    private readonly promotions: PromotionQueries,
  ) {}

  /** As a pull would find it (a remote may fetch the manifest from its upstream); needs read. */
  async view(principal: Principal, key: string, image: string, reference: string): Promise<ManifestView> {
    await this.access.require(principal, key, 'read');
    if (!isValidImageName(image)) throw new RegistryError('NAME_INVALID', `invalid image name "${image.slice(0, 140)}"`);
    const repository = await this.resolver.resolve(key, (member) => this.access.mayReadMember(principal, member));
    const accept = [...MANIFEST_MEDIA_TYPES];
    let servedBy = key;
    let manifest;
    if (repository instanceof VirtualDockerRepository) {
      const resolution = await repository.resolveManifest(image, reference, accept);
      if (!resolution.manifest) throw resolution.error ?? new RegistryError('MANIFEST_UNKNOWN', `manifest ${reference} not found in ${key}/${image}`);
      manifest = resolution.manifest;
      servedBy = resolution.servedBy!;
    } else {
      manifest = await repository.getManifest(image, reference, accept);
    }
    const holder = await this.repositories.findByKey(servedBy);
    const holding = holder ? await this.resolver.open(holder) : null;
    const [tags, promotions, contents] = await Promise.all([
      holder ? this.tags.pointingAt(holder.id, image, manifest.digest) : [],
      this.promotions.list({ digest: manifest.digest, readable: await this.access.readableKeys(principal), limit: 100 }),
      this.contents(holding, image, manifest),
    ]);
    return { repository: key, image, reference, servedBy, digest: manifest.digest, mediaType: manifest.mediaType, size: manifest.size, tags, promotions, ...contents };
  }

  /** What the manifest holds and what refers to it; a config blob and referrers as the holding repository has them. */
  private async contents(holding: DockerRepository | null, image: string, manifest: ManifestContent): Promise<Pick<ManifestView, ManifestContentField>> {
    let parsed: ParsedManifest | undefined;
    try {
      parsed = parseManifest(manifest.content, manifest.mediaType);
    } catch {
      // Stored manifests were validated when pushed; one that no longer parses shows no contents.
    }
    const [config, referrers] = await Promise.all([
      parsed?.config && holding ? this.config(holding, image, parsed.config) : null,
      holding ? holding.referrers(image, manifest.digest).then((index) => index.manifests) : [],
    ]);
    const artifactType =
      parsed?.artifactType && !(parsed.config && parsed.artifactType === parsed.config.mediaType && isImageConfigType(parsed.artifactType)) ? parsed.artifactType : undefined;
    const annotations = stringMap(parsed?.annotations);
    return {
      ...(artifactType ? { artifactType } : {}),
      ...(annotations ? { annotations } : {}),
      layers: (parsed?.layers ?? []).map(descriptorView),
      config,
      children: (parsed?.manifests ?? []).map((child) => {
        const platform = platformString(child.platform);
        return { ...descriptorView(child), ...(platform ? { platform } : {}) };
      }),
      referrers: referrers.map((each) => ({
        ...descriptorView(each),
        ...(each.artifactType ? { artifactType: each.artifactType } : {}),
        ...(each.annotations ? { annotations: each.annotations } : {}),
      })),
      ...(parsed?.subject ? { subject: parsed.subject.digest } : {}),
    };
  }

  private async config(holding: DockerRepository, image: string, descriptor: DescriptorView): Promise<ConfigView> {
    const view = descriptorView(descriptor);
    if (!isImageConfigType(descriptor.mediaType)) return view;
    const body = await readImageConfig(holding, image, descriptor.digest);
    return body ? { ...view, ...describeImageConfig(body) } : view;
  }
}

type ManifestContentField = 'artifactType' | 'annotations' | 'layers' | 'config' | 'children' | 'referrers' | 'subject';

function descriptorView(descriptor: DescriptorView): DescriptorView {
  return { digest: descriptor.digest, mediaType: descriptor.mediaType, size: descriptor.size };
}
