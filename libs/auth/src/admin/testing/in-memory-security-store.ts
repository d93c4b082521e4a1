import { randomUUID } from 'node:crypto';
import {
  AccessTokenEntity,
  AccessTokenQueries,
  AuditEvent,
  AuditTrail,
  GroupEntity,
  GroupQueries,
  NewAccessToken,
  NewUser,
  PermissionEntity,
  PermissionPrincipals,
  PermissionQueries,
  UserEntity,
  UserQueries,
} from '@wharf/db';
import { Clock } from '../../clock';
import { PasswordHasher } from '../../password-hasher';
import { Principal, TokenScope } from '../../principal';

/**
 * The security tables in memory, behind fakes of the query classes with the same contracts
 * (null on a taken name, unknown names refused without a change, and so on), for unit tests.
 */
export class InMemorySecurityStore {
  readonly users = new Map<string, UserEntity>();
  readonly groups = new Map<string, GroupEntity>();
  memberships: Array<{ userId: string; groupId: string }> = [];
  readonly permissions = new Map<string, PermissionEntity>();
  readonly tokens = new Map<string, AccessTokenEntity>();
  /** What the services recorded in the audit log (changes that threw record nothing). */
  readonly audited: AuditEvent[] = [];

  constructor(private readonly clock: Clock = new Clock()) {}

  addUser(username: string, options: { password?: string; admin?: boolean; disabled?: boolean; groups?: string[] } = {}): UserEntity {
    const now = new Date(this.clock.now());
    const user: UserEntity = {
      id: randomUUID(),
      username,
      passwordHash: FakePasswordHasher.hashOf(options.password ?? `${username}-password`),
      email: null,
      admin: options.admin ?? false,
      disabled: options.disabled ?? false,
      createdAt: now,
      updatedAt: now,
    };
    this.users.set(user.id, user);
    for (const name of options.groups ?? []) {
      const group = this.groupByName(name) ?? this.addGroup(name);
      this.memberships.push({ userId: user.id, groupId: group.id });
    }
    return user;
  }

  addGroup(name: string, description = ''): GroupEntity {
    const group: GroupEntity = { id: randomUUID(), name, description, createdAt: new Date(this.clock.now()) };
    this.groups.set(group.id, group);
    return group;
  }

  addPermission(name: string, repositories: string[], principals: PermissionPrincipals): PermissionEntity {
    const now = new Date(this.clock.now());
    const permission: PermissionEntity = { id: randomUUID(), name, repositories, principals, createdAt: now, updatedAt: now };
    this.permissions.set(name, permission);
    return permission;
  }

  userByName(username: string): UserEntity | undefined {
    return [...this.users.values()].find((u) => u.username === username);
  }

  groupByName(name: string): GroupEntity | undefined {
    return [...this.groups.values()].find((g) => g.name === name);
  }

  groupNamesOf(userId: string): string[] {
    return this.memberships
      .filter((m) => m.userId === userId)
      .map((m) => this.groups.get(m.groupId)!.name)
      .sort();
  }

  /** What the authenticator would put on the request for this user (or its access token). */
  principal(username: string, tokenScope?: TokenScope): Principal {
    const user = this.userByName(username)!;
    return { userId: user.id, username, admin: user.admin, groups: this.groupNamesOf(user.id), ...(tokenScope ? { tokenScope } : {}) };
  }

  userQueries(): UserQueries {
    const fake = {
      findByUsername: async (username: string) => this.userByName(username) ?? null,
      findById: async (id: string) => this.users.get(id) ?? null,
      list: async () => [...this.users.values()].sort((a, b) => a.username.localeCompare(b.username)),
      create: async (user: NewUser) => (this.userByName(user.username) ? null : Object.assign(this.addUser(user.username), user)),
      update: async (id: string, values: Partial<UserEntity>) => {
        const user = this.users.get(id);
        if (user) Object.assign(user, values, { updatedAt: new Date(this.clock.now()) });
      },
      delete: async (id: string) => this.deleteUser(id),
      deleteWithGrants: async (id: string, username: string) => {
        this.deleteUser(id);
        for (const p of this.permissions.values()) delete p.principals.users?.[username];
      },
      existingUsernames: async (names: string[]) => names.filter((n) => this.userByName(n)),
      groupNames: async (userId: string) => this.groupNamesOf(userId),
      groupNamesByUser: async () => new Map([...this.users.keys()].map((id) => [id, this.groupNamesOf(id)])),
      setGroups: async (userId: string, names: string[]) => {
        const unknown = names.filter((n) => !this.groupByName(n));
        if (unknown.length) return unknown;
        this.memberships = this.memberships.filter((m) => m.userId !== userId);
        for (const n of names) this.memberships.push({ userId, groupId: this.groupByName(n)!.id });
        return [];
      },
    };
    return fake as unknown as UserQueries;
  }

  groupQueries(): GroupQueries {
    const fake = {
      findByName: async (name: string) => this.groupByName(name) ?? null,
      list: async () => [...this.groups.values()].sort((a, b) => a.name.localeCompare(b.name)),
      create: async (name: string, description: string) => (this.groupByName(name) ? null : this.addGroup(name, description)),
      update: async (id: string, description: string) => {
        const group = this.groups.get(id);
        if (group) group.description = description;
      },
      delete: async (id: string) => this.deleteGroup(id),
      deleteWithGrants: async (id: string, name: string) => {
        this.deleteGroup(id);
        for (const p of this.permissions.values()) delete p.principals.groups?.[name];
      },
      existingNames: async (names: string[]) => names.filter((n) => this.groupByName(n)),
      memberNames: async (groupId: string) => this.memberNamesOf(groupId),
      memberNamesByGroup: async () => new Map([...this.groups.keys()].map((id) => [id, this.memberNamesOf(id)])),
    };
    return fake as unknown as GroupQueries;
  }

  permissionQueries(): PermissionQueries {
    const fake = {
      list: async () => [...this.permissions.values()].sort((a, b) => a.name.localeCompare(b.name)),
      findByName: async (name: string) => this.permissions.get(name) ?? null,
      upsert: async (name: string, repositories: string[], principals: PermissionPrincipals) => {
        const existing = this.permissions.get(name);
        if (existing) {
          Object.assign(existing, { repositories, principals: structuredClone(principals), updatedAt: new Date(this.clock.now()) });
          return false;
        }
        this.addPermission(name, repositories, structuredClone(principals));
        return true;
      },
      delete: async (name: string) => this.permissions.delete(name),
    };
    return fake as unknown as PermissionQueries;
  }

  accessTokenQueries(): AccessTokenQueries {
    const fake = {
      create: async (token: NewAccessToken) => {
        const row: AccessTokenEntity = { ...token, id: randomUUID(), revokedAt: null, createdAt: new Date(this.clock.now()) };
        this.tokens.set(row.id, row);
        return row;
      },
      findById: async (id: string) => this.tokens.get(id) ?? null,
      list: async (userId?: string) => [...this.tokens.values()].filter((t) => !userId || t.userId === userId),
      revoke: async (id: string) => {
        const token = this.tokens.get(id);
        if (!token || token.revokedAt) return false;
        token.revokedAt = new Date(this.clock.now());
        return true;
      },
    };
    return fake as unknown as AccessTokenQueries;
  }

  /** The audit log, kept in `audited`; a change that throws records nothing (the store has no transactions to roll back). */
  auditTrail(): AuditTrail {
    const fake = {
      record: async (event: AuditEvent) => {
        this.audited.push(event);
      },
      recorded: async <T>(change: () => Promise<T>, describe: (result: T) => AuditEvent | AuditEvent[] | undefined) => {
        const result = await change();
        this.audited.push(...[describe(result) ?? []].flat());
        return result;
      },
    };
    return fake as unknown as AuditTrail;
  }

  private memberNamesOf(groupId: string): string[] {
    return this.memberships
      .filter((m) => m.groupId === groupId)
      .map((m) => this.users.get(m.userId)!.username)
      .sort();
  }

  private deleteUser(id: string): void {
    this.users.delete(id);
    this.memberships = this.memberships.filter((m) => m.userId !== id);
    for (const [tokenId, token] of this.tokens) if (token.userId === id) this.tokens.delete(tokenId);
  }

  private deleteGroup(id: string): void {
    this.groups.delete(id);
    this.memberships = this.memberships.filter((m) => m.groupId !== id);
  }
}

/** Not argon2: instant, and the "hash" shows which password it was made from. */
export class FakePasswordHasher extends PasswordHasher {
  static hashOf(password: string): string {
    return `fake-hash:${password}`;
  }

  async hash(password: string): Promise<string> {
    return FakePasswordHasher.hashOf(password);
  }

  async verify(hash: string, password: string): Promise<boolean> {
    return hash === FakePasswordHasher.hashOf(password);
  }
}

export class FakeClock extends Clock {
  t = Date.parse('2026-01-01T00:00:00Z');

  now(): number {
    return this.t;
  }
}
