import { Module } from '@nestjs/common';
import { SecurityAdminModule } from '@wharf/auth';
import { GroupsController } from './groups.controller';
import { PasswordController } from './password.controller';
import { PermissionsController } from './permissions.controller';
import { TokensController } from './tokens.controller';
import { UsersController } from './users.controller';

/** The security admin REST API: /api/security/{users,password,groups,permissions,tokens}. */
@Module({
  imports: [SecurityAdminModule],
  controllers: [UsersController, PasswordController, GroupsController, PermissionsController, TokensController],
})
export class SecurityModule {}
