import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Principal } from '@wharf/auth';
import { StorageInfo, StorageInfoService } from '@wharf/registry';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { ApiProblems } from '../http/api-problems.decorator';
import { StorageInfoDto } from './storage-info.dto';

@ApiTags('system')
@Controller('api/storageinfo')
export class StorageInfoController {
  constructor(private readonly storage: StorageInfoService) {}

  @Get()
  @ApiOperation({ summary: 'Where the space goes: blobs with and without deduplication, free space, and per repository its images, tags, manifests and bytes (admins)' })
  @ApiOkResponse({ type: StorageInfoDto })
  @ApiProblems(401, 403, 429)
  info(@CurrentPrincipal() principal: Principal): Promise<StorageInfo> {
    return this.storage.info(principal);
  }
}
