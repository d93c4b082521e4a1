// A NUL (U+0000) or a byte that is not UTF-8 (0xFF) in anything a client sends: queries, path
// parameters, JSON bodies, credentials. Postgres text cannot hold a NUL, so a value that reached
// a query unchecked failed it with a 500; every such request now gets a 2xx or a 4xx, and what
// it answers is checked where an answer is meaningful (pages, empty filters, refusals naming
// the field). Local, remote (online and offline) and virtual repositories, on both path forms.
import { buildImage } from './helpers/oci-image-builder';
import { API_FORM, HttpResult, V2_FORM, expectRegistryError, expectStatus, pushImage, request } from './helpers/registry-http';
import { RemoteFixture, startRemoteFixture, uniqueKey, updateRepository } from './helpers/remote-repository';
import { seedImage } from './helpers/upstream-registry';
import { createVirtualRepository, expectProblem, jsonRequest } from './helpers/virtual-repository';
import { WharfTestServer, basicAuthorization, createLocalRepository } from './helpers/wharf-server';

jest.setTimeout(120_000);

/** Percent-encoded values that decode to a NUL, a NUL inside a name, and a lone 0xFF byte. */
const HOSTILE = ['%00', 'a%00b', '%FF'];

function expectNo5xx(res: HttpResult, what: string): void {
  const outcome = res.status < 500 ? 'not a 5xx' : `${res.status} ${res.body.toString('utf8').slice(0, 300)}`;
  expect({ what, outcome }).toEqual({ what, outcome: 'not a 5xx' });
}

describe('a NUL or an invalid UTF-8 byte in a request never gets a 5xx', () => {
  let fixture: RemoteFixture;
  let server: WharfTestServer;
  const local = 'bytes-local';
  let remote: string;
  let offline: string;
  let virtual: string;
  const image = buildImage();

  beforeAll(async () => {
    fixture = await startRemoteFixture({ connectTimeoutMillis: 2000, socketTimeoutMillis: 10_000 });
    server = fixture.server;
    await createLocalRepository(server, local);
    await pushImage(server, V2_FORM.base(local, 'team/app'), image, 'v1');
    await seedImage(fixture.upstream, 'library/app', 'v1', image);
    remote = await fixture.remote();
    // Pulled once while online, so the offline remote's listings come from its cache.
    offline = await fixture.remote();
    expectStatus(await request(server, `/v2/${offline}/library/app/manifests/v1`, { headers: { accept: image.manifest.mediaType } }), 200);
    await updateRepository(server, offline, { offline: true });
    virtual = uniqueKey('virtual');
    await createVirtualRepository(server, virtual, { repositories: [local, remote] });
  });

  afterAll(() => fixture?.close());

  it('tag lists, catalogs and referrers of every kind of repository, on both path forms', async () => {
    const images: Array<[string, string]> = [
      [local, 'team/app'],
      [virtual, 'team/app'],
      [remote, 'library/app'],
      [offline, 'library/app'],
    ];
    for (const [key, name] of images) {
      for (const form of [V2_FORM, API_FORM]) {
        const base = form.base(key, name);
        for (const value of HOSTILE) {
          for (const query of [`last=${value}`, `n=2&last=${value}`]) {
            const res = await request(server, `${base}tags/list?${query}`);
            expectNo5xx(res, `${base}tags/list?${query}`);
            expectStatus(res, 200);
          }
          expectRegistryError(await request(server, `${base}tags/list?n=${value}`), 400, 'PAGINATION_NUMBER_INVALID');
          const referrers = await request(server, `${base}referrers/${image.manifest.digest}?artifactType=${value}`);
          expectStatus(referrers, 200);
          expect(referrers.json.manifests).toEqual([]);
          for (const catalog of [`/api/docker/${key}/v2/_catalog?last=${value}`, `/v2/_catalog?n=1&last=${value}`]) {
            const res = await request(server, catalog);
            expectNo5xx(res, catalog);
            expectStatus(res, 200);
          }
        }
      }
    }
    // The remote passed its listing on to the upstream; the offline one answered from its cache.
    expect(fixture.proxy.matching('GET', '/v2/library/app/tags/list').length).toBeGreaterThan(0);
  });

  it('REST path parameters and queries: 400 (or 404), naming what holds the NUL', async () => {
    for (const value of HOSTILE) {
      for (const url of [`/api/security/users/${value}`, `/api/security/groups/${value}`, `/api/security/permissions/${value}`, `/api/repositories/${value}`]) {
        for (const method of ['GET', 'DELETE']) {
          const res = await request(server, url, { method });
          expectNo5xx(res, `${method} ${url}`);
          expect([400, 404]).toContain(res.status);
        }
      }
      for (const url of [`/api/security/tokens?user=${value}`, `/api/repositories?type=${value}`, `/api/repositories/${virtual}/resolve?image=${value}&reference=v1`]) {
        expectNo5xx(await request(server, url), url);
      }
      expectProblem(await request(server, `/api/repositories/${remote}/cache?image=${value}`, { method: 'DELETE' }), 400, 'image');
    }
    expectProblem(await request(server, '/api/security/users/a%00b'), 400, 'username', 'NUL');
    expectProblem(await request(server, '/api/security/tokens?user=a%00b'), 400, 'user', 'NUL');
  });

  it('JSON bodies: a NUL in any string or key is a 400 naming the field, and nothing is stored', async () => {
    const nul = '\u0000';
    const cases: Array<[string, string, unknown, string]> = [
      ['PUT', '/api/repositories/nul-local', { rclass: 'local', packageType: 'docker', description: `a${nul}b` }, 'description'],
      ['PUT', '/api/repositories/nul-remote', { rclass: 'remote', packageType: 'docker', url: fixture.proxy.url, includesPattern: `library/${nul}` }, 'includesPattern'],
      ['PUT', '/api/repositories/nul-realm', { rclass: 'remote', packageType: 'docker', url: fixture.proxy.url, tokenRealmAllowList: [`auth${nul}`] }, 'tokenRealmAllowList[0]'],
      ['POST', `/api/repositories/${local}`, { description: nul }, 'description'],
      ['PUT', '/api/security/users/nul-user', { password: 'long-enough-password', email: `x${nul}@example.com` }, 'email'],
      ['PUT', '/api/security/groups/nul-group', { description: `d${nul}` }, 'description'],
      ['PUT', '/api/security/permissions/nul-permission', { repositories: [local], principals: { users: { [`a${nul}`]: ['read'] } } }, 'principals.users'],
      ['POST', '/api/security/tokens', { name: `t${nul}`, repositories: [local], actions: ['read'] }, 'name'],
    ];
    for (const [method, url, body, field] of cases) expectProblem(await jsonRequest(server, method, url, body), 400, field, 'NUL');
    for (const url of [
      '/api/repositories/nul-local',
      '/api/repositories/nul-remote',
      '/api/repositories/nul-realm',
      '/api/security/users/nul-user',
      '/api/security/groups/nul-group',
      '/api/security/permissions/nul-permission',
    ]) {
      expectStatus(await request(server, url), 404);
    }
    expect((await request(server, `/api/repositories/${local}`)).json.description).not.toContain(nul);
  });

  it('credentials: a NUL (or 0xFF) in a Basic user name or the token form is a 401 with the challenge', async () => {
    // Each refusal costs a password hash (same cost whether the user exists or not): few of them.
    for (const username of ['ad\u0000min', Buffer.from([0x61, 0xff]).toString('latin1')]) {
      const basic = `Basic ${Buffer.from(`${username}:${server.admin.password}`, 'latin1').toString('base64')}`;
      const res = await request(server, `/v2/${local}/team/app/tags/list`, { auth: basic });
      expectRegistryError(res, 401, 'UNAUTHORIZED');
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
      expectProblem(await request(server, '/api/repositories', { auth: basic }), 401);
    }
    const nulAdmin = `Basic ${Buffer.from(`admin\u0000:${server.admin.password}`).toString('base64')}`;
    expectRegistryError(await request(server, '/v2/token?service=wharf', { auth: nulAdmin }), 401, 'UNAUTHORIZED');
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    for (const body of [
      'grant_type=password&service=wharf&username=ad%00min&password=x',
      `grant_type=password&service=wharf&username=admin&password=${encodeURIComponent(server.admin.password)}%00`,
    ]) {
      expectRegistryError(await request(server, '/v2/token', { method: 'POST', headers: form, body, auth: null }), 401, 'UNAUTHORIZED');
    }
    // The admin's own credentials still work.
    expectStatus(await request(server, '/v2/', { auth: basicAuthorization('admin', server.admin.password) }), 200);
  });
});
