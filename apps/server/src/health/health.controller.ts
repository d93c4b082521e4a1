import { Controller, Get, HttpCode, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthQueries } from '@wharf/db';
import { DataDirProbe } from '@wharf/storage';
import { Public } from '../auth/public.decorator';
import { ApiProblems } from '../http/api-problems.decorator';
import { ApiNoCredentials } from '../http/api-security.decorator';
import { LivenessDto } from './liveness.dto';
import { ReadinessDto } from './readiness.dto';

@ApiTags('system')
@Public()
@ApiNoCredentials()
@Controller('health')
export class HealthController {
  constructor(
    private readonly db: HealthQueries,
    private readonly dataDir: DataDirProbe,
  ) {}

  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @ApiOkResponse({ type: LivenessDto })
  live(): LivenessDto {
    return { status: 'ok' };
  }

  @Get('ready')
  @HttpCode(200)
  @ApiOperation({ summary: 'Readiness: the database answers and the data directory is writable' })
  @ApiOkResponse({ type: ReadinessDto })
  @ApiProblems(503)
  async ready(): Promise<ReadinessDto> {
    const checks = {
      database: await outcome(() => this.db.ping()),
      dataDir: await outcome(() => this.dataDir.check()),
    };
    if (Object.values(checks).some((c) => c !== 'ok')) throw new ServiceUnavailableException({ status: 'unavailable', checks, message: 'not ready' });
    return { status: 'ok', checks };
  }
}

async function outcome(check: () => Promise<void>): Promise<string> {
  try {
    await check();
    return 'ok';
  } catch (err) {
    return `failed: ${(err as Error).message}`;
  }
}
