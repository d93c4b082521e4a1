import { ApiProperty } from '@nestjs/swagger';
import { UserView } from '@wharf/auth';

/** A user as the API answers it (UserView): never the password or its hash. */
export class UserViewDto implements UserView {
  @ApiProperty({ example: 'alice' })
  username: string;

  @ApiProperty({ type: String, nullable: true, example: 'alice@example.com' })
  email: string | null;

  @ApiProperty({ description: 'Administers Wharf' })
  admin: boolean;

  @ApiProperty({ description: 'Cannot log in; access tokens stop working' })
  disabled: boolean;

  @ApiProperty({ type: [String], description: 'Names of the groups the user belongs to', example: ['ci'] })
  groups: string[];

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;
}
