// The security admin REST API over HTTP: users (admins manage everyone, users themselves),
// password changes, groups, permissions (and their effect on repository access), access tokens
// (secret shown once, scoped, revocable at once), the 401/403 split, and validation errors that
// name the offending field. Runs against the real server with authentication on.
import { HttpResult, RequestAuth, expectStatus, request } from './helpers/registry-http';
import { WharfTestServer, basicAuthorization, createLocalRepository, startWharf } from './helpers/wharf-server';

let server: WharfTestServer;

beforeAll(async () => {
  // Several tests check that old or revoked credentials fail; all come from 127.0.0.1, so the
  // per-address login limit is raised out of the way (it has its own tests).
  server = await startWharf({ WHARF_LOGIN_MAX_FAILURES: '1000' });
});
afterAll(() => server?.close());

/** A JSON request; sent as the admin unless `auth` says otherwise (null: anonymous). */
function api(method: string, path: string, body?: unknown, auth?: RequestAuth): Promise<HttpResult> {
  return request(server, path, {
    method,
    auth,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** A problem+json refusal whose text names `text`. */
function expectProblem(res: HttpResult, status: number, text?: string): void {
  expectStatus(res, status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.json.status).toBe(status);
  if (text) expect([res.json.detail, ...(res.json.errors ?? [])].join('\n')).toContain(text);
}

let counter = 0;
/** A fresh user with a known password; returns its Basic authorization. */
async function createUser(prefix: string, body: Record<string, unknown> = {}): Promise<{ username: string; password: string; auth: string }> {
  const username = `${prefix}-${++counter}`;
  const password = `${username}-password`;
  expectStatus(await api('PUT', `/api/security/users/${username}`, { password, ...body }), 201);
  return { username, password, auth: basicAuthorization(username, password) };
}

describe('users', () => {
  it('PUT creates (201), GET reads, and neither ever shows a password or its hash', async () => {
    const created = await api('PUT', '/api/security/users/carol', { password: 'carol-password', email: 'carol@example.com' });
    expectStatus(created, 201);
    expect(created.json).toEqual({
      username: 'carol',
      email: 'carol@example.com',
      admin: false,
      disabled: false,
      groups: [],
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const got = await api('GET', '/api/security/users/carol');
    expectStatus(got, 200);
    expect(got.json).toEqual(created.json);
    const list = await api('GET', '/api/security/users');
    expectStatus(list, 200);
    expect(list.json.map((u: { username: string }) => u.username)).toEqual(expect.arrayContaining(['admin', 'carol']));
    for (const body of [created.body, got.body, list.body]) expect(body.toString()).not.toMatch(/password|argon2/i);
  });

  it('refuses a taken name (409), unknown groups (400, named), short passwords, bad names and unknown fields', async () => {
    await createUser('dup');
    expectProblem(await api('PUT', `/api/security/users/dup-${counter}`, { password: 'another-password' }), 409);
    expectProblem(await api('PUT', '/api/security/users/grouped', { password: 'grouped-password', groups: ['no-such-group'] }), 400, 'no-such-group');
    expectProblem(await api('GET', '/api/security/users/grouped'), 404);
    expectProblem(await api('PUT', '/api/security/users/shorty', { password: 'short' }), 400, 'password');
    expectProblem(await api('PUT', '/api/security/users/Upper', { password: 'upper-password' }), 400, 'user name');
    expectProblem(await api('PUT', '/api/security/users/extra', { password: 'extra-password', role: 'god' }), 400, 'role');
    expectProblem(await api('PUT', '/api/security/users/mail', { password: 'mail-password', email: 'not-an-email' }), 400, 'email');
  });

  it('anonymous callers get 401 with a challenge; users get 403 for others, 200 for themselves', async () => {
    const alice = await createUser('alice');
    const anonymous = await api('GET', '/api/security/users', undefined, null);
    expectProblem(anonymous, 401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic /);
    expectProblem(await api('GET', '/api/security/users', undefined, alice.auth), 403);
    expectProblem(await api('GET', '/api/security/users/admin', undefined, alice.auth), 403);
    expectProblem(await api('PUT', '/api/security/users/sneaky', { password: 'sneaky-password' }, alice.auth), 403);
    expectProblem(await api('DELETE', '/api/security/users/admin', undefined, alice.auth), 403);
    const self = await api('GET', `/api/security/users/${alice.username}`, undefined, alice.auth);
    expectStatus(self, 200);
    expect(self.json.username).toBe(alice.username);
  });

  it('POST updates (200): a user may change their email, only admins the rest', async () => {
    const bob = await createUser('bob');
    const path = `/api/security/users/${bob.username}`;
    const updated = await api('POST', path, { email: 'bob@example.com' }, bob.auth);
    expectStatus(updated, 200);
    expect(updated.json.email).toBe('bob@example.com');
    expectProblem(await api('POST', path, { admin: true }, bob.auth), 403, 'admin');
    expectProblem(await api('POST', path, { password: 'bob-new-password' }, bob.auth), 403, 'password');
    expectStatus(await api('POST', path, { email: null }, bob.auth), 200);
    expect((await api('GET', path)).json.email).toBeNull();
    expectProblem(await api('POST', '/api/security/users/no-such-user', { email: null }), 404);
  });

  it('an admin can reset a password, disable a user (its logins stop at once), and promote', async () => {
    const dave = await createUser('dave');
    const path = `/api/security/users/${dave.username}`;
    expectStatus(await api('GET', path, undefined, dave.auth), 200);
    expectStatus(await api('POST', path, { disabled: true }), 200);
    expectProblem(await api('GET', path, undefined, dave.auth), 401);
    expectStatus(await api('POST', path, { disabled: false, password: 'dave-reset-password', admin: true }), 200);
    expectProblem(await api('GET', path, undefined, dave.auth), 401);
    const reset = basicAuthorization(dave.username, 'dave-reset-password');
    expectStatus(await api('GET', '/api/security/users', undefined, reset), 200);
  });

  it('an admin cannot delete, disable or demote themselves', async () => {
    expectProblem(await api('DELETE', '/api/security/users/admin'), 403);
    expectProblem(await api('POST', '/api/security/users/admin', { disabled: true }), 403);
    expectProblem(await api('POST', '/api/security/users/admin', { admin: false }), 403);
    expectStatus(await api('GET', '/api/security/users/admin'), 200);
  });

  it('DELETE answers 204, then the user is gone and cannot log in', async () => {
    const erin = await createUser('erin');
    expectStatus(await api('DELETE', `/api/security/users/${erin.username}`), 204);
    expectProblem(await api('GET', `/api/security/users/${erin.username}`), 404);
    expectProblem(await api('DELETE', `/api/security/users/${erin.username}`), 404);
    expectProblem(await api('GET', '/api/repositories', undefined, erin.auth), 401);
  });
});

describe('password', () => {
  it('changes the own password when the current one is right (204)', async () => {
    const frank = await createUser('frank');
    const wrong = await api('POST', '/api/security/password', { currentPassword: 'not-it', newPassword: 'frank-new-password' }, frank.auth);
    expectProblem(wrong, 400, 'currentPassword');
    expectProblem(await api('POST', '/api/security/password', { currentPassword: frank.password, newPassword: 'short' }, frank.auth), 400, 'newPassword');
    expectStatus(await api('POST', '/api/security/password', { currentPassword: frank.password, newPassword: 'frank-new-password' }, frank.auth), 204);
    expectProblem(await api('GET', `/api/security/users/${frank.username}`, undefined, frank.auth), 401);
    expectStatus(await api('GET', `/api/security/users/${frank.username}`, undefined, basicAuthorization(frank.username, 'frank-new-password')), 200);
  });

  it('needs a logged-in caller', async () => {
    expectProblem(await api('POST', '/api/security/password', { currentPassword: 'x', newPassword: 'long-enough' }, null), 401);
  });
});

describe('groups', () => {
  it('CRUD with members, for admins only', async () => {
    const created = await api('PUT', '/api/security/groups/devs', { description: 'Developers' });
    expectStatus(created, 201);
    expect(created.json).toEqual({ name: 'devs', description: 'Developers', members: [], createdAt: expect.any(String) });
    expectProblem(await api('PUT', '/api/security/groups/devs', {}), 409);

    const gina = await createUser('gina', { groups: ['devs'] });
    expect((await api('GET', `/api/security/users/${gina.username}`)).json.groups).toEqual(['devs']);
    const got = await api('GET', '/api/security/groups/devs');
    expectStatus(got, 200);
    expect(got.json.members).toEqual([gina.username]);
    const list = await api('GET', '/api/security/groups');
    expect(list.json.find((g: { name: string }) => g.name === 'devs')).toEqual(got.json);

    const updated = await api('POST', '/api/security/groups/devs', { description: 'All developers' });
    expectStatus(updated, 200);
    expect(updated.json.description).toBe('All developers');

    expectProblem(await api('GET', '/api/security/groups', undefined, gina.auth), 403);
    expectProblem(await api('PUT', '/api/security/groups/mine', {}, gina.auth), 403);
    expectProblem(await api('GET', '/api/security/groups', undefined, null), 401);

    expectStatus(await api('DELETE', '/api/security/groups/devs'), 204);
    expectProblem(await api('GET', '/api/security/groups/devs'), 404);
    expect((await api('GET', `/api/security/users/${gina.username}`)).json.groups).toEqual([]);
  });
});

describe('permissions', () => {
  it('PUT creates (201) then replaces (200); GET, list and DELETE (204)', async () => {
    const henry = await createUser('henry');
    const body = { repositories: ['perm-*'], principals: { users: { [henry.username]: ['write', 'read'] } } };
    const created = await api('PUT', '/api/security/permissions/perm-crud', body);
    expectStatus(created, 201);
    expect(created.json).toEqual({
      name: 'perm-crud',
      repositories: ['perm-*'],
      principals: { users: { [henry.username]: ['read', 'write'] }, groups: {} },
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const replaced = await api('PUT', '/api/security/permissions/perm-crud', { ...body, repositories: ['perm-a', 'perm-b'] });
    expectStatus(replaced, 200);
    expect(replaced.json.repositories).toEqual(['perm-a', 'perm-b']);
    expect((await api('GET', '/api/security/permissions/perm-crud')).json).toEqual(replaced.json);
    expect((await api('GET', '/api/security/permissions')).json.map((p: { name: string }) => p.name)).toContain('perm-crud');
    expectStatus(await api('DELETE', '/api/security/permissions/perm-crud'), 204);
    expectProblem(await api('DELETE', '/api/security/permissions/perm-crud'), 404);
    expectProblem(await api('GET', '/api/security/permissions/perm-crud'), 404);
  });

  it('names a bad action, an unknown principal, a bad pattern, a missing field', async () => {
    const ivan = await createUser('ivan');
    const put = (body: unknown) => api('PUT', '/api/security/permissions/perm-bad', body);
    expectProblem(await put({ repositories: ['*'], principals: { users: { [ivan.username]: ['read', 'pull'] } } }), 400, '"pull"');
    expectProblem(await put({ repositories: ['*'], principals: { users: { ghost: ['read'] } } }), 400, 'ghost');
    expectProblem(await put({ repositories: ['*'], principals: { groups: { phantoms: ['read'] } } }), 400, 'phantoms');
    expectProblem(await put({ repositories: ['Perm-*'], principals: {} }), 400, 'Perm-*');
    expectProblem(await put({ principals: {} }), 400, 'repositories');
    expectProblem(await put({ repositories: ['*'] }), 400, 'principals');
    expectProblem(await put({ repositories: ['*'], principals: { roles: {} } }), 400, 'roles');
    expectProblem(await api('GET', '/api/security/permissions/perm-bad'), 404);
  });

  it('is for admins only', async () => {
    const judy = await createUser('judy');
    expectProblem(await api('GET', '/api/security/permissions', undefined, judy.auth), 403);
    expectProblem(await api('PUT', '/api/security/permissions/mine', { repositories: ['*'], principals: { users: { [judy.username]: ['manage'] } } }, judy.auth), 403);
    expectProblem(await api('GET', '/api/security/permissions', undefined, null), 401);
  });

  it('grants take effect at once, for users and through groups, and go away with the user', async () => {
    await createLocalRepository(server, 'perm-effect');
    await api('PUT', '/api/security/groups/perm-readers', {});
    const kim = await createUser('kim');
    const leo = await createUser('leo', { groups: ['perm-readers'] });
    expectProblem(await api('GET', '/api/repositories/perm-effect', undefined, kim.auth), 404);
    expectProblem(await api('GET', '/api/repositories/perm-effect', undefined, leo.auth), 404);
    const grant = { repositories: ['perm-eff*'], principals: { users: { [kim.username]: ['read'] }, groups: { 'perm-readers': ['read'] } } };
    expectStatus(await api('PUT', '/api/security/permissions/perm-effect', grant), 201);
    expectStatus(await api('GET', '/api/repositories/perm-effect', undefined, kim.auth), 200);
    expectStatus(await api('GET', '/api/repositories/perm-effect', undefined, leo.auth), 200);

    // A deleted user's grant does not pass to the next user of the same name.
    expectStatus(await api('DELETE', `/api/security/users/${kim.username}`), 204);
    expect((await api('GET', '/api/security/permissions/perm-effect')).json.principals.users).toEqual({});
    expectStatus(await api('PUT', `/api/security/users/${kim.username}`, { password: kim.password }), 201);
    expectProblem(await api('GET', '/api/repositories/perm-effect', undefined, kim.auth), 404);
  });
});

describe('access tokens', () => {
  it('creates a token (201) whose secret is shown once and works as a credential within its scope', async () => {
    await createLocalRepository(server, 'tok-scoped');
    await createLocalRepository(server, 'tok-other');
    const mia = await createUser('mia');
    await api('PUT', '/api/security/permissions/tok-mia', { repositories: ['tok-*'], principals: { users: { [mia.username]: ['read', 'write'] } } });

    const created = await api('POST', '/api/security/tokens', { name: 'ci', repositories: ['tok-scoped'], actions: ['read'] }, mia.auth);
    expectStatus(created, 201);
    expect(created.json).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
      name: 'ci',
      token: expect.stringMatching(/^wharf_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/),
      expiresInSeconds: 30 * 86_400,
      expiresAt: expect.any(String),
      repositories: ['tok-scoped'],
      actions: ['read'],
    });
    const { id, token } = created.json;
    expect(token.slice(6, 38)).toBe(id.replace(/-/g, ''));
    const days = (Date.parse(created.json.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThan(30.1);

    // As Bearer on the REST API, and as the password of Basic (docker login -p <token>).
    for (const auth of [`Bearer ${token}`, basicAuthorization(mia.username, token)]) {
      expectStatus(await api('GET', '/api/repositories/tok-scoped', undefined, auth), 200);
      expectProblem(await api('GET', '/api/repositories/tok-other', undefined, auth), 404);
    }
    // Another user's name with the token is refused.
    expectProblem(await api('GET', '/api/repositories/tok-scoped', undefined, basicAuthorization('admin', token)), 401);
    // A token cannot mint tokens, nor change the account.
    expectProblem(await api('POST', '/api/security/tokens', { name: 'more', repositories: ['*'], actions: ['read'] }, `Bearer ${token}`), 403);
    expectProblem(await api('POST', `/api/security/users/${mia.username}`, { email: 'mia@example.com' }, `Bearer ${token}`), 403);

    const list = await api('GET', '/api/security/tokens', undefined, mia.auth);
    expectStatus(list, 200);
    expect(list.json).toEqual([
      expect.objectContaining({ id, name: 'ci', user: mia.username, repositories: ['tok-scoped'], actions: ['read'], revoked: false, expired: false, revokedAt: null }),
    ]);
    expect(list.body.toString()).not.toContain(token.slice(39));
    expect(list.body.toString()).not.toMatch(/secret|hash/i);
  });

  it("DELETE revokes at once (204); others cannot revoke it; admins can list and revoke anyone's", async () => {
    const nina = await createUser('nina');
    const omar = await createUser('omar');
    const make = async () => (await api('POST', '/api/security/tokens', { name: 'n', repositories: ['*'], actions: ['read'], expiresInSeconds: 3600 }, nina.auth)).json;
    const first = await make();
    const second = await make();
    expectStatus(await api('GET', `/api/security/users/${nina.username}`, undefined, `Bearer ${first.token}`), 200);

    expectProblem(await api('DELETE', `/api/security/tokens/${first.id}`, undefined, omar.auth), 404);
    expectProblem(await api('GET', `/api/security/tokens?user=${nina.username}`, undefined, omar.auth), 403);
    expectStatus(await api('DELETE', `/api/security/tokens/${first.id}`, undefined, nina.auth), 204);
    expectProblem(await api('GET', `/api/security/users/${nina.username}`, undefined, `Bearer ${first.token}`), 401);
    expectProblem(await api('GET', `/api/security/users/${nina.username}`, undefined, basicAuthorization(nina.username, first.token)), 401);

    const mine = await api('GET', `/api/security/tokens?user=${nina.username}`);
    expectStatus(mine, 200);
    expect(mine.json.map((t: { id: string; revoked: boolean }) => [t.id, t.revoked])).toEqual([
      [first.id, true],
      [second.id, false],
    ]);
    const all = await api('GET', '/api/security/tokens');
    expect(all.json.map((t: { id: string }) => t.id)).toEqual(expect.arrayContaining([first.id, second.id]));
    expect((await api('GET', '/api/security/tokens', undefined, omar.auth)).json).toEqual([]);

    expectStatus(await api('DELETE', `/api/security/tokens/${second.id}`), 204);
    expectProblem(await api('GET', `/api/security/users/${nina.username}`, undefined, `Bearer ${second.token}`), 401);
    expectProblem(await api('DELETE', '/api/security/tokens/not-a-uuid'), 404);
    expectProblem(await api('DELETE', '/api/security/tokens/00000000-0000-0000-0000-000000000000'), 404);
  });

  it('validates the request, naming the field', async () => {
    const post = (body: unknown) => api('POST', '/api/security/tokens', body);
    expectProblem(await post({ name: 'x', repositories: ['*'], actions: ['read', 'pull'] }), 400, '"pull"');
    expectProblem(await post({ name: 'x', repositories: ['*'], actions: [] }), 400, 'actions');
    expectProblem(await post({ name: 'x', repositories: [], actions: ['read'] }), 400, 'repositories');
    expectProblem(await post({ name: 'x', repositories: ['*'], actions: ['read'], expiresInSeconds: 366 * 86_400 }), 400, 'expiresInSeconds');
    expectProblem(await post({ name: 'x', repositories: ['*'], actions: ['read'], expiresInSeconds: -1 }), 400, 'expiresInSeconds');
    expectProblem(await post({ repositories: ['*'], actions: ['read'] }), 400, 'name');
    expectProblem(await post({ name: 'x', repositories: ['*'], actions: ['read'], user: 'someone' }), 400, 'user');
    expectProblem(await api('POST', '/api/security/tokens', { name: 'x', repositories: ['*'], actions: ['read'] }, null), 401);
    const zero = await post({ name: 'x', repositories: ['*'], actions: ['read'], expiresInSeconds: 0 });
    expectStatus(zero, 201);
    expect(Date.parse(zero.json.expiresAt) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    // The answer names the lifetime that applied: the default, 30 days, for 0 or nothing.
    expect(zero.json.expiresInSeconds).toBe(30 * 86_400);
    expect((await post({ name: 'y', repositories: ['*'], actions: ['read'] })).json.expiresInSeconds).toBe(30 * 86_400);
    expect((await post({ name: 'z', repositories: ['*'], actions: ['read'], expiresInSeconds: 600 })).json.expiresInSeconds).toBe(600);
  });
});

describe('OpenAPI', () => {
  it('documents the security API', async () => {
    const doc = await api('GET', '/api/openapi.json');
    expectStatus(doc, 200);
    for (const path of [
      '/api/security/users',
      '/api/security/users/{username}',
      '/api/security/password',
      '/api/security/groups/{name}',
      '/api/security/permissions/{name}',
      '/api/security/tokens',
      '/api/security/tokens/{id}',
    ]) {
      expect(Object.keys(doc.json.paths)).toContain(path);
    }
  });
});
