import { Module } from '@nestjs/common';
import { SecurityAdminModule } from '@wharf/auth';
import { AuditController } from './audit.controller';
import { GroupsController } from './groups.controller';
import { PasswordController } from './password.controller';
import { PermissionsController } from './permissions.controller';
import { TokensController } from './tokens.controller';
import { UsersController } from './users.controller';

/** The security admin REST API: /api/security/{users,password,groups,permissions,tokens}, and the audit log (/api/audit). */
@Module({
  imports: [SecurityAdminModule],
  controllers: [UsersController, PasswordController, GroupsController, PermissionsController, TokensController, AuditController],
})
export class SecurityModule {}
