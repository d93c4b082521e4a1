import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Principal } from '@wharf/auth';
import { GarbageCollector, GcRunView } from '@wharf/registry';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { ApiProblems } from '../http/api-problems.decorator';
import { GcRequestDto, GcRunDto, GcStatusDto } from './gc.dto';

@ApiTags('system')
@Controller('api/system/gc')
export class GcController {
  constructor(private readonly collector: GarbageCollector) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'Run garbage collection now and answer what it freed (or with dryRun, would free); one run at a time across all hosts (admins)' })
  @ApiOkResponse({ type: GcRunDto })
  @ApiProblems(400, 401, 403, 409, 415, 429)
  run(@CurrentPrincipal() principal: Principal, @Body() body: GcRequestDto): Promise<GcRunView> {
    return this.collector.runNow(principal, body.dryRun ?? false);
  }

  @Get()
  @ApiOperation({ summary: 'The garbage collection running now, with its progress, and the last runs (admins)' })
  @ApiOkResponse({ type: GcStatusDto })
  @ApiProblems(401, 403, 429)
  status(@CurrentPrincipal() principal: Principal): Promise<{ running: GcRunView | null; runs: GcRunView[] }> {
    return this.collector.status(principal);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One garbage collection run (admins)' })
  @ApiOkResponse({ type: GcRunDto })
  @ApiProblems(400, 401, 403, 404, 429)
  get(@CurrentPrincipal() principal: Principal, @Param('id', ParseUUIDPipe) id: string): Promise<GcRunView> {
    return this.collector.get(principal, id);
  }
}
