// Remote repositories (pull-through caches) for e2e suites: created over the REST API with the
// admin's credentials, pointed at a tamper proxy in front of a real upstream registry, so a
// test can count what reached the upstream and make it misbehave.
import type { RemoteFields } from '@wharf/registry';
import { Client } from 'pg';
import { HttpResult, expectStatus, request } from './registry-http';
import { TamperProxy, startTamperProxy } from './tamper-proxy';
import { UpstreamRegistry, startUpstreamRegistry } from './upstream-registry';
import { WharfTestServer, startWharf } from './wharf-server';

/** The REST body of a remote repository: Wharf's remote fields plus the common ones tests set (all optional). */
export interface RemoteRepositoryFields extends RemoteFields {
  description?: string;
  anonymousRead?: boolean;
}

let counter = 0;

/** A repository key no other test of the run uses (remotes keep per-key upstream state: breaker, tokens). */
export function uniqueKey(prefix = 'remote'): string {
  counter += 1;
  return `${prefix}-${counter}-${Date.now().toString(36)}`;
}

/** `PUT /api/repositories/<key>` as the admin with rclass remote; asserts 201 and returns the view. */
export async function createRemoteRepository(server: WharfTestServer, key: string, fields: RemoteRepositoryFields = {}): Promise<any> {
  const res = await request(server, `/api/repositories/${key}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ rclass: 'remote', packageType: 'docker', ...fields }),
  });
  expectStatus(res, 201);
  return res.json;
}

/** `POST /api/repositories/<key>` (partial update) as the admin; asserts 200 and returns the view. */
export async function updateRepository(server: WharfTestServer, key: string, fields: RemoteRepositoryFields): Promise<any> {
  const res = await request(server, `/api/repositories/${key}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(fields),
  });
  expectStatus(res, 200);
  return res.json;
}

/** `DELETE /api/repositories/<key>/cache[?image=]` as the admin. */
export function purgeCache(server: WharfTestServer, key: string, image?: string): Promise<HttpResult> {
  const query = image === undefined ? '' : `?image=${encodeURIComponent(image)}`;
  return request(server, `/api/repositories/${key}/cache${query}`, { method: 'DELETE' });
}

/** Upstream manifest requests for `image` (`GET`, `HEAD` or `*`), optionally for one reference. */
export function manifestRequests(proxy: TamperProxy, method: string, image: string, reference?: string): number {
  return proxy.matching(method, `/v2/${image}/manifests/${reference ?? ''}`).length;
}

/** Upstream blob requests for `image` (`GET`, `HEAD` or `*`), optionally for one digest. */
export function blobRequests(proxy: TamperProxy, method: string, image: string, digest?: string): number {
  return proxy.matching(method, `/v2/${image}/blobs/${digest ?? ''}`).length;
}

/** Every upstream request that named `image`. */
export function requestsFor(proxy: TamperProxy, image: string): number {
  return proxy.matching('*', `/v2/${image}/`).length;
}

/** Whether the remote `key` has cached the blob: its bytes stored and linked to the remote. */
export async function isCached(server: WharfTestServer, key: string, digest: string): Promise<boolean> {
  const db = new Client({ connectionString: server.databaseUrl });
  await db.connect();
  try {
    const rows = await db.query(`SELECT 1 FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id WHERE r.key = $1 AND rb.digest = $2`, [key, digest]);
    return rows.rowCount === 1 && (await blobFileExists(server, digest));
  } finally {
    await db.end();
  }
}

/** Whether the server's storage holds a blob's bytes (on its disk or in its bucket). */
export async function blobFileExists(server: WharfTestServer, digest: string): Promise<boolean> {
  const [algorithm, hex] = digest.split(':');
  return server.storage.stat(`/blobs/${algorithm}/${hex.slice(0, 2)}/${hex}`).then(
    () => true,
    () => false,
  );
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A real upstream registry, a tamper proxy in front of it, and a Wharf to create remotes on. */
export interface RemoteFixture {
  server: WharfTestServer;
  upstream: UpstreamRegistry;
  proxy: TamperProxy;
  /** Before each test: upstream and proxy up again, the proxy's rules and counted requests forgotten. */
  reset(): Promise<void>;
  /** An image name no other test uses, under library/ as Docker Hub keeps official images. */
  imageName(label: string): string;
  /** A new remote on the proxy (anonymous upstream); short timeouts (`defaults`) so outages are quick. */
  remote(fields?: RemoteRepositoryFields): Promise<string>;
  /** Stops Wharf, the proxy and the upstream. */
  close(): Promise<void>;
}

/**
 * Starts the upstream, the tamper proxy and Wharf (in that order; what started is stopped again
 * if a later one fails). `defaults` are the fields every remote() gets unless overridden.
 */
export async function startRemoteFixture(defaults: RemoteRepositoryFields = {}): Promise<RemoteFixture> {
  let upstream: UpstreamRegistry | undefined;
  let proxy: TamperProxy | undefined;
  let server: WharfTestServer | undefined;
  const stopAll = async (): Promise<void> => {
    await server?.close();
    await proxy?.stop();
    await upstream?.stop();
  };
  try {
    upstream = await startUpstreamRegistry();
    proxy = await startTamperProxy(upstream.url);
    server = await startWharf();
  } catch (error) {
    await stopAll();
    throw error;
  }

  let imageCounter = 0;
  const fixture: RemoteFixture = {
    server,
    upstream,
    proxy,
    reset: async () => {
      await fixture.upstream.up();
      await fixture.proxy.up();
      fixture.proxy.clearRules();
      fixture.proxy.clearRequests();
    },
    imageName: (label) => {
      imageCounter += 1;
      return `library/${label}-${imageCounter}`;
    },
    remote: async (fields = {}) => {
      const key = uniqueKey('remote');
      await createRemoteRepository(fixture.server, key, { url: fixture.proxy.url, ...defaults, ...fields });
      return key;
    },
    close: stopAll,
  };
  return fixture;
}
