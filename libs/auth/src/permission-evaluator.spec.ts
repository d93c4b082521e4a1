import { grantedActions, PermissionRule } from './permission-evaluator';
import { ANONYMOUS, Principal } from './principal';

const alice: Principal = { userId: 'u1', username: 'alice', admin: false, groups: ['ci'] };
const rules: PermissionRule[] = [
  { repositories: ['docker-*'], principals: { users: { alice: ['read'] }, groups: {} } },
  { repositories: ['docker-dev'], principals: { users: {}, groups: { ci: ['write', 'delete'] } } },
];
const repo = (key: string, anonymousRead = false) => ({ key, anonymousRead });
const sorted = (s: Set<string>) => [...s].sort();

describe('grantedActions', () => {
  it('grants admins everything', () => {
    expect(sorted(grantedActions({ ...alice, admin: true }, repo('x'), []))).toEqual(['delete', 'manage', 'read', 'write']);
  });

  it('gives anonymous nothing unless anonymous read is on', () => {
    expect(grantedActions(ANONYMOUS, repo('docker-dev'), rules).size).toBe(0);
    expect(sorted(grantedActions(ANONYMOUS, repo('docker-dev', true), rules))).toEqual(['read']);
  });

  it('unites user and group rules whose patterns match the key', () => {
    expect(sorted(grantedActions(alice, repo('docker-dev'), rules))).toEqual(['delete', 'read', 'write']);
    expect(sorted(grantedActions(alice, repo('docker-prod'), rules))).toEqual(['read']);
    expect(grantedActions(alice, repo('helm-prod'), rules).size).toBe(0);
    expect(grantedActions({ ...alice, username: 'bob', groups: [] }, repo('docker-dev'), rules).size).toBe(0);
  });

  it('narrows to an access token scope and never widens', () => {
    const token = { ...alice, tokenScope: { tokenId: 't', repositories: ['docker-dev'], actions: ['read' as const] } };
    expect(sorted(grantedActions(token, repo('docker-dev'), rules))).toEqual(['read']);
    expect(grantedActions(token, repo('docker-prod'), rules).size).toBe(0);
    const wide = { ...alice, tokenScope: { tokenId: 't', repositories: ['*'], actions: ['read' as const, 'write' as const, 'manage' as const] } };
    expect(sorted(grantedActions(wide, repo('docker-prod'), rules))).toEqual(['read']);
  });
});
