import { ApiProperty } from '@nestjs/swagger';
import { CreatedAccessToken, REPOSITORY_ACTIONS } from '@wharf/auth';

/** The answer to creating an access token (CreatedAccessToken): the only time the secret is shown. */
export class CreatedAccessTokenDto implements CreatedAccessToken {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'ci-deploy' })
  name: string;

  @ApiProperty({
    description: 'The secret, shown this once: use it as the password with Basic, or as `Authorization: Bearer <token>`',
    pattern: '^wharf_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$',
    example: 'wharf_0f8e2b6c9a4d4e1f8b7a6c5d4e3f2a1b_q3v9yJ7s0H2mXcR4bT8wZ1nK6pL5dF0gA9eU3iO7uYt',
  })
  token: string;

  @ApiProperty({ type: 'integer', description: 'The lifetime granted: what was asked, or the default (30 days) for 0 or nothing', example: 2592000 })
  expiresInSeconds: number;

  @ApiProperty({ format: 'date-time' })
  expiresAt: string;

  @ApiProperty({ type: [String], example: ['docker-local'] })
  repositories: string[];

  @ApiProperty({ enum: REPOSITORY_ACTIONS, isArray: true, example: ['read', 'write'] })
  actions: CreatedAccessToken['actions'];
}
