import { Module } from '@nestjs/common';
import { AccessTokensService } from './admin/access-tokens.service';
import { AuditLogService } from './admin/audit-log.service';
import { GroupsService } from './admin/groups.service';
import { PermissionsService } from './admin/permissions.service';
import { UsersService } from './admin/users.service';
import { PasswordHasher } from './password-hasher';
import { AuditRetention } from './audit-retention';

const SERVICES = [UsersService, GroupsService, PermissionsService, AccessTokensService, AuditLogService];

/**
 * The security admin services. Query classes come from the global DatabaseModule; Clock and
 * LoginRateLimiter from the global AuthModule (one limiter, so a password change's wrong
 * current password counts against the same budget as a failed login). PasswordHasher is
 * stateless, so a local instance is as good as any. The audit log's reader and its retention
 * live here too: the log is the security admin's.
 */
@Module({
  providers: [...SERVICES, PasswordHasher, AuditRetention],
  exports: SERVICES,
})
export class SecurityAdminModule {}
