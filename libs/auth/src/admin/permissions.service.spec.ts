import { BadRequestException, ForbiddenException, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { ANONYMOUS } from '../principal';
import { PermissionDefinition, PermissionsService } from './permissions.service';
import { InMemorySecurityStore } from './testing/in-memory-security-store';

function setup() {
  const store = new InMemorySecurityStore();
  store.addUser('root', { admin: true });
  store.addUser('alice', { groups: ['dev'] });
  store.addGroup('ci');
  const service = new PermissionsService(store.permissionQueries(), store.userQueries(), store.groupQueries(), store.auditTrail());
  return { store, service, root: store.principal('root'), alice: store.principal('alice') };
}

const DEPLOY: PermissionDefinition = { repositories: ['docker-*'], principals: { users: { alice: ['write', 'read'] }, groups: { ci: ['read', 'write', 'delete'] } } };

describe('PermissionsService', () => {
  it('is for admins only: 401 anonymous, 403 users and admin access tokens', async () => {
    const { service, store, alice, root } = setup();
    store.addPermission('existing', ['*'], { users: {}, groups: {} });
    const adminToken = { ...root, tokenScope: { tokenId: 't', repositories: ['*'], actions: ['manage' as const] } };
    const calls = [
      (p: typeof root) => service.list(p),
      (p: typeof root) => service.get(p, 'existing'),
      (p: typeof root) => service.replace(p, 'existing', DEPLOY),
      (p: typeof root) => service.delete(p, 'existing'),
    ];
    for (const call of calls) {
      await expect(call(ANONYMOUS)).rejects.toThrow(UnauthorizedException);
      await expect(call(alice)).rejects.toThrow(ForbiddenException);
      await expect(call(adminToken)).rejects.toThrow(ForbiddenException);
    }
    expect(store.permissions.get('existing')!.repositories).toEqual(['*']);
  });

  it('creates, then replaces, with actions in canonical order', async () => {
    const { service, root } = setup();
    const first = await service.replace(root, 'deploy', DEPLOY);
    expect(first.created).toBe(true);
    expect(first.permission).toEqual({
      name: 'deploy',
      repositories: ['docker-*'],
      principals: { users: { alice: ['read', 'write'] }, groups: { ci: ['read', 'write', 'delete'] } },
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const second = await service.replace(root, 'deploy', { repositories: ['docker-local'], principals: { groups: { dev: ['read'] } } });
    expect(second.created).toBe(false);
    expect(second.permission.principals).toEqual({ users: {}, groups: { dev: ['read'] } });
    expect((await service.list(root)).map((p) => p.name)).toEqual(['deploy']);
    expect(await service.get(root, 'deploy')).toEqual(second.permission);
  });

  it('names a bad action and whose it was', async () => {
    const { service, store, root } = setup();
    await expect(service.replace(root, 'p', { repositories: ['*'], principals: { users: { alice: ['read', 'admin'] } } })).rejects.toThrow(
      'principals.users.alice: action "admin" is not one of read, write, delete, manage',
    );
    await expect(service.replace(root, 'p', { repositories: ['*'], principals: { groups: { ci: 'read' } } })).rejects.toThrow(/principals.groups.ci/);
    expect(store.permissions.size).toBe(0);
  });

  it('refuses principals that do not exist, naming them', async () => {
    const { service, root } = setup();
    await expect(service.replace(root, 'p', { repositories: ['*'], principals: { users: { alice: ['read'], mallory: ['read'] } } })).rejects.toThrow(
      'principals.users: unknown user: mallory',
    );
    await expect(service.replace(root, 'p', { repositories: ['*'], principals: { groups: { x: [], y: [] } } })).rejects.toThrow('unknown groups: x, y');
    await expect(service.replace(root, 'p', { repositories: ['*'], principals: { users: JSON.parse('{"__proto__": ["read"]}') } })).rejects.toThrow(BadRequestException);
  });

  it('refuses bad repository patterns and names', async () => {
    const { service, root } = setup();
    await expect(service.replace(root, 'p', { repositories: ['Docker-*'], principals: {} })).rejects.toThrow(/repositories: "Docker-\*"/);
    await expect(service.replace(root, 'p', { repositories: [], principals: {} })).rejects.toThrow(BadRequestException);
    await expect(service.replace(root, 'bad name', { repositories: ['*'], principals: {} })).rejects.toThrow(/permission name/);
  });

  it('deletes, and answers 404 for unknown names', async () => {
    const { service, store, root } = setup();
    await service.replace(root, 'p', DEPLOY);
    await service.delete(root, 'p');
    expect(store.permissions.size).toBe(0);
    await expect(service.delete(root, 'p')).rejects.toThrow(NotFoundException);
    await expect(service.get(root, 'p')).rejects.toThrow(NotFoundException);
  });
});
