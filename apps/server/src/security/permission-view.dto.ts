import { ApiProperty } from '@nestjs/swagger';
import { PermissionView } from '@wharf/auth';
import { GRANTS_SCHEMA } from './permission.dto';

/** A permission as the API answers it (PermissionView): both principal maps always present. */
export class PermissionViewDto implements PermissionView {
  @ApiProperty({ example: 'docker-deployers' })
  name: string;

  @ApiProperty({ type: [String], description: 'Repository keys or patterns with *', example: ['docker-*'] })
  repositories: string[];

  @ApiProperty({
    type: 'object',
    description: 'User and group names -> the actions granted to them',
    properties: { users: GRANTS_SCHEMA, groups: GRANTS_SCHEMA },
    required: ['users', 'groups'],
    selfRequired: true,
    example: { users: { alice: ['read', 'write'] }, groups: { ci: ['read', 'write', 'delete'] } },
  })
  principals: PermissionView['principals'];

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;
}
