import { buildImage } from './helpers/oci-image-builder';
import { eventually, expectRegistryError, expectStatus, pushImage, request } from './helpers/registry-http';
import { WharfTestServer, basicAuthorization, createLocalRepository, createTestDatabase, startWharf } from './helpers/wharf-server';

// Two instances on one Postgres: each keeps repositories, users, permissions and tags in memory,
// so a change made through one must reach the other's caches (LISTEN/NOTIFY). A notification
// travels on its own connection and may land a few milliseconds after the writer's answer, so
// the other instance is polled (without the feed it would serve the old rows forever; this
// fails then, as it did when NOTIFY was switched off).
const PROPAGATION_MS = 3_000;
describe('two instances sharing one database', () => {
  let a: WharfTestServer;
  let b: WharfTestServer;

  beforeAll(async () => {
    a = await startWharf();
    b = await startWharf({ DATABASE_URL: a.databaseUrl });
    await createLocalRepository(a, 'shared');
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('sees a tag moved or deleted on the other instance', async () => {
    const base = '/v2/shared/team/app/';
    const first = buildImage({ layerCount: 1 });
    const second = buildImage({ layerCount: 1 });
    await pushImage(a, base, first, 'latest');

    const before = await request(b, `${base}manifests/latest`, { auth: a.adminAuthorization });
    expectStatus(before, 200);
    expect(before.headers.get('docker-content-digest')).toBe(first.manifest.digest);

    await pushImage(a, base, second, 'latest');
    await eventually(async () => {
      const after = await request(b, `${base}manifests/latest`, { auth: a.adminAuthorization });
      expect(after.headers.get('docker-content-digest')).toBe(second.manifest.digest);
    }, PROPAGATION_MS);

    expectStatus(await request(a, `${base}manifests/latest`, { method: 'DELETE' }), 202);
    await eventually(async () => {
      expectRegistryError(await request(b, `${base}manifests/latest`, { auth: a.adminAuthorization }), 404, 'MANIFEST_UNKNOWN');
    }, PROPAGATION_MS);
  });

  it('applies a permission granted, and a password changed, on the other instance', async () => {
    const json = { 'content-type': 'application/json' };
    expectStatus(await request(a, '/api/security/users/carol', { method: 'PUT', headers: json, body: JSON.stringify({ password: 'carol-password-1' }) }), 201);
    const carol = basicAuthorization('carol', 'carol-password-1');
    expectRegistryError(await request(b, '/v2/shared/team/app/tags/list', { auth: carol }), 404, 'NAME_UNKNOWN');

    const grant = { repositories: ['shared'], principals: { users: { carol: ['read'] } } };
    expectStatus(await request(a, '/api/security/permissions/carol-read', { method: 'PUT', headers: json, body: JSON.stringify(grant) }), 201);
    await eventually(async () => expectStatus(await request(b, '/v2/shared/team/app/tags/list', { auth: carol }), 200), PROPAGATION_MS);

    expectStatus(await request(a, '/api/security/users/carol', { method: 'POST', headers: json, body: JSON.stringify({ password: 'carol-password-2' }) }), 200);
    await eventually(async () => {
      expectRegistryError(await request(b, '/v2/shared/team/app/tags/list', { auth: carol }), 401, 'UNAUTHORIZED');
    }, PROPAGATION_MS);
    expectStatus(await request(b, '/v2/shared/team/app/tags/list', { auth: basicAuthorization('carol', 'carol-password-2') }), 200);
  });

  it('forgets a repository deleted on the other instance', async () => {
    await createLocalRepository(a, 'short-lived');
    expectStatus(await request(b, '/api/repositories/short-lived', { auth: a.adminAuthorization }), 200);
    expectStatus(await request(a, '/api/repositories/short-lived', { method: 'DELETE' }), 204);
    await eventually(async () => expectStatus(await request(b, '/api/repositories/short-lived', { auth: a.adminAuthorization }), 404), PROPAGATION_MS);
  });
});

describe('instances starting at once on a new database', () => {
  it('all come up: one migrates, the others wait for it and find the schema in place', async () => {
    const database = await createTestDatabase();
    const env = { DATABASE_URL: database.url, WHARF_ADMIN_PASSWORD: 'shared-admin-password' };
    // TypeORM retries a failed start after 3 s, which would hide a migration race: the
    // instances' own error lines show it.
    const logged = jest.spyOn(process.stdout, 'write');
    const started = await Promise.allSettled(Array.from({ length: 3 }, () => startWharf(env)));
    const errors = logged.mock.calls.map(([line]) => String(line)).filter((line) => line.includes('"level":"error"'));
    logged.mockRestore();
    const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    try {
      expect(started.map((s) => (s.status === 'rejected' ? String(s.reason) : 'started'))).toEqual(['started', 'started', 'started']);
      expect(errors).toEqual([]);
      for (const server of servers) expectStatus(await request(server, '/v2/'), 200);
      // One first admin and one signing key between them: a token from one instance is good on the others.
      await createLocalRepository(servers[0], 'together');
      const token = await request(servers[1], '/v2/token?service=wharf&scope=repository:together/app:pull');
      expectStatus(token, 200);
      expectRegistryError(await request(servers[2], '/v2/together/app/tags/list', { auth: `Bearer ${token.json.token}` }), 404, 'NAME_UNKNOWN');
    } finally {
      for (const server of servers) await server.close();
      await database.drop();
    }
  });
});
