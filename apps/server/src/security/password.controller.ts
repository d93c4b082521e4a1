import { Body, Controller, HttpCode, Ip, Post } from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Principal, UsersService } from '@wharf/auth';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { ApiProblems } from '../http/api-problems.decorator';
import { PasswordChangeDto } from './password.dto';

@ApiTags('security')
@Controller('api/security/password')
export class PasswordController {
  constructor(private readonly users: UsersService) {}

  @Post()
  @HttpCode(204)
  @ApiOperation({ summary: "Change the caller's own password (the current one is required, and rate limited like a login)" })
  @ApiNoContentResponse({ description: 'Changed' })
  @ApiProblems(400, 401, 415, 429)
  change(@CurrentPrincipal() principal: Principal, @Body() body: PasswordChangeDto, @Ip() ip: string): Promise<void> {
    return this.users.changePassword(principal, body, ip);
  }
}
