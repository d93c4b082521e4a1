import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';
import { REPOSITORY_KEY } from '@wharf/oci';

const RCLASSES = ['local', 'remote', 'virtual'] as const;

/** The body of PUT (create) and POST (update) /api/repositories/{key}, in Artifactory's shape. */
export class RepositoryDto {
  @ApiPropertyOptional({ description: 'Must equal the key in the path when given', example: 'docker-local' })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  @Matches(REPOSITORY_KEY, { message: 'key must be 1 to 64 lowercase letters, digits, "." and "-", starting and ending with a letter or digit' })
  key?: string;

  @ApiProperty({ enum: RCLASSES })
  @IsIn(RCLASSES)
  rclass: (typeof RCLASSES)[number];

  @ApiProperty({ enum: ['docker'] })
  @IsIn(['docker'])
  packageType: 'docker';

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  description?: string;

  @ApiPropertyOptional({ description: 'Anyone, logged in or not, may pull (default false)' })
  @IsOptional()
  @IsBoolean()
  anonymousRead?: boolean;
}

export class RepositoryUpdateDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  key?: string;

  @ApiPropertyOptional({ enum: RCLASSES })
  @IsOptional()
  @IsIn(RCLASSES)
  rclass?: (typeof RCLASSES)[number];

  @ApiPropertyOptional({ enum: ['docker'] })
  @IsOptional()
  @IsIn(['docker'])
  packageType?: 'docker';

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  description?: string;

  @ApiPropertyOptional({ description: 'Anyone, logged in or not, may pull (default false)' })
  @IsOptional()
  @IsBoolean()
  anonymousRead?: boolean;
}

export class RepositoryListQuery {
  @ApiPropertyOptional({ enum: RCLASSES })
  @IsOptional()
  @IsIn(RCLASSES)
  type?: (typeof RCLASSES)[number];
}
