/** Artifactory's promotion body, as `POST /api/docker/<repoKey>/v2/promote` takes it. */
export interface PromotionRequest {
  /** The repository to promote into: a local one, or a virtual with a defaultDeploymentRepo. */
  targetRepo: string;
  /** The image name in the source. */
  dockerRepository: string;
  /** The image name in the target; the source's by default. */
  targetDockerRepository?: string;
  /** One tag; every tag of the image when omitted (local sources only). */
  tag?: string;
  /** The tag's name in the target (with `tag` only). */
  targetTag?: string;
  /** Copy (true) or move (false, Artifactory's default: the source tags are removed). */
  copy?: boolean;
  /** Answer what would happen, changing nothing. */
  dryRun?: boolean;
}

export interface PromotedTag {
  source: string;
  target: string;
  digest: string;
}

export interface PromotionResult {
  /** The provenance record's id; null for a dry run. */
  id: string | null;
  createdAt: string | null;
  dryRun: boolean;
  copy: boolean;
  /** `heldBy`: the repository whose content was promoted (a virtual source's member). */
  source: { repository: string; heldBy: string; image: string };
  /** `deployedTo`: where it landed (a virtual target's defaultDeploymentRepo). */
  target: { repository: string; deployedTo: string; image: string };
  tags: PromotedTag[];
  /** Manifests promoted: the images and an index's children. */
  manifests: number;
  /** Signatures, SBOMs and attestations promoted with them. */
  referrers: number;
  /** Of all those, manifests the target did not hold yet. */
  manifestsAdded: number;
  /** Blobs newly linked into the target (shared by digest: no byte copied). */
  blobsLinked: number;
  /** Tags the target's maxUniqueTags removed. */
  prunedTags: string[];
  /** A move: what left the source. */
  removedFromSource?: { tags: string[]; manifests: number };
}
