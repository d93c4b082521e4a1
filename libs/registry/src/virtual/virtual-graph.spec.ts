import type { RepositoryGraph } from '@wharf/db';
import { VirtualCycleError, flattenMembers, virtualsContaining } from './virtual-graph';

function graph(kinds: Record<string, 'local' | 'remote' | 'virtual'>, members: Record<string, string[]>): RepositoryGraph {
  return {
    repositories: Object.entries(kinds).map(([key, rclass]) => ({ id: key, key, rclass, defaultDeploymentRepositoryId: null })),
    members: new Map(Object.entries(members)),
  };
}

describe('flattenMembers', () => {
  it('expands nested virtuals in place, depth first, each repository once', () => {
    const g = graph({ v: 'virtual', inner: 'virtual', a: 'local', b: 'remote', c: 'local', d: 'local' }, { v: ['a', 'inner', 'c', 'b'], inner: ['b', 'd', 'a'] });
    expect(flattenMembers(g, 'v')).toEqual(['a', 'b', 'd', 'c']);
  });

  it('a virtual reached twice is expanded once', () => {
    const g = graph({ v: 'virtual', x: 'virtual', y: 'virtual', a: 'local' }, { v: ['x', 'y'], x: ['y'], y: ['a'] });
    expect(flattenMembers(g, 'v')).toEqual(['a']);
  });

  it('names a cycle by its keys, in order', () => {
    const g = graph({ a: 'virtual', b: 'virtual', c: 'virtual', l: 'local' }, { a: ['l', 'b'], b: ['c'], c: ['a'] });
    expect(() => flattenMembers(g, 'a')).toThrow(new VirtualCycleError(['a', 'b', 'c', 'a']));
    expect(() => flattenMembers(g, 'b')).toThrow('b -> c -> a -> b');
  });

  it('an empty virtual has no members', () => {
    expect(flattenMembers(graph({ v: 'virtual' }, {}), 'v')).toEqual([]);
  });
});

describe('virtualsContaining', () => {
  it('finds the virtuals above a repository through nesting', () => {
    const g = graph({ top: 'virtual', mid: 'virtual', other: 'virtual', a: 'local' }, { top: ['mid'], mid: ['a'], other: ['top'] });
    expect(virtualsContaining(g, 'a').sort()).toEqual(['mid', 'other', 'top']);
    expect(virtualsContaining(g, 'other')).toEqual([]);
  });
});
