import { ApiProperty } from '@nestjs/swagger';
import { GroupView } from '@wharf/auth';

/** A group as the API answers it (GroupView). */
export class GroupViewDto implements GroupView {
  @ApiProperty({ example: 'ci' })
  name: string;

  @ApiProperty({ description: 'Empty when none was given', example: 'The CI pipelines' })
  description: string;

  @ApiProperty({ type: [String], description: "User names; membership is set on the users' `groups`", example: ['alice'] })
  members: string[];

  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}
