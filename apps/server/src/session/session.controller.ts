import { Body, Controller, Delete, Get, HttpCode, Post, Req, Res, UnauthorizedException } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Request, Response } from 'express';
import { UiSession, UiSessionService } from '@wharf/auth';
import { WharfConfig } from '@wharf/config';
import { Public } from '../auth/public.decorator';
import { ApiProblems } from '../http/api-problems.decorator';
import { SessionViewDto, SignInDto } from './session.dto';
import { clearSessionCookie, isSecure, setSessionCookie } from './session-cookie';

/** Sign-in for the web UI: an httpOnly session cookie and a CSRF token (the REST API also takes Basic and Bearer). */
@ApiTags('session')
@Controller('api/session')
export class SessionController {
  constructor(
    private readonly sessions: UiSessionService,
    private readonly config: WharfConfig,
  ) {}

  @Post()
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign in with a password: sets the session cookie (httpOnly, SameSite=Strict) and answers the CSRF token' })
  @ApiOkResponse({ type: SessionViewDto })
  @ApiProblems(400, 401, 415, 429)
  async signIn(@Body() body: SignInDto, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<SessionViewDto> {
    const session = await this.sessions.open(body.username, body.password, req.ip ?? 'unknown');
    setSessionCookie(res, session.secret, session.expiresAt, isSecure(req, this.config.publicUrl));
    return view(session);
  }

  @Get()
  @ApiOperation({ summary: 'The signed-in user and the CSRF token of the session cookie sent' })
  @ApiOkResponse({ type: SessionViewDto })
  @ApiProblems(401, 429)
  current(@Req() req: Request): SessionViewDto {
    return view(signedIn(req));
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({ summary: 'Sign out: the session ends on every host and its cookie is cleared' })
  @ApiNoContentResponse()
  @ApiProblems(401, 403, 429)
  async signOut(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<void> {
    await this.sessions.close(signedIn(req));
    clearSessionCookie(res, isSecure(req, this.config.publicUrl));
  }
}

function signedIn(req: Request): UiSession {
  if (!req.uiSession) throw new UnauthorizedException('not signed in: POST /api/session first');
  return req.uiSession;
}

function view(session: UiSession): SessionViewDto {
  return { username: session.principal.username!, admin: session.principal.admin, csrfToken: session.csrfToken, expiresAt: session.expiresAt };
}
