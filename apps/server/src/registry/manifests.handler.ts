import { Injectable } from '@nestjs/common';
import { PullRateLimiter } from '@wharf/auth';
import { WharfConfig } from '@wharf/config';
import { RegistryError, isDigestLike, isValidTag, parseAccept } from '@wharf/oci';
import { PullNotifier, RepositoryResolver, readCapped } from '@wharf/registry';
import { RegistryAuthorizer } from './registry-authorizer';
import { RegistryContext, urlFor } from './registry-context';

type ManifestContext = RegistryContext<{ kind: 'manifest'; repoKey: string; image: string; reference: string }>;

@Injectable()
export class ManifestsHandler {
  constructor(
    private readonly resolver: RepositoryResolver,
    private readonly config: WharfConfig,
    private readonly authorizer: RegistryAuthorizer,
    private readonly pullEvents: PullNotifier,
    private readonly pulls: PullRateLimiter,
  ) {}

  async get(ctx: ManifestContext, withBody: boolean): Promise<void> {
    // Pull limits, when set (else not even a query): a GET counts, a HEAD only shows what is
    // left, as on Docker Hub. The headers stay on whatever the request answers, a 404 too.
    if (this.pulls.enabled) {
      const principal = ctx.auth.principal;
      const address = ctx.req.ip ?? 'unknown';
      const headers = withBody ? await this.pulls.count(principal, address) : await this.pulls.peek(principal, address);
      if (headers) ctx.res.set(headers);
    }
    const { repoKey, image, reference } = ctx.route;
    const repo = await this.resolver.resolve(repoKey, ctx.mayRead);
    assertNamesManifest(reference);
    // Asked only of an unsigned manifest under requireSignature: may the caller push (and so sign) it?
    const mayPush = () => this.authorizer.mayPush(ctx.auth, repoKey, image, repo);
    const manifest = await repo.getManifest(image, reference, parseAccept(ctx.req.headers.accept), { mayPush });
    // Node's own writeHead, not Express's status/set: this is the hottest answer Wharf gives.
    ctx.res.writeHead(200, {
      'Content-Type': manifest.mediaType,
      'Content-Length': String(manifest.size),
      'Docker-Content-Digest': manifest.digest,
      ETag: `"${manifest.digest}"`,
    });
    ctx.res.end(withBody ? manifest.content : undefined);
    // Webhooks that subscribe to pulls hear of GETs, as Distribution's notifications do, not of HEADs.
    if (withBody) {
      const tag = isDigestLike(reference) ? undefined : reference;
      this.pullEvents.pulled({ repository: repoKey, image, tag, digest: manifest.digest, mediaType: manifest.mediaType, size: manifest.size });
    }
  }

  async put(ctx: ManifestContext): Promise<void> {
    const { repoKey, image, reference } = ctx.route;
    const repo = await this.resolver.resolve(repoKey, ctx.mayRead);
    const content = await this.readBody(ctx);
    const { digest, subject } = await repo.putManifest(image, reference, content, ctx.req.headers['content-type']);
    ctx.res.status(201).set({ Location: urlFor(ctx, `manifests/${digest}`), 'Docker-Content-Digest': digest, 'Content-Length': '0' });
    if (subject) ctx.res.set('OCI-Subject', subject);
    ctx.res.end();
  }

  async delete(ctx: ManifestContext): Promise<void> {
    const { repoKey, image, reference } = ctx.route;
    const repo = await this.resolver.resolve(repoKey, ctx.mayRead);
    assertNamesManifest(reference);
    await repo.deleteManifest(image, reference);
    ctx.res.status(202).set('Content-Length', '0').end();
  }

  /** Manifests are small and capped, so they alone are buffered. */
  private async readBody(ctx: ManifestContext): Promise<Buffer> {
    const limit = this.config.maxManifestBytes;
    const declared = Number(ctx.req.headers['content-length'] ?? 0);
    if (declared > limit) throw tooLarge(declared, limit);
    const body = await readCapped(ctx.req, limit, (size) => tooLarge(size, limit));
    if (ctx.req.headers['content-length'] !== undefined && body.length !== declared) {
      throw new RegistryError('SIZE_INVALID', `Content-Length is ${declared} but ${body.length} bytes arrived`);
    }
    return body;
  }
}

/**
 * A reference that is neither a tag nor digest-shaped names no manifest: GET, HEAD and DELETE
 * answer 404 as Distribution does (and the OCI conformance suite expects), without asking any
 * repository or upstream. A PUT by one is refused by the repository (MANIFEST_INVALID); a
 * malformed digest stays DIGEST_INVALID.
 */
function assertNamesManifest(reference: string): void {
  if (!isDigestLike(reference) && !isValidTag(reference)) {
    throw new RegistryError('MANIFEST_UNKNOWN', `"${reference.slice(0, 140)}" is neither a tag nor a digest`);
  }
}

function tooLarge(size: number, limit: number): RegistryError {
  return new RegistryError('MANIFEST_TOO_LARGE', `manifest of ${size}+ bytes exceeds the ${limit}-byte limit`);
}
