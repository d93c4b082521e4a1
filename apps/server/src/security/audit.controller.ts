import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditLogService, AuditPage, Principal } from '@wharf/auth';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { ApiProblems } from '../http/api-problems.decorator';
import { ApiPasswordLogin } from '../http/api-security.decorator';
import { AuditPageDto, AuditQueryDto } from './audit.dto';

@ApiTags('security')
@ApiPasswordLogin()
@Controller('api/audit')
export class AuditController {
  constructor(private readonly log: AuditLogService) {}

  @Get()
  @ApiOperation({ summary: 'The audit log, newest first, a page at a time: logins, tokens, pushes, deletions, promotions, repository and security changes, GC runs (admins)' })
  @ApiOkResponse({ type: AuditPageDto })
  @ApiProblems(400, 401, 403, 429)
  list(@CurrentPrincipal() principal: Principal, @Query() query: AuditQueryDto): Promise<AuditPage> {
    return this.log.list(principal, query);
  }
}
