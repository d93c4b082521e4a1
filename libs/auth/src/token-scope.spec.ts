import { parseScopes } from './token-scope';

describe('parseScopes', () => {
  it('reads repeated and space-separated scopes', () => {
    expect(parseScopes(['repository:docker-local/team/app:pull,push', 'registry:catalog:* repository:a/b:pull'])).toEqual([
      { type: 'repository', name: 'docker-local/team/app', actions: ['pull', 'push'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
      { type: 'repository', name: 'a/b', actions: ['pull'] },
    ]);
  });
  it('keeps colons inside the name and drops malformed entries', () => {
    expect(parseScopes(['repository:host:5000/app:pull', 'nonsense', 'repository:'])).toEqual([{ type: 'repository', name: 'host:5000/app', actions: ['pull'] }]);
  });
});
