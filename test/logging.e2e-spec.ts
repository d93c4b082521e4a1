import { LogLine, SpawnedWharf, spawnWharf } from './helpers/wharf-cluster';

jest.setTimeout(240_000);

// The built server at LOG_LEVEL=info on its embedded database, as a newcomer's `npm start`
// runs it: what it says when it starts, for each request, and when it stops.

const listening = (line: LogLine) => line.msg.startsWith('Wharf listening on');
const PASSWORD = /created user "admin" with generated password: (\S+)/;

describe('what Wharf logs', () => {
  let wharf: SpawnedWharf;
  let admin: string;
  let requests = 0;

  /** Sends a request and returns its access-log line. */
  const request = async (path: string, authorization?: string): Promise<LogLine> => {
    const reqId = `logging-test-${++requests}`;
    await fetch(`${wharf.baseUrl}${path}`, { headers: { 'x-request-id': reqId, ...(authorization ? { authorization } : {}) } }).then((res) => res.arrayBuffer());
    return wharf.waitForLog((line) => line.msg === 'request' && line.reqId === reqId, 10_000);
  };

  beforeAll(async () => {
    // No WHARF_ADMIN_PASSWORD: a new installation generates one and has to say it.
    wharf = await spawnWharf({ WHARF_ADMIN_PASSWORD: '' }, { embedded: true });
    await wharf.waitForLog(listening, 200_000);
    const password = wharf.logs.map((line) => PASSWORD.exec(line.msg)?.[1]).find(Boolean)!;
    admin = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
  });
  afterAll(() => wharf.stop());

  it('starts with a few lines, the generated admin password among them, not one per route', () => {
    const before = wharf.logs.slice(0, wharf.logs.findIndex(listening));
    expect(before.every((line) => ['info', 'warn'].includes(line.level))).toBe(true);
    expect(before.length).toBeLessThanOrEqual(6);
    expect(before.some((line) => PASSWORD.test(line.msg))).toBe(true);
    expect(before.map((line) => line.context)).not.toContain('RouterExplorer');
    expect(wharf.logs.find(listening)).toMatchObject({ dataDir: wharf.dataDir, database: 'embedded', databaseAt: `${wharf.dataDir}/pg` });
  });

  it('names the user, and the access token when one was used, in the access log; anonymous without credentials', async () => {
    expect(await request('/v2/')).toMatchObject({ status: 401, user: 'anonymous' });
    expect(await request('/health/live')).toMatchObject({ status: 200, user: 'anonymous' });

    const basic = await request('/v2/', admin);
    expect(basic).toMatchObject({ status: 200, user: 'admin' });
    expect(basic).not.toHaveProperty('tokenId');

    const res = await fetch(`${wharf.baseUrl}/api/security/tokens`, {
      method: 'POST',
      headers: { authorization: admin, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'logging-test', repositories: ['*'], actions: ['read'] }),
    });
    expect(res.status).toBe(201);
    const token = (await res.json()) as { id: string; token: string };
    // A registry route (RegistryLane) and a REST route (the API guard).
    expect(await request('/v2/', `Bearer ${token.token}`)).toMatchObject({ status: 200, user: 'admin', tokenId: token.id });
    expect(await request('/api/repositories', `Bearer ${token.token}`)).toMatchObject({ status: 200, user: 'admin', tokenId: token.id });
    // Credentials that fail name nobody.
    expect(await request('/v2/', `Basic ${Buffer.from('admin:wrong-password').toString('base64')}`)).toMatchObject({ status: 401, user: 'anonymous' });
  });

  it('says when it stops', async () => {
    wharf.child.kill('SIGTERM');
    expect(await wharf.exited).toBe(0);
    const messages = wharf.logs.map((line) => line.msg);
    expect(messages).toContain('Wharf stopping (SIGTERM)');
    expect(messages[messages.length - 1]).toBe('Wharf stopped');
  });
});
