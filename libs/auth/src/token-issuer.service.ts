import { Injectable } from '@nestjs/common';
import { AccessControl } from './access-control.service';
import { Principal, isAnonymous } from './principal';
import { IssuedToken, RegistryTokenService } from './registry-token.service';
import { permissionForRegistryAction } from './repository-actions';
import { ScopeEntry } from './token-scope';

/**
 * The token endpoint's decision: for each requested scope, the actions the principal really
 * holds. Asking for more than one holds is not an error: the token lists less (token spec).
 */
@Injectable()
export class TokenIssuer {
  constructor(
    private readonly access: AccessControl,
    private readonly tokens: RegistryTokenService,
  ) {}

  async issue(principal: Principal, requested: ScopeEntry[]): Promise<IssuedToken> {
    return this.tokens.issueAccess(principal, await this.grant(principal, requested));
  }

  async grant(principal: Principal, requested: ScopeEntry[]): Promise<ScopeEntry[]> {
    const granted: ScopeEntry[] = [];
    for (const scope of requested) {
      const actions = await this.grantedFor(principal, scope);
      if (actions.length) granted.push({ ...scope, actions });
    }
    return granted;
  }

  private async grantedFor(principal: Principal, scope: ScopeEntry): Promise<string[]> {
    if (scope.type === 'registry' && scope.name === 'catalog') {
      // The catalog is filtered per caller, so any logged-in user may list it.
      return isAnonymous(principal) ? [] : scope.actions.filter((a) => a === '*');
    }
    if (scope.type !== 'repository') return [];
    const repoKey = scope.name.split('/')[0];
    const held = await this.access.actionsOn(principal, repoKey);
    const wanted = scope.actions.includes('*') ? ['pull', 'push', 'delete'] : scope.actions;
    return [...new Set(wanted)].filter((action) => {
      const needed = permissionForRegistryAction(action);
      return needed !== undefined && held.has(needed);
    });
  }
}
