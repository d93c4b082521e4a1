import { ApiProperty } from '@nestjs/swagger';

/** The answer of GET /health/ready when every check passed. */
export class ReadinessDto {
  @ApiProperty({ enum: ['ok'] })
  status: 'ok';

  @ApiProperty({
    type: 'object',
    description: "Each check's outcome: ok, or failed: <why>",
    properties: { database: { type: 'string', example: 'ok' }, dataDir: { type: 'string', example: 'ok' } },
    required: ['database', 'dataDir'],
    selfRequired: true,
  })
  checks: { database: string; dataDir: string };
}
