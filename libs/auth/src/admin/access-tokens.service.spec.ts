import { BadRequestException, ForbiddenException, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { ANONYMOUS } from '../principal';
import { hashSecret, parseAccessTokenSecret } from './access-token-secret';
import { AccessTokenRequest, AccessTokensService, DEFAULT_TOKEN_LIFETIME_SECONDS, MAX_TOKEN_LIFETIME_SECONDS } from './access-tokens.service';
import { FakeClock, InMemorySecurityStore } from './testing/in-memory-security-store';

const CI: AccessTokenRequest = { name: 'ci', repositories: ['docker-*'], actions: ['write', 'read'] };

function setup() {
  const clock = new FakeClock();
  const store = new InMemorySecurityStore(clock);
  store.addUser('root', { admin: true });
  store.addUser('alice');
  store.addUser('bob');
  const service = new AccessTokensService(store.accessTokenQueries(), store.userQueries(), clock, store.auditTrail());
  return { store, service, clock, root: store.principal('root'), alice: store.principal('alice'), bob: store.principal('bob') };
}

describe('AccessTokensService', () => {
  describe('create', () => {
    it('returns the secret once and keeps only its sha256', async () => {
      const { service, store, clock, alice } = setup();
      const created = await service.create(alice, CI);
      const parsed = parseAccessTokenSecret(created.token)!;
      expect(parsed.tokenId).toBe(created.id);
      expect(created).toEqual({
        id: created.id,
        name: 'ci',
        token: created.token,
        expiresInSeconds: DEFAULT_TOKEN_LIFETIME_SECONDS,
        expiresAt: new Date(clock.t + DEFAULT_TOKEN_LIFETIME_SECONDS * 1000).toISOString(),
        repositories: ['docker-*'],
        actions: ['read', 'write'],
      });
      const row = store.tokens.get(created.id)!;
      expect(row.userId).toBe(alice.userId);
      expect(row.secretHash).toBe(hashSecret(parsed.secret));
      expect(JSON.stringify(row)).not.toContain(parsed.secret);
    });

    it('makes a different secret every time', async () => {
      const { service, alice } = setup();
      const a = await service.create(alice, CI);
      const b = await service.create(alice, CI);
      expect(parseAccessTokenSecret(a.token)!.secret).not.toBe(parseAccessTokenSecret(b.token)!.secret);
    });

    it('takes a lifetime up to a year; 0 means the default', async () => {
      const { service, clock, alice } = setup();
      expect((await service.create(alice, { ...CI, expiresInSeconds: 60 })).expiresAt).toBe(new Date(clock.t + 60_000).toISOString());
      expect((await service.create(alice, { ...CI, expiresInSeconds: 0 })).expiresAt).toBe(new Date(clock.t + DEFAULT_TOKEN_LIFETIME_SECONDS * 1000).toISOString());
      // The answer says which lifetime applied, so a caller who sent 0 or nothing sees the default.
      expect(await service.create(alice, { ...CI, expiresInSeconds: 0 })).toMatchObject({ expiresInSeconds: DEFAULT_TOKEN_LIFETIME_SECONDS });
      expect(await service.create(alice, { ...CI })).toMatchObject({ expiresInSeconds: 30 * 24 * 3600 });
      expect(await service.create(alice, { ...CI, expiresInSeconds: 60 })).toMatchObject({ expiresInSeconds: 60 });
      expect((await service.create(alice, { ...CI, expiresInSeconds: MAX_TOKEN_LIFETIME_SECONDS })).expiresAt).toBe(
        new Date(clock.t + MAX_TOKEN_LIFETIME_SECONDS * 1000).toISOString(),
      );
      for (const expiresInSeconds of [MAX_TOKEN_LIFETIME_SECONDS + 1, -1, 1.5]) {
        await expect(service.create(alice, { ...CI, expiresInSeconds })).rejects.toThrow(/expiresInSeconds/);
      }
    });

    it('refuses bad actions (named), empty actions, bad patterns and names', async () => {
      const { service, store, alice } = setup();
      await expect(service.create(alice, { ...CI, actions: ['read', 'push'] })).rejects.toThrow('actions: action "push" is not one of read, write, delete, manage');
      await expect(service.create(alice, { ...CI, actions: [] })).rejects.toThrow(BadRequestException);
      await expect(service.create(alice, { ...CI, repositories: [] })).rejects.toThrow(/repositories/);
      await expect(service.create(alice, { ...CI, repositories: ['a/b'] })).rejects.toThrow(/repositories/);
      await expect(service.create(alice, { ...CI, name: ' ' })).rejects.toThrow(/name/);
      await expect(service.create(alice, { ...CI, name: 'x'.repeat(129) })).rejects.toThrow(/name/);
      expect(store.tokens.size).toBe(0);
    });

    it("needs a password login: 401 anonymous, 403 through an access token (even an admin's)", async () => {
      const { service, alice, root } = setup();
      const scope = { tokenId: 't', repositories: ['*'], actions: ['read' as const] };
      await expect(service.create(ANONYMOUS, CI)).rejects.toThrow(UnauthorizedException);
      await expect(service.create({ ...alice, tokenScope: scope }, CI)).rejects.toThrow(ForbiddenException);
      await expect(service.create({ ...root, tokenScope: scope }, CI)).rejects.toThrow(ForbiddenException);
    });
  });

  describe('list', () => {
    it('shows a user their own tokens only, with flags and without secrets', async () => {
      const { service, clock, alice, bob } = setup();
      const mine = await service.create(alice, { ...CI, expiresInSeconds: 60 });
      await service.create(bob, CI);
      clock.t += 61_000;
      const list = await service.list(alice);
      expect(list).toEqual([
        {
          id: mine.id,
          name: 'ci',
          user: 'alice',
          repositories: ['docker-*'],
          actions: ['read', 'write'],
          createdAt: expect.any(String),
          expiresAt: mine.expiresAt,
          revokedAt: null,
          revoked: false,
          expired: true,
        },
      ]);
      expect(JSON.stringify(list)).not.toMatch(/wharf_|secret|hash/i);
      expect(await service.list(alice, 'alice')).toEqual(list);
    });

    it("refuses other users' tokens to non-admins, and everything to anonymous", async () => {
      const { service, alice } = setup();
      await expect(service.list(alice, 'bob')).rejects.toThrow(ForbiddenException);
      await expect(service.list(ANONYMOUS)).rejects.toThrow(UnauthorizedException);
    });

    it("shows an admin everyone's tokens, or one user's", async () => {
      const { service, root, alice, bob } = setup();
      await service.create(alice, CI);
      await service.create(bob, CI);
      expect((await service.list(root)).map((t) => t.user).sort()).toEqual(['alice', 'bob']);
      expect((await service.list(root, 'bob')).map((t) => t.user)).toEqual(['bob']);
      expect(await service.list(root, 'root')).toEqual([]);
      await expect(service.list(root, 'nobody')).rejects.toThrow(NotFoundException);
    });

    it("an admin's access token lists only its owner's tokens", async () => {
      const { service, root, alice } = setup();
      await service.create(alice, CI);
      const own = await service.create(root, CI);
      const adminToken = { ...root, tokenScope: { tokenId: own.id, repositories: ['*'], actions: ['read' as const] } };
      expect((await service.list(adminToken)).map((t) => t.id)).toEqual([own.id]);
      await expect(service.list(adminToken, 'alice')).rejects.toThrow(ForbiddenException);
    });
  });

  describe('revoke', () => {
    it('lets the owner revoke, at once and idempotently', async () => {
      const { service, store, alice } = setup();
      const token = await service.create(alice, CI);
      await service.revoke(alice, token.id);
      expect(store.tokens.get(token.id)!.revokedAt).not.toBeNull();
      await service.revoke(alice, token.id);
      expect((await service.list(alice))[0]).toEqual(expect.objectContaining({ revoked: true, revokedAt: expect.any(String), expired: false }));
    });

    it('lets a token revoke itself', async () => {
      const { service, alice } = setup();
      const token = await service.create(alice, CI);
      await service.revoke({ ...alice, tokenScope: { tokenId: token.id, repositories: ['*'], actions: ['read'] } }, token.id);
      expect((await service.list(alice))[0].revoked).toBe(true);
    });

    it("treats someone else's token as not found, except for an admin", async () => {
      const { service, store, alice, bob, root } = setup();
      const token = await service.create(alice, CI);
      await expect(service.revoke(bob, token.id)).rejects.toThrow(NotFoundException);
      expect(store.tokens.get(token.id)!.revokedAt).toBeNull();
      await expect(service.revoke({ ...root, tokenScope: { tokenId: 't', repositories: ['*'], actions: ['manage'] } }, token.id)).rejects.toThrow(NotFoundException);
      await service.revoke(root, token.id.toUpperCase());
      expect(store.tokens.get(token.id)!.revokedAt).not.toBeNull();
    });

    it('answers 404 for unknown or malformed ids, 401 for anonymous', async () => {
      const { service, alice } = setup();
      await expect(service.revoke(alice, '00000000-0000-0000-0000-000000000000')).rejects.toThrow(NotFoundException);
      await expect(service.revoke(alice, "1' OR 1=1 --")).rejects.toThrow(NotFoundException);
      await expect(service.revoke(ANONYMOUS, '00000000-0000-0000-0000-000000000000')).rejects.toThrow(UnauthorizedException);
    });
  });
});
