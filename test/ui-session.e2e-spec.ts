import { Client } from 'pg';
import { HttpResult, request } from './helpers/registry-http';
import { WharfTestServer, createLocalRepository, startWharf } from './helpers/wharf-server';

// The web UI's sign-in: a session cookie the REST API accepts, guarded against CSRF.
let server: WharfTestServer;
let db: Client;

beforeAll(async () => {
  server = await startWharf();
  db = new Client({ connectionString: server.databaseUrl });
  await db.connect();
  await createLocalRepository(server, 'ui-private');
  expectOk(await api('PUT', '/api/security/users/viewer', { password: 'viewer-password' }), 201);
});

afterAll(async () => {
  await db?.end();
  await server?.close();
});

function api(method: string, path: string, body?: object, headers: Record<string, string> = {}, auth?: string | null): Promise<HttpResult> {
  return request(server, path, {
    method,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
    auth,
  });
}

function expectOk(res: HttpResult, status: number): void {
  expect({ status: res.status, body: res.body.toString('utf8').slice(0, 300) }).toMatchObject({ status });
}

async function signIn(username: string, password: string): Promise<{ cookie: string; csrfToken: string; setCookie: string }> {
  const res = await api('POST', '/api/session', { username, password }, {}, null);
  expectOk(res, 200);
  const setCookie = res.headers.get('set-cookie')!;
  return { cookie: setCookie.split(';')[0], csrfToken: res.json.csrfToken, setCookie };
}

describe('web UI sessions', () => {
  it('sign-in sets an httpOnly, SameSite=Strict, expiring cookie and answers who and the CSRF token; nothing else of the session is readable', async () => {
    const res = await api('POST', '/api/session', { username: 'admin', password: server.admin.password }, {}, null);
    expectOk(res, 200);
    expect(res.json).toEqual({ username: 'admin', admin: true, csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/), expiresAt: expect.any(String) });
    const setCookie = res.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^wharf_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=(2879\d|28800)$/);
    // The cookie's secret is stored hashed.
    const secret = setCookie.split(';')[0].split('=')[1];
    expect((await db.query(`SELECT 1 FROM ui_sessions WHERE secret_hash = $1`, [secret])).rowCount).toBe(0);

    const me = await api('GET', '/api/session', undefined, { cookie: setCookie.split(';')[0] }, null);
    expectOk(me, 200);
    expect(me.json).toMatchObject({ username: 'admin', admin: true, csrfToken: res.json.csrfToken });
  });

  it('the cookie authenticates the REST API as its user: reads need nothing more, changes need the CSRF token', async () => {
    const { cookie, csrfToken } = await signIn('admin', server.admin.password);
    expectOk(await api('GET', '/api/repositories/ui-private', undefined, { cookie }, null), 200);
    const refused = await api('PUT', '/api/repositories/ui-made', { rclass: 'local', packageType: 'docker' }, { cookie }, null);
    expectOk(refused, 403);
    expect(refused.json.detail).toMatch(/X-CSRF-Token/);
    expectOk(await api('PUT', '/api/repositories/ui-made', { rclass: 'local', packageType: 'docker' }, { cookie, 'x-csrf-token': 'wrong' }, null), 403);
    expectOk(await api('DELETE', '/api/repositories/ui-private', undefined, { cookie }, null), 403);
    expectOk(await api('PUT', '/api/repositories/ui-made', { rclass: 'local', packageType: 'docker' }, { cookie, 'x-csrf-token': csrfToken }, null), 201);
    // Another session's token does not do.
    const other = await signIn('admin', server.admin.password);
    expectOk(await api('DELETE', '/api/repositories/ui-made', undefined, { cookie, 'x-csrf-token': other.csrfToken }, null), 403);
    expectOk(await api('DELETE', '/api/repositories/ui-made', undefined, { cookie, 'x-csrf-token': csrfToken }, null), 204);
  });

  it('a user without rights sees nothing private with their session', async () => {
    const { cookie } = await signIn('viewer', 'viewer-password');
    const listed = await api('GET', '/api/repositories', undefined, { cookie }, null);
    expectOk(listed, 200);
    expect(listed.json.map((repo: { key: string }) => repo.key)).not.toContain('ui-private');
    expect((await api('GET', '/api/repositories/ui-private', undefined, { cookie }, null)).status).toBe(404);
    expect((await api('GET', '/api/system/gc', undefined, { cookie }, null)).status).toBe(403);
  });

  it('sign-out ends the session on the server and clears the cookie; an ended or expired session is 401', async () => {
    const { cookie, csrfToken } = await signIn('viewer', 'viewer-password');
    expectOk(await api('DELETE', '/api/session', undefined, { cookie }, null), 403); // a change: it needs the token too
    const out = await api('DELETE', '/api/session', undefined, { cookie, 'x-csrf-token': csrfToken }, null);
    expectOk(out, 204);
    expect(out.headers.get('set-cookie')).toBe('wharf_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0');
    const after = await api('GET', '/api/session', undefined, { cookie }, null);
    expectOk(after, 401);
    expect(after.headers.get('set-cookie')).toMatch(/^wharf_session=; .*Max-Age=0/);

    const expiring = await signIn('viewer', 'viewer-password');
    await db.query(`UPDATE ui_sessions SET expires_at = now() - interval '1 second'`);
    expectOk(await api('GET', '/api/repositories', undefined, { cookie: expiring.cookie }, null), 401);
  });

  it('a disabled user is signed out at once; a wrong password is 401; access tokens do not sign in', async () => {
    expectOk(await api('PUT', '/api/security/users/leaver', { password: 'leaver-password' }), 201);
    const { cookie } = await signIn('leaver', 'leaver-password');
    expectOk(await api('POST', '/api/security/users/leaver', { disabled: true }), 200);
    expectOk(await api('GET', '/api/session', undefined, { cookie }, null), 401);

    expectOk(await api('POST', '/api/session', { username: 'viewer', password: 'nope' }, {}, null), 401);
    const token = await api('POST', '/api/security/tokens', { name: 'ui-test', expiresInSeconds: 3600, repositories: ['*'], actions: ['read'] });
    expectOk(token, 201);
    const byToken = await api('POST', '/api/session', { username: 'admin', password: token.json.token }, {}, null);
    expectOk(byToken, 401);
    expect(byToken.json.detail ?? JSON.stringify(byToken.json)).toMatch(/sign in with your password/);
  });

  it('the registry ignores the session cookie: docker, podman and skopeo authenticate with tokens', async () => {
    const { cookie } = await signIn('admin', server.admin.password);
    const res = await api('GET', '/v2/ui-private/anything/tags/list', undefined, { cookie }, null);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
  });

  it('Basic credentials still work, and win over a cookie', async () => {
    const { cookie } = await signIn('viewer', 'viewer-password');
    const res = await api('PUT', '/api/repositories/ui-basic', { rclass: 'local', packageType: 'docker' }, { cookie });
    expectOk(res, 201);
  });
});
