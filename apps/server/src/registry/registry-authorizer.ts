import { Injectable } from '@nestjs/common';
import { Request } from 'express';
import { AccessControl, isAnonymous, registryActionsFor } from '@wharf/auth';
import { WharfConfig } from '@wharf/config';
import { RegistryError, RegistryRoute } from '@wharf/oci';
import { DockerRepository, RepositoryResolver, Writer } from '@wharf/registry';
import { Authentication } from '../auth/request-authenticator';
import { registryChallenge } from '../auth/challenge';

/** The token-protocol action a request needs: pull to read, push to write, delete to delete. */
function requiredAction(route: RegistryRoute, method: string): 'pull' | 'push' | 'delete' | undefined {
  if (route.kind === 'base' || route.kind === 'catalog') return undefined;
  if (method === 'GET' || method === 'HEAD') return route.kind === 'upload' ? 'push' : 'pull';
  if (method === 'DELETE' && (route.kind === 'manifest' || route.kind === 'blob')) return 'delete';
  return 'push';
}

/**
 * Decides registry requests. Not logged in: 401 with a challenge naming the scope. A bearer
 * token lacking an action its user holds: 401 too, so the client fetches a wider token.
 * Logged in without read: 404, exactly as for a repository that does not exist. With read but
 * not the action: 403 DENIED. A permitted write then meets the push rules of the repository
 * it lands in (a virtual's deployment target): how the caller authenticated may exclude it.
 */
@Injectable()
export class RegistryAuthorizer {
  constructor(
    private readonly access: AccessControl,
    private readonly config: WharfConfig,
    private readonly resolver: RepositoryResolver,
  ) {}

  async authorize(req: Request, auth: Authentication, route: RegistryRoute): Promise<void> {
    if (route.kind === 'base' || (route.kind === 'catalog' && !route.repoKey)) {
      if (isAnonymous(auth.principal) && !auth.tokenAccess) throw this.unauthorized(req, route.kind === 'catalog' ? 'registry:catalog:*' : undefined);
      return;
    }
    const repoKey = route.repoKey!;
    const name = 'image' in route ? `${repoKey}/${route.image}` : repoKey;
    const action = requiredAction(route, req.method) ?? 'pull';
    if ((await this.actionsFor(auth, repoKey, name)).includes(action)) {
      if (action !== 'pull' && 'image' in route) (await this.resolver.resolve(repoKey)).checkWriter(route.image, writerOf(auth));
      return;
    }

    const scope = `repository:${name}:${action === 'pull' ? 'pull' : `pull,${action}`}`;
    if (isAnonymous(auth.principal)) throw this.unauthorized(req, scope);
    const held = registryActionsFor(await this.access.actionsOn(auth.principal, repoKey));
    if (auth.tokenAccess && held.includes(action)) throw this.unauthorized(req, scope, 'the token does not cover this action');
    if (!held.includes('pull')) {
      // An access token outside its scope: its owner may know the repository exists, so say
      // what is missing instead of pretending it does not.
      if (auth.principal.tokenScope && (await this.mayRead(auth, repoKey))) {
        throw new RegistryError('DENIED', `the access token does not cover repository ${repoKey}: its scope is ${auth.principal.tokenScope.repositories.join(', ')}`);
      }
      throw new RegistryError('NAME_UNKNOWN', `repository ${repoKey} not found`);
    }
    throw new RegistryError('DENIED', `${action} on ${name} is not permitted for ${auth.principal.username}`);
  }

  /** Whether the caller may read another repository, e.g. the source of a cross-repository mount. */
  async mayPull(auth: Authentication, repoKey: string, image: string): Promise<boolean> {
    return (await this.actionsFor(auth, repoKey, `${repoKey}/${image}`)).includes('pull');
  }

  /** Whether the caller may push `image` to `repo` (addressed as `repoKey`): its permissions, then the repository's push rules. */
  async mayPush(auth: Authentication, repoKey: string, image: string, repo: DockerRepository): Promise<boolean> {
    if (!(await this.actionsFor(auth, repoKey, `${repoKey}/${image}`)).includes('push')) return false;
    try {
      repo.checkWriter(image, writerOf(auth));
      return true;
    } catch (err) {
      if (err instanceof RegistryError) return false;
      throw err;
    }
  }

  /**
   * Whether the caller (an access token: its owner) may read a repository: a virtual's member,
   * which a token naming the virtual reaches, or one the token's scope leaves out.
   */
  mayRead(auth: Authentication, repoKey: string): Promise<boolean> {
    return this.access.mayReadMember(auth.principal, repoKey);
  }

  /** Repository keys whose images the caller may see in `_catalog`. */
  readableKeys(auth: Authentication): Promise<string[]> {
    return this.access.readableKeys(auth.principal);
  }

  /**
   * The registry actions the request may take. A bearer token carries the actions it was minted
   * with, but no more than the holder has now: a removed permission, like a disabled user or a
   * revoked access token (RequestAuthenticator), acts on the next request, on every instance.
   */
  private async actionsFor(auth: Authentication, repoKey: string, name: string): Promise<string[]> {
    const current = registryActionsFor(await this.access.actionsOn(auth.principal, repoKey));
    if (!auth.tokenAccess) return current;
    // A repository-wide route (its own _catalog) is covered by a token for any of its images.
    const covers = (granted: string) => granted === name || (name === repoKey && granted.startsWith(`${repoKey}/`));
    return auth.tokenAccess
      .filter((a) => a.type === 'repository' && covers(a.name))
      .flatMap((a) => a.actions)
      .filter((action) => current.includes(action));
  }

  private unauthorized(req: Request, scope?: string, message = 'authentication required'): RegistryError {
    return new RegistryError('UNAUTHORIZED', message, undefined, { 'WWW-Authenticate': registryChallenge(this.config, req, scope) });
  }
}

/** An access token authenticated the request: as Basic password or bearer, or through the registry token it obtained (`tid`). */
export function writerOf(auth: Authentication): Writer {
  return { accessToken: auth.principal.tokenScope !== undefined };
}
