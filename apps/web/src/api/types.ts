// The REST API's answers as the UI reads them (the OpenAPI document at /api/docs is the reference).

export type RepositoryClass = 'local' | 'remote' | 'virtual';
export type RepositoryAction = 'read' | 'write' | 'delete' | 'manage';

export interface SessionView {
  username: string;
  admin: boolean;
  csrfToken: string;
  expiresAt: string;
}

export interface SystemInfo {
  version: string;
  registryHost: string;
  tls: boolean;
  anonymousAccess: boolean;
}

export interface Repository {
  key: string;
  rclass: RepositoryClass;
  packageType: string;
  description: string;
  anonymousRead: boolean;
  createdAt: string;
  updatedAt: string;
  actions?: RepositoryAction[];
  stats?: { images: number; bytes: number };
  url?: string;
  username?: string;
  password?: string;
  libraryPrefix?: boolean;
  enableTokenAuthentication?: boolean;
  offline?: boolean;
  includesPattern?: string;
  excludesPattern?: string;
  repositories?: string[];
  resolvedRepositories?: string[];
  defaultDeploymentRepo?: string | null;
  allowTagOverwrite?: boolean;
  maxUniqueTags?: number;
  quotaBytes?: number;
}

export interface ImageSummary {
  name: string;
  tags: number;
  updatedAt: string;
  repositories: string[];
}

export interface ImagesPage {
  images: ImageSummary[];
  next: string | null;
}

export interface TagSummary {
  name: string;
  digest: string;
  mediaType: string;
  size: number;
  platforms: string[];
  pushedAt: string;
  repository: string;
}

export interface TagsPage {
  tags: TagSummary[];
  next: string | null;
}

export interface Descriptor {
  digest: string;
  mediaType: string;
  size: number;
}

export interface ImageConfig extends Descriptor {
  os?: string;
  architecture?: string;
  variant?: string;
  created?: string;
  author?: string;
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
  exposedPorts?: string[];
  labels?: Record<string, string>;
  history?: { created?: string; createdBy?: string; emptyLayer?: boolean; comment?: string }[];
}

export interface PromotionRecord {
  id: string;
  createdAt: string;
  username: string | null;
  requestedSource: string;
  sourceRepository: string;
  sourceImage: string;
  requestedTarget: string;
  targetRepository: string;
  targetImage: string;
  copy: boolean;
}

export interface ManifestDetail {
  repository: string;
  image: string;
  reference: string;
  servedBy: string;
  digest: string;
  mediaType: string;
  size: number;
  tags: string[];
  promotions: PromotionRecord[];
  artifactType?: string;
  annotations?: Record<string, string>;
  subject?: string;
  layers: Descriptor[];
  config: ImageConfig | null;
  children: (Descriptor & { platform?: string })[];
  referrers: (Descriptor & { artifactType?: string; annotations?: Record<string, string> })[];
}

export interface User {
  username: string;
  email: string | null;
  admin: boolean;
  disabled: boolean;
  groups: string[];
  createdAt: string;
}

export interface Group {
  name: string;
  description: string;
  members: string[];
}

export interface Permission {
  name: string;
  repositories: string[];
  principals: { users?: Record<string, RepositoryAction[]>; groups?: Record<string, RepositoryAction[]> };
}

export interface AccessToken {
  id: string;
  name: string;
  user: string;
  repositories: string[];
  actions: string[];
  createdAt: string;
  expiresAt: string | null;
  revoked: boolean;
  expired: boolean;
}

export interface CreatedAccessToken {
  id: string;
  name: string;
  token: string;
  expiresAt: string;
}

export interface RepositoryUsage {
  key: string;
  rclass: RepositoryClass;
  images: number;
  manifests: number;
  tags: number;
  blobs: number;
  bytes: number;
  uniqueBytes: number;
  quotaBytes?: number;
}

export interface StorageInfo {
  binaries: { count: number; bytes: number; bytesWithoutDedup: number; savedByDedup: number };
  fileStore: { type: string; location: string; totalBytes?: number; freeBytes?: number };
  repositories: RepositoryUsage[];
}

export interface GcRun {
  id: string;
  trigger: string;
  dryRun: boolean;
  status: string;
  requestedBy: string | null;
  phase: string | null;
  result: { blobs: { count: number; bytes: number }; [part: string]: unknown };
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
}

export interface GcStatus {
  running: GcRun | null;
  runs: GcRun[];
}

export interface PromotionResult {
  dryRun: boolean;
  copy: boolean;
  target: { repository: string; deployedTo: string; image: string };
  tags: { source: string; target: string; digest: string }[];
  manifests: number;
  referrers: number;
  blobsLinked: number;
}
