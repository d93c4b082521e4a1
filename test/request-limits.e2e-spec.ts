// Request limits (issue 17 §4): pull limits on manifest GETs per user name and per anonymous
// address, with Docker Hub's RateLimit headers and 429 TOOMANYREQUESTS + Retry-After beyond,
// and the failed-login limits, both counted in Postgres so that every instance on a database
// shares them. Against real servers and real clients (skopeo waits out a Retry-After of a few
// seconds), and the limiters' rules against the real store with a clock the tests move.
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Test, TestingModule } from '@nestjs/testing';
import { Client } from 'pg';
import { Clock, LoginRateLimiter, Principal, PullRateLimiter } from '@wharf/auth';
import { loadConfig } from '@wharf/config';
import { DatabaseModule, EmbeddedDatabase, RequestCountQueries } from '@wharf/db';
import { buildImage } from './helpers/oci-image-builder';
import { CommandError, DockerCli, Skopeo, run } from './helpers/registry-clients';
import { HttpResult, expectRegistryError, expectStatus, pushImage, request } from './helpers/registry-http';
import { TestUser, createUser, grant, newUser } from './helpers/virtual-repository';
import { WharfTestServer, createLocalRepository, createTestDatabase, startWharf } from './helpers/wharf-server';

const REPO = 'limited';
const BASE = `/v2/${REPO}/team/app/`;
const SIX_HOURS = 21_600;

/** The server trusts X-Forwarded-For from loopback: each test can be its own client address. */
function from(address: string): Record<string, string> {
  return { 'x-forwarded-for': address };
}

function pull(server: WharfTestServer, auth: string | null, options: { method?: string; address?: string; reference?: string } = {}): Promise<HttpResult> {
  const headers = { accept: 'application/vnd.oci.image.manifest.v1+json', ...(options.address ? from(options.address) : {}) };
  return request(server, `${BASE}manifests/${options.reference ?? '1'}`, { method: options.method ?? 'GET', headers, auth });
}

function limitHeaders(res: HttpResult): { limit: string | null; remaining: string | null } {
  return { limit: res.headers.get('ratelimit-limit'), remaining: res.headers.get('ratelimit-remaining') };
}

function expectPulled(res: HttpResult, limit: number, remaining: number, window = SIX_HOURS): void {
  expectStatus(res, 200);
  expect(limitHeaders(res)).toEqual({ limit: `${limit};w=${window}`, remaining: `${remaining};w=${window}` });
}

/** A 429 with the registry error body, Retry-After and the headers; answers Retry-After. */
function expectRefused(res: HttpResult, limit: number, window = SIX_HOURS): number {
  expectRegistryError(res, 429, 'TOOMANYREQUESTS');
  expect(res.json.errors[0].message).toMatch(/pull rate limit reached/);
  expect(limitHeaders(res)).toEqual({ limit: `${limit};w=${window}`, remaining: `0;w=${window}` });
  const retryAfter = res.headers.get('retry-after');
  expect(retryAfter).toMatch(/^[1-9]\d*$/);
  return Number(retryAfter);
}

async function setUpRepository(server: WharfTestServer, ...readers: TestUser[]): Promise<void> {
  await createLocalRepository(server, REPO, { anonymousRead: true });
  await pushImage(server, BASE, buildImage({ layerCount: 1 }), '1');
  for (const reader of readers) await createUser(server, reader);
  if (readers.length) await grant(server, [REPO], Object.fromEntries(readers.map((r) => [r.name, ['read']])));
}

async function countRows(databaseUrl: string): Promise<number> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query('SELECT count(*)::int AS n FROM request_counts')).rows[0].n;
  } finally {
    await client.end();
  }
}

describe('pull limits are off by default', () => {
  let server: WharfTestServer;
  beforeAll(async () => {
    server = await startWharf();
    await setUpRepository(server);
  });
  afterAll(() => server?.close());

  it('answers many manifest GETs, logged in and anonymous, without RateLimit headers and without counting anything', async () => {
    for (let i = 0; i < 25; i++) {
      for (const auth of [server.adminAuthorization, null]) {
        const res = await pull(server, auth, { address: '10.20.0.1' });
        expectStatus(res, 200);
        expect(limitHeaders(res)).toEqual({ limit: null, remaining: null });
      }
    }
    expect(await countRows(server.databaseUrl)).toBe(0);
  });
});

describe('pull limits on two instances sharing one database', () => {
  let a: WharfTestServer;
  let b: WharfTestServer;
  const [alice, bob, carol, dave, erin, frank, gina, ci] = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina', 'ci'].map(newUser);
  const env = {
    WHARF_PULL_LIMIT_AUTHENTICATED: '4',
    WHARF_PULL_LIMIT_ANONYMOUS: '3',
    // The admin, who pushes and sets up, is exempt; the CI user has a higher figure.
    WHARF_PULL_LIMIT_USERS: `admin=0,${ci.name}=8`,
    WHARF_LOGIN_MAX_FAILURES: '3',
  };

  beforeAll(async () => {
    a = await startWharf(env);
    await setUpRepository(a, alice, bob, carol, dave, erin, frank, gina, ci);
    // Started after the users and grants exist, so it needs no change feed to know them.
    b = await startWharf({ ...env, DATABASE_URL: a.databaseUrl });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('counts manifest GETs down in RateLimit headers; a HEAD shows what is left without counting', async () => {
    expectPulled(await pull(a, alice.basic), 4, 3);
    const head = await pull(a, alice.basic, { method: 'HEAD' });
    expectPulled(head, 4, 3);
    expectPulled(await pull(a, alice.basic, { reference: head.headers.get('docker-content-digest')! }), 4, 2);
    for (let i = 0; i < 3; i++) expectPulled(await pull(a, alice.basic, { method: 'HEAD' }), 4, 2);
    // A GET of a manifest that is not there counts as well, and keeps its headers.
    const missing = await pull(a, alice.basic, { reference: 'no-such-tag' });
    expectRegistryError(missing, 404, 'MANIFEST_UNKNOWN');
    expect(limitHeaders(missing)).toEqual({ limit: `4;w=${SIX_HOURS}`, remaining: `1;w=${SIX_HOURS}` });
    // Exempt and own figures: the admin has no limit, the CI user its own.
    expect(limitHeaders(await pull(a, a.adminAuthorization))).toEqual({ limit: null, remaining: null });
    expectPulled(await pull(a, ci.basic), 8, 7);
  });

  it('refuses manifest GETs past the limit with 429 TOOMANYREQUESTS, Retry-After and the registry error body; only that user, only manifest GETs', async () => {
    for (let left = 3; left >= 0; left--) expectPulled(await pull(a, bob.basic), 4, left);
    const refused = await pull(a, bob.basic);
    const retryAfter = expectRefused(refused, 4);
    // Four pulls in a fresh window: the rest of this window, then a quarter of the next, until
    // the sliding estimate has room for one more.
    expect(retryAfter).toBeGreaterThanOrEqual(SIX_HOURS / 4);
    expect(retryAfter).toBeLessThanOrEqual(SIX_HOURS + SIX_HOURS / 4);
    expect(refused.json.errors[0].message).toContain(bob.name);
    // Refusals are not counted, a HEAD still answers, tag lists are not limited.
    expectRefused(await pull(a, bob.basic), 4);
    expectPulled(await pull(a, bob.basic, { method: 'HEAD' }), 4, 0);
    expectStatus(await request(a, `${BASE}tags/list`, { auth: bob.basic }), 200);
    // Everyone else pulls as before.
    expectPulled(await pull(a, carol.basic), 4, 3);
  });

  it('counts anonymous callers per address (an IPv6 /64) and users per name, wherever they come from', async () => {
    for (let left = 2; left >= 0; left--) expectPulled(await pull(a, null, { address: '10.7.0.1' }), 3, left);
    expectRefused(await pull(a, null, { address: '10.7.0.1' }), 3);
    expectPulled(await pull(a, null, { address: '10.7.0.2' }), 3, 2);
    // A user at that address has their own count, wherever they pull from.
    expectPulled(await pull(a, dave.basic, { address: '10.7.0.1' }), 4, 3);
    expectPulled(await pull(a, dave.basic, { address: '10.7.0.3' }), 4, 2);

    for (let left = 2; left >= 0; left--) expectPulled(await pull(a, null, { address: `2001:db8:7:1::${left + 1}` }), 3, left);
    expectRefused(await pull(a, null, { address: '2001:db8:7:1:ffff::99' }), 3);
    expectPulled(await pull(a, null, { address: '2001:db8:7:2::1' }), 3, 2);
  });

  it('shares the count between the instances: pulls split over both count against one limit', async () => {
    expectPulled(await pull(a, erin.basic), 4, 3);
    expectPulled(await pull(b, erin.basic), 4, 2);
    expectPulled(await pull(a, erin.basic), 4, 1);
    expectPulled(await pull(b, erin.basic), 4, 0);
    expectRefused(await pull(a, erin.basic), 4);
    expectRefused(await pull(b, erin.basic), 4);
    // Anonymous callers too.
    expectPulled(await pull(b, null, { address: '10.7.1.1' }), 3, 2);
    expectPulled(await pull(a, null, { address: '10.7.1.1' }), 3, 1);
    expectPulled(await pull(b, null, { address: '10.7.1.1' }), 3, 0);
    expectRefused(await pull(a, null, { address: '10.7.1.1' }), 3);
  });

  it('a real client, the docker CLI, gets the 429 as an error naming too many requests', async () => {
    for (let left = 3; left >= 0; left--) expectPulled(await pull(b, frank.basic), 4, left);
    const docker = await DockerCli.create();
    try {
      await docker.login(b.host, frank.creds);
      const error = await docker.manifestInspect(`${b.host}/${REPO}/team/app:1`).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(CommandError);
      expect((error as CommandError).message).toMatch(/toomanyrequests/i);
      expect((error as CommandError).message).toMatch(/pull rate limit reached/);
    } finally {
      await docker.close();
    }
  });

  it('failed logins on one instance refuse the pair on the other; a success on one forgives on both', async () => {
    const wrong = `Basic ${Buffer.from(`${gina.name}:wrong-password`).toString('base64')}`;
    expectStatus(await request(a, '/v2/', { auth: wrong, headers: from('10.8.0.1') }), 401);
    expectStatus(await request(b, '/v2/', { auth: wrong, headers: from('10.8.0.1') }), 401);
    // Two failures: the right password still gets in, on either instance, and forgives them.
    expectStatus(await request(b, '/v2/', { auth: gina.basic, headers: from('10.8.0.1') }), 200);
    for (const server of [a, b]) expectStatus(await request(server, '/v2/', { auth: wrong, headers: from('10.8.0.1') }), 401);
    // Forgiven: two failures again, not four.
    expectStatus(await request(a, '/v2/', { auth: gina.basic, headers: from('10.8.0.1') }), 200);

    for (const server of [a, b, a]) expectStatus(await request(server, '/v2/', { auth: wrong, headers: from('10.8.0.2') }), 401);
    for (const server of [a, b]) {
      const refused = await request(server, '/v2/', { auth: gina.basic, headers: from('10.8.0.2') });
      expectRegistryError(refused, 429, 'TOOMANYREQUESTS');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(300);
    }
    // The same user elsewhere is not refused, on either.
    for (const server of [a, b]) expectStatus(await request(server, '/v2/', { auth: gina.basic, headers: from('10.8.0.3') }), 200);
  });
});

describe('a real client waits as Retry-After says', () => {
  let server: WharfTestServer;
  const hana = newUser('hana');
  const WINDOW = 4;
  beforeAll(async () => {
    server = await startWharf({ WHARF_PULL_LIMIT_AUTHENTICATED: '2', WHARF_PULL_LIMIT_WINDOW_SECONDS: String(WINDOW) });
    await setUpRepository(server, hana);
  });
  afterAll(() => server?.close());

  it('skopeo, refused, sleeps for the Retry-After it was given and then gets the manifest', async () => {
    expectStatus(await pull(server, hana.basic), 200);
    expectStatus(await pull(server, hana.basic), 200);
    const retryAfter = expectRefused(await pull(server, hana.basic), 2, WINDOW);
    expect(retryAfter).toBeLessThanOrEqual(2 * WINDOW);
    // skopeo (containers/image) retries a 429 up to five times, sleeping as Retry-After says;
    // its debug log shows each refusal.
    const skopeo = await Skopeo.create();
    try {
      const { stdout, stderr } = await run('skopeo', [
        '--debug',
        '--registries.d',
        path.join(skopeo.dir, 'registries.d'),
        'inspect',
        '--raw',
        '--tls-verify=false',
        '--creds',
        `${hana.name}:${hana.password}`,
        `docker://${server.host}/${REPO}/team/app:1`,
      ]);
      expect(JSON.parse(stdout.toString()).schemaVersion).toBe(2);
      const sleeps = [...stderr.matchAll(/Too many requests to \S+manifests\/1: sleeping for ([\d.]+) seconds/g)].map((m) => Number(m[1]));
      expect(sleeps.length).toBeGreaterThanOrEqual(1);
      for (const seconds of sleeps) expect(seconds).toBeLessThanOrEqual(2 * WINDOW);
    } finally {
      await skopeo.close();
    }
  });
});

describe('the limiters on Postgres, with a clock the tests move', () => {
  let database: { url: string; drop(): Promise<void> };
  let moduleRef: TestingModule;
  let counts: RequestCountQueries;

  class MovedClock extends Clock {
    constructor(public t: number) {
      super();
    }
    now(): number {
      return this.t;
    }
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    moduleRef = await Test.createTestingModule({ imports: [DatabaseModule.forRoot(database.url, { shared: true })] }).compile();
    await moduleRef.init();
    counts = moduleRef.get(RequestCountQueries);
  });
  afterAll(async () => {
    await moduleRef?.close();
    await database?.drop();
  });

  describe('failed logins (the rules the in-memory limiter had, now on the shared store)', () => {
    const config = loadConfig({
      WHARF_LOGIN_MAX_FAILURES: '3',
      WHARF_LOGIN_MAX_FAILURES_PER_USER: '5',
      WHARF_LOGIN_MAX_FAILURES_PER_ADDRESS: '8',
      WHARF_LOGIN_WINDOW_SECONDS: '60',
    });
    // Each test its own stretch of time, so one test's failures are outside the next one's window.
    let start = 1_000_000;
    function limiter(): { limiter: LoginRateLimiter; clock: MovedClock } {
      start += 10 * 60_000;
      const clock = new MovedClock(start);
      return { limiter: new LoginRateLimiter(config, clock, counts), clock };
    }
    const fail = (l: LoginRateLimiter, name: string | undefined, address: string) => l.attempt(name, address, async () => null);
    const succeed = (l: LoginRateLimiter, name: string | undefined, address: string) => l.attempt(name, address, async () => 'in');
    async function refusal(attempt: Promise<unknown>): Promise<{ code?: string; headers?: Record<string, string> } | undefined> {
      return attempt.then(
        () => undefined,
        (err) => err,
      );
    }

    it('refuses a (user, address) pair after its limit, even with the right password, with Retry-After, until the window passes', async () => {
      const { limiter: l, clock } = limiter();
      for (let i = 0; i < 3; i++) {
        expect(await fail(l, 'alice', '10.0.0.1')).toBeNull();
        clock.t += 1000;
      }
      const error = await refusal(succeed(l, 'alice', '10.0.0.1'));
      expect(error?.code).toBe('TOOMANYREQUESTS');
      expect(Number(error?.headers?.['Retry-After'])).toBe(57);
      expect(await succeed(l, 'alice', '10.0.0.2')).toBe('in');
      expect(await succeed(l, 'bob', '10.0.0.1')).toBe('in');
      clock.t += 57_000;
      expect(await succeed(l, 'alice', '10.0.0.1')).toBe('in');
    });

    it('the default figures: 10 per pair, 50 per user, 100 per address', () => {
      const defaults = loadConfig({});
      expect([defaults.loginMaxFailures, defaults.loginMaxFailuresPerUser, defaults.loginMaxFailuresPerAddress]).toEqual([10, 50, 100]);
    });

    it('past the per-user limit, only the addresses that failed for that user are refused', async () => {
      const { limiter: l } = limiter();
      for (let i = 1; i <= 5; i++) await fail(l, 'carl', `10.0.1.${i}`);
      expect((await refusal(succeed(l, 'carl', '10.0.1.1')))?.code).toBe('TOOMANYREQUESTS');
      expect(await succeed(l, 'carl', '10.0.1.9')).toBe('in');
      expect(await succeed(l, 'bob', '10.0.1.1')).toBe('in');
    });

    it('below the per-user limit, one failure from an address refuses nothing', async () => {
      const { limiter: l } = limiter();
      for (let i = 1; i <= 4; i++) await fail(l, 'dora', `10.0.2.${i}`);
      expect(await succeed(l, 'dora', '10.0.2.1')).toBe('in');
    });

    it('past the per-address limit, only the user names that failed there are refused', async () => {
      const { limiter: l } = limiter();
      for (let i = 1; i <= 8; i++) await fail(l, `user${i}`, '192.0.2.1');
      expect((await refusal(succeed(l, 'user1', '192.0.2.1')))?.code).toBe('TOOMANYREQUESTS');
      expect(await succeed(l, 'admin', '192.0.2.1')).toBe('in');
      expect(await succeed(l, 'user1', '192.0.2.2')).toBe('in');
    });

    it('bare access tokens count as the name "" at their address, and forgive nothing', async () => {
      const { limiter: l } = limiter();
      await fail(l, undefined, '192.0.2.7');
      await fail(l, undefined, '192.0.2.7');
      expect(await succeed(l, undefined, '192.0.2.7')).toBe('in');
      await fail(l, undefined, '192.0.2.7');
      expect((await refusal(succeed(l, undefined, '192.0.2.7')))?.code).toBe('TOOMANYREQUESTS');
      expect(await succeed(l, 'alice', '192.0.2.7')).toBe('in');
    });

    it("forgets a pair's failures after its success, not the crowd's", async () => {
      const { limiter: l } = limiter();
      await fail(l, 'emil', '1');
      await fail(l, 'emil', '1');
      await succeed(l, 'emil', '1');
      await fail(l, 'emil', '1');
      expect(await succeed(l, 'emil', '1')).toBe('in');
      await fail(l, 'emil', '1');
      for (let i = 2; i <= 5; i++) await fail(l, 'emil', String(i));
      expect((await refusal(succeed(l, 'emil', '1')))?.code).toBe('TOOMANYREQUESTS');
    });

    it("trusts a pair that got in for 2 s without asking Postgres; a failure ends the trust, another instance's are seen when it lapses", async () => {
      const { limiter: here, clock } = limiter();
      const there = new LoginRateLimiter(config, clock, counts);
      const asked = jest.spyOn(counts, 'nthNewest');
      try {
        for (let i = 0; i < 5; i++) expect(await succeed(here, 'finn', '10.0.4.1')).toBe('in');
        expect(asked).toHaveBeenCalledTimes(1);
        clock.t += 2_000;
        expect(await succeed(here, 'finn', '10.0.4.1')).toBe('in');
        expect(asked).toHaveBeenCalledTimes(2);

        // The pair fails three times on the other instance: here, the trust still holds for at
        // most one attempt, and a failure here ends it.
        for (let i = 0; i < 3; i++) await fail(there, 'finn', '10.0.4.1');
        expect(await fail(here, 'finn', '10.0.4.1')).toBeNull();
        expect((await refusal(succeed(here, 'finn', '10.0.4.1')))?.code).toBe('TOOMANYREQUESTS');

        // Without a failure here, the lapse of the trust shows the other instance's failures.
        expect(await succeed(here, 'gus', '10.0.4.1')).toBe('in');
        for (let i = 0; i < 3; i++) await fail(there, 'gus', '10.0.4.1');
        clock.t += 2_000;
        expect((await refusal(succeed(here, 'gus', '10.0.4.1')))?.code).toBe('TOOMANYREQUESTS');
      } finally {
        asked.mockRestore();
      }
    });

    it('stores a name a client sent as it came (any bytes, any length) only hashed', async () => {
      const { limiter: l } = limiter();
      const name = `pass\u0000word-typed-in-the-name-field-${'x'.repeat(10_000)}`;
      for (let i = 0; i < 3; i++) await fail(l, name, '10.0.3.1');
      expect((await refusal(succeed(l, name, '10.0.3.1')))?.code).toBe('TOOMANYREQUESTS');
      const client = new Client({ connectionString: database.url });
      await client.connect();
      try {
        const { rows } = await client.query(`SELECT subject FROM request_counts WHERE subject LIKE 'login:%10.0.3.1'`);
        expect(rows.length).toBeGreaterThan(0);
        for (const { subject } of rows) expect(subject).not.toContain('pass');
      } finally {
        await client.end();
      }
    });
  });

  describe('pulls', () => {
    const config = loadConfig({ WHARF_PULL_LIMIT_AUTHENTICATED: '10', WHARF_PULL_LIMIT_WINDOW_SECONDS: '100' });
    const user = (name: string): Principal => ({ username: name, admin: false, groups: [] });

    it('slides: pulls at the end of one window still count at the start of the next, fading as it goes', async () => {
      // 10 pulls in the last tenth of a window.
      const clock = new MovedClock(1_000 * 100_000 + 95_000);
      const pulls = new PullRateLimiter(config, clock, counts);
      for (let i = 9; i >= 0; i--) expect(await pulls.count(user('ivy'), '10.0.0.1')).toEqual({ 'RateLimit-Limit': '10;w=100', 'RateLimit-Remaining': `${i};w=100` });
      const refused = await pulls.count(user('ivy'), '10.0.0.1').then(
        () => undefined,
        (err) => err,
      );
      // The rest of this window (5 s), then a tenth of the next, until 9 of the 10 weigh.
      expect(refused?.headers?.['Retry-After']).toBe('15');
      // A fixed window would allow 10 more at once here; the sliding estimate allows none yet.
      clock.t += 5_000;
      await expect(pulls.count(user('ivy'), '10.0.0.1')).rejects.toMatchObject({ code: 'TOOMANYREQUESTS', headers: { 'Retry-After': '10' } });
      clock.t += 10_000;
      expect(await pulls.count(user('ivy'), '10.0.0.1')).toEqual({ 'RateLimit-Limit': '10;w=100', 'RateLimit-Remaining': '0;w=100' });
      // Half-way through, half of the old ten still weigh.
      clock.t += 40_000;
      expect(await pulls.peek(user('ivy'), '10.0.0.1')).toEqual({ 'RateLimit-Limit': '10;w=100', 'RateLimit-Remaining': '4;w=100' });
    });

    it('never counts past the limit, however many pulls arrive at once', async () => {
      const pulls = new PullRateLimiter(config, new MovedClock(2_000 * 100_000), counts);
      const results = await Promise.allSettled(Array.from({ length: 40 }, () => pulls.count(user('jo'), '10.0.0.1')));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
      expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(Array(30).fill('TOOMANYREQUESTS'));
      const remainders = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value!['RateLimit-Remaining']] : [])).sort();
      expect(remainders).toEqual(Array.from({ length: 10 }, (_, i) => `${i};w=100`));
    });

    it("rows expire when they can no longer be anyone's previous window, and the sweep deletes only those", async () => {
      const t = 3_000 * 100_000;
      const pulls = new PullRateLimiter(config, new MovedClock(t), counts);
      await pulls.count(user('kim'), '10.0.0.1');
      const expiresAt = new Date(t + 200_000);
      await counts.deleteExpired(new Date(expiresAt.getTime() - 1));
      expect(await counts.peek({ subject: 'pull:user:kim', start: new Date(t), previousStart: new Date(t - 100_000) })).toEqual({ current: 1, previous: 0 });
      await counts.deleteExpired(new Date(expiresAt.getTime() + 1));
      expect(await counts.peek({ subject: 'pull:user:kim', start: new Date(t), previousStart: new Date(t - 100_000) })).toEqual({ current: 0, previous: 0 });
    });
  });
});

describe('on the embedded database (PGlite), the default without DATABASE_URL', () => {
  let root: string;
  let embedded: EmbeddedDatabase | undefined;
  let moduleRef: TestingModule | undefined;

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-limits-embedded-'));
    embedded = await EmbeddedDatabase.start(path.join(root, 'pg'));
    moduleRef = await Test.createTestingModule({ imports: [DatabaseModule.forRoot(embedded.url, { shared: false })] }).compile();
    await moduleRef.init();
  });
  afterAll(async () => {
    await moduleRef?.close();
    await embedded?.stop();
    if (root) await fs.rm(root, { recursive: true, force: true });
  });

  it('runs the same statements: the table (unlogged), the counted pulls, the login failures, the sweep', async () => {
    const counts = moduleRef!.get(RequestCountQueries);
    const clock = new (class extends Clock {
      t = 4_000 * 100_000;
      now(): number {
        return this.t;
      }
    })();
    const pulls = new PullRateLimiter(loadConfig({ WHARF_PULL_LIMIT_ANONYMOUS: '2', WHARF_PULL_LIMIT_WINDOW_SECONDS: '100' }), clock, counts);
    const anonymous: Principal = { admin: false, groups: [] };
    expect(await pulls.count(anonymous, '10.0.0.1')).toEqual({ 'RateLimit-Limit': '2;w=100', 'RateLimit-Remaining': '1;w=100' });
    expect(await pulls.count(anonymous, '10.0.0.1')).toEqual({ 'RateLimit-Limit': '2;w=100', 'RateLimit-Remaining': '0;w=100' });
    await expect(pulls.count(anonymous, '10.0.0.1')).rejects.toMatchObject({ code: 'TOOMANYREQUESTS', headers: { 'Retry-After': '150' } });
    expect(await pulls.peek(anonymous, '10.0.0.1')).toEqual({ 'RateLimit-Limit': '2;w=100', 'RateLimit-Remaining': '0;w=100' });

    const logins = new LoginRateLimiter(loadConfig({ WHARF_LOGIN_MAX_FAILURES: '2' }), clock, counts);
    for (let i = 0; i < 2; i++) expect(await logins.attempt('lee', '10.0.0.1', async () => null)).toBeNull();
    await expect(logins.attempt('lee', '10.0.0.1', async () => 'in')).rejects.toMatchObject({ code: 'TOOMANYREQUESTS', headers: { 'Retry-After': '300' } });

    expect(await counts.deleteExpired(new Date(clock.t + 1_000_000))).toBe(4);
    const client = new Client({ connectionString: embedded!.url });
    await client.connect();
    try {
      expect((await client.query(`SELECT relpersistence FROM pg_class WHERE relname = 'request_counts'`)).rows).toEqual([{ relpersistence: 'u' }]);
    } finally {
      await client.end();
    }
  });
});
