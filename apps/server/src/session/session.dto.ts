import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';

export class SignInDto {
  @ApiProperty({ example: 'admin' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  username: string;

  @ApiProperty({ description: 'The password (access tokens are for clients and scripts)' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  password: string;
}

export class SessionViewDto {
  @ApiProperty() username: string;
  @ApiProperty() admin: boolean;
  @ApiProperty({ description: 'Send it back as the X-CSRF-Token header on every change made with the session cookie' }) csrfToken: string;
  @ApiProperty() expiresAt: Date;
}
