import { Global, Module } from '@nestjs/common';
import { AccessControl } from './access-control.service';
import { AdminBootstrap } from './admin-bootstrap.service';
import { Clock } from './clock';
import { CredentialVerifier } from './credential-verifier.service';
import { LoginAudit } from './login-audit';
import { LoginRateLimiter } from './login-rate-limiter';
import { PasswordHasher } from './password-hasher';
import { PullRateLimiter } from './pull-rate-limiter';
import { RequestCountSweeper } from './request-count-sweeper';
import { RegistryTokenService } from './registry-token.service';
import { SigningKeyService } from './signing-key.service';
import { TokenIssuer } from './token-issuer.service';
import { SecretBox } from './secret-box';
import { UiSessionService } from './ui-session.service';

const EXPORTED = [
  Clock,
  PasswordHasher,
  LoginRateLimiter,
  LoginAudit,
  PullRateLimiter,
  SigningKeyService,
  RegistryTokenService,
  CredentialVerifier,
  AccessControl,
  TokenIssuer,
  SecretBox,
  UiSessionService,
];

/** Authentication and authorization: who is calling, and what they may do. */
@Global()
@Module({
  providers: [...EXPORTED, AdminBootstrap, RequestCountSweeper],
  exports: EXPORTED,
})
export class AuthModule {}
