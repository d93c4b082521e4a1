import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The OAuth2 form of POST /v2/token, for the OpenAPI document: TokenEndpoint reads it as is. */
export class TokenRequestFormDto {
  @ApiProperty({ enum: ['password', 'refresh_token'] })
  grant_type: 'password' | 'refresh_token';

  @ApiPropertyOptional({ description: 'grant_type=password: the user name' })
  username?: string;

  @ApiPropertyOptional({ description: 'grant_type=password: the password, or an access token (wharf_...)', format: 'password' })
  password?: string;

  @ApiPropertyOptional({ description: 'grant_type=refresh_token: a refresh token from an earlier answer' })
  refresh_token?: string;

  @ApiPropertyOptional({ description: 'Space-separated scopes, e.g. `repository:docker-local/app:pull,push`', example: 'repository:docker-local/app:pull,push' })
  scope?: string;

  @ApiPropertyOptional({ description: "The service the token is for; tokens always name this server's (WHARF_AUTH_SERVICE, default wharf)", example: 'wharf' })
  service?: string;

  @ApiPropertyOptional({ description: 'The client, e.g. docker; accepted and not checked', example: 'docker' })
  client_id?: string;

  @ApiPropertyOptional({ enum: ['offline', 'online'], description: 'offline: add a refresh token' })
  access_type?: 'offline' | 'online';
}
