import { Injectable } from '@nestjs/common';
import { PermissionQueries, RepositoryAction, RepositoryQueries } from '@wharf/db';
import { PermissionRule, grantedActions } from './permission-evaluator';
import { Principal } from './principal';

/** Answers "what may this principal do to repository X", from the permissions in the database. */
@Injectable()
export class AccessControl {
  constructor(
    private readonly repositories: RepositoryQueries,
    private readonly permissions: PermissionQueries,
  ) {}

  /** Granted actions; empty for a repository that does not exist. */
  async actionsOn(principal: Principal, repoKey: string): Promise<Set<RepositoryAction>> {
    const repo = await this.repositories.findByKey(repoKey);
    if (!repo) return new Set();
    return grantedActions(principal, repo, await this.rules());
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
