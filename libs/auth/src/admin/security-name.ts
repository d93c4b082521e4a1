import { BadRequestException } from '@nestjs/common';

/**
 * User, group and permission names: they appear in URLs, in `docker login`, and as keys in
 * permissions, so no ":" (Basic credentials), no "/" and no case variants of the same name.
 */
const SECURITY_NAME = /^[a-z0-9][a-z0-9._@-]{0,63}$/;

export function assertSecurityName(kind: 'user' | 'group' | 'permission' | 'webhook', name: string): void {
  if (!SECURITY_NAME.test(name)) {
    throw new BadRequestException(`${kind} name "${name.slice(0, 80)}" is invalid: 1 to 64 lowercase letters, digits, ".", "_", "@" and "-", starting with a letter or digit`);
  }
}
