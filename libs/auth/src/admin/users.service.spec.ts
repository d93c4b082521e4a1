import { BadRequestException, ConflictException, ForbiddenException, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { loadConfig } from '@wharf/config';
import { LoginRateLimiter } from '../login-rate-limiter';
import { ANONYMOUS } from '../principal';
import { InMemoryRequestCounts } from './testing/in-memory-request-counts';
import { FakeClock, FakePasswordHasher, InMemorySecurityStore } from './testing/in-memory-security-store';
import { UsersService } from './users.service';

const SCOPE = { tokenId: 't', repositories: ['*'], actions: ['read' as const] };

function setup() {
  const clock = new FakeClock();
  const store = new InMemorySecurityStore(clock);
  store.addUser('root', { admin: true, password: 'root-password' });
  store.addUser('alice', { password: 'alice-password', groups: ['dev'] });
  store.addUser('bob');
  store.addGroup('ops');
  const limiter = new LoginRateLimiter(loadConfig({ WHARF_LOGIN_MAX_FAILURES: '3', WHARF_LOGIN_WINDOW_SECONDS: '60' }), clock, new InMemoryRequestCounts().queries());
  const service = new UsersService(store.userQueries(), store.groupQueries(), new FakePasswordHasher(), limiter, store.auditTrail());
  return { store, service, clock, root: store.principal('root'), alice: store.principal('alice') };
}

describe('UsersService', () => {
  describe('list', () => {
    it('is for admins: 401 anonymous, 403 users and admin access tokens', async () => {
      const { service, alice, root } = setup();
      await expect(service.list(ANONYMOUS)).rejects.toThrow(UnauthorizedException);
      await expect(service.list(alice)).rejects.toThrow(ForbiddenException);
      await expect(service.list({ ...root, tokenScope: SCOPE })).rejects.toThrow(ForbiddenException);
    });

    it('shows users with their groups and never a password hash', async () => {
      const { service, root } = setup();
      const users = await service.list(root);
      expect(users.map((u) => u.username)).toEqual(['alice', 'bob', 'root']);
      expect(users[0]).toEqual({
        username: 'alice',
        email: null,
        admin: false,
        disabled: false,
        groups: ['dev'],
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      expect(JSON.stringify(users)).not.toMatch(/fake-hash|password/i);
    });
  });

  describe('get', () => {
    it('lets a user read themselves, even through an access token', async () => {
      const { service, alice } = setup();
      expect((await service.get(alice, 'alice')).groups).toEqual(['dev']);
      expect((await service.get({ ...alice, tokenScope: SCOPE }, 'alice')).username).toBe('alice');
    });

    it('refuses other users before telling whether they exist', async () => {
      const { service, alice } = setup();
      await expect(service.get(alice, 'bob')).rejects.toThrow(ForbiddenException);
      await expect(service.get(alice, 'nobody')).rejects.toThrow(ForbiddenException);
      await expect(service.get(ANONYMOUS, 'alice')).rejects.toThrow(UnauthorizedException);
    });

    it('answers 404 to an admin for an unknown user', async () => {
      const { service, root } = setup();
      await expect(service.get(root, 'nobody')).rejects.toThrow(NotFoundException);
    });
  });

  describe('create', () => {
    it('creates a user with a hashed password and its groups', async () => {
      const { service, store, root } = setup();
      const created = await service.create(root, 'carol', { password: 'carol-secret', email: 'carol@example.com', groups: ['ops', 'dev', 'ops'] });
      expect(created).toEqual(expect.objectContaining({ username: 'carol', email: 'carol@example.com', admin: false, disabled: false, groups: ['dev', 'ops'] }));
      expect(store.userByName('carol')!.passwordHash).toBe(FakePasswordHasher.hashOf('carol-secret'));
    });

    it('is for admins only', async () => {
      const { service, alice, root } = setup();
      await expect(service.create(alice, 'carol', { password: 'carol-secret' })).rejects.toThrow(ForbiddenException);
      await expect(service.create(ANONYMOUS, 'carol', { password: 'carol-secret' })).rejects.toThrow(UnauthorizedException);
      await expect(service.create({ ...root, tokenScope: SCOPE }, 'carol', { password: 'carol-secret' })).rejects.toThrow(ForbiddenException);
    });

    it('refuses a taken name (409), unknown groups (400, named), short passwords and bad names (400)', async () => {
      const { service, store, root } = setup();
      await expect(service.create(root, 'alice', { password: 'another-one' })).rejects.toThrow(ConflictException);
      await expect(service.create(root, 'carol', { password: 'carol-secret', groups: ['dev', 'nope', 'nada'] })).rejects.toThrow('unknown groups: nope, nada');
      await expect(service.create(root, 'carol', { password: 'short' })).rejects.toThrow(/password must be 8/);
      for (const name of ['Carol', 'carol:x', 'a/b', '', '-carol', 'c'.repeat(65)]) {
        await expect(service.create(root, name, { password: 'carol-secret' })).rejects.toThrow(BadRequestException);
      }
      expect(store.userByName('carol')).toBeUndefined();
    });
  });

  describe('update', () => {
    it('lets a user change their own email, and clear it', async () => {
      const { service, alice } = setup();
      expect((await service.update(alice, 'alice', { email: 'alice@example.com' })).email).toBe('alice@example.com');
      expect((await service.update(alice, 'alice', { email: null })).email).toBeNull();
    });

    it('keeps admin-only fields for admins, even on oneself', async () => {
      const { service, store, alice } = setup();
      for (const changes of [{ admin: true }, { disabled: false }, { groups: ['ops'] }, { password: 'new-password' }]) {
        await expect(service.update(alice, 'alice', changes)).rejects.toThrow(ForbiddenException);
      }
      expect(store.userByName('alice')).toEqual(expect.objectContaining({ admin: false, passwordHash: FakePasswordHasher.hashOf('alice-password') }));
    });

    it('refuses changes to other users and through access tokens', async () => {
      const { service, alice } = setup();
      await expect(service.update(alice, 'bob', { email: 'x@example.com' })).rejects.toThrow(ForbiddenException);
      await expect(service.update({ ...alice, tokenScope: SCOPE }, 'alice', { email: 'x@example.com' })).rejects.toThrow(/access tokens/);
      await expect(service.update(ANONYMOUS, 'alice', { email: 'x@example.com' })).rejects.toThrow(UnauthorizedException);
    });

    it('lets an admin change anything of anyone', async () => {
      const { service, store, root } = setup();
      const bob = await service.update(root, 'bob', { admin: true, disabled: true, groups: ['ops'], password: 'bob-new-password' });
      expect(bob).toEqual(expect.objectContaining({ admin: true, disabled: true, groups: ['ops'] }));
      expect(store.userByName('bob')!.passwordHash).toBe(FakePasswordHasher.hashOf('bob-new-password'));
      expect((await service.update(root, 'bob', { groups: [] })).groups).toEqual([]);
    });

    it('does not let an admin lock themselves out', async () => {
      const { service, root } = setup();
      await expect(service.update(root, 'root', { admin: false })).rejects.toThrow(/your own admin rights/);
      await expect(service.update(root, 'root', { disabled: true })).rejects.toThrow(/disable your own/);
      expect((await service.update(root, 'root', { admin: true, disabled: false, email: 'root@example.com' })).email).toBe('root@example.com');
    });

    it('refuses unknown groups without changing anything else', async () => {
      const { service, store, root } = setup();
      await expect(service.update(root, 'alice', { email: 'a@example.com', groups: ['ops', 'ghosts'] })).rejects.toThrow('unknown group: ghosts');
      expect(store.userByName('alice')!.email).toBeNull();
      expect(store.groupNamesOf(store.userByName('alice')!.id)).toEqual(['dev']);
    });

    it('answers 404 for an unknown user and 400 for a short password', async () => {
      const { service, root } = setup();
      await expect(service.update(root, 'nobody', { email: null })).rejects.toThrow(NotFoundException);
      await expect(service.update(root, 'bob', { password: 'short' })).rejects.toThrow(BadRequestException);
    });
  });

  describe('delete', () => {
    it('deletes a user with its tokens, memberships and grants', async () => {
      const { service, store, root } = setup();
      const alice = store.userByName('alice')!;
      store.addPermission('p', ['*'], { users: { alice: ['read'], bob: ['read'] }, groups: {} });
      await store.accessTokenQueries().create({ name: 't', userId: alice.id, secretHash: 'h', repositories: ['*'], actions: ['read'], expiresAt: null });
      await service.delete(root, 'alice');
      expect(store.userByName('alice')).toBeUndefined();
      expect(store.memberships.some((m) => m.userId === alice.id)).toBe(false);
      expect(store.tokens.size).toBe(0);
      expect(store.permissions.get('p')!.principals.users).toEqual({ bob: ['read'] });
    });

    it('is for admins, never on themselves', async () => {
      const { service, store, alice, root } = setup();
      await expect(service.delete(alice, 'bob')).rejects.toThrow(ForbiddenException);
      await expect(service.delete(alice, 'alice')).rejects.toThrow(ForbiddenException);
      await expect(service.delete(ANONYMOUS, 'bob')).rejects.toThrow(UnauthorizedException);
      await expect(service.delete(root, 'root')).rejects.toThrow(/your own account/);
      await expect(service.delete(root, 'nobody')).rejects.toThrow(NotFoundException);
      expect(store.users.size).toBe(3);
    });
  });

  describe('changePassword', () => {
    it('changes the password when the current one is right', async () => {
      const { service, store, alice } = setup();
      await service.changePassword(alice, { currentPassword: 'alice-password', newPassword: 'alice-new-password' }, '10.0.0.1');
      expect(store.userByName('alice')!.passwordHash).toBe(FakePasswordHasher.hashOf('alice-new-password'));
    });

    it('refuses a wrong current password (400) and a short new one, changing nothing', async () => {
      const { service, store, alice } = setup();
      await expect(service.changePassword(alice, { currentPassword: 'wrong', newPassword: 'alice-new-password' }, '10.0.0.1')).rejects.toThrow('currentPassword is incorrect');
      await expect(service.changePassword(alice, { currentPassword: 'alice-password', newPassword: 'short' }, '10.0.0.1')).rejects.toThrow(/newPassword must be 8/);
      expect(store.userByName('alice')!.passwordHash).toBe(FakePasswordHasher.hashOf('alice-password'));
    });

    it('rate limits guesses of the current password like logins', async () => {
      const { service, alice, clock } = setup();
      for (let i = 0; i < 3; i++) {
        await expect(service.changePassword(alice, { currentPassword: `guess-${i}`, newPassword: 'alice-new-password' }, '10.0.0.1')).rejects.toThrow(BadRequestException);
      }
      const right = { currentPassword: 'alice-password', newPassword: 'alice-new-password' };
      await expect(service.changePassword(alice, right, '10.0.0.1')).rejects.toThrow(expect.objectContaining({ code: 'TOOMANYREQUESTS' }));
      clock.t += 61_000;
      await service.changePassword(alice, right, '10.0.0.1');
    });

    it('needs a logged-in, still enabled user', async () => {
      const { service, store, alice } = setup();
      const change = { currentPassword: 'alice-password', newPassword: 'alice-new-password' };
      await expect(service.changePassword(ANONYMOUS, change, '10.0.0.1')).rejects.toThrow(UnauthorizedException);
      store.userByName('alice')!.disabled = true;
      await expect(service.changePassword(alice, change, '10.0.0.1')).rejects.toThrow(UnauthorizedException);
    });
  });
});
