import type { LinksPlanner, RepositoryClass, RepositoryEntity, RepositoryGraph } from '@wharf/db';
import type { DockerRepository, ReadFilter } from '../docker-repository';
import type { RemoteFields } from '../admin/remote-settings-builder';
import type { LocalFields } from './local-settings';
import type { VirtualFields } from './virtual-settings';

/** Every field of the repository REST API, in Artifactory's names; each kind takes its own. */
export interface RepositoryFields extends LocalFields, RemoteFields, VirtualFields {
  key?: string;
  rclass?: RepositoryClass;
  packageType?: 'docker';
  description?: string;
  anonymousRead?: boolean;
}

/** What a kind stores for a definition: its settings, and for a virtual the planner of its member rows. */
export interface StoredDefinition {
  settings: Record<string, unknown>;
  links?: LinksPlanner;
}

/** Opens repositories of any kind: what a virtual uses to open its members. */
export interface RepositoryOpener {
  open(repo: RepositoryEntity, mayRead?: ReadFilter): Promise<DockerRepository>;
  /** Every repository and every virtual's members (cached, invalidated by the change feed). */
  graph(): Promise<RepositoryGraph>;
  findById(id: string): Promise<RepositoryEntity | null>;
  /** A virtual's members, flattened (nested virtuals expanded), in resolution order. */
  members(virtualId: string): Promise<string[]>;
}

/**
 * One repository kind: its own API fields, how they become stored settings (validated: a 400
 * naming the field), how stored settings read back as the API view, and the repository class
 * that serves it. Adding a kind is adding one of these to RepositoryKinds.
 */
export interface RepositoryKind {
  readonly rclass: RepositoryClass;
  /** API fields only this kind takes (the common ones are not listed). */
  readonly fields: ReadonlyArray<keyof RepositoryFields>;
  /** Settings from `fields` over `existing` (a new repository: over the defaults). */
  define(fields: RepositoryFields, existing?: RepositoryEntity): StoredDefinition;
  view(repo: RepositoryEntity, graph: RepositoryGraph): Record<string, unknown>;
  open(repo: RepositoryEntity, opener: RepositoryOpener, mayRead?: ReadFilter): Promise<DockerRepository>;
}
