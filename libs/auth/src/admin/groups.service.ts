import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { AuditTrail, GroupEntity, GroupQueries } from '@wharf/db';
import { Principal } from '../principal';
import { requireAdmin } from './admin-access';
import { assertSecurityName } from './security-name';

export interface GroupDefinition {
  description?: string;
}

export interface GroupView {
  name: string;
  description: string;
  /** User names; membership is set on the users (`groups`). */
  members: string[];
  createdAt: string;
}

/** Groups, for admins only. Deleting one drops its memberships and its grants. */
@Injectable()
export class GroupsService {
  constructor(
    private readonly groups: GroupQueries,
    private readonly audit: AuditTrail,
  ) {}

  async list(principal: Principal): Promise<GroupView[]> {
    requireAdmin(principal, 'list groups');
    const [groups, members] = await Promise.all([this.groups.list(), this.groups.memberNamesByGroup()]);
    return groups.map((group) => view(group, members.get(group.id) ?? []));
  }

  async get(principal: Principal, name: string): Promise<GroupView> {
    requireAdmin(principal, 'read groups');
    const group = await this.find(name);
    return view(group, await this.groups.memberNames(group.id));
  }

  async create(principal: Principal, name: string, definition: GroupDefinition): Promise<GroupView> {
    requireAdmin(principal, 'create groups');
    assertSecurityName('group', name);
    const created = await this.audit.recorded(
      () => this.groups.create(name, definition.description ?? ''),
      (created) => (created ? { action: 'group.created', details: { group: name } } : undefined),
    );
    if (!created) throw new ConflictException(`group ${name} already exists`);
    return view(created, []);
  }

  async update(principal: Principal, name: string, definition: GroupDefinition): Promise<GroupView> {
    requireAdmin(principal, 'change groups');
    const group = await this.find(name);
    if (definition.description !== undefined) {
      const description = definition.description;
      await this.audit.recorded(
        () => this.groups.update(group.id, description),
        () => ({ action: 'group.updated', details: { group: name, description } }),
      );
    }
    return this.get(principal, name);
  }

  async delete(principal: Principal, name: string): Promise<void> {
    requireAdmin(principal, 'delete groups');
    const group = await this.find(name);
    await this.audit.recorded(
      () => this.groups.deleteWithGrants(group.id, group.name),
      () => ({ action: 'group.deleted', details: { group: name } }),
    );
  }

  private async find(name: string): Promise<GroupEntity> {
    const group = await this.groups.findByName(name);
    if (!group) throw new NotFoundException(`group ${name} not found`);
    return group;
  }
}

function view(group: GroupEntity, members: string[]): GroupView {
  return { name: group.name, description: group.description, members, createdAt: group.createdAt.toISOString() };
}
