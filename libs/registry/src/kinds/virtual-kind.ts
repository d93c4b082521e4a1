import { BadRequestException, Injectable } from '@nestjs/common';
import { LinksPlanner, RepositoryEntity, RepositoryGraph, VirtualLinks } from '@wharf/db';
import { DockerRepository, ReadFilter } from '../docker-repository';
import { VirtualDockerRepository, VirtualMember } from '../virtual/virtual-docker-repository';
import { VirtualCycleError, flattenMembers, virtualsContaining } from '../virtual/virtual-graph';
import { RepositoryFields, RepositoryKind, RepositoryOpener, StoredDefinition } from './repository-kind';
import { VIRTUAL_DEFAULTS, VirtualFields, VirtualSettings, readVirtualSettings } from './virtual-settings';

const VIRTUAL_FIELDS: ReadonlyArray<keyof VirtualFields> = [
  'repositories',
  'defaultDeploymentRepo',
  'resolveDockerTagsByTimestamp',
  'priorityResolution',
  'includesPattern',
  'excludesPattern',
];
const MAX_MEMBERS = 100;

/**
 * Virtual repositories: an ordered list of local, remote and virtual members under one name,
 * with a local member that receives pushes. Members and the deployment target are rows with
 * foreign keys; the rest is settings.
 */
interface Prepared {
  members: VirtualMember[];
  deployment: DockerRepository | null;
}

@Injectable()
export class VirtualKind implements RepositoryKind {
  readonly rclass = 'virtual' as const;
  readonly fields = VIRTUAL_FIELDS;
  /**
   * Per version of the virtual's row: the repository caches hand out the same entity object
   * until the change feed reports a change to any repository or membership, and local and
   * remote repository objects keep no per-request state, so opening the members once per
   * version spares every request that work.
   */
  private readonly prepared = new WeakMap<RepositoryEntity, Promise<Prepared>>();

  define(fields: RepositoryFields, existing?: RepositoryEntity): StoredDefinition {
    const base = existing ? readVirtualSettings(existing.settings) : VIRTUAL_DEFAULTS;
    const settings: VirtualSettings = {
      resolveDockerTagsByTimestamp: fields.resolveDockerTagsByTimestamp ?? base.resolveDockerTagsByTimestamp,
      priorityResolution: fields.priorityResolution ?? base.priorityResolution,
      includesPattern: fields.includesPattern ?? base.includesPattern,
      excludesPattern: fields.excludesPattern ?? base.excludesPattern,
    };
    const memberKeys = fields.repositories;
    if (memberKeys !== undefined) checkMemberKeys(memberKeys);
    return { settings: { ...settings }, links: planLinks(memberKeys, fields.defaultDeploymentRepo) };
  }

  view(repo: RepositoryEntity, graph: RepositoryGraph): Record<string, unknown> {
    const keyOf = new Map(graph.repositories.map((each) => [each.id, each.key]));
    const keys = (ids: string[]) => ids.map((id) => keyOf.get(id)).filter((key): key is string => key !== undefined);
    return {
      repositories: keys(graph.members.get(repo.id) ?? []),
      resolvedRepositories: keys(flattenMembers(graph, repo.id)),
      defaultDeploymentRepo: (repo.defaultDeploymentRepositoryId && keyOf.get(repo.defaultDeploymentRepositoryId)) || null,
      ...readVirtualSettings(repo.settings),
    };
  }

  async open(repo: RepositoryEntity, opener: RepositoryOpener, mayRead?: ReadFilter): Promise<DockerRepository> {
    let prepared = this.prepared.get(repo);
    if (!prepared) {
      prepared = this.prepare(repo, opener);
      this.prepared.set(repo, prepared);
      prepared.catch(() => this.prepared.delete(repo));
    }
    const { members, deployment } = await prepared;
    return new VirtualDockerRepository(repo, readVirtualSettings(repo.settings), members, deployment, mayRead);
  }

  /** The opened members and deployment target: the same for every request until the rows change. */
  private async prepare(repo: RepositoryEntity, opener: RepositoryOpener): Promise<Prepared> {
    const memberIds = await opener.members(repo.id);
    const entities = await Promise.all(memberIds.map((id) => opener.findById(id)));
    const members = await Promise.all(
      entities.filter((entity): entity is RepositoryEntity => entity !== null).map(async (entity) => ({ key: entity.key, repository: await opener.open(entity) })),
    );
    // A target that deleting a nested virtual left outside the members is no target.
    const targetId = repo.defaultDeploymentRepositoryId;
    const target = targetId && memberIds.includes(targetId) ? await opener.findById(targetId) : null;
    return { members, deployment: target ? await opener.open(target) : null };
  }
}

function checkMemberKeys(keys: string[]): void {
  if (keys.length > MAX_MEMBERS) throw new BadRequestException(`repositories may name at most ${MAX_MEMBERS} members`);
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key)) throw new BadRequestException(`repositories names ${key} twice`);
    seen.add(key);
  }
}

/**
 * Plans the member rows inside the writing transaction, where the graph is current: members not
 * sent stay, as does the deployment target (`null` clears it). Refuses unknown members, cycles,
 * and a deployment target that is not a local repository among the flattened members, also for
 * every virtual above this one, whose flattened members this change may alter.
 */
function planLinks(memberKeys: string[] | undefined, deploymentKey: string | null | undefined): LinksPlanner {
  return (graph, self) => {
    const byKey = new Map(graph.repositories.map((repo) => [repo.key, repo]));
    const memberIds =
      memberKeys?.map((key) => {
        if (key === self.key) throw new BadRequestException(`repositories: ${key} cannot be a member of itself`);
        const member = byKey.get(key);
        if (!member) throw new BadRequestException(`repositories: ${key} does not exist`);
        return member.id;
      }) ??
      graph.members.get(self.id) ??
      [];
    const current = graph.repositories.find((repo) => repo.id === self.id)!;
    let deploymentId = current.defaultDeploymentRepositoryId;
    if (deploymentKey === null) deploymentId = null;
    else if (deploymentKey !== undefined) {
      const target = byKey.get(deploymentKey);
      if (!target) throw new BadRequestException(`defaultDeploymentRepo: ${deploymentKey} does not exist`);
      if (target.rclass !== 'local') throw new BadRequestException(`defaultDeploymentRepo: ${deploymentKey} is a ${target.rclass} repository; pushes go to a local one`);
      deploymentId = target.id;
    }
    const next: RepositoryGraph = {
      repositories: graph.repositories.map((repo) => (repo.id === self.id ? { ...repo, defaultDeploymentRepositoryId: deploymentId } : repo)),
      members: new Map(graph.members).set(self.id, memberIds),
    };
    for (const id of [self.id, ...virtualsContaining(next, self.id)]) checkDeployment(next, id);
    const links: VirtualLinks = { memberIds, deploymentId };
    return links;
  };
}

function checkDeployment(graph: RepositoryGraph, virtualId: string): void {
  let flat: string[];
  try {
    flat = flattenMembers(graph, virtualId);
  } catch (err) {
    if (err instanceof VirtualCycleError) throw new BadRequestException(`repositories: ${err.message}`);
    throw err;
  }
  const virtual = graph.repositories.find((repo) => repo.id === virtualId)!;
  const target = virtual.defaultDeploymentRepositoryId;
  if (target && !flat.includes(target)) {
    const key = graph.repositories.find((repo) => repo.id === target)?.key ?? target;
    throw new BadRequestException(`defaultDeploymentRepo: ${key} is not among the members of ${virtual.key}`);
  }
}
