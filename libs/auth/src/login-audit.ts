import { Injectable } from '@nestjs/common';
import { AuditTrail } from '@wharf/db';
import { RegistryError } from '@wharf/oci';
import { Principal } from './principal';

/** How credentials were presented, for the audit log. */
export type LoginMethod = 'password' | 'access token';
/** Where a login was made: the registry token endpoint or the web UI's sign-in. */
export type LoginVia = 'token' | 'session';

/**
 * Logins in the audit log. Failures and rate-limit refusals are recorded wherever credentials are
 * checked (a registry request, the REST API, the token endpoint); successes only where a client
 * logs in (a token or a UI session is issued): Basic on every request of a push is not a login
 * each time, and would write a row per request.
 */
@Injectable()
export class LoginAudit {
  constructor(private readonly audit: AuditTrail) {}

  /** Runs a credential check, recording a refusal (bad credentials, or too many failures) before it goes on up. */
  async watch<T>(username: string | undefined, method: LoginMethod, check: () => Promise<T>, details: Record<string, unknown> = {}): Promise<T> {
    try {
      return await check();
    } catch (err) {
      if (err instanceof RegistryError && (err.code === 'UNAUTHORIZED' || err.code === 'TOOMANYREQUESTS')) {
        await this.audit.record({
          action: err.code === 'UNAUTHORIZED' ? 'login.failed' : 'login.rate_limited',
          username,
          details: { method, ...details, reason: err.message },
        });
      }
      throw err;
    }
  }

  succeeded(principal: Principal, via: LoginVia): Promise<void> {
    return this.audit.record({
      action: 'login.succeeded',
      username: principal.username,
      details: { via, method: principal.tokenScope ? 'access token' : 'password', ...(principal.tokenScope ? { tokenId: principal.tokenScope.tokenId } : {}) },
    });
  }
}
