import { ApiProperty } from '@nestjs/swagger';

/** The answer of GET /health/live. */
export class LivenessDto {
  @ApiProperty({ enum: ['ok'] })
  status: 'ok';
}
