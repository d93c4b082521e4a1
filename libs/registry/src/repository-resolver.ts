import { Injectable } from '@nestjs/common';
import { RepositoryEntity, RepositoryGraph, RepositoryQueries } from '@wharf/db';
import { RegistryError } from '@wharf/oci';
import { DockerRepository, ReadFilter } from './docker-repository';
import { RepositoryKinds } from './kinds/repository-kinds';
import { RepositoryOpener } from './kinds/repository-kind';
import { flattenMembers } from './virtual/virtual-graph';

/** What the graph's cached rows imply, computed once per version of them. */
interface GraphView {
  graph: RepositoryGraph;
  byId: Map<string, RepositoryEntity>;
  flattened: Map<string, string[]>;
}

/**
 * Finds a repository by key and opens it as its kind's DockerRepository. Every registry
 * request passes here, so the repository rows and virtual memberships come from caches the
 * change feed invalidates, and what they imply (a virtual's flattened members) is computed once
 * per version of those rows: no per-request SQL walk of members.
 */
@Injectable()
export class RepositoryResolver implements RepositoryOpener {
  private view?: GraphView;

  constructor(
    private readonly repositories: RepositoryQueries,
    private readonly kinds: RepositoryKinds,
  ) {}

  /** `mayRead` decides which members of a virtual the caller sees; the others are skipped as absent. */
  async resolve(key: string, mayRead?: ReadFilter): Promise<DockerRepository> {
    const repo = await this.repositories.findByKey(key);
    if (!repo) throw new RegistryError('NAME_UNKNOWN', `repository ${key} not found`);
    return this.open(repo, mayRead);
  }

  open(repo: RepositoryEntity, mayRead?: ReadFilter): Promise<DockerRepository> {
    return this.kinds.get(repo.rclass).open(repo, this, mayRead);
  }

  async graph(): Promise<RepositoryGraph> {
    return (await this.current()).graph;
  }

  async findById(id: string): Promise<RepositoryEntity | null> {
    return (await this.current()).byId.get(id) ?? null;
  }

  async members(virtualId: string): Promise<string[]> {
    const view = await this.current();
    let flat = view.flattened.get(virtualId);
    if (!flat) {
      flat = flattenMembers(view.graph, virtualId);
      view.flattened.set(virtualId, flat);
    }
    return flat;
  }

  private async current(): Promise<GraphView> {
    const [repositories, members] = await Promise.all([this.repositories.list(), this.repositories.members()]);
    // The caches hand out the same objects until the rows change.
    if (this.view?.graph.repositories !== repositories || this.view.graph.members !== members) {
      this.view = { graph: { repositories, members }, byId: new Map(repositories.map((repo) => [repo.id, repo])), flattened: new Map() };
    }
    return this.view;
  }
}
