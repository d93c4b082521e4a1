import { Injectable, Logger } from '@nestjs/common';
import { RegistryError } from '@wharf/oci';
import { PageRequest } from '../docker-repository';
import { LocalManifestService } from '../local/local-manifest.service';
import { RemoteTarget } from './remote-manifest.service';
import { UpstreamClients } from './upstream-clients';
import { readCapped } from '../read-capped';
import { discard } from './upstream-errors';

const MAX_TAG_LIST_BYTES = 16 * 1024 * 1024;

/** Tag lists come from the upstream (with the client's pagination); the cache answers when it cannot. */
@Injectable()
export class RemoteTagService {
  private readonly logger = new Logger('RemoteTags');

  constructor(
    private readonly clients: UpstreamClients,
    private readonly local: LocalManifestService,
  ) {}

  async list(target: RemoteTarget, page: PageRequest): Promise<string[]> {
    if (target.settings.offline) return this.cached(target, page);
    try {
      const query = new URLSearchParams();
      if (page.n !== undefined) query.set('n', String(page.n));
      if (page.last !== undefined) query.set('last', page.last);
      const suffix = query.size ? `?${query}` : '';
      const res = await this.clients.for(target.repo).request('GET', `/v2/${target.upstreamName}/tags/list${suffix}`, { scope: `repository:${target.upstreamName}:pull` });
      if (res.status === 404) {
        discard(res.body);
        throw new RegistryError('NAME_UNKNOWN', `image ${target.upstreamName} not found upstream`);
      }
      if (res.status !== 200) {
        discard(res.body);
        throw new Error(`upstream answered ${res.status}`);
      }
      const body = JSON.parse(
        (await readCapped(res.body, MAX_TAG_LIST_BYTES, () => new RegistryError('UNAVAILABLE', `the upstream sent a tag list over the ${MAX_TAG_LIST_BYTES}-byte limit`))).toString(
          'utf8',
        ),
      ) as { tags?: string[] | null };
      // Applied here too: some upstreams (Distribution 2.8) ignore n and last and send every tag.
      const tags = (body.tags ?? []).filter((tag) => page.last === undefined || tag > page.last).sort(byteOrder);
      return page.n === undefined ? tags : tags.slice(0, page.n);
    } catch (err) {
      if (err instanceof RegistryError) throw err;
      this.logger.warn({ msg: 'upstream tag list failed; answering from the cache', remote: target.repo.key, image: target.image, error: (err as Error).message });
      return this.cached(target, page);
    }
  }

  private cached(target: RemoteTarget, page: PageRequest): Promise<string[]> {
    return this.local.listTags(target.repo, target.image, page);
  }
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
