// Virtual repositories for e2e suites: their REST configuration, the resolve endpoint, users and
// permissions to test what a caller may see through a virtual, and the listing helpers (byte
// order, Link pagination) the virtual suites share. Everything goes through the public HTTP API
// as the admin unless a helper takes an `auth`.
import { randomBytes } from 'node:crypto';
import type { ResolutionStep, ResolutionView, VirtualFields } from '@wharf/registry';
import { MediaTypes } from './oci-image-builder';
import { HttpResult, RequestAuth, expectStatus, request, sha256 } from './registry-http';
import { WharfTestServer, basicAuthorization } from './wharf-server';

/** The REST body of a virtual repository (all optional; Artifactory's names). */
export interface VirtualRepositoryFields extends VirtualFields {
  description?: string;
  anonymousRead?: boolean;
}

/** What GET /api/repositories/<virtual> answers. */
export interface VirtualRepositoryView {
  key: string;
  rclass: 'virtual';
  packageType: 'docker';
  description: string;
  anonymousRead: boolean;
  repositories: string[];
  resolvedRepositories: string[];
  defaultDeploymentRepo: string | null;
  resolveDockerTagsByTimestamp: boolean;
  priorityResolution: boolean;
  includesPattern: string;
  excludesPattern: string;
  createdAt: string;
  updatedAt: string;
}

let keyCounter = 0;

/** A repository key no other test of the run uses: `<prefix>-<n>-<random>`. */
export function freshKey(prefix = 'virtual'): string {
  keyCounter += 1;
  return `${prefix}-${keyCounter}-${randomBytes(3).toString('hex')}`;
}

/** A JSON request to the REST API as the admin (or `auth`). */
export function jsonRequest(server: WharfTestServer, method: string, url: string, body?: unknown, auth?: RequestAuth): Promise<HttpResult> {
  return request(server, url, {
    method,
    auth,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** `PUT /api/repositories/<key>` with any body, unchecked. */
export function putRepository(server: WharfTestServer, key: string, body: Record<string, unknown>): Promise<HttpResult> {
  return jsonRequest(server, 'PUT', `/api/repositories/${key}`, body);
}

/** `POST /api/repositories/<key>` (partial update) with any body, unchecked. */
export function postRepository(server: WharfTestServer, key: string, body: Record<string, unknown>): Promise<HttpResult> {
  return jsonRequest(server, 'POST', `/api/repositories/${key}`, body);
}

export function getRepository(server: WharfTestServer, key: string, auth?: RequestAuth): Promise<HttpResult> {
  return request(server, `/api/repositories/${key}`, { auth });
}

export function deleteRepository(server: WharfTestServer, key: string): Promise<HttpResult> {
  return request(server, `/api/repositories/${key}`, { method: 'DELETE' });
}

/** Creates a virtual repository as the admin; asserts 201 and returns the view. */
export async function createVirtualRepository(server: WharfTestServer, key: string, fields: VirtualRepositoryFields = {}): Promise<VirtualRepositoryView> {
  const res = await putRepository(server, key, { rclass: 'virtual', packageType: 'docker', ...fields });
  expectStatus(res, 201);
  return res.json;
}

/** Updates any repository as the admin; asserts 200 and returns the view. */
export async function updateRepositoryFields(server: WharfTestServer, key: string, fields: Record<string, unknown>): Promise<any> {
  const res = await postRepository(server, key, fields);
  expectStatus(res, 200);
  return res.json;
}

/** The repository's view as the admin; asserts 200. */
export async function viewOf(server: WharfTestServer, key: string): Promise<any> {
  const res = await getRepository(server, key);
  expectStatus(res, 200);
  return res.json;
}

/** Keys listed by `GET /api/repositories[?type=]`. */
export async function listedKeys(server: WharfTestServer, type?: string): Promise<string[]> {
  const res = await request(server, `/api/repositories${type ? `?type=${type}` : ''}`);
  expectStatus(res, 200);
  return res.json.map((r: { key: string }) => r.key);
}

/**
 * A REST refusal: `status` with an application/problem+json body whose text mentions every one
 * of `mentions` (the offending field, key or cycle).
 */
export function expectProblem(res: HttpResult, status: number, ...mentions: string[]): void {
  expectStatus(res, status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.json.status).toBe(status);
  expect(typeof res.json.detail).toBe('string');
  const text = JSON.stringify(res.json);
  for (const mention of mentions) expect({ mention, text }).toEqual({ mention, text: expect.stringContaining(mention) });
}

// --- the resolve endpoint -------------------------------------------------------------------

export type ResolveStep = ResolutionStep;
export type ResolveAnswer = ResolutionView;

/** `GET /api/repositories/<virtual>/resolve?image=&reference=`, unchecked. */
export function resolveRequest(server: WharfTestServer, key: string, query: { image?: string; reference?: string }, auth?: RequestAuth): Promise<HttpResult> {
  const params = new URLSearchParams();
  if (query.image !== undefined) params.set('image', query.image);
  if (query.reference !== undefined) params.set('reference', query.reference);
  return request(server, `/api/repositories/${key}/resolve?${params}`, { auth });
}

/** The resolve endpoint's answer; asserts 200 JSON naming what was asked. */
export async function resolveVirtual(server: WharfTestServer, key: string, image: string, reference: string, auth?: RequestAuth): Promise<ResolveAnswer> {
  const res = await resolveRequest(server, key, { image, reference }, auth);
  expectStatus(res, 200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.json).toMatchObject({ repository: key, image, reference });
  return res.json;
}

/** Steps as `repository/pass/result` strings, for order assertions that read well in a diff. */
export function stepSummary(answer: ResolveAnswer): string[] {
  return answer.steps.map((s) => `${s.repository}/${s.pass}/${s.result}`);
}

// --- users and permissions ------------------------------------------------------------------

export interface TestUser {
  name: string;
  password: string;
  /** `Basic ...` */
  basic: string;
  /** For the registry clients (`--creds`, login). */
  creds: { username: string; password: string };
}

/** A user with a unique name (`<label>-<random>`) and a random password; not created yet. */
export function newUser(label: string): TestUser {
  const name = `${label}-${randomBytes(3).toString('hex')}`;
  const password = `pw-${randomBytes(12).toString('hex')}`;
  return { name, password, basic: basicAuthorization(name, password), creds: { username: name, password } };
}

/** Creates the user through the REST API as the admin; asserts 201. */
export async function createUser(server: WharfTestServer, user: TestUser): Promise<TestUser> {
  const res = await jsonRequest(server, 'PUT', `/api/security/users/${user.name}`, { password: user.password });
  expectStatus(res, 201);
  return user;
}

/** `PUT /api/security/permissions/<name>` granting `users` their actions on `repositories`. */
export async function grant(server: WharfTestServer, repositories: string[], users: Record<string, string[]>, name = freshKey('perm')): Promise<void> {
  const res = await jsonRequest(server, 'PUT', `/api/security/permissions/${name}`, { repositories, principals: { users } });
  expect([200, 201]).toContain(res.status);
}

/** `Bearer <token>` from GET /v2/token for `scopes`, as `auth` (null: anonymous); asserts 200. */
export async function bearerFor(server: WharfTestServer, auth: RequestAuth, ...scopes: string[]): Promise<string> {
  const params = new URLSearchParams({ service: 'wharf' });
  for (const scope of scopes) params.append('scope', scope);
  const res = await request(server, `/v2/token?${params}`, { auth: auth ?? null });
  expectStatus(res, 200);
  return `Bearer ${res.json.token}`;
}

// --- manifests and listings -----------------------------------------------------------------

export const ACCEPT_ALL = [MediaTypes.OciManifest, MediaTypes.OciIndex, MediaTypes.DockerManifest, MediaTypes.DockerManifestList].join(', ');

/** GET (or HEAD) `<base>manifests/<reference>` accepting every manifest type. */
export function getManifest(server: WharfTestServer, base: string, reference: string, options: { method?: string; auth?: RequestAuth } = {}): Promise<HttpResult> {
  return request(server, `${base}manifests/${reference}`, { method: options.method ?? 'GET', headers: { accept: ACCEPT_ALL }, auth: options.auth });
}

/** A 200 manifest answer carrying exactly `expected`'s bytes, digest and media type. */
export function expectManifest(res: HttpResult, expected: { bytes: Buffer; digest: string; mediaType: string }): void {
  expectStatus(res, 200);
  expect({ digest: res.headers.get('docker-content-digest'), type: res.headers.get('content-type'), bodyDigest: sha256(res.body) }).toEqual({
    digest: expected.digest,
    type: expected.mediaType,
    bodyDigest: expected.digest,
  });
}

/** Byte order, the spec's "lexical" order of tags and names. */
export function byteOrder(values: Iterable<string>): string[] {
  return [...values].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** Byte-sorted, without duplicates. */
export function sortedUnion(...lists: string[][]): string[] {
  return byteOrder(new Set(lists.flat()));
}

/** Parses `<url>; rel="next"`, asserting its shape; null without a Link header. */
export function nextLink(headers: Headers): string | null {
  const link = headers.get('link');
  if (link === null) return null;
  const match = /^<([^>]+)>;\s*rel="next"$/.exec(link);
  expect({ link, match: match !== null }).toEqual({ link, match: true });
  return match![1];
}

/** Follows Link headers from `first` to the end; returns each page's items (`tags` or `repositories`). */
export async function allPages(server: WharfTestServer, first: string, field: 'tags' | 'repositories', auth?: RequestAuth): Promise<string[][]> {
  const pages: string[][] = [];
  const pathname = new URL(first, server.baseUrl).pathname;
  const seen = new Set<string>();
  let url: string | null = first;
  while (url) {
    // A Link back to a page already read would loop for ever: fail with the pages so far.
    expect({ url, pages, loops: seen.has(url) }).toEqual({ url, pages, loops: false });
    seen.add(url);
    const res = await request(server, url, { auth });
    expectStatus(res, 200);
    pages.push(res.json[field]);
    url = nextLink(res.headers);
    if (url) expect(new URL(url, server.baseUrl).pathname).toBe(pathname);
    expect(pages.length).toBeLessThan(100);
  }
  return pages;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
