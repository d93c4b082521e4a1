import { ForbiddenException, Injectable, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { PermissionQueries, RepositoryAction, RepositoryQueries } from '@wharf/db';
import { PermissionRule, grantedActions } from './permission-evaluator';
import { Principal, isAnonymous } from './principal';

/** Actions a virtual repository hands to its deployment target. */
const DELEGATED: RepositoryAction[] = ['write', 'delete'];

/** Answers "what may this principal do to repository X", from the permissions in the database. */
@Injectable()
export class AccessControl {
  constructor(
    private readonly repositories: RepositoryQueries,
    private readonly permissions: PermissionQueries,
  ) {}

  /**
   * Granted actions; empty for a repository that does not exist. Pushing and deleting through a
   * virtual repository act on its deployment target, so those come from the target's
   * permissions (to a caller who may read the virtual); read and manage from the virtual's own.
   */
  async actionsOn(principal: Principal, repoKey: string): Promise<Set<RepositoryAction>> {
    const repo = await this.repositories.findByKey(repoKey);
    if (!repo) return new Set();
    const rules = await this.rules();
    const granted = grantedActions(principal, repo, rules);
    const target = repo.defaultDeploymentRepositoryId ? (await this.repositories.list()).find((each) => each.id === repo.defaultDeploymentRepositoryId) : undefined;
    if (!target) return granted;
    // An access token scoped to the virtual pushes through it: the target's permissions are its
    // owner's, narrowed to the token's actions (its repository scope named the virtual).
    const owner = { ...principal, tokenScope: undefined };
    const onTarget = granted.has('read') ? grantedActions(owner, target, rules) : new Set<RepositoryAction>();
    const tokenAllows = (action: RepositoryAction) => !principal.tokenScope || principal.tokenScope.actions.includes(action);
    const delegated = DELEGATED.filter((action) => onTarget.has(action) && tokenAllows(action));
    return new Set([...granted].filter((action) => !DELEGATED.includes(action)).concat(delegated));
  }

  /**
   * The one access rule of the REST services: a repository the principal may not read does not
   * exist for it (404; 401 when anonymous, so it logs in), and with read but not `action` the
   * answer is 403 naming what is missing.
   */
  async require(principal: Principal, repoKey: string, action: RepositoryAction, what = `${action} permission on ${repoKey}`): Promise<void> {
    const held = await this.actionsOn(principal, repoKey);
    if (!held.has('read')) {
      if (isAnonymous(principal)) throw new UnauthorizedException('authentication required');
      throw new NotFoundException(`repository ${repoKey} not found`);
    }
    if (!held.has(action)) throw new ForbiddenException(`${what} is required`);
  }

  /**
   * Whether the principal may read a member of a virtual it reads: by its own permissions, and
   * for an access token by its owner's (the token's scope named the virtual it addressed).
   */
  async mayReadMember(principal: Principal, memberKey: string): Promise<boolean> {
    return (await this.actionsOn({ ...principal, tokenScope: undefined }, memberKey)).has('read');
  }

  /** Keys of the repositories the principal may read, for filtered listings. */
  async readableKeys(principal: Principal): Promise<string[]> {
    const [repos, rules] = await Promise.all([this.repositories.list(), this.rules()]);
    return repos.filter((repo) => grantedActions(principal, repo, rules).has('read')).map((repo) => repo.key);
  }

  private async rules(): Promise<PermissionRule[]> {
    return this.permissions.list();
  }
}
