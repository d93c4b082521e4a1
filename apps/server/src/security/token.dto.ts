import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { AccessTokenRequest, MAX_TOKEN_LIFETIME_SECONDS, REPOSITORY_ACTIONS, TOKEN_NAME_MAX_LENGTH } from '@wharf/auth';

/** The body of POST /api/security/tokens. */
export class TokenCreateDto implements AccessTokenRequest {
  @ApiProperty({ example: 'ci-deploy', maxLength: TOKEN_NAME_MAX_LENGTH })
  @IsString()
  @Length(1, TOKEN_NAME_MAX_LENGTH)
  name: string;

  @ApiPropertyOptional({ description: 'Lifetime; 0 or absent: 30 days; at most one year', minimum: 0, maximum: MAX_TOKEN_LIFETIME_SECONDS })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_TOKEN_LIFETIME_SECONDS)
  expiresInSeconds?: number;

  @ApiProperty({ type: [String], description: 'Repository keys or patterns with *', example: ['docker-local'] })
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  repositories: string[];

  // Each action is checked by the service, whose message names the bad one.
  @ApiProperty({ type: [String], enum: REPOSITORY_ACTIONS, example: ['read', 'write'] })
  @IsArray()
  @ArrayMaxSize(REPOSITORY_ACTIONS.length * 4)
  @IsString({ each: true })
  actions: string[];
}

export class TokenListQuery {
  @ApiPropertyOptional({ description: "Admins: one user's tokens (default: everyone's)" })
  @IsOptional()
  @IsString()
  user?: string;
}
