import { ApiProperty } from '@nestjs/swagger';

/** The registry protocol's error body (distribution spec), which the token endpoint answers too. */
export class RegistryErrorsDto {
  @ApiProperty({
    type: 'array',
    items: {
      type: 'object',
      properties: {
        code: { type: 'string', example: 'UNAUTHORIZED' },
        message: { type: 'string', example: 'invalid username or password' },
        detail: { nullable: true, description: 'More about the error, or null' },
      },
      required: ['code', 'message', 'detail'],
    },
  })
  errors: { code: string; message: string; detail: unknown }[];
}
