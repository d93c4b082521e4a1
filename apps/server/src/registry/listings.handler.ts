import { Injectable } from '@nestjs/common';
import { MediaType, RegistryError } from '@wharf/oci';
import { CatalogService, PageRequest, RepositoryResolver } from '@wharf/registry';
import { RegistryAuthorizer } from './registry-authorizer';
import { RegistryContext, queryString, urlFor } from './registry-context';

const MAX_PAGE = 10_000;

/** Tag lists, catalogs and referrers: the read-only listings, paginated with Link headers. */
@Injectable()
export class ListingsHandler {
  constructor(
    private readonly resolver: RepositoryResolver,
    private readonly catalog: CatalogService,
    private readonly authorizer: RegistryAuthorizer,
  ) {}

  async tags(ctx: RegistryContext<{ kind: 'tags'; repoKey: string; image: string }>): Promise<void> {
    const page = this.page(ctx);
    const repo = await this.resolver.resolve(ctx.route.repoKey, ctx.mayRead);
    const tags = await repo.listTags(ctx.route.image, this.peek(page));
    const shown = this.trim(tags, page);
    if (shown.length < tags.length) this.link(ctx, urlFor(ctx, 'tags/list'), page.n!, shown[shown.length - 1]);
    ctx.res.status(200).json({ name: ctx.name, tags: shown });
  }

  async catalogue(ctx: RegistryContext<{ kind: 'catalog'; repoKey?: string }>): Promise<void> {
    const page = this.page(ctx);
    const repoKey = ctx.route.repoKey;
    const names = repoKey
      ? await (await this.resolver.resolve(repoKey, ctx.mayRead)).listImages(this.peek(page))
      : await this.catalog.list(this.peek(page), await this.authorizer.readableKeys(ctx.auth));
    const shown = this.trim(names, page);
    if (shown.length < names.length) this.link(ctx, `${ctx.origin}${ctx.prefix}_catalog`, page.n!, shown[shown.length - 1]);
    ctx.res.status(200).json({ repositories: shown });
  }

  async referrers(ctx: RegistryContext<{ kind: 'referrers'; repoKey: string; image: string; digest: string }>): Promise<void> {
    const artifactType = queryString(ctx, 'artifactType');
    const repo = await this.resolver.resolve(ctx.route.repoKey, ctx.mayRead);
    const index = await repo.referrers(ctx.route.image, ctx.route.digest, artifactType);
    if (artifactType !== undefined) ctx.res.set('OCI-Filters-Applied', 'artifactType');
    // A Buffer, not a string: Express appends "; charset=utf-8" to string bodies, and clients
    // compare the referrers Content-Type to the index media type exactly.
    ctx.res
      .status(200)
      .type(MediaType.OciIndex)
      .send(Buffer.from(JSON.stringify(index)));
  }

  private page(ctx: RegistryContext): PageRequest {
    const n = queryString(ctx, 'n');
    const last = queryString(ctx, 'last');
    if (n !== undefined && (!/^\d+$/.test(n) || Number(n) > MAX_PAGE)) {
      throw new RegistryError('PAGINATION_NUMBER_INVALID', `n must be an integer from 0 to ${MAX_PAGE}, got "${n.slice(0, 20)}"`);
    }
    return { n: n === undefined ? undefined : Number(n), last };
  }

  /** Ask for one more than the page so we know whether a next page exists. */
  private peek(page: PageRequest): PageRequest {
    return { ...page, n: page.n === undefined ? undefined : page.n + 1 };
  }

  private trim(items: string[], page: PageRequest): string[] {
    return page.n === undefined ? items : items.slice(0, page.n);
  }

  private link(ctx: RegistryContext, base: string, n: number, last: string | undefined): void {
    if (last === undefined) return;
    const path = new URL(base).pathname;
    ctx.res.set('Link', `<${path}?n=${n}&last=${encodeURIComponent(last)}>; rel="next"`);
  }
}
