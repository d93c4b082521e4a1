// Remote repositories (pull-through caches) for e2e suites: created over the REST API with the
// admin's credentials, pointed at a tamper proxy in front of a real upstream registry, so a
// test can count what reached the upstream and make it misbehave.
import { promises as fs } from 'fs';
import * as path from 'path';
import { HttpResult, expectStatus, request } from './registry-http';
import { TamperProxy } from './tamper-proxy';
import { WharfTestServer } from './wharf-server';

/** The REST body of a remote repository, in Artifactory's field names (all optional). */
export interface RemoteRepositoryFields {
  url?: string;
  username?: string;
  password?: string;
  metadataRetrievalCachePeriod?: number;
  offline?: boolean;
  enableTokenAuthentication?: boolean;
  connectTimeoutMillis?: number;
  socketTimeoutMillis?: number;
  includesPattern?: string;
  excludesPattern?: string;
  tokenRealmAllowList?: string[];
  libraryPrefix?: boolean;
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

/** Where the filesystem driver keeps a blob's bytes under the server's data dir. */
export function blobFile(server: WharfTestServer, digest: string): string {
  const [algorithm, hex] = digest.split(':');
  return path.join(server.dataDir, 'storage', 'blobs', algorithm, hex.slice(0, 2), hex);
}

export async function blobFileExists(server: WharfTestServer, digest: string): Promise<boolean> {
  return fs.stat(blobFile(server, digest)).then(
    () => true,
    () => false,
  );
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
