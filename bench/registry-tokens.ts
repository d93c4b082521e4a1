import { request } from 'undici';

/** Renewed this long before expiry, so a token never lapses during a load or a transfer. */
const MARGIN_MS = 60_000;

/**
 * Docker's token protocol as docker, podman and skopeo run it against Wharf: a registry token
 * per repository name from `/v2/token` (asked with Basic credentials once), then
 * `Authorization: Bearer <jwt>` on every registry request, renewed before it expires.
 */
export class RegistryTokens {
  private readonly tokens = new Map<string, Promise<{ bearer: string; renewAt: number }>>();

  constructor(
    private readonly origin: string,
    private readonly basic: string,
    private readonly service = 'wharf',
  ) {}

  /** `Bearer <jwt>` for the repository the registry path names; undefined for paths naming none (`/v2/`). */
  async authorizationFor(path: string): Promise<string | undefined> {
    const name = repositoryName(path);
    if (!name) return undefined;
    let token = this.tokens.get(name);
    const renewAt = (await token?.catch(() => undefined))?.renewAt ?? 0;
    if (!token || renewAt <= Date.now()) {
      token = this.fetch(name);
      this.tokens.set(name, token);
    }
    return (await token).bearer;
  }

  private async fetch(name: string): Promise<{ bearer: string; renewAt: number }> {
    const scope = `repository:${name}:pull,push`;
    const res = await request(`${this.origin}/v2/token?service=${this.service}&scope=${encodeURIComponent(scope)}`, { headers: { authorization: this.basic } });
    const body = (await res.body.json()) as { token?: string; expires_in?: number };
    if (res.statusCode !== 200 || !body.token) throw new Error(`/v2/token for ${scope} answered ${res.statusCode}`);
    return { bearer: `Bearer ${body.token}`, renewAt: Date.now() + (body.expires_in ?? 60) * 1000 - MARGIN_MS };
  }
}

const ENDPOINT = /^\/v2\/(.+?)\/(?:manifests|blobs|tags|referrers)\//;

/** The repository name of a registry path: `/v2/<name>/manifests/...` names `<name>`. */
export function repositoryName(path: string): string | undefined {
  return ENDPOINT.exec(path)?.[1];
}
