import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The token endpoint's answer, as TokenEndpoint writes it (Docker token spec and its OAuth2 form). */
export class RegistryTokenDto {
  @ApiProperty({ description: 'The registry bearer token: an ES256 JWT for /v2 routes (not for /api)' })
  token: string;

  @ApiProperty({ description: 'The same token, under the OAuth2 name' })
  access_token: string;

  @ApiProperty({ type: 'integer', description: 'Seconds the token is valid', example: 300 })
  expires_in: number;

  @ApiProperty({ format: 'date-time' })
  issued_at: string;

  @ApiPropertyOptional({
    description:
      'Only when asked for (offline_token=true, access_type=offline, or grant_type=refresh_token) and never to anonymous callers: trade it with grant_type=refresh_token',
  })
  refresh_token?: string;
}
