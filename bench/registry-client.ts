import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Agent, Dispatcher, request } from 'undici';
import { RegistryTokens } from './registry-tokens';
import { SyntheticBlob } from './synthetic-blob';

/** Where a registry serves an image: its origin, the path prefix of the image, how to authenticate. */
export interface Endpoint {
  origin: string;
  /** Sent on every request (none for Distribution, which runs anonymous). */
  headers: Record<string, string>;
  /** Registry tokens to send as Bearer, as clients do (Wharf). */
  tokens?: RegistryTokens;
  /** The path of an image's API root, e.g. `/v2/bench/app` (Wharf) or `/v2/app` (Distribution). */
  v2(image: string): string;
}

/** The headers a request to `path` carries: the endpoint's own, and its Bearer token for the path's repository. */
export async function authorized(endpoint: Endpoint, path: string, headers: Record<string, string> = {}): Promise<Record<string, string>> {
  const bearer = await endpoint.tokens?.authorizationFor(path);
  return { ...endpoint.headers, ...(bearer ? { authorization: bearer } : {}), ...headers };
}

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MANIFEST_ACCEPT = `${OCI_MANIFEST}, application/vnd.docker.distribution.manifest.v2+json`;

/** One agent for all blob and setup traffic: no timeouts of its own, each workload brings its deadline. */
export const agent = new Agent({ connections: 64, headersTimeout: 0, bodyTimeout: 120_000, keepAliveTimeout: 30_000 });

export interface Transfer {
  bytes: number;
  seconds: number;
  /** From sending the request to the first body byte, for pulls. */
  firstByteMs?: number;
}

/** The raw OCI distribution API, with streamed bodies. */
export class RegistryClient {
  constructor(
    readonly endpoint: Endpoint,
    private readonly dispatcher: Dispatcher = agent,
  ) {}

  private async call(
    method: Dispatcher.HttpMethod,
    pathOrUrl: string,
    expect: number,
    options: { headers?: Record<string, string>; body?: Readable | Buffer | string; signal?: AbortSignal } = {},
  ): Promise<Dispatcher.ResponseData> {
    const url = new URL(pathOrUrl, this.endpoint.origin);
    const res = await request(url, {
      method,
      headers: await authorized(this.endpoint, url.pathname, options.headers),
      body: options.body,
      signal: options.signal,
      dispatcher: this.dispatcher,
    });
    if (res.statusCode !== expect) {
      const text = await res.body.text().catch(() => '');
      throw new Error(`${method} ${url.pathname} answered ${res.statusCode}, expected ${expect}: ${text.slice(0, 300)}`);
    }
    return res;
  }

  /** POST .../blobs/uploads/ and return the session's URL. */
  async startUpload(image: string, signal?: AbortSignal): Promise<URL> {
    const res = await this.call('POST', `${this.endpoint.v2(image)}/blobs/uploads/`, 202, { signal, headers: { 'content-length': '0' } });
    await res.body.dump();
    return this.location(res);
  }

  /** POST then one PUT carrying the whole blob. */
  async pushMonolithic(image: string, blob: SyntheticBlob, signal?: AbortSignal): Promise<Transfer> {
    const digest = await blob.digest();
    const started = performance.now();
    const session = await this.startUpload(image, signal);
    session.searchParams.set('digest', digest);
    const res = await this.call('PUT', session.toString(), 201, {
      signal,
      body: blob.stream(),
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) },
    });
    await res.body.dump();
    return { bytes: blob.size, seconds: (performance.now() - started) / 1000 };
  }

  /** POST, one PATCH per chunk (with Content-Range), then an empty PUT with the digest. */
  async pushChunked(image: string, blob: SyntheticBlob, chunkSize: number, signal?: AbortSignal): Promise<Transfer> {
    const digest = await blob.digest();
    const started = performance.now();
    let session = await this.startUpload(image, signal);
    for (let start = 0; start < blob.size; start += chunkSize) {
      const end = Math.min(blob.size, start + chunkSize);
      const res = await this.call('PATCH', session.toString(), 202, {
        signal,
        body: blob.stream(start, end),
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(end - start), 'content-range': `${start}-${end - 1}` },
      });
      await res.body.dump();
      session = this.location(res);
    }
    session.searchParams.set('digest', digest);
    const res = await this.call('PUT', session.toString(), 201, { signal, headers: { 'content-length': '0' } });
    await res.body.dump();
    return { bytes: blob.size, seconds: (performance.now() - started) / 1000 };
  }

  /** A small blob in one POST+PUT; returns its digest. */
  async pushSmall(image: string, bytes: Buffer, signal?: AbortSignal): Promise<string> {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const session = await this.startUpload(image, signal);
    session.searchParams.set('digest', digest);
    const res = await this.call('PUT', session.toString(), 201, {
      signal,
      body: bytes,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) },
    });
    await res.body.dump();
    return digest;
  }

  /** GET a blob, counting (not keeping) its bytes. */
  async pullBlob(image: string, digest: string, signal?: AbortSignal): Promise<Transfer> {
    return this.pull(`${this.endpoint.v2(image)}/blobs/${digest}`, signal);
  }

  async pull(path: string, signal?: AbortSignal): Promise<Transfer> {
    const started = performance.now();
    return counted(path, await this.call('GET', path, 200, { signal }), started);
  }

  /**
   * GET a blob from a registry that redirects blob downloads (S3 with presigned URLs): the 307,
   * then its Location fetched without the registry's credentials, as clients do.
   */
  async pullBlobRedirected(image: string, digest: string, signal?: AbortSignal): Promise<Transfer> {
    const started = performance.now();
    const path = `${this.endpoint.v2(image)}/blobs/${digest}`;
    const res = await this.call('GET', path, 307, { signal });
    await res.body.dump();
    const location = String(res.headers.location);
    const direct = await request(location, { method: 'GET', dispatcher: this.dispatcher, signal });
    if (direct.statusCode !== 200) throw new Error(`GET ${location.split('?')[0]} (the redirect of ${path}) answered ${direct.statusCode}`);
    return counted(path, direct, started);
  }

  async putManifest(image: string, reference: string, manifest: Buffer, signal?: AbortSignal, mediaType = OCI_MANIFEST): Promise<void> {
    const res = await this.call('PUT', `${this.endpoint.v2(image)}/manifests/${reference}`, 201, {
      signal,
      body: manifest,
      headers: { 'content-type': mediaType, 'content-length': String(manifest.length) },
    });
    await res.body.dump();
  }

  async getManifest(image: string, reference: string, signal?: AbortSignal, accept = MANIFEST_ACCEPT): Promise<Buffer> {
    const res = await this.call('GET', `${this.endpoint.v2(image)}/manifests/${reference}`, 200, { signal, headers: { accept } });
    return Buffer.from(await res.body.arrayBuffer());
  }

  /** Walks a paged tag list through its Link headers; returns every page's latency and the tags. */
  async listTags(image: string, pageSize: number, signal?: AbortSignal): Promise<{ pagesMs: number[]; tags: number }> {
    let next: string | undefined = `${this.endpoint.v2(image)}/tags/list?n=${pageSize}`;
    const pagesMs: number[] = [];
    let tags = 0;
    while (next) {
      const started = performance.now();
      const res = await this.call('GET', next, 200, { signal });
      const body = (await res.body.json()) as { tags?: string[] };
      pagesMs.push(performance.now() - started);
      tags += body.tags?.length ?? 0;
      const link = res.headers.link;
      const match = typeof link === 'string' ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
      next = match ? match[1] : undefined;
      if (pagesMs.length > 10_000) throw new Error('tag listing does not end');
    }
    return { pagesMs, tags };
  }

  private location(res: Dispatcher.ResponseData): URL {
    const location = res.headers.location;
    if (typeof location !== 'string') throw new Error(`no Location in a ${res.statusCode} answer`);
    return new URL(location, this.endpoint.origin);
  }
}

/** A config blob, a small layer and the OCI manifest naming them; `variant` makes distinct manifests. */
export function smallImage(seed = randomBytes(8).toString('hex')): { config: Buffer; layer: Buffer; manifest(variant?: string): Buffer } {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Labels: { seed } } }));
  const layer = randomBytes(2048);
  const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  return {
    config,
    layer,
    manifest: (variant?: string) =>
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(layer), size: layer.length }],
          ...(variant === undefined ? {} : { annotations: { 'org.wharf.bench.variant': variant } }),
        }),
      ),
  };
}

/** A manifest naming one given (large) layer, for pull-through. */
export function manifestFor(config: Buffer, layerDigest: string, layerSize: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${createHash('sha256').update(config).digest('hex')}`, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layerSize }],
    }),
  );
}

/** Reads a body to its end, counting (not keeping) its bytes, and checks them against Content-Length. */
async function counted(path: string, res: Dispatcher.ResponseData, started: number): Promise<Transfer> {
  let bytes = 0;
  let firstByteMs: number | undefined;
  for await (const chunk of res.body) {
    firstByteMs ??= performance.now() - started;
    bytes += (chunk as Buffer).length;
  }
  const expected = Number(res.headers['content-length']);
  if (Number.isSafeInteger(expected) && bytes !== expected) throw new Error(`GET ${path}: ${bytes} bytes of ${expected}`);
  return { bytes, seconds: (performance.now() - started) / 1000, firstByteMs };
}
