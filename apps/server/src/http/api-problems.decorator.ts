import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ProblemDto } from './problem.dto';

export type ProblemStatus = 400 | 401 | 403 | 404 | 409 | 415 | 429 | 503;

const DESCRIPTIONS: Record<ProblemStatus, string> = {
  400: 'Invalid request: a field, name or value is refused (`errors` lists each failed field)',
  401: 'No credentials where some are needed, or bad ones (bad credentials are never treated as anonymous)',
  403: 'Authenticated, but not allowed: not an administrator, or an access token where a password login is needed',
  404: 'Not found',
  409: 'The name is taken',
  415: 'The body is not JSON (send Content-Type: application/json)',
  429: 'Too many failed logins for this user and address: retry after Retry-After seconds',
  503: 'Not ready',
};

const HEADERS: Partial<Record<ProblemStatus, Record<string, { description: string; schema: { type: 'string' | 'integer' } }>>> = {
  401: { 'WWW-Authenticate': { description: 'Basic realm="Wharf", charset="UTF-8"', schema: { type: 'string' } } },
  429: { 'Retry-After': { description: 'Seconds until a login may be tried again', schema: { type: 'integer' } } },
};

/** The refusals an operation can answer, each a problem+json body (one shared schema). */
export function ApiProblems(...statuses: ProblemStatus[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ProblemDto),
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: DESCRIPTIONS[status],
        headers: HEADERS[status],
        content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDto) } } },
      }),
    ),
  );
}
