import { ForbiddenException, UnauthorizedException } from '@nestjs/common';
import { ANONYMOUS, Principal } from '../principal';
import { isSelf, requireAccountSession, requireAdmin, requireUser } from './admin-access';

const alice: Principal = { userId: 'u1', username: 'alice', admin: false, groups: [] };
const root: Principal = { userId: 'u2', username: 'root', admin: true, groups: [] };
const scope = { tokenId: 't1', repositories: ['*'], actions: ['read' as const] };

describe('admin access rules', () => {
  it('anonymous is unauthorized (401), a user without rights forbidden (403)', () => {
    expect(() => requireUser(ANONYMOUS)).toThrow(UnauthorizedException);
    expect(() => requireAdmin(ANONYMOUS, 'list users')).toThrow(UnauthorizedException);
    expect(() => requireAdmin(alice, 'list users')).toThrow(ForbiddenException);
    expect(requireAdmin(root, 'list users')).toBe(root);
    expect(requireUser(alice)).toBe(alice);
  });

  it("an admin's access token does not administer", () => {
    expect(() => requireAdmin({ ...root, tokenScope: scope }, 'list users')).toThrow(/access token/);
  });

  it('account changes need a password login, not an access token', () => {
    expect(requireAccountSession(alice, 'create access tokens')).toBe(alice);
    expect(() => requireAccountSession({ ...alice, tokenScope: scope }, 'create access tokens')).toThrow(ForbiddenException);
    expect(() => requireAccountSession(ANONYMOUS, 'create access tokens')).toThrow(UnauthorizedException);
  });

  it('knows who is who', () => {
    expect(isSelf(alice, 'alice')).toBe(true);
    expect(isSelf(alice, 'root')).toBe(false);
    expect(isSelf(ANONYMOUS, 'alice')).toBe(false);
  });
});
