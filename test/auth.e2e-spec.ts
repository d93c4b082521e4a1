// Authentication and authorization over HTTP: the Docker token protocol (challenge -> token ->
// Bearer), Basic credentials on every route, what a JWT may and may not do, access tokens
// (scope, expiry, revocation), forged and expired JWTs, anonymous read, users/groups/permissions
// through the REST API, the failed-login rate limit, and secrets kept out of the logs.
//
// Each refusal sits next to the same request succeeding for someone who is allowed, so it fails
// when the check it names is removed (each check was mutated once to make sure).
import { createHmac, createPublicKey, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as jwt from 'jsonwebtoken';
import { BuiltImage, buildImage } from './helpers/oci-image-builder';
import { HttpResult, RequestAuth, expectRegistryError, expectStatus, pushImage, pushManifest, request } from './helpers/registry-http';
import { WharfTestServer, basicAuthorization, createLocalRepository, startWharf } from './helpers/wharf-server';

jest.setTimeout(120_000);

// --- helpers --------------------------------------------------------------------------------

const API_CHALLENGE = 'Basic realm="Wharf", charset="UTF-8"';
const ACCEPT_MANIFESTS = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';

function password(): string {
  return `pw-${randomBytes(12).toString('hex')}`;
}

/** `Bearer ...` */
function bearer(token: string): string {
  return `Bearer ${token}`;
}

/** The challenge a registry route answers a 401 with; `scope` only when the route needs one. */
function registryChallenge(server: WharfTestServer, scope?: string): string {
  return `Bearer realm="${server.baseUrl}/v2/token",service="wharf"${scope ? `,scope="${scope}"` : ''}`;
}

/** A registry 401: UNAUTHORIZED in the registry envelope with exactly this challenge. */
function expectChallenge(res: HttpResult, server: WharfTestServer, scope?: string): void {
  expectRegistryError(res, 401, 'UNAUTHORIZED');
  expect(res.headers.get('www-authenticate')).toBe(registryChallenge(server, scope));
}

/** A REST refusal: problem+json with the status, and for 401 the Basic challenge. */
function expectProblem(res: HttpResult, status: number): void {
  expectStatus(res, status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.json.status).toBe(status);
  expect(typeof res.json.detail).toBe('string');
  if (status === 401) expect(res.headers.get('www-authenticate')).toBe(API_CHALLENGE);
  else expect(res.headers.get('www-authenticate')).toBeNull();
}

/** A registry refusal that is not a 401 carries no challenge (a wider token would not help). */
function expectRefusal(res: HttpResult, status: 403 | 404, code: string): void {
  expectRegistryError(res, status, code);
  expect(res.headers.get('www-authenticate')).toBeNull();
}

function api(server: WharfTestServer, method: string, url: string, body?: unknown, auth?: RequestAuth, headers: Record<string, string> = {}): Promise<HttpResult> {
  return request(server, url, {
    method,
    auth,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function createUser(server: WharfTestServer, username: string, pass: string, extra: Record<string, unknown> = {}): Promise<void> {
  const res = await api(server, 'PUT', `/api/security/users/${username}`, { password: pass, ...extra });
  expectStatus(res, 201);
  // The answer never carries the password or its hash.
  expect(JSON.stringify(res.json)).not.toContain(pass);
  expect(res.json).not.toHaveProperty('password');
  expect(res.json).not.toHaveProperty('passwordHash');
}

async function putPermission(server: WharfTestServer, name: string, repositories: string[], principals: Record<string, Record<string, string[]>>): Promise<void> {
  const res = await api(server, 'PUT', `/api/security/permissions/${name}`, { repositories, principals });
  expect([200, 201]).toContain(res.status);
}

interface CreatedToken {
  id: string;
  name: string;
  token: string;
  expiresAt: string;
}

async function createAccessToken(server: WharfTestServer, auth: string, body: Record<string, unknown>): Promise<CreatedToken> {
  const res = await api(server, 'POST', '/api/security/tokens', { name: `t-${randomBytes(4).toString('hex')}`, ...body }, auth);
  expectStatus(res, 201);
  expect(res.json.token).toMatch(/^wharf_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/);
  // The id is the token's middle part, so one lookup finds the row.
  expect(res.json.id.replace(/-/g, '')).toBe(res.json.token.split('_')[1]);
  return res.json;
}

interface TokenQuery {
  /** The Authorization header; null (default) is anonymous. */
  auth?: RequestAuth;
  scopes?: string[];
  offline?: boolean;
  headers?: Record<string, string>;
}

function getToken(server: WharfTestServer, query: TokenQuery = {}): Promise<HttpResult> {
  const params = new URLSearchParams({ service: 'wharf' });
  for (const scope of query.scopes ?? []) params.append('scope', scope);
  if (query.offline) params.set('offline_token', 'true');
  return request(server, `/v2/token?${params}`, { auth: query.auth ?? null, headers: query.headers });
}

function postToken(server: WharfTestServer, form: Record<string, string>, headers: Record<string, string> = {}): Promise<HttpResult> {
  return request(server, '/v2/token', {
    method: 'POST',
    auth: null,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
}

/** A bearer token from GET /v2/token; asserts 200. */
async function tokenFor(server: WharfTestServer, auth: RequestAuth, ...scopes: string[]): Promise<string> {
  const res = await getToken(server, { auth, scopes });
  expectStatus(res, 200);
  return res.json.token;
}

interface DecodedJwt {
  header: Record<string, any>;
  payload: Record<string, any>;
}

function decodeJwt(token: string): DecodedJwt {
  const [header, payload] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')),
  };
}

function repositoryScope(name: string, actions: string): string {
  return `repository:${name}:${actions}`;
}

function manifestUrl(name: string, reference: string): string {
  return `/v2/${name}/manifests/${reference}`;
}

function getManifest(server: WharfTestServer, name: string, reference: string, auth: RequestAuth): Promise<HttpResult> {
  return request(server, manifestUrl(name, reference), { auth, headers: { accept: ACCEPT_MANIFESTS } });
}

/** A push begins with an upload session: the first write a client makes. */
function startUploadAs(server: WharfTestServer, name: string, auth: RequestAuth): Promise<HttpResult> {
  return request(server, `/v2/${name}/blobs/uploads/`, { method: 'POST', auth });
}

/** Pushes an image's blobs and manifest as `auth`; asserts every step succeeded. */
async function pushAs(server: WharfTestServer, name: string, image: BuiltImage, tag: string, auth: RequestAuth): Promise<string> {
  return pushImage(server, `/v2/${name}/`, image, tag, { auth });
}

/** The manifest is served (as the admin) with these bytes, or is unknown. */
async function expectTag(server: WharfTestServer, name: string, tag: string, image: BuiltImage | undefined): Promise<void> {
  const res = await getManifest(server, name, tag, undefined);
  if (!image) return expectRegistryError(res, 404, 'MANIFEST_UNKNOWN');
  expectStatus(res, 200);
  expect(res.body.equals(image.manifest.bytes)).toBe(true);
}

async function catalogOf(server: WharfTestServer, auth: RequestAuth): Promise<string[]> {
  const res = await request(server, '/v2/_catalog', { auth });
  expectStatus(res, 200);
  return res.json.repositories;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A P-256 private key, as the PEM WHARF_JWT_PRIVATE_KEY_FILE holds. */
function newSigningKey(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

// --- the main server ------------------------------------------------------------------------

const PRIVATE = 'docker-private'; // alice: read, write; rita: read; bob: nothing
const OTHER = 'docker-other'; // alice: read
const PUBLIC = 'docker-public'; // anonymous read switched on by a test; alice: write
const APP = `${PRIVATE}/team/app`;
const OTHER_APP = `${OTHER}/team/app`;
const PUBLIC_APP = `${PUBLIC}/team/app`;

interface User {
  name: string;
  password: string;
  basic: string;
}

function user(name: string): User {
  const pass = password();
  return { name, password: pass, basic: basicAuthorization(name, pass) };
}

/** The random part of `wharf_<id>_<secret>`: base64url, so it may itself contain `_` (or start with one). */
function secretPartOf(token: string): string {
  return token.split('_').slice(2).join('_');
}

describe('registry authentication and authorization over HTTP', () => {
  let server: WharfTestServer;
  let keyDir: string;
  /** The server's own signing key: it lets a test make an otherwise valid but expired JWT. */
  let serverKey: string;
  const alice = user('alice');
  const rita = user('rita');
  const bob = user('bob');
  const seed = buildImage();
  const otherSeed = buildImage();
  const publicSeed = buildImage();

  beforeAll(async () => {
    keyDir = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-auth-key-'));
    serverKey = newSigningKey();
    await fs.writeFile(path.join(keyDir, 'jwt.pem'), serverKey, { mode: 0o600 });
    server = await startWharf({
      WHARF_JWT_PRIVATE_KEY_FILE: path.join(keyDir, 'jwt.pem'),
      // Every request comes from 127.0.0.1, and several tests fail logins on purpose; the limit
      // itself is tested on a server of its own below.
      WHARF_LOGIN_MAX_FAILURES: '1000',
    });
    for (const key of [PRIVATE, OTHER, PUBLIC]) await createLocalRepository(server, key);
    for (const u of [alice, rita, bob]) await createUser(server, u.name, u.password);
    await putPermission(server, 'private-team', [PRIVATE], { users: { alice: ['read', 'write'], rita: ['read'] } });
    await putPermission(server, 'other-readers', [OTHER], { users: { alice: ['read'] } });
    await putPermission(server, 'public-writers', [PUBLIC], { users: { alice: ['write'] } });
    await pushAs(server, APP, seed, '1', undefined);
    await pushAs(server, OTHER_APP, otherSeed, '1', undefined);
    await pushAs(server, PUBLIC_APP, publicSeed, '1', undefined);
  });
  afterAll(async () => {
    await server?.close();
    if (keyDir) await fs.rm(keyDir, { recursive: true, force: true });
  });

  describe('challenges', () => {
    it('the base endpoint challenges anonymous callers with the realm and service, and greets logged-in ones', async () => {
      for (const url of ['/v2/', '/v2']) {
        const res = await request(server, url, { auth: null });
        expectChallenge(res, server);
      }
      const ok = await request(server, '/v2/', { auth: alice.basic });
      expectStatus(ok, 200);
      expect(ok.json).toEqual({});
      expect(ok.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    });

    it('an anonymous pull of a private repository is 401 naming the pull scope, on both path forms', async () => {
      expectChallenge(await getManifest(server, APP, '1', null), server, repositoryScope(APP, 'pull'));
      const apiForm = await request(server, `/api/docker/${PRIVATE}/v2/team/app/manifests/1`, { auth: null });
      expectChallenge(apiForm, server, repositoryScope(APP, 'pull'));
      const tags = await request(server, `/v2/${APP}/tags/list`, { auth: null });
      expectChallenge(tags, server, repositoryScope(APP, 'pull'));
    });

    it('an anonymous push is 401 naming pull,push, and nothing is written', async () => {
      expectChallenge(await startUploadAs(server, APP, null), server, repositoryScope(APP, 'pull,push'));
      const apiForm = await request(server, `/api/docker/${PRIVATE}/v2/team/app/blobs/uploads/`, { method: 'POST', auth: null });
      expectChallenge(apiForm, server, repositoryScope(APP, 'pull,push'));
      const image = buildImage();
      const put = await pushManifest(server, `/v2/${APP}/`, 'anon', image.manifest.bytes, image.manifest.mediaType, { auth: null });
      expectChallenge(put, server, repositoryScope(APP, 'pull,push'));
      await expectTag(server, APP, 'anon', undefined);
    });

    it('an anonymous delete names pull,delete', async () => {
      const res = await request(server, manifestUrl(APP, seed.manifest.digest), { method: 'DELETE', auth: null });
      expectChallenge(res, server, repositoryScope(APP, 'pull,delete'));
      await expectTag(server, APP, '1', seed);
    });

    it('the anonymous catalog is 401 naming registry:catalog:*', async () => {
      expectChallenge(await request(server, '/v2/_catalog', { auth: null }), server, 'registry:catalog:*');
    });

    it('wrong credentials are 401 with the challenge, never quietly anonymous', async () => {
      for (const auth of [
        basicAuthorization('alice', 'wrong-password'),
        basicAuthorization('nobody', 'whatever1'),
        'Basic !!!not-base64',
        `Basic ${Buffer.from('no-colon').toString('base64')}`,
      ]) {
        const res = await getManifest(server, PUBLIC_APP, '1', auth);
        expectChallenge(res, server);
      }
      const scheme = await getManifest(server, APP, '1', 'Digest username="alice"');
      expectChallenge(scheme, server);
    });
  });

  describe('the token endpoint', () => {
    it('GET with Basic credentials answers the token JSON with an ES256 JWT listing the granted access', async () => {
      const before = Math.floor(Date.now() / 1000);
      const res = await getToken(server, { auth: alice.basic, scopes: [repositoryScope(APP, 'pull,push')] });
      expectStatus(res, 200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(Object.keys(res.json).sort()).toEqual(['access_token', 'expires_in', 'issued_at', 'token']);
      expect(res.json.access_token).toBe(res.json.token);
      expect(Number.isInteger(res.json.expires_in)).toBe(true);
      expect(res.json.expires_in).toBeGreaterThanOrEqual(60);
      const issuedAt = Date.parse(res.json.issued_at);
      expect(new Date(issuedAt).toISOString()).toBe(res.json.issued_at);
      expect(Math.abs(issuedAt / 1000 - before)).toBeLessThanOrEqual(5);

      const { header, payload } = decodeJwt(res.json.token);
      expect(header.alg).toBe('ES256');
      expect(header.typ).toBe('JWT');
      expect(typeof header.kid).toBe('string');
      expect(payload).toMatchObject({ iss: 'wharf', aud: 'wharf', sub: 'alice', typ: 'access' });
      expect(payload.exp - payload.iat).toBe(res.json.expires_in);
      expect(payload.iat).toBe(issuedAt / 1000);
      expect(payload.access).toEqual([{ type: 'repository', name: APP, actions: ['pull', 'push'] }]);
      expect(payload).not.toHaveProperty('tid');
      // It verifies with the server's public key.
      expect(() => jwt.verify(res.json.token, serverKey, { algorithms: ['ES256'] })).not.toThrow();
    });

    it('offline_token=true adds a refresh token, and POST grant_type=refresh_token trades it for a new token', async () => {
      const res = await getToken(server, { auth: alice.basic, scopes: [repositoryScope(APP, 'pull')], offline: true });
      expectStatus(res, 200);
      expect(typeof res.json.refresh_token).toBe('string');
      expect(decodeJwt(res.json.refresh_token).payload).toMatchObject({ sub: 'alice', typ: 'refresh', access: [] });

      const refreshed = await postToken(server, {
        grant_type: 'refresh_token',
        refresh_token: res.json.refresh_token,
        service: 'wharf',
        scope: repositoryScope(APP, 'pull'),
        client_id: 'e2e',
      });
      expectStatus(refreshed, 200);
      expect(refreshed.headers.get('cache-control')).toBe('no-store');
      expect(decodeJwt(refreshed.json.token).payload.access).toEqual([{ type: 'repository', name: APP, actions: ['pull'] }]);
      expectStatus(await getManifest(server, APP, '1', bearer(refreshed.json.token)), 200);

      // A refresh token is not a bearer token, and an access JWT is not a refresh token.
      expectChallenge(await getManifest(server, APP, '1', bearer(res.json.refresh_token)), server);
      const wrongKind = await postToken(server, { grant_type: 'refresh_token', refresh_token: res.json.token, service: 'wharf' });
      expectChallenge(wrongKind, server);
    });

    it('POST grant_type=password issues a token (and a refresh token for access_type=offline); a wrong password is 401', async () => {
      const res = await postToken(server, {
        grant_type: 'password',
        username: 'alice',
        password: alice.password,
        service: 'wharf',
        scope: repositoryScope(APP, 'pull,push'),
        client_id: 'e2e',
        access_type: 'offline',
      });
      expectStatus(res, 200);
      expect(typeof res.json.refresh_token).toBe('string');
      expect(decodeJwt(res.json.token).payload.access).toEqual([{ type: 'repository', name: APP, actions: ['pull', 'push'] }]);

      const wrong = await postToken(server, { grant_type: 'password', username: 'alice', password: 'not-her-password', service: 'wharf' });
      expectChallenge(wrong, server);
      const noPassword = await postToken(server, { grant_type: 'password', username: 'alice', service: 'wharf' });
      expectChallenge(noPassword, server);
    });

    it('a wrong password on GET is 401 with the challenge; a registry JWT is no credential for another token', async () => {
      expectChallenge(await getToken(server, { auth: basicAuthorization('alice', 'not-her-password'), scopes: [repositoryScope(APP, 'pull')] }), server);
      const token = await tokenFor(server, alice.basic, repositoryScope(APP, 'pull'));
      expectChallenge(await getToken(server, { auth: bearer(token), scopes: [repositoryScope(APP, 'pull,push')] }), server);
    });

    it('a pull-only user asking for pull,push gets a 200 token that lists only pull', async () => {
      const res = await getToken(server, { auth: rita.basic, scopes: [repositoryScope(APP, 'pull,push')] });
      expectStatus(res, 200);
      expect(decodeJwt(res.json.token).payload).toMatchObject({ sub: 'rita', access: [{ type: 'repository', name: APP, actions: ['pull'] }] });
      // `*` expands to what is held, nothing more.
      const star = await getToken(server, { auth: rita.basic, scopes: [repositoryScope(APP, '*')] });
      expect(decodeJwt(star.json.token).payload.access).toEqual([{ type: 'repository', name: APP, actions: ['pull'] }]);
    });

    it('a user without read gets a 200 token that grants nothing on the repository', async () => {
      const res = await getToken(server, { auth: bob.basic, scopes: [repositoryScope(APP, 'pull,push'), repositoryScope(OTHER_APP, 'pull')] });
      expectStatus(res, 200);
      expect(decodeJwt(res.json.token).payload).toMatchObject({ sub: 'bob', access: [] });
    });

    it('an anonymous token grants nothing on a private repository and has no refresh token', async () => {
      const res = await getToken(server, { scopes: [repositoryScope(APP, 'pull')], offline: true });
      expectStatus(res, 200);
      expect(res.json).not.toHaveProperty('refresh_token');
      expect(decodeJwt(res.json.token).payload).toMatchObject({ sub: '', access: [] });
      // Holding a token that grants nothing is still anonymous: 401 again, naming the scope.
      expectChallenge(await getManifest(server, APP, '1', bearer(res.json.token)), server, repositoryScope(APP, 'pull'));
    });

    it('several scopes in one request are granted one by one', async () => {
      const res = await getToken(server, { auth: alice.basic, scopes: [`${repositoryScope(APP, 'pull,push')} ${repositoryScope(OTHER_APP, 'pull,push')}`, 'registry:catalog:*'] });
      expectStatus(res, 200);
      expect(decodeJwt(res.json.token).payload.access).toEqual([
        { type: 'repository', name: APP, actions: ['pull', 'push'] },
        { type: 'repository', name: OTHER_APP, actions: ['pull'] },
        { type: 'registry', name: 'catalog', actions: ['*'] },
      ]);
    });
  });

  describe('the Bearer flow', () => {
    it('challenge -> token from the realm -> push and pull with the Bearer token', async () => {
      const name = `${PRIVATE}/team/bearer`;
      const image = buildImage();
      const challenged = await startUploadAs(server, name, null);
      expectChallenge(challenged, server, repositoryScope(name, 'pull,push'));

      // Follow the challenge as a client does: realm, service and scope from the header.
      const params = Object.fromEntries([...challenged.headers.get('www-authenticate')!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
      const realm = new URL(params.realm);
      realm.searchParams.set('service', params.service);
      realm.searchParams.set('scope', params.scope);
      const tokenRes = await request(server, realm.toString(), { auth: alice.basic });
      expectStatus(tokenRes, 200);
      const auth = bearer(tokenRes.json.token);

      expect(await pushAs(server, name, image, '1', auth)).toBe(image.manifest.digest);
      const pulled = await getManifest(server, name, '1', auth);
      expectStatus(pulled, 200);
      expect(pulled.body.equals(image.manifest.bytes)).toBe(true);
      expect(pulled.headers.get('docker-content-digest')).toBe(image.manifest.digest);
      const blob = await request(server, `/v2/${name}/blobs/${image.layers[0].digest}`, { auth });
      expectStatus(blob, 200);
      expect(blob.body.equals(image.layers[0].bytes)).toBe(true);
      const tags = await request(server, `/v2/${name}/tags/list`, { auth });
      expectStatus(tags, 200);
      expect(tags.json.tags).toEqual(['1']);
    });

    it('a pull-only token of a user who may push is 401 naming pull,push; the wider token then pushes', async () => {
      const name = `${PRIVATE}/team/widen`;
      const image = buildImage();
      const pullOnly = await tokenFor(server, alice.basic, repositoryScope(name, 'pull'));
      expect(decodeJwt(pullOnly).payload.access).toEqual([{ type: 'repository', name, actions: ['pull'] }]);
      expectChallenge(await startUploadAs(server, name, bearer(pullOnly)), server, repositoryScope(name, 'pull,push'));
      const put = await pushManifest(server, `/v2/${name}/`, '1', image.manifest.bytes, image.manifest.mediaType, { auth: bearer(pullOnly) });
      expectChallenge(put, server, repositoryScope(name, 'pull,push'));
      await expectTag(server, name, '1', undefined);

      const pushToken = await tokenFor(server, alice.basic, repositoryScope(name, 'pull,push'));
      await pushAs(server, name, image, '1', bearer(pushToken));
      await expectTag(server, name, '1', image);
    });

    it("a pull-only user's token (pull only) cannot push: 403 DENIED, as asking again would not help", async () => {
      const name = `${PRIVATE}/team/rita`;
      const token = await tokenFor(server, rita.basic, repositoryScope(name, 'pull,push'));
      // rita holds pull but not push, so the authorizer answers DENIED rather than a challenge:
      // a new token would list the same actions.
      expectRefusal(await startUploadAs(server, name, bearer(token)), 403, 'DENIED');
      const image = buildImage();
      expectRefusal(await pushManifest(server, `/v2/${name}/`, '1', image.manifest.bytes, image.manifest.mediaType, { auth: bearer(token) }), 403, 'DENIED');
      await expectTag(server, name, '1', undefined);
      // A token of hers pulls.
      expectStatus(await getManifest(server, APP, '1', bearer(await tokenFor(server, rita.basic, repositoryScope(APP, 'pull,push')))), 200);
    });

    it('a JWT for one repository is refused on another, and on another image of the same repository', async () => {
      const token = bearer(await tokenFor(server, alice.basic, repositoryScope(APP, 'pull')));
      expectStatus(await getManifest(server, APP, '1', token), 200);
      // alice may read docker-other, but this token does not say so: 401 naming what is needed.
      expectChallenge(await getManifest(server, OTHER_APP, '1', token), server, repositoryScope(OTHER_APP, 'pull'));
      expectChallenge(await request(server, `/v2/${OTHER_APP}/blobs/${otherSeed.layers[0].digest}`, { auth: token }), server, repositoryScope(OTHER_APP, 'pull'));
      expectChallenge(await getManifest(server, `${PRIVATE}/team/bearer`, '1', token), server, repositoryScope(`${PRIVATE}/team/bearer`, 'pull'));
      // The same image name in another repository is another repository.
      const otherToken = bearer(await tokenFor(server, alice.basic, repositoryScope(OTHER_APP, 'pull')));
      expectStatus(await getManifest(server, OTHER_APP, '1', otherToken), 200);
      expectChallenge(await getManifest(server, APP, '1', otherToken), server, repositoryScope(APP, 'pull'));
    });

    it('a JWT used for a repository its user cannot read is 404 NAME_UNKNOWN, like an unknown one', async () => {
      const token = bearer(await tokenFor(server, bob.basic, repositoryScope(APP, 'pull')));
      expectRefusal(await getManifest(server, APP, '1', token), 404, 'NAME_UNKNOWN');
    });

    it('a JWT signed with another key (same header and claims) is 401', async () => {
      const genuine = await tokenFor(server, alice.basic, repositoryScope(APP, 'pull,push'));
      expectStatus(await getManifest(server, APP, '1', bearer(genuine)), 200);
      const { header, payload } = decodeJwt(genuine);
      const forged = jwt.sign(payload, newSigningKey(), { algorithm: 'ES256', keyid: header.kid });
      expect(decodeJwt(forged)).toEqual({ header, payload });
      expectChallenge(await getManifest(server, APP, '1', bearer(forged)), server);
      expectChallenge(await startUploadAs(server, APP, bearer(forged)), server);

      // The same claims with the signature of the genuine token but a widened payload.
      const [h, , s] = genuine.split('.');
      const widened = Buffer.from(JSON.stringify({ ...payload, access: [{ type: 'repository', name: OTHER_APP, actions: ['pull', 'push'] }] })).toString('base64url');
      expectChallenge(await getManifest(server, OTHER_APP, '1', bearer(`${h}.${widened}.${s}`)), server);

      // alg=none, and HS256 keyed with the public key (algorithm confusion).
      const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${genuine.split('.')[1]}.`;
      expectChallenge(await getManifest(server, APP, '1', bearer(none)), server);
      const publicPem = createPublicKey(serverKey).export({ type: 'spki', format: 'pem' }) as string;
      const hs = signHs256(payload, publicPem);
      expectChallenge(await getManifest(server, APP, '1', bearer(hs)), server);
      expectChallenge(await getManifest(server, APP, '1', 'Bearer not.a.jwt'), server);
    });

    it("a JWT with the server's own key is refused once expired, for another audience, or before nbf", async () => {
      const now = Math.floor(Date.now() / 1000);
      const claims = {
        iss: 'wharf',
        sub: 'alice',
        aud: 'wharf',
        nbf: now - 10,
        iat: now,
        exp: now + 300,
        jti: randomUUID(),
        typ: 'access',
        access: [{ type: 'repository', name: APP, actions: ['pull'] }],
      };
      const sign = (c: object) => bearer(jwt.sign(c, serverKey, { algorithm: 'ES256' }));
      // The control: made like this, a token is accepted.
      expectStatus(await getManifest(server, APP, '1', sign(claims)), 200);

      const expired = await getManifest(server, APP, '1', sign({ ...claims, nbf: now - 700, iat: now - 600, exp: now - 300 }));
      expectChallenge(expired, server);
      expect(expired.json.errors[0].message).toMatch(/expired/);
      expectChallenge(await getManifest(server, APP, '1', sign({ ...claims, aud: 'another-service' })), server);
      expectChallenge(await getManifest(server, APP, '1', sign({ ...claims, iss: 'someone-else' })), server);
      expectChallenge(await getManifest(server, APP, '1', sign({ ...claims, nbf: now + 600 })), server);
      // A token for a user that does not exist speaks for nobody.
      expectChallenge(await getManifest(server, APP, '1', sign({ ...claims, sub: 'mallory' })), server);
    });
  });

  describe('Basic credentials on registry routes', () => {
    it('a user with read and write pushes and pulls with Basic on both path forms', async () => {
      const image = buildImage();
      const name = `${PRIVATE}/team/basic`;
      expect(await pushAs(server, name, image, '1', alice.basic)).toBe(image.manifest.digest);
      for (const url of [manifestUrl(name, '1'), `/api/docker/${PRIVATE}/v2/team/basic/manifests/1`]) {
        for (const who of [alice, rita]) {
          const res = await request(server, url, { auth: who.basic, headers: { accept: ACCEPT_MANIFESTS } });
          expectStatus(res, 200);
          expect(res.body.equals(image.manifest.bytes)).toBe(true);
        }
      }
      const head = await request(server, manifestUrl(name, '1'), { method: 'HEAD', auth: rita.basic, headers: { accept: ACCEPT_MANIFESTS } });
      expectStatus(head, 200);
      expect(head.headers.get('docker-content-digest')).toBe(image.manifest.digest);
    });

    it('read without write: 403 DENIED on push and delete, no challenge', async () => {
      expectRefusal(await startUploadAs(server, APP, rita.basic), 403, 'DENIED');
      const image = buildImage();
      expectRefusal(await pushManifest(server, `/v2/${APP}/`, 'rita', image.manifest.bytes, image.manifest.mediaType, { auth: rita.basic }), 403, 'DENIED');
      expectRefusal(await request(server, manifestUrl(APP, seed.manifest.digest), { method: 'DELETE', auth: alice.basic }), 403, 'DENIED');
      await expectTag(server, APP, 'rita', undefined);
      await expectTag(server, APP, '1', seed);
    });

    it('without read, a private repository is 404 NAME_UNKNOWN exactly like one that does not exist', async () => {
      const hidden = await getManifest(server, APP, '1', bob.basic);
      expectRefusal(hidden, 404, 'NAME_UNKNOWN');
      const missing = await getManifest(server, 'docker-nonexistent/team/app', '1', bob.basic);
      expectRefusal(missing, 404, 'NAME_UNKNOWN');
      expect(hidden.json.errors[0].message.replace(PRIVATE, 'KEY')).toBe(missing.json.errors[0].message.replace('docker-nonexistent', 'KEY'));
      expectRefusal(await startUploadAs(server, APP, bob.basic), 404, 'NAME_UNKNOWN');
      expectRefusal(await request(server, `/v2/${APP}/tags/list`, { auth: bob.basic }), 404, 'NAME_UNKNOWN');
      expectRefusal(await request(server, `/v2/${APP}/blobs/${seed.layers[0].digest}`, { auth: bob.basic }), 404, 'NAME_UNKNOWN');
      expectRefusal(await request(server, `/api/docker/${PRIVATE}/v2/_catalog`, { auth: bob.basic }), 404, 'NAME_UNKNOWN');
      // alice, who may read, gets the manifest: the 404 was the permission.
      expectStatus(await getManifest(server, APP, '1', alice.basic), 200);
    });

    it('_catalog lists only what the caller may read', async () => {
      const adminCatalog = await catalogOf(server, undefined);
      expect(adminCatalog).toEqual(expect.arrayContaining([APP, OTHER_APP, PUBLIC_APP]));
      const bobCatalog = await catalogOf(server, bob.basic);
      expect(bobCatalog.filter((n) => n.startsWith(`${PRIVATE}/`) || n.startsWith(`${OTHER}/`))).toEqual([]);
      const ritaCatalog = await catalogOf(server, rita.basic);
      expect(ritaCatalog).toContain(APP);
      expect(ritaCatalog.filter((n) => n.startsWith(`${OTHER}/`))).toEqual([]);
      const aliceCatalog = await catalogOf(server, alice.basic);
      expect(aliceCatalog).toEqual(expect.arrayContaining([APP, OTHER_APP]));
      // With a bearer token too: filtered by its user.
      const token = bearer(await tokenFor(server, bob.basic, 'registry:catalog:*'));
      expect((await catalogOf(server, token)).filter((n) => n.startsWith(`${PRIVATE}/`))).toEqual([]);
    });
  });

  describe('access tokens', () => {
    it('work as a Basic password on the registry, as a token-endpoint credential, and as a REST Bearer', async () => {
      const created = await createAccessToken(server, alice.basic, { repositories: [PRIVATE], actions: ['read', 'write'] });
      const asBasic = basicAuthorization('alice', created.token);
      expectStatus(await getManifest(server, APP, '1', asBasic), 200);
      const jwtToken = await tokenFor(server, asBasic, repositoryScope(APP, 'pull,push'));
      expect(decodeJwt(jwtToken).payload).toMatchObject({ sub: 'alice', tid: created.id, access: [{ type: 'repository', name: APP, actions: ['pull', 'push'] }] });
      const list = await api(server, 'GET', '/api/security/tokens', undefined, bearer(created.token));
      expectStatus(list, 200);
      expect(list.json.map((t: { id: string }) => t.id)).toContain(created.id);
      // Listings never show a secret.
      expect(JSON.stringify(list.json)).not.toContain(secretPartOf(created.token));
      // With another user's name it is no password at all.
      expectChallenge(await getManifest(server, APP, '1', basicAuthorization('rita', created.token)), server);
    });

    it('never do more than their scope: a read-only token cannot push; outside the scope, DENIED where the owner can read, else unknown', async () => {
      const readOnly = await createAccessToken(server, alice.basic, { repositories: [PRIVATE], actions: ['read'] });
      const auth = basicAuthorization('alice', readOnly.token);
      expectStatus(await getManifest(server, APP, '1', auth), 200);
      expectRefusal(await startUploadAs(server, APP, auth), 403, 'DENIED');
      // alice reads OTHER, so the token's holder learns nothing new by hearing that only the scope is missing.
      const outside = await startUploadAs(server, OTHER_APP, auth);
      expectRefusal(outside, 403, 'DENIED');
      expect(outside.json.errors[0].message).toContain(`does not cover repository ${OTHER}`);
      expectRefusal(await getManifest(server, OTHER_APP, '1', auth), 403, 'DENIED');
      // Where alice herself cannot read, the repository stays unknown.
      expectRefusal(await startUploadAs(server, 'docker-nowhere/team/app', auth), 404, 'NAME_UNKNOWN');
      const token = await getToken(server, { auth, scopes: [repositoryScope(APP, 'pull,push'), repositoryScope(OTHER_APP, 'pull')] });
      expect(decodeJwt(token.json.token).payload.access).toEqual([{ type: 'repository', name: APP, actions: ['pull'] }]);
      // ...nor more than their owner: rita's write-scoped token still cannot write.
      const ritaToken = await createAccessToken(server, rita.basic, { repositories: [PRIVATE], actions: ['read', 'write'] });
      expectRefusal(await startUploadAs(server, APP, basicAuthorization('rita', ritaToken.token)), 403, 'DENIED');
      // An access token cannot mint access tokens.
      expectProblem(await api(server, 'POST', '/api/security/tokens', { name: 'child', repositories: [PRIVATE], actions: ['read'] }, bearer(readOnly.token)), 403);
    });

    it('a revoked token is refused at once: Basic, REST Bearer, the token endpoint, and JWTs issued from it', async () => {
      const created = await createAccessToken(server, alice.basic, { repositories: [PRIVATE], actions: ['read', 'write'] });
      const asBasic = basicAuthorization('alice', created.token);
      const jwtToken = bearer(await tokenFor(server, asBasic, repositoryScope(APP, 'pull')));
      expectStatus(await getManifest(server, APP, '1', asBasic), 200);
      expectStatus(await getManifest(server, APP, '1', jwtToken), 200);
      expectStatus(await api(server, 'GET', '/api/security/tokens', undefined, bearer(created.token)), 200);

      const revoked = await api(server, 'DELETE', `/api/security/tokens/${created.id}`, undefined, alice.basic);
      expectStatus(revoked, 204);

      expectChallenge(await getManifest(server, APP, '1', asBasic), server);
      expectChallenge(await getManifest(server, APP, '1', jwtToken), server);
      expectChallenge(await getToken(server, { auth: asBasic, scopes: [repositoryScope(APP, 'pull')] }), server);
      expectProblem(await api(server, 'GET', '/api/security/tokens', undefined, bearer(created.token)), 401);
      expectChallenge(await getManifest(server, APP, '1', bearer(created.token)), server);

      const listed = await api(server, 'GET', '/api/security/tokens', undefined, alice.basic);
      expect(listed.json.find((t: { id: string }) => t.id === created.id)).toMatchObject({ revoked: true, revokedAt: expect.any(String) });
      // Revoking again is fine; someone else's token is "not found".
      expectStatus(await api(server, 'DELETE', `/api/security/tokens/${created.id}`, undefined, alice.basic), 204);
      const other = await createAccessToken(server, alice.basic, { repositories: [PRIVATE], actions: ['read'] });
      expectProblem(await api(server, 'DELETE', `/api/security/tokens/${other.id}`, undefined, rita.basic), 404);
      expectStatus(await getManifest(server, APP, '1', basicAuthorization('alice', other.token)), 200);
    });

    it('an expired token is refused everywhere, and so are the JWTs issued from it', async () => {
      const created = await createAccessToken(server, alice.basic, { repositories: [PRIVATE], actions: ['read'], expiresInSeconds: 3 });
      const expiresAt = Date.parse(created.expiresAt);
      expect(expiresAt - Date.now()).toBeLessThanOrEqual(3_000);
      expect(expiresAt - Date.now()).toBeGreaterThan(0);
      const asBasic = basicAuthorization('alice', created.token);
      expectStatus(await getManifest(server, APP, '1', asBasic), 200);
      const jwtToken = bearer(await tokenFor(server, asBasic, repositoryScope(APP, 'pull')));
      expectStatus(await getManifest(server, APP, '1', jwtToken), 200);

      await sleep(expiresAt - Date.now() + 1_000);
      expectChallenge(await getManifest(server, APP, '1', asBasic), server);
      // The JWT itself has minutes left, but its access token has expired.
      expect(decodeJwt(jwtToken.slice(7)).payload.exp * 1000).toBeGreaterThan(Date.now());
      expectChallenge(await getManifest(server, APP, '1', jwtToken), server);
      expectChallenge(await getToken(server, { auth: asBasic, scopes: [repositoryScope(APP, 'pull')] }), server);
      expectProblem(await api(server, 'GET', '/api/security/tokens', undefined, bearer(created.token)), 401);
      const listed = await api(server, 'GET', '/api/security/tokens', undefined, alice.basic);
      expect(listed.json.find((t: { id: string }) => t.id === created.id)).toMatchObject({ expired: true, revoked: false });
    });

    it('a malformed or unknown wharf_ token is 401', async () => {
      const unknown = `wharf_${randomBytes(16).toString('hex')}_${randomBytes(32).toString('base64url')}`;
      expectProblem(await api(server, 'GET', '/api/security/tokens', undefined, bearer(unknown)), 401);
      expectProblem(await api(server, 'GET', '/api/security/tokens', undefined, bearer('wharf_short')), 401);
      expectChallenge(await getManifest(server, APP, '1', basicAuthorization('alice', unknown)), server);
      // The right id with the wrong secret.
      const created = await createAccessToken(server, alice.basic, { repositories: [PRIVATE], actions: ['read'] });
      const wrongSecret = `${created.token.slice(0, 39)}${randomBytes(32).toString('base64url')}`;
      expectProblem(await api(server, 'GET', '/api/security/tokens', undefined, bearer(wrongSecret)), 401);
      expectChallenge(await getManifest(server, APP, '1', basicAuthorization('alice', wrongSecret)), server);
    });
  });

  describe('anonymous read', () => {
    it('is off by default; switched on it lets anonymous callers pull (plain and token flow) but never push', async () => {
      const name = PUBLIC_APP;
      expectChallenge(await getManifest(server, name, '1', null), server, repositoryScope(name, 'pull'));
      const anonToken = await getToken(server, { scopes: [repositoryScope(name, 'pull,push')] });
      expect(decodeJwt(anonToken.json.token).payload.access).toEqual([]);

      const on = await api(server, 'POST', `/api/repositories/${PUBLIC}`, { anonymousRead: true });
      expectStatus(on, 200);
      expect(on.json.anonymousRead).toBe(true);
      try {
        // Plain GETs, no credentials at all.
        const plain = await getManifest(server, name, '1', null);
        expectStatus(plain, 200);
        expect(plain.body.equals(publicSeed.manifest.bytes)).toBe(true);
        expectStatus(await request(server, `/v2/${name}/blobs/${publicSeed.layers[0].digest}`, { auth: null }), 200);
        expectStatus(await request(server, `/api/docker/${PUBLIC}/v2/team/app/tags/list`, { auth: null }), 200);

        // The token flow: an anonymous token lists pull only, even when asked for push.
        const res = await getToken(server, { scopes: [repositoryScope(name, 'pull,push')] });
        expectStatus(res, 200);
        expect(decodeJwt(res.json.token).payload).toMatchObject({ sub: '', access: [{ type: 'repository', name, actions: ['pull'] }] });
        const viaToken = await getManifest(server, name, '1', bearer(res.json.token));
        expectStatus(viaToken, 200);
        expect(viaToken.body.equals(publicSeed.manifest.bytes)).toBe(true);

        // Push: anonymous is challenged (plain or with its pull-only token), a logged-in reader is denied.
        expectChallenge(await startUploadAs(server, name, null), server, repositoryScope(name, 'pull,push'));
        expectChallenge(await startUploadAs(server, name, bearer(res.json.token)), server, repositoryScope(name, 'pull,push'));
        const image = buildImage();
        expectChallenge(
          await pushManifest(server, `/v2/${name}/`, 'anon', image.manifest.bytes, image.manifest.mediaType, { auth: null }),
          server,
          repositoryScope(name, 'pull,push'),
        );
        expectChallenge(await request(server, manifestUrl(name, publicSeed.manifest.digest), { method: 'DELETE', auth: null }), server, repositoryScope(name, 'pull,delete'));
        expectRefusal(await startUploadAs(server, name, bob.basic), 403, 'DENIED');
        await expectTag(server, name, 'anon', undefined);
        // bob may read it now, and sees it in his catalog; alice (write) still pushes.
        expectStatus(await getManifest(server, name, '1', bob.basic), 200);
        expect(await catalogOf(server, bob.basic)).toContain(name);
        await pushAs(server, name, image, 'alice', alice.basic);
        // Other repositories stay private.
        expectChallenge(await getManifest(server, APP, '1', null), server, repositoryScope(APP, 'pull'));
      } finally {
        const off = await api(server, 'POST', `/api/repositories/${PUBLIC}`, { anonymousRead: false });
        expectStatus(off, 200);
      }
      expectChallenge(await getManifest(server, name, '1', null), server, repositoryScope(name, 'pull'));
      expectRefusal(await getManifest(server, name, '1', bob.basic), 404, 'NAME_UNKNOWN');
    });
  });

  describe('users, groups and permissions through the REST API', () => {
    const carol = user('carol');
    const CI_REPO = 'docker-ci-local';

    beforeAll(async () => {
      await createLocalRepository(server, CI_REPO);
      expectStatus(await api(server, 'PUT', '/api/security/groups/ci', { description: 'pipelines' }), 201);
      await createUser(server, carol.name, carol.password);
      await putPermission(server, 'ci-deploy', ['docker-ci-*'], { users: { carol: ['read'] }, groups: { ci: ['read', 'write'] } });
    });

    async function carolCanPush(name: string): Promise<void> {
      const token = await tokenFor(server, carol.basic, repositoryScope(name, 'pull,push'));
      expect(decodeJwt(token).payload.access).toEqual([{ type: 'repository', name, actions: ['pull', 'push'] }]);
      await pushAs(server, name, buildImage(), `t${randomBytes(3).toString('hex')}`, carol.basic);
    }

    async function carolCannotPush(name: string): Promise<void> {
      const token = await tokenFor(server, carol.basic, repositoryScope(name, 'pull,push'));
      expect(decodeJwt(token).payload.access).toEqual([{ type: 'repository', name, actions: ['pull'] }]);
      expectRefusal(await startUploadAs(server, name, carol.basic), 403, 'DENIED');
      expectRefusal(await startUploadAs(server, name, bearer(token)), 403, 'DENIED');
    }

    it('a group permission grants its members push; leaving the group takes it away', async () => {
      const name = `${CI_REPO}/app`;
      await carolCannotPush(name);

      const joined = await api(server, 'POST', '/api/security/users/carol', { groups: ['ci'] });
      expectStatus(joined, 200);
      expect(joined.json.groups).toEqual(['ci']);
      const group = await api(server, 'GET', '/api/security/groups/ci');
      expectStatus(group, 200);
      expect(JSON.stringify(group.json)).toContain('carol');
      await carolCanPush(name);
      // The permission's pattern covers repositories created later.
      await createLocalRepository(server, 'docker-ci-later');
      await carolCanPush('docker-ci-later/app');
      // ...and nothing else.
      expectRefusal(await startUploadAs(server, APP, carol.basic), 404, 'NAME_UNKNOWN');

      const left = await api(server, 'POST', '/api/security/users/carol', { groups: [] });
      expectStatus(left, 200);
      expect(left.json.groups).toEqual([]);
      await carolCannotPush(name);
    });

    it('removing a user from a permission removes the access; disabling a user ends its JWTs at once', async () => {
      const dan = user('dan');
      await createUser(server, dan.name, dan.password);
      await putPermission(server, 'dan-reads', [OTHER], { users: { dan: ['read'] } });
      const token = bearer(await tokenFor(server, dan.basic, repositoryScope(OTHER_APP, 'pull')));
      expectStatus(await getManifest(server, OTHER_APP, '1', dan.basic), 200);
      expectStatus(await getManifest(server, OTHER_APP, '1', token), 200);

      await putPermission(server, 'dan-reads', [OTHER], { users: {} });
      expectRefusal(await getManifest(server, OTHER_APP, '1', dan.basic), 404, 'NAME_UNKNOWN');

      await putPermission(server, 'dan-reads', [OTHER], { users: { dan: ['read'] } });
      expectStatus(await getManifest(server, OTHER_APP, '1', token), 200);
      expectStatus(await api(server, 'POST', '/api/security/users/dan', { disabled: true }), 200);
      expectChallenge(await getManifest(server, OTHER_APP, '1', token), server);
      expectChallenge(await getManifest(server, OTHER_APP, '1', dan.basic), server);
      expectChallenge(await getToken(server, { auth: dan.basic, scopes: [repositoryScope(OTHER_APP, 'pull')] }), server);
    });

    it('a password change takes effect at once', async () => {
      const erin = user('erin');
      await createUser(server, erin.name, erin.password);
      expectStatus(await api(server, 'GET', '/api/security/users/erin', undefined, erin.basic), 200);
      const next = password();
      expectStatus(await api(server, 'POST', '/api/security/users/erin', { password: next }), 200);
      expectProblem(await api(server, 'GET', '/api/security/users/erin', undefined, erin.basic), 401);
      expectChallenge(await request(server, '/v2/', { auth: erin.basic }), server);
      expectStatus(await api(server, 'GET', '/api/security/users/erin', undefined, basicAuthorization('erin', next)), 200);
    });

    const adminOnly: Array<[string, string, unknown]> = [
      ['GET', '/api/security/users', undefined],
      ['PUT', '/api/security/users/eve', { password: 'eve-password-1' }],
      ['POST', '/api/security/users/bob', { admin: true }],
      ['POST', '/api/security/users/bob', { groups: ['ci'] }],
      ['DELETE', '/api/security/users/rita', undefined],
      ['GET', '/api/security/groups', undefined],
      ['PUT', '/api/security/groups/bobs', {}],
      ['GET', '/api/security/permissions', undefined],
      ['PUT', '/api/security/permissions/bob-everything', { repositories: ['*'], principals: { users: { bob: ['read', 'write', 'delete', 'manage'] } } }],
      ['DELETE', '/api/security/permissions/private-team', undefined],
      ['GET', '/api/security/tokens?user=alice', undefined],
      ['PUT', '/api/repositories/docker-bob', { rclass: 'local', packageType: 'docker' }],
    ];

    it.each(adminOnly)('%s %s: 403 for a non-admin, 401 with a Basic challenge for anonymous', async (method, url, body) => {
      expectProblem(await api(server, method, url, body, bob.basic), 403);
      expectProblem(await api(server, method, url, body, null), 401);
    });

    it('the refused admin calls changed nothing', async () => {
      expectProblem(await api(server, 'GET', '/api/security/users/eve'), 404);
      const bobView = await api(server, 'GET', '/api/security/users/bob');
      expectStatus(bobView, 200);
      expect(bobView.json).toMatchObject({ admin: false, groups: [] });
      expectProblem(await api(server, 'GET', '/api/security/permissions/bob-everything'), 404);
      expectStatus(await api(server, 'GET', '/api/security/permissions/private-team'), 200);
      expectRefusal(await getManifest(server, APP, '1', bob.basic), 404, 'NAME_UNKNOWN');
      expectProblem(await api(server, 'GET', '/api/repositories/docker-bob'), 404);
    });

    it("an admin's access token does not administer; wrong REST credentials are 401", async () => {
      const token = await createAccessToken(server, server.adminAuthorization, { repositories: ['*'], actions: ['read', 'write', 'delete', 'manage'] });
      expectProblem(await api(server, 'GET', '/api/security/users', undefined, bearer(token.token)), 403);
      expectProblem(await api(server, 'GET', '/api/security/users', undefined, basicAuthorization('admin', token.token)), 403);
      // ...but it does reach repositories.
      expectStatus(await getManifest(server, APP, '1', bearer(token.token)), 200);

      expectProblem(await api(server, 'GET', '/api/security/users', undefined, basicAuthorization('admin', 'wrong-password')), 401);
      expectProblem(await api(server, 'GET', '/api/security/users', undefined, 'Digest username="admin"'), 401);
    });

    it('a registry JWT is no REST credential: a pull-only token must not act as its (admin) user', async () => {
      // The JWT lists pull on one image; on REST it would otherwise stand for the whole user.
      const adminJwt = bearer(await tokenFor(server, server.adminAuthorization, repositoryScope(APP, 'pull')));
      expectStatus(await getManifest(server, APP, '1', adminJwt), 200);
      expectProblem(await api(server, 'GET', '/api/security/users', undefined, adminJwt), 401);
      expectProblem(await api(server, 'PUT', '/api/security/users/jwt-made', { password: 'jwt-made-password' }, adminJwt), 401);
      const aliceJwt = bearer(await tokenFor(server, alice.basic, repositoryScope(APP, 'pull')));
      expectProblem(await api(server, 'POST', '/api/security/tokens', { name: 'from-jwt', repositories: [PRIVATE], actions: ['read', 'write'] }, aliceJwt), 401);
      expectProblem(await api(server, 'GET', '/api/security/users/jwt-made'), 404);
    });
  });
});

// --- failed-login rate limit ----------------------------------------------------------------

describe('failed logins are limited per (user, address) pair, with higher limits per user and per address that never refuse a pair without failures', () => {
  let server: WharfTestServer;
  const erin = user('erin');
  const WINDOW_SECONDS = 10;

  beforeAll(async () => {
    server = await startWharf({
      WHARF_LOGIN_MAX_FAILURES: '3',
      WHARF_LOGIN_MAX_FAILURES_PER_USER: '5',
      WHARF_LOGIN_MAX_FAILURES_PER_ADDRESS: '6',
      WHARF_LOGIN_WINDOW_SECONDS: String(WINDOW_SECONDS),
    });
    await createUser(server, erin.name, erin.password);
  });
  afterAll(() => server?.close());

  /** The server trusts X-Forwarded-For from loopback, so each test can be its own client address. */
  function from(ip: string): Record<string, string> {
    return { 'x-forwarded-for': ip };
  }

  function expectTooMany(res: HttpResult, form: 'registry' | 'rest'): void {
    if (form === 'registry') expectRegistryError(res, 429, 'TOOMANYREQUESTS');
    else expectProblem(res, 429);
    const retryAfter = res.headers.get('retry-after');
    expect(retryAfter).toMatch(/^\d+$/);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(WINDOW_SECONDS);
    expect(res.headers.get('www-authenticate')).toBeNull();
  }

  async function fail(username: string, ip: string): Promise<void> {
    expectChallenge(await request(server, '/v2/', { auth: basicAuthorization(username, `wrong-${randomBytes(4).toString('hex')}`), headers: from(ip) }), server);
  }

  it('a CI job failing behind a NAT locks out only its own user at that address: the admin and the same user elsewhere get in', async () => {
    const ci = user('ci-bot');
    await createUser(server, ci.name, ci.password);
    for (let i = 0; i < 3; i++) await fail('ci-bot', '10.0.0.1');

    // The pair is refused on every route, even with the right password.
    expectTooMany(await request(server, '/v2/', { auth: ci.basic, headers: from('10.0.0.1') }), 'registry');
    expectTooMany(await getToken(server, { auth: ci.basic, scopes: ['repository:x/y:pull'], headers: from('10.0.0.1') }), 'registry');
    expectTooMany(await postToken(server, { grant_type: 'password', username: 'ci-bot', password: ci.password, service: 'wharf' }, from('10.0.0.1')), 'registry');
    expectTooMany(await api(server, 'GET', '/api/security/users/ci-bot', undefined, ci.basic, from('10.0.0.1')), 'rest');

    // Everyone else behind that address, the admin included, is not.
    expectStatus(await request(server, '/v2/', { auth: server.adminAuthorization, headers: from('10.0.0.1') }), 200);
    expectStatus(await request(server, '/v2/', { auth: erin.basic, headers: from('10.0.0.1') }), 200);
    expectStatus(await getToken(server, { auth: server.adminAuthorization, scopes: ['repository:x/y:pull'], headers: from('10.0.0.1') }), 200);
    // Nor is the same user from another address.
    expectStatus(await request(server, '/v2/', { auth: ci.basic, headers: from('10.0.0.2') }), 200);
  });

  it('guesses for one user spread over many addresses: past the per-user limit the addresses that failed are refused, one that never failed gets in', async () => {
    const dave = user('dave');
    await createUser(server, dave.name, dave.password);
    for (const ip of ['10.1.0.1', '10.1.0.2', '10.1.0.3', '10.1.0.4', '10.1.0.5']) await fail('dave', ip);

    expectTooMany(await request(server, '/v2/', { auth: dave.basic, headers: from('10.1.0.1') }), 'registry');
    expectTooMany(await api(server, 'GET', '/api/security/users/dave', undefined, dave.basic, from('10.1.0.5')), 'rest');
    expectStatus(await request(server, '/v2/', { auth: dave.basic, headers: from('10.1.0.9') }), 200);
    // Another user from one of those addresses is not affected.
    expectStatus(await request(server, '/v2/', { auth: erin.basic, headers: from('10.1.0.1') }), 200);
  });

  it('password spraying from one address: past the per-address limit the names that failed there are refused, a user who did not fail there gets in', async () => {
    const sprayed = ['gina', 'hank', 'ivy', 'jack', 'kim', 'lou'].map(user);
    for (const victim of sprayed) {
      await createUser(server, victim.name, victim.password);
      await fail(victim.name, '10.2.0.1');
    }
    expectTooMany(await request(server, '/v2/', { auth: sprayed[0].basic, headers: from('10.2.0.1') }), 'registry');
    expectTooMany(await api(server, 'GET', '/api/security/users/hank', undefined, sprayed[1].basic, from('10.2.0.1')), 'rest');
    expectStatus(await request(server, '/v2/', { auth: erin.basic, headers: from('10.2.0.1') }), 200);
    expectStatus(await request(server, '/v2/', { auth: sprayed[0].basic, headers: from('10.2.0.2') }), 200);
  });

  it('wrong access tokens as REST Bearer count against the address without a user name, not against users there', async () => {
    for (let i = 0; i < 3; i++) {
      const token = `wharf_${randomBytes(16).toString('hex')}_${randomBytes(32).toString('base64url')}`;
      expectProblem(await api(server, 'GET', '/api/security/tokens', undefined, bearer(token), from('10.3.0.1')), 401);
    }
    const token = `wharf_${randomBytes(16).toString('hex')}_${randomBytes(32).toString('base64url')}`;
    expectTooMany(await api(server, 'GET', '/api/security/tokens', undefined, bearer(token), from('10.3.0.1')), 'rest');
    expectStatus(await api(server, 'GET', '/api/security/users/erin', undefined, erin.basic, from('10.3.0.1')), 200);
  });

  it('the lock ends when the window has passed; a success then starts the count afresh', async () => {
    const frank = user('frank');
    await createUser(server, frank.name, frank.password);
    for (let i = 0; i < 3; i++) await fail('frank', '10.4.0.1');
    const locked = await request(server, '/v2/', { auth: frank.basic, headers: from('10.4.0.1') });
    expectTooMany(locked, 'registry');

    await sleep(Number(locked.headers.get('retry-after')) * 1000 + 500);
    expectStatus(await request(server, '/v2/', { auth: frank.basic, headers: from('10.4.0.1') }), 200);
    await fail('frank', '10.4.0.1');
    await fail('frank', '10.4.0.1');
    expectStatus(await request(server, '/v2/', { auth: frank.basic, headers: from('10.4.0.1') }), 200);
  });
});

// --- logs -------------------------------------------------------------------------------------

describe('secrets stay out of the logs', () => {
  it('no password, access token, JWT or Authorization header is written, even at LOG_LEVEL=debug', async () => {
    const written: string[] = [];
    const capture = (stream: NodeJS.WriteStream) =>
      jest.spyOn(stream, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
        written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
        const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
        callback?.();
        return true;
      }) as never);
    const stdout = capture(process.stdout);
    const stderr = capture(process.stderr);
    const secrets: string[] = [];
    let server: WharfTestServer | undefined;
    try {
      server = await startWharf({ LOG_LEVEL: 'debug' });
      secrets.push(server.admin.password, server.adminAuthorization.slice(6));
      const logan = user('logan');
      const wrong = `wrong-${randomBytes(8).toString('hex')}`;
      const changed = password();
      secrets.push(logan.password, logan.basic.slice(6), wrong, basicAuthorization('logan', wrong).slice(6), changed);

      await createLocalRepository(server, 'docker-logs');
      await createUser(server, 'logan', logan.password);
      await putPermission(server, 'logan', ['docker-logs'], { users: { logan: ['read', 'write'] } });
      const name = 'docker-logs/app';

      expectStatus(await request(server, '/v2/', { auth: logan.basic }), 200);
      expectChallenge(await request(server, '/v2/', { auth: basicAuthorization('logan', wrong) }), server);
      const got = await getToken(server, { auth: logan.basic, scopes: [repositoryScope(name, 'pull,push')], offline: true });
      expectStatus(got, 200);
      secrets.push(got.json.token, got.json.refresh_token);
      const posted = await postToken(server, { grant_type: 'password', username: 'logan', password: logan.password, service: 'wharf', access_type: 'offline' });
      expectStatus(posted, 200);
      secrets.push(posted.json.token, posted.json.refresh_token);
      expectChallenge(await postToken(server, { grant_type: 'password', username: 'logan', password: wrong, service: 'wharf' }), server);
      expectStatus(await postToken(server, { grant_type: 'refresh_token', refresh_token: got.json.refresh_token, service: 'wharf' }), 200);
      await pushAs(server, name, buildImage(), '1', bearer(got.json.token));
      const forged = jwt.sign(decodeJwt(got.json.token).payload, newSigningKey(), { algorithm: 'ES256' });
      secrets.push(forged);
      expectChallenge(await getManifest(server, name, '1', bearer(forged)), server);

      const created = await createAccessToken(server, logan.basic, { repositories: ['docker-logs'], actions: ['read'] });
      secrets.push(created.token, secretPartOf(created.token), basicAuthorization('logan', created.token).slice(6));
      expectStatus(await api(server, 'GET', '/api/security/tokens', undefined, bearer(created.token)), 200);
      expectStatus(await getManifest(server, name, '1', basicAuthorization('logan', created.token)), 200);
      expectStatus(await api(server, 'DELETE', `/api/security/tokens/${created.id}`, undefined, logan.basic), 204);
      expectProblem(await api(server, 'GET', '/api/security/tokens', undefined, bearer(created.token)), 401);
      expectChallenge(await getManifest(server, name, '1', basicAuthorization('logan', created.token)), server);

      expectProblem(await api(server, 'POST', '/api/security/password', { currentPassword: wrong, newPassword: changed }, logan.basic), 400);
      expectStatus(await api(server, 'POST', '/api/security/password', { currentPassword: logan.password, newPassword: changed }, logan.basic), 204);
      expectStatus(await request(server, '/v2/', { auth: basicAuthorization('logan', changed) }), 200);
      // One failure with a secret shaped like an access token.
      expectProblem(await api(server, 'GET', '/api/security/users', undefined, 'Bearer wharf_not_a_real_token'), 401);
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
      await server?.close();
    }

    const log = written.join('');
    // The capture worked: the access log has a line per request, with the paths.
    expect(log).toMatch(/"msg":"request"/);
    expect(log).toContain('"path":"/v2/token"');
    expect(log).toContain('"path":"/api/security/tokens"');
    const leaked = secrets.filter((secret) => secret && log.includes(secret));
    expect(leaked).toEqual([]);
    // Parts of JWTs (their signatures) and header names/values.
    const signatures = secrets.filter((s) => s.split('.').length === 3).map((s) => s.split('.')[2]);
    expect(signatures.filter((sig) => log.includes(sig))).toEqual([]);
    expect(log).not.toMatch(/authorization/i);
    expect(log).not.toMatch(/\bBasic [A-Za-z0-9+/=]{8,}/);
    expect(log).not.toMatch(/\bBearer [A-Za-z0-9._-]{8,}/);
    expect(log).not.toMatch(/wharf_[0-9a-f]{32}_/);
  });
});

/** HS256 by hand: jsonwebtoken refuses to sign with a PEM public key as the HMAC secret. */
function signHs256(payload: object, secret: string): string {
  const head = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const signature = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${signature}`;
}
