import { Controller, Get, HttpCode, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthQueries } from '@wharf/db';
import { DataDirProbe } from '@wharf/storage';
import { Public } from '../auth/public.decorator';

@ApiTags('system')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly db: HealthQueries,
    private readonly dataDir: DataDirProbe,
  ) {}

  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @HttpCode(200)
  @ApiOperation({ summary: 'Readiness: the database answers and the data directory is writable' })
  async ready(): Promise<{ status: 'ok'; checks: Record<string, string> }> {
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
