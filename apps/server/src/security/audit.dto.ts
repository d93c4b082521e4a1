import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsISO8601, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { AUDIT_PAGE_DEFAULT, AUDIT_PAGE_MAX, AuditEventView, AuditPage, AuditQuery } from '@wharf/auth';
import { AUDIT_ACTIONS } from '@wharf/db';

export class AuditQueryDto implements AuditQuery {
  @ApiPropertyOptional({ description: 'Events at or after this time (ISO 8601)', example: '2026-12-01T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'since must be a date and time (ISO 8601)' })
  since?: string;

  @ApiPropertyOptional({ description: 'Events before this time (ISO 8601)', example: '2026-12-02T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'until must be a date and time (ISO 8601)' })
  until?: string;

  @ApiPropertyOptional({ description: 'Events of this user (who acted, or the name a failed login tried)', example: 'alice' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  user?: string;

  @ApiPropertyOptional({ description: 'Events on this repository (a promotion is under its target)', example: 'docker-local' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  repository?: string;

  @ApiPropertyOptional({
    description: `Actions, comma-separated; a family such as \`login\` names all of \`login.*\`. One of: ${AUDIT_ACTIONS.join(', ')}`,
    example: 'login.failed,login.rate_limited',
  })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  action?: string;

  @ApiPropertyOptional({ description: "The previous page's `next`: events older than it", example: '1042' })
  @IsOptional()
  @Matches(/^[1-9]\d{0,17}$/, { message: 'before must be the next of a previous page (a positive integer)' })
  before?: string;

  @ApiPropertyOptional({ description: 'Events per page, newest first', default: AUDIT_PAGE_DEFAULT, maximum: AUDIT_PAGE_MAX })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(AUDIT_PAGE_MAX)
  limit?: number;
}

export class AuditEventDto implements AuditEventView {
  @ApiProperty({ description: 'Increasing with time of writing' }) id: string;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ enum: AUDIT_ACTIONS }) action: string;
  @ApiProperty({ type: String, nullable: true, description: 'Who acted (none for scheduled work); for a failed login, the name it tried' }) user: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The access token used, directly or through a registry token obtained with it' }) tokenId: string | null;
  @ApiProperty({ type: String, nullable: true, description: "The client's address" }) address: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The X-Request-Id of the request, as the server answered it' }) requestId: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Repository key' }) repository: string | null;
  @ApiProperty({ type: String, nullable: true }) image: string | null;
  @ApiProperty({ type: String, nullable: true }) tag: string | null;
  @ApiProperty({ type: String, nullable: true }) digest: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The rest, by action (never a secret)' }) details: Record<string, unknown>;
}

export class AuditPageDto implements AuditPage {
  @ApiProperty({ type: [AuditEventDto] }) events: AuditEventDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `before` for the next page; null on the last' }) next: string | null;
}
