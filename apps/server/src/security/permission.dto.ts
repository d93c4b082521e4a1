import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsDefined, IsObject, IsOptional, IsString, ValidateNested } from 'class-validator';
import { PermissionDefinition, REPOSITORY_ACTIONS } from '@wharf/auth';

export const GRANTS_SCHEMA = { type: 'object' as const, additionalProperties: { type: 'array' as const, items: { type: 'string' as const, enum: [...REPOSITORY_ACTIONS] } } };

/** Name -> actions. The names and actions are checked by the service (they are map keys and values). */
export class PermissionPrincipalsDto {
  @ApiPropertyOptional({ ...GRANTS_SCHEMA, example: { alice: ['read', 'write'] } })
  @IsOptional()
  @IsObject()
  users?: Record<string, unknown>;

  @ApiPropertyOptional({ ...GRANTS_SCHEMA, example: { ci: ['read', 'write', 'delete'] } })
  @IsOptional()
  @IsObject()
  groups?: Record<string, unknown>;
}

/** The body of PUT /api/security/permissions/{name}: the whole permission, created or replaced. */
export class PermissionDto implements PermissionDefinition {
  @ApiProperty({ type: [String], description: 'Repository keys or patterns with *', example: ['docker-*'] })
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  repositories: string[];

  @ApiProperty({ type: PermissionPrincipalsDto })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => PermissionPrincipalsDto)
  principals: PermissionPrincipalsDto;
}
