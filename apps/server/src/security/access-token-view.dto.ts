import { ApiProperty } from '@nestjs/swagger';
import { AccessTokenView, REPOSITORY_ACTIONS } from '@wharf/auth';

/** An access token as listings show it (AccessTokenView): never the secret. */
export class AccessTokenViewDto implements AccessTokenView {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'ci-deploy' })
  name: string;

  @ApiProperty({ description: "The owner's user name", example: 'alice' })
  user: string;

  @ApiProperty({ type: [String], description: 'Repository keys or patterns with *', example: ['docker-local'] })
  repositories: string[];

  @ApiProperty({ enum: REPOSITORY_ACTIONS, isArray: true, example: ['read', 'write'] })
  actions: AccessTokenView['actions'];

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  expiresAt: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  revokedAt: string | null;

  @ApiProperty()
  revoked: boolean;

  @ApiProperty()
  expired: boolean;
}
