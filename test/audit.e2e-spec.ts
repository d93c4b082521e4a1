// The audit log (GET /api/audit): a row for every change and security event, written with the
// change itself: logins that succeeded, failed or were rate limited, access tokens made and
// revoked, pushes, deletions, promotions, quota refusals, repository, permission, user and group
// changes, garbage collection runs; each naming who, from which address and under which request
// id (the X-Request-Id the server answered). Filters, pages, admins only, and retention.
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { buildImage, randomBlob } from './helpers/oci-image-builder';
import { HttpResult, RequestAuth, V2_FORM, eventually, expectStatus, pushBlob, pushImage, request } from './helpers/registry-http';
import { TestUser, createUser, expectProblem, freshKey, grant, jsonRequest, newUser } from './helpers/virtual-repository';
import { WharfTestServer, basicAuthorization, createLocalRepository, startWharf } from './helpers/wharf-server';

let server: WharfTestServer;

beforeAll(async () => {
  // Three failures of one (user, address) pair, then 429: the rate-limited login below.
  server = await startWharf({ WHARF_LOGIN_MAX_FAILURES: '3' });
}, 60_000);

afterAll(async () => {
  await server?.close();
});

interface AuditEvent {
  id: string;
  at: string;
  action: string;
  user: string | null;
  tokenId: string | null;
  address: string | null;
  requestId: string | null;
  repository: string | null;
  image: string | null;
  tag: string | null;
  digest: string | null;
  details: Record<string, any>;
}

/** A request id of our own: the server keeps a sane one and answers with it. */
function requestId(): string {
  return `audit-${randomBytes(6).toString('hex')}`;
}

/** GET /api/audit with `query`, as the admin unless `auth` says otherwise; asserts 200. */
async function audit(query: Record<string, string> = {}, auth?: RequestAuth): Promise<{ events: AuditEvent[]; next: string | null }> {
  const res = await request(server, `/api/audit?${new URLSearchParams(query)}`, { auth });
  expectStatus(res, 200);
  return res.json;
}

/** The events the request with this X-Request-Id wrote (newest first). */
async function eventsOf(id: string, query: Record<string, string> = {}): Promise<AuditEvent[]> {
  return (await audit({ limit: '1000', ...query })).events.filter((event) => event.requestId === id);
}

/** The one event of `action` the request `id` wrote. */
async function eventOf(id: string, action: string): Promise<AuditEvent> {
  const events = (await eventsOf(id)).filter((event) => event.action === action);
  expect(events).toHaveLength(1);
  return events[0];
}

/** Sends a request under a fresh X-Request-Id and checks the server answered with it. */
async function tracked(
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer | string; auth?: RequestAuth } = {},
): Promise<{ res: HttpResult; id: string }> {
  const id = requestId();
  const res = await request(server, path, { ...options, headers: { ...options.headers, 'x-request-id': id } });
  expect(res.headers.get('x-request-id')).toBe(id);
  return { res, id };
}

function trackedJson(method: string, path: string, body?: unknown, auth?: RequestAuth) {
  return tracked(path, {
    method,
    auth,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const CLIENT = { address: '127.0.0.1' };

async function localRepo(settings: Record<string, unknown> = {}): Promise<string> {
  const key = freshKey('audit');
  await createLocalRepository(server, key, settings);
  return key;
}

describe('logins', () => {
  it('a failed login names the user it tried, the address and the request id; its credentials nowhere', async () => {
    const user = await createUser(server, newUser('fails'));
    const wrong = `wrong-${randomBytes(8).toString('hex')}`;
    const { res, id } = await tracked('/v2/', { auth: basicAuthorization(user.name, wrong) });
    expectStatus(res, 401);
    const event = await eventOf(id, 'login.failed');
    expect(event).toMatchObject({ user: user.name, requestId: id, ...CLIENT, tokenId: null, repository: null });
    expect(event.details.method).toBe('password');
    expect(Date.now() - Date.parse(event.at)).toBeLessThan(60_000);
    expect(JSON.stringify(event)).not.toContain(wrong);
  });

  it('failures on the REST API and with a bare access token are recorded too', async () => {
    const user = await createUser(server, newUser('restfail'));
    const rest = await tracked('/api/repositories', { auth: basicAuthorization(user.name, 'not-the-password') });
    expectStatus(rest.res, 401);
    expect((await eventOf(rest.id, 'login.failed')).user).toBe(user.name);

    const bogus = `wharf_${'0'.repeat(32)}_${randomBytes(32).toString('base64url').slice(0, 43)}`;
    const bearer = await tracked('/api/repositories', { auth: `Bearer ${bogus}` });
    expectStatus(bearer.res, 401);
    const event = await eventOf(bearer.id, 'login.failed');
    expect(event).toMatchObject({ user: null, ...CLIENT });
    expect(event.details).toMatchObject({ method: 'access token', tokenId: '00000000-0000-0000-0000-000000000000' });
    expect(JSON.stringify(event)).not.toContain(bogus);
  });

  it('the login refused for too many failures is recorded as rate limited', async () => {
    const user = await createUser(server, newUser('guessed'));
    for (let i = 0; i < 3; i += 1) expectStatus((await tracked('/v2/', { auth: basicAuthorization(user.name, `guess-${i}`) })).res, 401);
    const { res, id } = await tracked('/v2/', { auth: basicAuthorization(user.name, 'guess-3') });
    expectStatus(res, 429);
    expect(await eventOf(id, 'login.rate_limited')).toMatchObject({ user: user.name, requestId: id, ...CLIENT });
    const rows = (await audit({ user: user.name, action: 'login' })).events.map((event) => event.action);
    expect(rows).toEqual(['login.rate_limited', 'login.failed', 'login.failed', 'login.failed']);
  });

  it('a login is a token from /v2/token or a web UI sign-in, with password or access token; plain Basic requests are not logins', async () => {
    const user = await createUser(server, newUser('logs-in'));
    const token = await tracked('/v2/token?service=wharf', { auth: user.basic });
    expectStatus(token.res, 200);
    expect(await eventOf(token.id, 'login.succeeded')).toMatchObject({ user: user.name, ...CLIENT, details: { via: 'token', method: 'password' } });

    const session = await trackedJson('POST', '/api/session', { username: user.name, password: user.password }, null);
    expectStatus(session.res, 200);
    expect(await eventOf(session.id, 'login.succeeded')).toMatchObject({ user: user.name, details: { via: 'session', method: 'password' } });

    const created = await jsonRequest(server, 'POST', '/api/security/tokens', { name: 'ci', repositories: ['*'], actions: ['read'] }, user.basic);
    expectStatus(created, 201);
    const withToken = await tracked('/v2/token?service=wharf', { auth: basicAuthorization(user.name, created.json.token) });
    expectStatus(withToken.res, 200);
    expect(await eventOf(withToken.id, 'login.succeeded')).toMatchObject({
      user: user.name,
      tokenId: created.json.id,
      details: { via: 'token', method: 'access token', tokenId: created.json.id },
    });

    const basic = await tracked('/v2/_catalog', { auth: user.basic });
    expectStatus(basic.res, 200);
    expect(await eventsOf(basic.id)).toEqual([]);
  });
});

describe('access tokens', () => {
  it('creation and revocation name the token, never its secret', async () => {
    const user = await createUser(server, newUser('tokens'));
    const created = await trackedJson('POST', '/api/security/tokens', { name: 'deploy', repositories: ['docker-*'], actions: ['read', 'write'] }, user.basic);
    expectStatus(created.res, 201);
    const secret = created.res.json.token as string;
    const made = await eventOf(created.id, 'token.created');
    expect(made).toMatchObject({
      user: user.name,
      ...CLIENT,
      details: { id: created.res.json.id, name: 'deploy', owner: user.name, repositories: ['docker-*'], actions: ['read', 'write'] },
    });
    expect(JSON.stringify(made)).not.toContain(secret.slice(-20));

    // An admin revokes it: the admin acted, the owner is named.
    const revoked = await trackedJson('DELETE', `/api/security/tokens/${created.res.json.id}`);
    expectStatus(revoked.res, 204);
    expect(await eventOf(revoked.id, 'token.revoked')).toMatchObject({ user: 'admin', details: { id: created.res.json.id, name: 'deploy', owner: user.name } });
  });
});

describe('pushes, deletions, promotions, quotas', () => {
  it('a push records repository, image, tag and digest with who pushed; a refused push records nothing', async () => {
    const key = await localRepo({ allowTagOverwrite: false });
    const image = buildImage();
    const base = V2_FORM.base(key, 'team/app');
    for (const blob of [image.config, ...image.layers]) await pushBlob(server, base, blob.bytes, blob.digest);
    const pushed = await tracked(`${base}manifests/1.0`, { method: 'PUT', headers: { 'content-type': image.manifest.mediaType }, body: image.manifest.bytes });
    expectStatus(pushed.res, 201);
    expect(await eventOf(pushed.id, 'push')).toMatchObject({
      user: 'admin',
      ...CLIENT,
      repository: key,
      image: 'team/app',
      tag: '1.0',
      digest: image.manifest.digest,
      details: { mediaType: image.manifest.mediaType, size: image.manifest.bytes.length },
    });

    // The tag may not move here: the refused push's transaction, and so its row, is rolled back.
    const other = buildImage();
    for (const blob of [other.config, ...other.layers]) await pushBlob(server, base, blob.bytes, blob.digest);
    const refused = await tracked(`${base}manifests/1.0`, { method: 'PUT', headers: { 'content-type': other.manifest.mediaType }, body: other.manifest.bytes });
    expectStatus(refused.res, 403);
    expect(await eventsOf(refused.id)).toEqual([]);
  });

  it('deleting a tag, a manifest, an image or a blob is recorded with what went', async () => {
    const key = await localRepo();
    const base = V2_FORM.base(key, 'app');
    const first = await pushImage(server, base, buildImage(), 'one');
    const second = buildImage();
    const secondDigest = await pushImage(server, base, second, 'two');

    const tag = await tracked(`${base}manifests/one`, { method: 'DELETE' });
    expectStatus(tag.res, 202);
    expect(await eventOf(tag.id, 'delete')).toMatchObject({ user: 'admin', repository: key, image: 'app', tag: 'one', digest: first, details: { kind: 'tag' } });

    const manifest = await tracked(`${base}manifests/${secondDigest}`, { method: 'DELETE' });
    expectStatus(manifest.res, 202);
    expect(await eventOf(manifest.id, 'delete')).toMatchObject({ repository: key, image: 'app', tag: null, digest: secondDigest, details: { kind: 'manifest', tags: ['two'] } });

    const blob = await tracked(`${base}blobs/${second.layers[0].digest}`, { method: 'DELETE' });
    expectStatus(blob.res, 202);
    expect(await eventOf(blob.id, 'delete')).toMatchObject({ repository: key, image: 'app', digest: second.layers[0].digest, details: { kind: 'blob' } });

    await pushImage(server, V2_FORM.base(key, 'gone'), buildImage(), 'latest');
    const wholeImage = await tracked(`/v1/repositories/${key}/gone`, { method: 'DELETE' });
    expectStatus(wholeImage.res, 204);
    expect(await eventOf(wholeImage.id, 'delete')).toMatchObject({ repository: key, image: 'gone', details: { kind: 'image', tags: 1 } });

    // A deletion that finds nothing changes nothing and records nothing.
    const missing = await tracked(`${base}manifests/never`, { method: 'DELETE' });
    expectStatus(missing.res, 404);
    expect(await eventsOf(missing.id)).toEqual([]);
  });

  it('a promotion records each tag under its target, with the source', async () => {
    const source = await localRepo();
    const target = await localRepo();
    const digest = await pushImage(server, V2_FORM.base(source, 'svc'), buildImage(), '2.1');
    const promoted = await trackedJson('POST', `/api/docker/${source}/v2/promote`, { targetRepo: target, dockerRepository: 'svc', tag: '2.1', targetTag: 'prod', copy: true });
    expectStatus(promoted.res, 200);
    expect(await eventOf(promoted.id, 'promote')).toMatchObject({
      user: 'admin',
      repository: target,
      image: 'svc',
      tag: 'prod',
      digest,
      details: { promotionId: promoted.res.json.id, copy: true, source: { repository: source, image: 'svc', tag: '2.1' } },
    });
    // A dry run changes nothing: no row.
    const dry = await trackedJson('POST', `/api/docker/${source}/v2/promote`, {
      targetRepo: target,
      dockerRepository: 'svc',
      tag: '2.1',
      targetTag: 'dry',
      copy: true,
      dryRun: true,
    });
    expectStatus(dry.res, 200);
    expect(await eventsOf(dry.id)).toEqual([]);
  });

  it('a blob refused for the quota is recorded, though its upload left nothing', async () => {
    const key = await localRepo({ quotaBytes: 1024 });
    const big = randomBlob(4096);
    const refused = await tracked(`${V2_FORM.base(key, 'fat')}blobs/uploads/?digest=${encodeURIComponent(big.digest)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: big.bytes,
    });
    expectStatus(refused.res, 403);
    expect(await eventOf(refused.id, 'quota.exceeded')).toMatchObject({
      user: 'admin',
      repository: key,
      digest: big.digest,
      details: { quotaBytes: 1024, addingBytes: 4096 },
    });
  });
});

describe('administration', () => {
  it('repository creation, change, cache purge and deletion name the fields changed, never their values', async () => {
    const key = freshKey('admin');
    const created = await trackedJson('PUT', `/api/repositories/${key}`, { rclass: 'local', packageType: 'docker', description: 'first' });
    expectStatus(created.res, 201);
    expect(await eventOf(created.id, 'repository.created')).toMatchObject({ user: 'admin', repository: key, details: { rclass: 'local' } });
    const changed = await trackedJson('POST', `/api/repositories/${key}`, { description: 'second' });
    expectStatus(changed.res, 200);
    expect(await eventOf(changed.id, 'repository.updated')).toMatchObject({ repository: key, details: { fields: ['description'] } });
    const deleted = await trackedJson('DELETE', `/api/repositories/${key}`);
    expectStatus(deleted.res, 204);
    expect(await eventOf(deleted.id, 'repository.deleted')).toMatchObject({ repository: key });

    // A remote with an upstream password: the change names the field, the password appears nowhere.
    const remote = freshKey('remote');
    const password = `upstream-${randomBytes(8).toString('hex')}`;
    const made = await trackedJson('PUT', `/api/repositories/${remote}`, { rclass: 'remote', packageType: 'docker', url: 'https://registry.example', username: 'u', password });
    expectStatus(made.res, 201);
    const event = await eventOf(made.id, 'repository.created');
    expect(event.details.fields).toEqual(expect.arrayContaining(['url', 'username', 'password']));
    expect(JSON.stringify(event)).not.toContain(password);
    const purged = await trackedJson('DELETE', `/api/repositories/${remote}/cache`);
    expectStatus(purged.res, 200);
    expect(await eventOf(purged.id, 'repository.cache_purged')).toMatchObject({ repository: remote, details: { imagesRemoved: 0 } });
  });

  it('permissions, users and groups', async () => {
    const user = newUser('managed');
    const made = await trackedJson('PUT', `/api/security/users/${user.name}`, { password: user.password, email: 'm@example.com' });
    expectStatus(made.res, 201);
    const userEvent = await eventOf(made.id, 'user.created');
    expect(userEvent).toMatchObject({ user: 'admin', details: { user: user.name, email: 'm@example.com', admin: false, disabled: false } });
    expect(JSON.stringify(userEvent)).not.toContain(user.password);

    const group = freshKey('group');
    const grouped = await trackedJson('PUT', `/api/security/groups/${group}`, { description: 'builders' });
    expectStatus(grouped.res, 201);
    expect(await eventOf(grouped.id, 'group.created')).toMatchObject({ details: { group } });

    const changed = await trackedJson('POST', `/api/security/users/${user.name}`, { groups: [group], password: 'a-new-password' });
    expectStatus(changed.res, 200);
    const change = await eventOf(changed.id, 'user.updated');
    expect(change.details).toEqual({ user: user.name, groups: [group], passwordChanged: true });

    const permission = freshKey('perm');
    const granted = await trackedJson('PUT', `/api/security/permissions/${permission}`, { repositories: ['docker-*'], principals: { groups: { [group]: ['read'] } } });
    expectStatus(granted.res, 201);
    expect(await eventOf(granted.id, 'permission.saved')).toMatchObject({
      details: { permission, created: true, repositories: ['docker-*'], principals: { users: {}, groups: { [group]: ['read'] } } },
    });
    const revoked = await trackedJson('DELETE', `/api/security/permissions/${permission}`);
    expectStatus(revoked.res, 204);
    expect(await eventOf(revoked.id, 'permission.deleted')).toMatchObject({ details: { permission } });

    const passwordChange = await trackedJson(
      'POST',
      '/api/security/password',
      { currentPassword: 'a-new-password', newPassword: 'another-password' },
      basicAuthorization(user.name, 'a-new-password'),
    );
    expectStatus(passwordChange.res, 204);
    expect(await eventOf(passwordChange.id, 'user.password_changed')).toMatchObject({ user: user.name, details: { user: user.name } });

    const gone = await trackedJson('DELETE', `/api/security/users/${user.name}`);
    expectStatus(gone.res, 204);
    expect(await eventOf(gone.id, 'user.deleted')).toMatchObject({ user: 'admin', details: { user: user.name } });
    const groupGone = await trackedJson('DELETE', `/api/security/groups/${group}`);
    expectStatus(groupGone.res, 204);
    expect(await eventOf(groupGone.id, 'group.deleted')).toMatchObject({ details: { group } });
  });

  it('a garbage collection run is recorded with who ran it and what it freed', async () => {
    const run = await trackedJson('POST', '/api/system/gc', { dryRun: true });
    expectStatus(run.res, 200);
    const event = await eventOf(run.id, 'gc.run');
    expect(event).toMatchObject({ user: 'admin', ...CLIENT, details: { run: run.res.json.id, trigger: 'api', dryRun: true, status: 'finished' } });
    expect(typeof event.details.blobs).toBe('number');
  });
});

describe('GET /api/audit', () => {
  let user: TestUser;
  let keys: string[];

  beforeAll(async () => {
    user = await createUser(server, newUser('reader'));
    keys = [await localRepo(), await localRepo()];
    await grant(server, keys, { [user.name]: ['read', 'write'] });
    for (const [i, key] of keys.entries()) {
      for (const tag of ['a', 'b', 'c']) await pushImage(server, V2_FORM.base(key, `img-${i}`), buildImage(), tag, { auth: user.basic });
    }
  });

  it('filters by user, repository and action (families too), newest first', async () => {
    const mine = (await audit({ user: user.name, action: 'push' })).events;
    expect(mine.map((event) => `${event.repository} ${event.tag}`)).toEqual([`${keys[1]} c`, `${keys[1]} b`, `${keys[1]} a`, `${keys[0]} c`, `${keys[0]} b`, `${keys[0]} a`]);
    expect(mine.every((event) => event.user === user.name)).toBe(true);
    const ids = mine.map((event) => BigInt(event.id));
    expect([...ids].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0))).toEqual(ids);

    const inRepository = (await audit({ repository: keys[0] })).events;
    expect(inRepository.map((event) => event.action)).toEqual(['push', 'push', 'push', 'repository.created']);

    const families = (await audit({ action: 'repository,push', repository: keys[1] })).events.map((event) => event.action);
    expect(families).toEqual(['push', 'push', 'push', 'repository.created']);
    const exact = (await audit({ action: 'repository.created', repository: keys[1] })).events;
    expect(exact).toHaveLength(1);
  });

  it('filters by time: since is inclusive, until exclusive', async () => {
    const all = (await audit({ repository: keys[0], action: 'push' })).events;
    const middle = all[1];
    const since = (await audit({ repository: keys[0], action: 'push', since: middle.at })).events;
    expect(since.map((event) => event.id)).toEqual(all.filter((event) => event.at >= middle.at).map((event) => event.id));
    const until = (await audit({ repository: keys[0], action: 'push', until: middle.at })).events;
    expect(until.map((event) => event.id)).toEqual(all.filter((event) => event.at < middle.at).map((event) => event.id));
    expect((await audit({ repository: keys[0], since: new Date(Date.now() + 3_600_000).toISOString() })).events).toEqual([]);
  });

  it('pages with next/before until every event was seen once', async () => {
    const whole = (await audit({ user: user.name, action: 'push' })).events.map((event) => event.id);
    const seen: string[] = [];
    let page = await audit({ user: user.name, action: 'push', limit: '4' });
    seen.push(...page.events.map((event) => event.id));
    expect(page.events).toHaveLength(4);
    expect(page.next).toBe(page.events[3].id);
    page = await audit({ user: user.name, action: 'push', limit: '4', before: page.next! });
    seen.push(...page.events.map((event) => event.id));
    expect(page.events).toHaveLength(2);
    expect(page.next).toBeNull();
    expect(seen).toEqual(whole);
  });

  it('is for admins only, and refuses bad filters naming them', async () => {
    expectStatus(await request(server, '/api/audit', { auth: null }), 401);
    expectProblem(await request(server, '/api/audit', { auth: user.basic }), 403);
    expectProblem(await request(server, '/api/audit?action=pushes'), 400, 'pushes');
    expectProblem(await request(server, '/api/audit?since=yesterday'), 400, 'since');
    expectProblem(await request(server, '/api/audit?limit=1001'), 400, 'limit');
    expectProblem(await request(server, '/api/audit?before=abc'), 400, 'before');
    // An admin's access token administers nothing, the audit log included.
    const token = await jsonRequest(server, 'POST', '/api/security/tokens', { name: 'admin-ci', repositories: ['*'], actions: ['read'] });
    expectProblem(await request(server, '/api/audit', { auth: `Bearer ${token.json.token}` }), 403);
  });
});

describe('retention', () => {
  it('rows older than WHARF_AUDIT_RETENTION_DAYS are deleted, younger ones stay', async () => {
    const db = new Client({ connectionString: server.databaseUrl });
    await db.connect();
    try {
      const marker = `retention-${randomBytes(4).toString('hex')}`;
      await db.query(`INSERT INTO audit_events (at, action, username) VALUES (now() - interval '31 days', 'login.failed', $1), (now() - interval '29 days', 'login.failed', $1)`, [
        marker,
      ]);
      // Another host on the same database with a 30-day retention sweeps at its start.
      const other = await startWharf({ DATABASE_URL: server.databaseUrl, WHARF_AUDIT_RETENTION_DAYS: '30' });
      try {
        await eventually(async () => {
          const { rows } = await db.query(`SELECT (now() - at) < interval '30 days' AS young FROM audit_events WHERE username = $1`, [marker]);
          expect(rows).toEqual([{ young: true }]);
        }, 20_000);
      } finally {
        await other.close();
      }
    } finally {
      await db.end();
    }
  });
});
