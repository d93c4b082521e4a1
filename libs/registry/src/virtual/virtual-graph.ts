import type { RepositoryGraph } from '@wharf/db';

/** A virtual that reaches itself through its members, as the chain of keys that shows it. */
export class VirtualCycleError extends Error {
  constructor(readonly path: string[]) {
    super(`members form a cycle: ${path.join(' -> ')}`);
  }
}

/**
 * A virtual's members as resolution sees them: nested virtuals expanded in place, depth first,
 * each repository taken once (at its first place), no virtual left in the list.
 */
export function flattenMembers(graph: RepositoryGraph, virtualId: string): string[] {
  const rclassOf = new Map(graph.repositories.map((repo) => [repo.id, repo.rclass]));
  const keyOf = new Map(graph.repositories.map((repo) => [repo.id, repo.key]));
  const flat: string[] = [];
  const seen = new Set<string>();
  const expanded = new Set<string>();
  const visit = (id: string, path: string[]): void => {
    if (path.includes(id)) throw new VirtualCycleError([...path, id].map((each) => keyOf.get(each) ?? each));
    if (expanded.has(id)) return; // a nested virtual reached twice adds nothing new
    for (const member of graph.members.get(id) ?? []) {
      if (rclassOf.get(member) === 'virtual') visit(member, [...path, id]);
      else if (!seen.has(member)) {
        seen.add(member);
        flat.push(member);
      }
    }
    expanded.add(id);
  };
  visit(virtualId, []);
  return flat;
}

/** The virtuals whose flattened members include `id` (directly or through nesting), `id` itself excluded. */
export function virtualsContaining(graph: RepositoryGraph, id: string): string[] {
  const parents = new Map<string, string[]>();
  for (const [virtual, members] of graph.members) for (const member of members) parents.set(member, [...(parents.get(member) ?? []), virtual]);
  const found = new Set<string>();
  const queue = [id];
  while (queue.length) {
    for (const parent of parents.get(queue.shift()!) ?? []) {
      if (parent !== id && !found.has(parent)) {
        found.add(parent);
        queue.push(parent);
      }
    }
  }
  return [...found];
}
