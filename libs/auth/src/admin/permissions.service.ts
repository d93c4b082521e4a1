import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { AuditTrail, GroupQueries, PermissionEntity, PermissionPrincipals, PermissionQueries, RepositoryAction, UserQueries } from '@wharf/db';
import { Principal } from '../principal';
import { requireAdmin } from './admin-access';
import { checkActions, checkRepositoryPatterns } from './scope-validation';
import { assertSecurityName } from './security-name';

/** The body of PUT: Artifactory's shape, principals by name with their actions. */
export interface PermissionDefinition {
  repositories: string[];
  principals: {
    users?: Record<string, unknown>;
    groups?: Record<string, unknown>;
  };
}

export interface PermissionView {
  name: string;
  repositories: string[];
  principals: PermissionPrincipals;
  createdAt: string;
  updatedAt: string;
}

/**
 * Permissions, for admins only. They name users and groups, so those must exist when granted
 * (deleting a user or group removes it from every permission): a grant never waits for
 * whoever later takes the name.
 */
@Injectable()
export class PermissionsService {
  constructor(
    private readonly permissions: PermissionQueries,
    private readonly users: UserQueries,
    private readonly groups: GroupQueries,
    private readonly audit: AuditTrail,
  ) {}

  async list(principal: Principal): Promise<PermissionView[]> {
    requireAdmin(principal, 'list permissions');
    return (await this.permissions.list()).map(view);
  }

  async get(principal: Principal, name: string): Promise<PermissionView> {
    requireAdmin(principal, 'read permissions');
    return view(await this.find(name));
  }

  /** Creates or replaces the whole permission; `created` tells which. */
  async replace(principal: Principal, name: string, definition: PermissionDefinition): Promise<{ created: boolean; permission: PermissionView }> {
    requireAdmin(principal, 'change permissions');
    assertSecurityName('permission', name);
    const repositories = checkRepositoryPatterns(definition.repositories, 'repositories');
    const principals: PermissionPrincipals = {
      users: checkGrants(definition.principals?.users, 'user'),
      groups: checkGrants(definition.principals?.groups, 'group'),
    };
    await this.checkExist(Object.keys(principals.users), (names) => this.users.existingUsernames(names), 'user');
    await this.checkExist(Object.keys(principals.groups), (names) => this.groups.existingNames(names), 'group');
    const created = await this.audit.recorded(
      () => this.permissions.upsert(name, repositories, principals),
      (created) => ({ action: 'permission.saved', details: { permission: name, created, repositories, principals } }),
    );
    return { created, permission: view(await this.find(name)) };
  }

  async delete(principal: Principal, name: string): Promise<void> {
    requireAdmin(principal, 'delete permissions');
    const deleted = await this.audit.recorded(
      () => this.permissions.delete(name),
      (deleted) => (deleted ? { action: 'permission.deleted', details: { permission: name } } : undefined),
    );
    if (!deleted) throw new NotFoundException(`permission ${name} not found`);
  }

  private async find(name: string): Promise<PermissionEntity> {
    const permission = await this.permissions.findByName(name);
    if (!permission) throw new NotFoundException(`permission ${name} not found`);
    return permission;
  }

  private async checkExist(names: string[], existing: (names: string[]) => Promise<string[]>, kind: 'user' | 'group'): Promise<void> {
    if (!names.length) return;
    const found = new Set(await existing(names));
    const unknown = names.filter((name) => !found.has(name));
    if (unknown.length) throw new BadRequestException(`principals.${kind}s: unknown ${kind}${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`);
  }
}

/** `{name: actions[]}` with every action checked; 400 naming the principal and the bad action. */
function checkGrants(grants: Record<string, unknown> | undefined, kind: 'user' | 'group'): Record<string, RepositoryAction[]> {
  if (grants === undefined || grants === null) return {};
  if (typeof grants !== 'object' || Array.isArray(grants)) throw new BadRequestException(`principals.${kind}s must be an object of ${kind} name to actions`);
  // fromEntries defines own properties, so a "__proto__" key stays data (and then fails the existence check).
  return Object.fromEntries(Object.entries(grants).map(([name, actions]) => [name, checkActions(actions, `principals.${kind}s.${name.slice(0, 64)}`)]));
}

function view(permission: PermissionEntity): PermissionView {
  return {
    name: permission.name,
    repositories: permission.repositories,
    principals: { users: permission.principals.users ?? {}, groups: permission.principals.groups ?? {} },
    createdAt: permission.createdAt.toISOString(),
    updatedAt: permission.updatedAt.toISOString(),
  };
}
