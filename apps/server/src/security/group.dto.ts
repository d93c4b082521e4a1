import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { GroupDefinition } from '@wharf/auth';

/** The body of PUT (create) and POST (update) /api/security/groups/{name}. */
export class GroupDto implements GroupDefinition {
  @ApiPropertyOptional({ example: 'The CI pipelines' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  description?: string;
}
