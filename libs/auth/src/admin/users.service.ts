import { BadRequestException, ConflictException, ForbiddenException, Injectable, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { AuditTrail, GroupQueries, UserEntity, UserQueries } from '@wharf/db';
import { LoginRateLimiter } from '../login-rate-limiter';
import { PasswordHasher } from '../password-hasher';
import { Principal, canAdminister } from '../principal';
import { isSelf, requireAccountSession, requireAdmin, requireUser } from './admin-access';
import { assertSecurityName } from './security-name';

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 1024;

export interface UserDefinition {
  password: string;
  email?: string | null;
  admin?: boolean;
  disabled?: boolean;
  groups?: string[];
}

/** Every field optional; `email: null` clears it. */
export type UserChanges = Partial<UserDefinition>;

export interface PasswordChange {
  currentPassword: string;
  newPassword: string;
}

/** A user as the API shows it: never the password hash. */
export interface UserView {
  username: string;
  email: string | null;
  admin: boolean;
  disabled: boolean;
  groups: string[];
  createdAt: string;
  updatedAt: string;
}

/** Fields only an admin may set, even on their own account. */
const ADMIN_ONLY_FIELDS = ['password', 'admin', 'disabled', 'groups'] as const;

/**
 * Users. Admins manage everyone; a user may read themselves, change their own email, and change
 * their own password by proving the current one. An admin cannot lock themselves out (delete,
 * disable or demote themselves), so at least one enabled admin always remains.
 */
@Injectable()
export class UsersService {
  constructor(
    private readonly users: UserQueries,
    private readonly groups: GroupQueries,
    private readonly hasher: PasswordHasher,
    private readonly limiter: LoginRateLimiter,
    private readonly audit: AuditTrail,
  ) {}

  async list(principal: Principal): Promise<UserView[]> {
    requireAdmin(principal, 'list users');
    const [users, groupsByUser] = await Promise.all([this.users.list(), this.users.groupNamesByUser()]);
    return users.map((user) => view(user, groupsByUser.get(user.id) ?? []));
  }

  async get(principal: Principal, username: string): Promise<UserView> {
    this.requireSelfOrAdmin(principal, username, 'read other users');
    const user = await this.find(username);
    return view(user, await this.users.groupNames(user.id));
  }

  async create(principal: Principal, username: string, definition: UserDefinition): Promise<UserView> {
    requireAdmin(principal, 'create users');
    assertSecurityName('user', username);
    checkPassword(definition.password, 'password');
    const groups = await this.checkGroups(definition.groups ?? []);
    if (await this.users.findByUsername(username)) throw new ConflictException(`user ${username} already exists`);
    // Hashed before the transaction: argon2's ~100 ms would hold it open (the embedded database runs one at a time).
    const passwordHash = await this.hasher.hash(definition.password);
    const fields = { email: definition.email ?? null, admin: definition.admin ?? false, disabled: definition.disabled ?? false };
    const created = await this.audit.recorded(
      async () => {
        const created = await this.users.create({ username, passwordHash, ...fields });
        if (!created) return null;
        // A group went away between the check and now: the rollback leaves no half-made user behind.
        const unknown = await this.users.setGroups(created.id, groups);
        if (unknown.length) throw unknownGroups(unknown);
        return created;
      },
      (created) => (created ? { action: 'user.created', details: { user: username, ...fields, groups } } : undefined),
    );
    if (!created) throw new ConflictException(`user ${username} already exists`);
    return this.get(principal, username);
  }

  async update(principal: Principal, username: string, changes: UserChanges): Promise<UserView> {
    const caller = this.requireSelfOrAdmin(principal, username, 'change other users');
    const self = caller.username === username;
    if (!canAdminister(caller)) {
      requireAccountSession(caller, 'change the account');
      const adminOnly = ADMIN_ONLY_FIELDS.filter((field) => changes[field] !== undefined);
      if (adminOnly.length) {
        throw new ForbiddenException(`only administrators may change ${adminOnly.join(', ')}; change your own password with POST /api/security/password`);
      }
    } else if (self) {
      if (changes.admin === false) throw new ForbiddenException('you cannot remove your own admin rights: ask another administrator');
      if (changes.disabled === true) throw new ForbiddenException('you cannot disable your own account: ask another administrator');
    }
    const user = await this.find(username);
    if (changes.password !== undefined) checkPassword(changes.password, 'password');
    const passwordHash = changes.password !== undefined ? await this.hasher.hash(changes.password) : undefined;
    const values = {
      ...(changes.email !== undefined ? { email: changes.email } : {}),
      ...(changes.admin !== undefined ? { admin: changes.admin } : {}),
      ...(changes.disabled !== undefined ? { disabled: changes.disabled } : {}),
    };
    const groups = changes.groups !== undefined ? [...new Set(changes.groups)] : undefined;
    await this.audit.recorded(
      async () => {
        if (groups !== undefined) {
          // First, so unknown groups refuse the whole change.
          const unknown = await this.users.setGroups(user.id, groups);
          if (unknown.length) throw unknownGroups(unknown);
        }
        await this.users.update(user.id, { ...(passwordHash !== undefined ? { passwordHash } : {}), ...values });
      },
      () => ({
        action: 'user.updated',
        details: { user: username, ...values, ...(groups !== undefined ? { groups } : {}), ...(passwordHash !== undefined ? { passwordChanged: true } : {}) },
      }),
    );
    return this.get(principal, username);
  }

  async delete(principal: Principal, username: string): Promise<void> {
    const caller = requireAdmin(principal, 'delete users');
    if (caller.username === username) throw new ForbiddenException('you cannot delete your own account: ask another administrator');
    const user = await this.find(username);
    await this.audit.recorded(
      () => this.users.deleteWithGrants(user.id, user.username),
      () => ({ action: 'user.deleted', details: { user: username } }),
    );
  }

  /**
   * The caller's own password. The current one is checked like a login (same rate limit), so a
   * stolen session or registry token cannot be used to guess it.
   */
  async changePassword(principal: Principal, change: PasswordChange, clientAddress: string): Promise<void> {
    const caller = requireUser(principal, 'change your password');
    const user = await this.limiter.attempt(caller.username, clientAddress, async () => {
      const found = await this.users.findById(caller.userId);
      if (!found || found.disabled) throw new UnauthorizedException('authentication required: your account no longer exists or is disabled');
      return (await this.hasher.verify(found.passwordHash, change.currentPassword)) ? found : null;
    });
    if (!user) throw new BadRequestException('currentPassword is incorrect');
    checkPassword(change.newPassword, 'newPassword');
    const passwordHash = await this.hasher.hash(change.newPassword);
    await this.audit.recorded(
      () => this.users.update(user.id, { passwordHash }),
      () => ({ action: 'user.password_changed', details: { user: caller.username } }),
    );
  }

  /** Admins, or the user themselves; anyone else is refused before learning whether the user exists. */
  private requireSelfOrAdmin(principal: Principal, username: string, what: string) {
    const caller = requireUser(principal, what);
    if (!isSelf(caller, username) && !canAdminister(caller)) requireAdmin(caller, what);
    return caller;
  }

  private async find(username: string): Promise<UserEntity> {
    const user = await this.users.findByUsername(username);
    if (!user) throw new NotFoundException(`user ${username} not found`);
    return user;
  }

  private async checkGroups(names: string[]): Promise<string[]> {
    const wanted = [...new Set(names)];
    if (!wanted.length) return [];
    const existing = new Set(await this.groups.existingNames(wanted));
    const unknown = wanted.filter((name) => !existing.has(name));
    if (unknown.length) throw unknownGroups(unknown);
    return wanted;
  }
}

function checkPassword(password: string, field: string): void {
  if (typeof password !== 'string' || password.length < PASSWORD_MIN_LENGTH || password.length > PASSWORD_MAX_LENGTH) {
    throw new BadRequestException(`${field} must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters`);
  }
}

function unknownGroups(names: string[]): BadRequestException {
  return new BadRequestException(`unknown group${names.length > 1 ? 's' : ''}: ${names.join(', ')}`);
}

function view(user: UserEntity, groups: string[]): UserView {
  return {
    username: user.username,
    email: user.email,
    admin: user.admin,
    disabled: user.disabled,
    groups,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  };
}
