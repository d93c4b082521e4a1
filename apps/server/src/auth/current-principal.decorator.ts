import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { ANONYMOUS, Principal, UiSession } from '@wharf/auth';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
    /** Set when the web UI's session cookie authenticated the request. */
    uiSession?: UiSession;
  }
}

/** The caller, as the global API guard authenticated it (anonymous when no credentials were sent). */
export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  return ctx.switchToHttp().getRequest().principal ?? ANONYMOUS;
});
