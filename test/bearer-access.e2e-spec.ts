// A registry bearer token is verified once (its signature is cached by its bytes until it
// expires), but what it may do is decided on every request: a removed permission, a disabled
// or deleted user and a revoked access token act on the next request, on the instance that
// made the change at once and on another instance sharing the database as soon as the change
// feed reaches it. Each case failed while tokens kept the actions they were minted with.
import { buildImage } from './helpers/oci-image-builder';
import { eventually, expectRegistryError, expectStatus, pushImage, request } from './helpers/registry-http';
import { bearerFor, createUser, grant, jsonRequest, newUser } from './helpers/virtual-repository';
import { WharfTestServer, createLocalRepository, startWharf } from './helpers/wharf-server';

const PROPAGATION_MS = 3_000;
const MANIFEST = '/v2/shared/team/app/manifests/1';
const ACCEPT = { accept: 'application/vnd.oci.image.manifest.v1+json' };

describe('bearer tokens follow the current permissions', () => {
  let a: WharfTestServer;
  let b: WharfTestServer;

  beforeAll(async () => {
    a = await startWharf();
    b = await startWharf({ DATABASE_URL: a.databaseUrl });
    await createLocalRepository(a, 'shared');
    await pushImage(a, '/v2/shared/team/app/', buildImage({ layerCount: 1 }), '1');
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  /** A user with read on `shared` and a pull token from instance A, which both instances accept. */
  async function reader(label: string): Promise<{ name: string; basic: string; bearer: string; permission: string }> {
    const user = await createUser(a, newUser(label));
    const permission = `perm-${user.name}`;
    await grant(a, ['shared'], { [user.name]: ['read'] }, permission);
    const bearer = await bearerFor(a, user.basic, 'repository:shared/team/app:pull');
    for (const server of [a, b]) await eventually(async () => expectStatus(await request(server, MANIFEST, { auth: bearer, headers: ACCEPT }), 200), PROPAGATION_MS);
    return { name: user.name, basic: user.basic, bearer, permission };
  }

  async function expectRefusedOnBoth(bearer: string, status: number, code: string): Promise<void> {
    // The instance that made the change: at once.
    expectRegistryError(await request(a, MANIFEST, { auth: bearer, headers: ACCEPT }), status, code);
    await eventually(async () => expectRegistryError(await request(b, MANIFEST, { auth: bearer, headers: ACCEPT }), status, code), PROPAGATION_MS);
  }

  it('a removed permission: the token pulls no more (404, as for Basic)', async () => {
    const user = await reader('perm');
    expectStatus(await jsonRequest(a, 'DELETE', `/api/security/permissions/${user.permission}`), 204);
    await expectRefusedOnBoth(user.bearer, 404, 'NAME_UNKNOWN');
  });

  it('a disabled user: 401', async () => {
    const user = await reader('disabled');
    expectStatus(await jsonRequest(a, 'POST', `/api/security/users/${user.name}`, { disabled: true }), 200);
    await expectRefusedOnBoth(user.bearer, 401, 'UNAUTHORIZED');
  });

  it('a deleted user: 401', async () => {
    const user = await reader('deleted');
    expectStatus(await jsonRequest(a, 'DELETE', `/api/security/users/${user.name}`), 204);
    await expectRefusedOnBoth(user.bearer, 401, 'UNAUTHORIZED');
  });

  it('a revoked access token: the bearer tokens obtained with it stop', async () => {
    const user = await reader('revoked');
    const created = await jsonRequest(a, 'POST', '/api/security/tokens', { name: 'ci', expiresInSeconds: 600, repositories: ['shared'], actions: ['read'] }, user.basic);
    expectStatus(created, 201);
    const viaToken = await bearerFor(a, `Basic ${Buffer.from(`${user.name}:${created.json.token}`).toString('base64')}`, 'repository:shared/team/app:pull');
    for (const server of [a, b]) await eventually(async () => expectStatus(await request(server, MANIFEST, { auth: viaToken, headers: ACCEPT }), 200), PROPAGATION_MS);
    expectStatus(await jsonRequest(a, 'DELETE', `/api/security/tokens/${created.json.id}`, undefined, user.basic), 204);
    await expectRefusedOnBoth(viaToken, 401, 'UNAUTHORIZED');
    // The user's own (password) token is untouched.
    expectStatus(await request(b, MANIFEST, { auth: user.bearer, headers: ACCEPT }), 200);
  });

  it('a verified token is remembered by its exact bytes: a forged twin is refused', async () => {
    const user = await reader('forged');
    const [header, payload, signature] = user.bearer.slice('Bearer '.length).split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    claims.access[0].actions = ['pull', 'push'];
    const forged = `Bearer ${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    expectRegistryError(await request(a, MANIFEST, { auth: forged, headers: ACCEPT }), 401, 'UNAUTHORIZED');
    const flipped = `${user.bearer.slice(0, -2)}${user.bearer.endsWith('AA') ? 'BB' : 'AA'}`;
    expectRegistryError(await request(a, MANIFEST, { auth: flipped, headers: ACCEPT }), 401, 'UNAUTHORIZED');
    expectStatus(await request(a, MANIFEST, { auth: user.bearer, headers: ACCEPT }), 200);
  });
});
