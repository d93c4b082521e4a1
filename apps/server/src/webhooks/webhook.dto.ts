import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { WEBHOOK_EVENTS } from '@wharf/db';
import {
  DELIVERY_PAGE_DEFAULT,
  DELIVERY_PAGE_MAX,
  DeliveryPage,
  DeliveryView,
  WEBHOOK_SECRET_MAX_LENGTH,
  WEBHOOK_SECRET_MIN_LENGTH,
  WebhookDefinition,
  WebhookView,
} from '@wharf/registry';

/** The body of PUT /api/webhooks/{name}: the whole webhook, created or replaced. */
export class WebhookDto implements WebhookDefinition {
  @ApiProperty({
    description: 'Where deliveries are POSTed: http(s) only; private-network addresses (also as a host name resolves at delivery) only with WHARF_WEBHOOK_ALLOW_PRIVATE=true',
    example: 'https://ci.example.com/hooks/wharf',
  })
  @IsString()
  @MaxLength(2048)
  url: string;

  @ApiProperty({ description: 'What to deliver', enum: WEBHOOK_EVENTS, isArray: true, example: ['push', 'delete', 'promote'] })
  @IsArray()
  @ArrayMaxSize(WEBHOOK_EVENTS.length)
  @IsIn([...WEBHOOK_EVENTS], { each: true, message: `events must be among ${WEBHOOK_EVENTS.join(', ')}` })
  events: string[];

  @ApiPropertyOptional({ type: [String], description: 'Repository keys or patterns with *, of the events delivered; absent: every repository', example: ['docker-*'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  repositories?: string[];

  @ApiPropertyOptional({
    description: `Signs every delivery (X-Wharf-Signature: sha256=<hex HMAC-SHA256 of the body>); ${WEBHOOK_SECRET_MIN_LENGTH} to ${WEBHOOK_SECRET_MAX_LENGTH} characters; needed to create, kept when a replacement leaves it out; stored encrypted and never shown`,
    writeOnly: true,
    example: 'f1d2d2f924e986ac86fdf7b36c94bcdf32beec15',
  })
  @IsOptional()
  @IsString()
  secret?: string;
}

export class WebhookViewDto implements WebhookView {
  @ApiProperty() name: string;
  @ApiProperty() url: string;
  @ApiProperty({ enum: WEBHOOK_EVENTS, isArray: true }) events: (typeof WEBHOOK_EVENTS)[number][];
  @ApiProperty({ type: [String] }) repositories: string[];
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class DeliveryListQuery {
  @ApiPropertyOptional({ enum: ['pending', 'delivered', 'failed'] })
  @IsOptional()
  @IsIn(['pending', 'delivered', 'failed'])
  status?: 'pending' | 'delivered' | 'failed';

  @ApiPropertyOptional({ description: "The previous page's `next`: older deliveries" })
  @IsOptional()
  @Matches(/^[1-9]\d{0,17}$/, { message: 'before must be the next of a previous page (a positive integer)' })
  before?: string;

  @ApiPropertyOptional({ default: DELIVERY_PAGE_DEFAULT, maximum: DELIVERY_PAGE_MAX })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(DELIVERY_PAGE_MAX)
  limit?: number;
}

export class DeliveryViewDto implements DeliveryView {
  @ApiProperty() id: string;
  @ApiProperty({ enum: WEBHOOK_EVENTS }) event: string;
  @ApiProperty({ format: 'uuid', description: "The envelope event's id: the same on every attempt, and for every webhook of the event" }) eventId: string;
  @ApiProperty({ enum: ['pending', 'delivered', 'failed'], description: 'failed: given up after a day of attempts (POST .../redeliver sends it again)' }) status:
    | 'pending'
    | 'delivered'
    | 'failed';
  @ApiProperty({ description: 'Attempts since it was made or re-triggered' }) attempts: number;
  @ApiProperty({ type: String, nullable: true, format: 'date-time', description: 'When it is tried next (pending only)' }) nextAttemptAt: string | null;
  @ApiProperty({ format: 'date-time', description: 'Failed attempts go on until then' }) retryUntil: string;
  @ApiProperty({ type: Number, nullable: true, description: "The receiver's HTTP status at the last attempt" }) lastStatus: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'Why the last attempt failed' }) lastError: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) lastAttemptAt: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) deliveredAt: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The event sent, as the body `{"events": [payload]}`' }) payload: unknown;
}

export class DeliveryPageDto implements DeliveryPage {
  @ApiProperty({ type: [DeliveryViewDto] }) deliveries: DeliveryViewDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `before` for the next page; null on the last' }) next: string | null;
}
