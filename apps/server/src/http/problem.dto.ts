import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The REST API's error body (`application/problem+json`), as the ErrorResponder renders it. */
export class ProblemDto {
  @ApiProperty({ type: 'integer', description: 'The HTTP status', example: 404 })
  status: number;

  @ApiProperty({ description: "The status's reason phrase", example: 'Not Found' })
  title: string;

  @ApiProperty({ description: 'What went wrong, for people', example: 'user alice not found' })
  detail: string;

  @ApiPropertyOptional({ type: [String], description: 'Each failed field of a refused body (400)', example: ['email must be an email'] })
  errors?: string[];
}
