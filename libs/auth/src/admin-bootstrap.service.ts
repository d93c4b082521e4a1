import { randomBytes } from 'node:crypto';
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { WharfConfig } from '@wharf/config';
import { UserQueries } from '@wharf/db';
import { PasswordHasher } from './password-hasher';

/** Creates the first admin on a new installation, so someone can log in at all. */
@Injectable()
export class AdminBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger('AdminBootstrap');

  constructor(
    private readonly config: WharfConfig,
    private readonly users: UserQueries,
    private readonly hasher: PasswordHasher,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (await this.users.findByUsername('admin')) return;
    const generated = this.config.adminPassword === undefined;
    const password = this.config.adminPassword ?? randomBytes(18).toString('base64url');
    const created = await this.users.create({ username: 'admin', passwordHash: await this.hasher.hash(password), email: null, admin: true, disabled: false });
    if (!created) return; // another instance created it first
    if (generated) {
      // The one deliberate exception to "no secret in a log line": it is shown once, at creation.
      this.logger.warn({ msg: `created user "admin" with generated password: ${password} (set WHARF_ADMIN_PASSWORD to choose it)` });
    } else {
      this.logger.log({ msg: 'created user "admin" with the password from WHARF_ADMIN_PASSWORD' });
    }
  }
}
