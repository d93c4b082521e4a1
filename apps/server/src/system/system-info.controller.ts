import { Controller, Get, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Request } from 'express';
import { Public } from '../auth/public.decorator';
import { ApiNoCredentials } from '../http/api-security.decorator';
import { SystemInfoDto } from './system-info.dto';
import { SystemInfo, SystemInfoService } from './system-info.service';

@ApiTags('system')
@Public()
@ApiNoCredentials()
@Controller('api/system/info')
export class SystemInfoController {
  constructor(private readonly system: SystemInfoService) {}

  @Get()
  @ApiOperation({ summary: 'The server: its version, the registry host clients push to and pull from, whether over TLS, whether anonymous reads are on (no credentials needed)' })
  @ApiOkResponse({ type: SystemInfoDto })
  info(@Req() req: Request): Promise<SystemInfo> {
    return this.system.info({ host: req.get('host'), secure: req.secure });
  }
}
