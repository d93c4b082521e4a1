import { applyDecorators } from '@nestjs/common';
import { ApiSecurity, DECORATORS } from '@nestjs/swagger';
import { BASIC_AUTH, BEARER_AUTH } from './openapi';

// The document requires Basic or Bearer by default (openapi.ts); these say where that differs.

/**
 * Basic only: the operation needs a password login, which a Bearer credential on /api (always an
 * access token) never is. Basic with an access token as the password is refused the same way.
 */
export function ApiPasswordLogin(): MethodDecorator & ClassDecorator {
  return ApiSecurity(BASIC_AUTH);
}

/** Basic, Bearer, or nothing at all (anonymous callers get what anonymous may have). */
export function ApiOptionalCredentials(): MethodDecorator & ClassDecorator {
  return applyDecorators(ApiSecurity(BASIC_AUTH), ApiSecurity(BEARER_AUTH), ApiSecurity({}));
}

/**
 * No credentials needed or read (`security: []`), for controllers that are wholly public.
 * On a class only: @nestjs/swagger drops an empty list on a method, so methods use
 * ApiOptionalCredentials or ApiSecurity({}) instead.
 */
export function ApiNoCredentials(): ClassDecorator {
  return (target) => {
    Reflect.defineMetadata(DECORATORS.API_SECURITY, [], target);
  };
}
