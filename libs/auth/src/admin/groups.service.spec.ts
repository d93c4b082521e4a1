import { BadRequestException, ConflictException, ForbiddenException, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { ANONYMOUS } from '../principal';
import { GroupsService } from './groups.service';
import { InMemorySecurityStore } from './testing/in-memory-security-store';

function setup() {
  const store = new InMemorySecurityStore();
  store.addUser('root', { admin: true });
  store.addUser('alice', { groups: ['dev'] });
  store.addUser('bob', { groups: ['dev', 'ops'] });
  return { store, service: new GroupsService(store.groupQueries(), store.auditTrail()), root: store.principal('root'), alice: store.principal('alice') };
}

describe('GroupsService', () => {
  it('is for admins only: 401 anonymous, 403 users and admin access tokens, for every operation', async () => {
    const { service, alice, root } = setup();
    const adminToken = { ...root, tokenScope: { tokenId: 't', repositories: ['*'], actions: ['manage' as const] } };
    const calls = [
      (p: typeof root) => service.list(p),
      (p: typeof root) => service.get(p, 'dev'),
      (p: typeof root) => service.create(p, 'new', {}),
      (p: typeof root) => service.update(p, 'dev', { description: 'x' }),
      (p: typeof root) => service.delete(p, 'dev'),
    ];
    for (const call of calls) {
      await expect(call(ANONYMOUS)).rejects.toThrow(UnauthorizedException);
      await expect(call(alice)).rejects.toThrow(ForbiddenException);
      await expect(call(adminToken)).rejects.toThrow(ForbiddenException);
    }
  });

  it('lists groups with their members', async () => {
    const { service, root } = setup();
    expect(await service.list(root)).toEqual([
      { name: 'dev', description: '', members: ['alice', 'bob'], createdAt: expect.any(String) },
      { name: 'ops', description: '', members: ['bob'], createdAt: expect.any(String) },
    ]);
  });

  it('creates, reads and updates a group', async () => {
    const { service, root } = setup();
    expect(await service.create(root, 'qa', { description: 'Testers' })).toEqual({ name: 'qa', description: 'Testers', members: [], createdAt: expect.any(String) });
    expect((await service.update(root, 'qa', { description: 'Quality' })).description).toBe('Quality');
    expect((await service.update(root, 'qa', {})).description).toBe('Quality');
    expect((await service.get(root, 'qa')).description).toBe('Quality');
  });

  it('refuses a taken name (409) and bad names (400); unknown groups are 404', async () => {
    const { service, root } = setup();
    await expect(service.create(root, 'dev', {})).rejects.toThrow(ConflictException);
    await expect(service.create(root, 'Dev Team', {})).rejects.toThrow(BadRequestException);
    await expect(service.get(root, 'nope')).rejects.toThrow(NotFoundException);
    await expect(service.update(root, 'nope', {})).rejects.toThrow(NotFoundException);
    await expect(service.delete(root, 'nope')).rejects.toThrow(NotFoundException);
  });

  it('deleting a group drops its memberships and its grants', async () => {
    const { service, store, root } = setup();
    store.addPermission('p', ['*'], { users: {}, groups: { dev: ['read'], ops: ['write'] } });
    await service.delete(root, 'dev');
    expect(store.groupByName('dev')).toBeUndefined();
    expect(store.groupNamesOf(store.userByName('bob')!.id)).toEqual(['ops']);
    expect(store.permissions.get('p')!.principals.groups).toEqual({ ops: ['write'] });
  });
});
