// Webhooks (PUT/GET/DELETE /api/webhooks/{name}, deliveries and redelivery): a receiver on
// loopback gets signed events in Distribution's envelope for pushes, deletions, promotions and,
// when asked for, pulls, of the repositories its patterns name; a receiver that is down gets
// every event once it is back, also across a restart of Wharf; a receiver that never answers
// costs pushes nothing; private-network targets are refused, as written and as resolved.
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { buildImage } from './helpers/oci-image-builder';
import { RequestAuth, V2_FORM, eventually, expectStatus, pushBlob, request } from './helpers/registry-http';
import { createUser, expectProblem, freshKey, getManifest, jsonRequest, newUser } from './helpers/virtual-repository';
import { WebhookReceiver, signatureValid } from './helpers/webhook-receiver';
import { WharfTestServer, createLocalRepository, createTestDatabase, startWharf } from './helpers/wharf-server';

const ENVELOPE = 'application/vnd.docker.distribution.events.v1+json';
/** Deliveries follow within a second or two; a retry after a failure may wait a few backoff seconds more. */
const DELIVERY_WAIT_MS = 30_000;

function secret(): string {
  return randomBytes(24).toString('hex');
}

function putWebhook(server: WharfTestServer, name: string, body: Record<string, unknown>, auth?: RequestAuth) {
  return jsonRequest(server, 'PUT', `/api/webhooks/${name}`, body, auth);
}

async function createWebhook(server: WharfTestServer, body: Record<string, unknown>): Promise<string> {
  const name = freshKey('hook');
  const res = await putWebhook(server, name, body);
  expectStatus(res, 201);
  return name;
}

async function deliveries(server: WharfTestServer, name: string, query = ''): Promise<any[]> {
  const res = await request(server, `/api/webhooks/${name}/deliveries?limit=500${query}`);
  expectStatus(res, 200);
  return res.json.deliveries;
}

/** Pushes a new image under `tag` with a request id of our own; its digest and that id. */
async function push(server: WharfTestServer, key: string, image: string, tag: string): Promise<{ digest: string; requestId: string; ms: number }> {
  const built = buildImage();
  const base = V2_FORM.base(key, image);
  for (const blob of [built.config, ...built.layers]) await pushBlob(server, base, blob.bytes, blob.digest);
  const requestId = `push-${randomBytes(6).toString('hex')}`;
  const started = performance.now();
  const res = await request(server, `${base}manifests/${tag}`, {
    method: 'PUT',
    headers: { 'content-type': built.manifest.mediaType, 'x-request-id': requestId, 'user-agent': 'webhook-test/1.0' },
    body: built.manifest.bytes,
  });
  const ms = performance.now() - started;
  expectStatus(res, 201);
  return { digest: built.manifest.digest, requestId, ms };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

describe('with private targets allowed (WHARF_WEBHOOK_ALLOW_PRIVATE=true, to reach a receiver on loopback)', () => {
  let server: WharfTestServer;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    server = await startWharf({ WHARF_WEBHOOK_ALLOW_PRIVATE: 'true' });
    receiver = await WebhookReceiver.start();
  }, 60_000);

  afterAll(async () => {
    await receiver?.stop();
    await server?.close();
  });

  it('delivers push, delete and promote events, signed, in Distribution’s envelope, for the repositories its patterns name', async () => {
    const prefix = `wh${randomBytes(3).toString('hex')}`;
    const [matched, other, target] = [`${prefix}-a-1`, `${prefix}-b-1`, `${prefix}-a-2`];
    for (const key of [matched, other, target]) await createLocalRepository(server, key);
    const key = secret();
    const name = await createWebhook(server, { url: receiver.url, events: ['push', 'delete', 'promote'], repositories: [`${prefix}-a-*`], secret: key });

    const unmatched = await push(server, other, 'app', '1.0');
    const pushed = await push(server, matched, 'team/app', '1.0');
    await eventually(async () => expect(receiver.events().find((e) => e.target?.digest === pushed.digest)).toBeDefined(), DELIVERY_WAIT_MS);

    const delivery = receiver.received.find((d) => d.json.events[0].target?.digest === pushed.digest)!;
    expect(delivery.headers['content-type']).toBe(ENVELOPE);
    expect(delivery.headers['x-wharf-event']).toBe('push');
    expect(delivery.headers['x-wharf-webhook']).toBe(name);
    expect(signatureValid(delivery, key)).toBe(true);
    expect(signatureValid(delivery, secret())).toBe(false);
    expect(delivery.json.events).toHaveLength(1);
    const event = delivery.json.events[0];
    expect(event).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      timestamp: expect.any(String),
      action: 'push',
      target: {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        size: expect.any(Number),
        length: expect.any(Number),
        digest: pushed.digest,
        repository: `${matched}/team/app`,
        url: `${server.baseUrl}/v2/${matched}/team/app/manifests/${pushed.digest}`,
        tag: '1.0',
      },
      request: { id: pushed.requestId, addr: '127.0.0.1', host: server.host, method: 'PUT', useragent: 'webhook-test/1.0' },
      actor: { name: 'admin' },
      source: { addr: expect.any(String), instanceID: expect.any(String) },
      wharf: { action: 'push', auditId: expect.any(String), repositoryKey: matched, image: 'team/app', details: expect.objectContaining({ size: expect.any(Number) }) },
    });
    expect(event.target.size).toBe(event.target.length);
    expect(Math.abs(Date.parse(event.timestamp) - Date.now())).toBeLessThan(60_000);

    const deleted = await request(server, `${V2_FORM.base(matched, 'team/app')}manifests/1.0`, { method: 'DELETE' });
    expectStatus(deleted, 202);
    const promoted = await jsonRequest(server, 'POST', `/api/docker/${other}/v2/promote`, { targetRepo: target, dockerRepository: 'app', tag: '1.0', copy: true });
    expectStatus(promoted, 200);
    await eventually(async () => expect(receiver.events().map((e) => e.action)).toEqual(expect.arrayContaining(['delete', 'promote'])), DELIVERY_WAIT_MS);
    expect(receiver.events().find((e) => e.action === 'delete')).toMatchObject({
      target: { repository: `${matched}/team/app`, tag: '1.0', digest: pushed.digest },
      actor: { name: 'admin' },
    });
    expect(receiver.events().find((e) => e.action === 'promote')).toMatchObject({
      target: { repository: `${target}/app`, tag: '1.0', digest: unmatched.digest },
      wharf: { details: { source: { repository: other, image: 'app', tag: '1.0' } } },
    });
    for (const each of receiver.received) expect(signatureValid(each, key)).toBe(true);
    // The push to a repository the patterns do not name was never delivered, nor is it in the log.
    expect(receiver.events().filter((e) => e.target?.repository?.startsWith(`${other}/`))).toEqual([]);
    const log = await deliveries(server, name);
    expect(log.map((d) => d.event).sort()).toEqual(['delete', 'promote', 'push']);
    expect(log.every((d) => d.status === 'delivered' && d.attempts === 1 && d.lastStatus === 204)).toBe(true);
  });

  it('delivers pulls (GETs, not HEADs) only to webhooks that subscribe to them', async () => {
    const key = freshKey('pulled');
    await createLocalRepository(server, key);
    const pulls = await WebhookReceiver.start();
    try {
      const name = await createWebhook(server, { url: pulls.url, events: ['pull'], repositories: [key], secret: secret() });
      const { digest } = await push(server, key, 'app', 'v1');
      expectStatus(await getManifest(server, V2_FORM.base(key, 'app'), 'v1', { method: 'HEAD' }), 200);
      expectStatus(await getManifest(server, V2_FORM.base(key, 'app'), 'v1'), 200);
      await eventually(async () => expect(pulls.events()).toHaveLength(1), DELIVERY_WAIT_MS);
      expect(pulls.events()[0]).toMatchObject({ action: 'pull', target: { repository: `${key}/app`, tag: 'v1', digest }, request: { method: 'GET' }, actor: { name: 'admin' } });
      // A push to it went to nobody: this webhook wants pulls only.
      expect((await deliveries(server, name)).map((d) => d.event)).toEqual(['pull']);
    } finally {
      await pulls.stop();
    }
  });

  it('a delivery is re-triggered on demand: the same event again (receivers drop duplicates by its id)', async () => {
    const key = freshKey('again');
    await createLocalRepository(server, key);
    const again = await WebhookReceiver.start();
    try {
      const name = await createWebhook(server, { url: again.url, events: ['push'], repositories: [key], secret: secret() });
      await push(server, key, 'app', 'v1');
      await eventually(async () => expect(again.events()).toHaveLength(1), DELIVERY_WAIT_MS);
      const [delivered] = await deliveries(server, name);
      const redelivered = await request(server, `/api/webhooks/${name}/deliveries/${delivered.id}/redeliver`, { method: 'POST' });
      expectStatus(redelivered, 202);
      expect(redelivered.json).toMatchObject({ id: delivered.id, status: 'pending', attempts: 0 });
      await eventually(async () => expect(again.events()).toHaveLength(2), DELIVERY_WAIT_MS);
      expect(again.events()[1].id).toBe(again.events()[0].id);
      await eventually(async () => expect((await deliveries(server, name))[0]).toMatchObject({ status: 'delivered', attempts: 1 }), DELIVERY_WAIT_MS);
      expectProblem(await request(server, `/api/webhooks/${name}/deliveries/999999999/redeliver`, { method: 'POST' }), 404);
      expectProblem(await request(server, `/api/webhooks/${name}/deliveries/abc/redeliver`, { method: 'POST' }), 400, 'delivery id');
    } finally {
      await again.stop();
    }
  });

  it('a receiver that answers with an error is tried again, and its answer is in the delivery log', async () => {
    const key = freshKey('refusing');
    await createLocalRepository(server, key);
    const refusing = await WebhookReceiver.start();
    refusing.status = 503;
    try {
      const name = await createWebhook(server, { url: refusing.url, events: ['push'], repositories: [key], secret: secret() });
      await push(server, key, 'app', 'v1');
      await eventually(
        async () => expect((await deliveries(server, name))[0]).toMatchObject({ status: 'pending', attempts: 1, lastStatus: 503, lastError: 'HTTP 503' }),
        DELIVERY_WAIT_MS,
      );
      refusing.status = 200;
      // The second attempt comes 2 s after the first (2^attempts s).
      await eventually(
        async () => expect((await deliveries(server, name))[0]).toMatchObject({ status: 'delivered', attempts: 2, lastStatus: 200, lastError: null }),
        DELIVERY_WAIT_MS,
      );
      expect(refusing.events()).toHaveLength(2);
    } finally {
      await refusing.stop();
    }
  });

  it('a receiver that never answers, or is not there, costs pushes nothing: every push succeeds, none waits for the attempt timeout', async () => {
    const key = freshKey('slow');
    await createLocalRepository(server, key);
    const before: number[] = [];
    for (let i = 0; i < 5; i += 1) before.push((await push(server, key, 'app', `before-${i}`)).ms);

    const holding = await WebhookReceiver.start();
    holding.hold = true; // holds every request open, unanswered (Wharf gives up after 10 s)
    const nobody = await WebhookReceiver.start();
    await nobody.stop(); // a port nobody listens on
    try {
      await createWebhook(server, { url: holding.url, events: ['push'], repositories: [key], secret: secret() });
      await createWebhook(server, { url: nobody.url, events: ['push'], repositories: [key], secret: secret() });
      const after: number[] = [];
      for (let i = 0; i < 5; i += 1) after.push((await push(server, key, 'app', `after-${i}`)).ms);
      // The deliveries were attempted while the pushes went on: the receiver holds them.
      await eventually(async () => expect(holding.held).toBeGreaterThan(0), DELIVERY_WAIT_MS);
      console.log(`manifest PUT median: ${median(before).toFixed(1)} ms without webhooks, ${median(after).toFixed(1)} ms with a hanging and a dead receiver`);
      for (const ms of after) expect(ms).toBeLessThan(10_000);
    } finally {
      await holding.stop();
    }
  });

  it('webhooks are read, replaced (the secret kept unless given) and deleted by admins; the secret is never shown', async () => {
    const key = freshKey('admin');
    await createLocalRepository(server, key);
    const name = freshKey('hook');
    const original = secret();
    const created = await putWebhook(server, name, { url: receiver.url, events: ['delete', 'push'], secret: original });
    expectStatus(created, 201);
    expect(created.json).toEqual({ name, url: receiver.url, events: ['push', 'delete'], repositories: ['*'], createdAt: expect.any(String), updatedAt: expect.any(String) });
    const got = await request(server, `/api/webhooks/${name}`);
    expectStatus(got, 200);
    expect(got.json).toEqual(created.json);
    expect(got.body.toString()).not.toContain(original);
    const listed = await request(server, '/api/webhooks');
    expect(listed.json.find((w: any) => w.name === name)).toEqual(created.json);
    expect(listed.body.toString()).not.toContain(original);

    const replaced = await putWebhook(server, name, { url: receiver.url, events: ['push'], repositories: [key] });
    expectStatus(replaced, 200);
    expect(replaced.json).toMatchObject({ events: ['push'], repositories: [key] });
    const { digest } = await push(server, key, 'app', 'kept');
    await eventually(async () => expect(receiver.received.find((d) => d.json.events[0].target?.digest === digest)).toBeDefined(), DELIVERY_WAIT_MS);
    expect(signatureValid(receiver.received.find((d) => d.json.events[0].target?.digest === digest)!, original)).toBe(true);

    const audit = await request(server, '/api/audit?action=webhook');
    expect(audit.json.events.find((e: any) => e.details.webhook === name && e.details.created === true)).toMatchObject({ action: 'webhook.saved', user: 'admin' });
    expect(audit.body.toString()).not.toContain(original);

    expectStatus(await request(server, `/api/webhooks/${name}`, { method: 'DELETE' }), 204);
    expectProblem(await request(server, `/api/webhooks/${name}`), 404);
    expectProblem(await request(server, `/api/webhooks/${name}`, { method: 'DELETE' }), 404);
  });

  it('refuses bad definitions naming the field, and non-admins', async () => {
    const name = freshKey('bad');
    expectProblem(await putWebhook(server, name, { url: receiver.url, events: ['push'] }), 400, 'secret is required');
    expectProblem(await putWebhook(server, name, { url: receiver.url, events: ['push'], secret: 'short' }), 400, 'secret');
    expectProblem(await putWebhook(server, name, { url: receiver.url, events: ['pushes'], secret: secret() }), 400, 'events');
    expectProblem(await putWebhook(server, name, { url: receiver.url, events: [], secret: secret() }), 400, 'events');
    expectProblem(await putWebhook(server, name, { url: 'ftp://example.com/', events: ['push'], secret: secret() }), 400, 'http or https');
    expectProblem(await putWebhook(server, name, { url: receiver.url, events: ['push'], repositories: ['Not A Key'], secret: secret() }), 400, 'repositories');
    expectProblem(await putWebhook(server, 'Bad Name', { url: receiver.url, events: ['push'], secret: secret() }), 400, 'webhook name');
    const user = await createUser(server, newUser('nosy'));
    expectProblem(await putWebhook(server, name, { url: receiver.url, events: ['push'], secret: secret() }, user.basic), 403);
    expectProblem(await request(server, '/api/webhooks', { auth: user.basic }), 403);
    expectStatus(await request(server, '/api/webhooks', { auth: null }), 401);
  });
});

describe('a receiver that is down for a while', () => {
  it('gets every event once it is back, also when Wharf restarted meanwhile', async () => {
    const database = await createTestDatabase();
    // The second Wharf finds the admin the first one made: the same password for both.
    const env = { DATABASE_URL: database.url, WHARF_WEBHOOK_ALLOW_PRIVATE: 'true', WHARF_ADMIN_PASSWORD: `admin-${randomBytes(8).toString('hex')}` };
    const receiver = await WebhookReceiver.start();
    const port = receiver.port;
    await receiver.stop(); // down: connections refused
    let server = await startWharf(env);
    try {
      const key = freshKey('outage');
      await createLocalRepository(server, key);
      const name = await createWebhook(server, { url: receiver.url, events: ['push'], repositories: [key], secret: secret() });
      const digests: string[] = [];
      for (let i = 0; i < 3; i += 1) digests.push((await push(server, key, 'app', `v${i}`)).digest);
      await eventually(async () => {
        const log = await deliveries(server, name);
        expect(log).toHaveLength(3);
        for (const delivery of log) expect(delivery).toMatchObject({ status: 'pending', attempts: expect.any(Number), lastError: expect.stringContaining('ECONNREFUSED') });
      }, DELIVERY_WAIT_MS);

      // Wharf stops and a new one starts on the same database; then the receiver comes back.
      await server.close();
      server = await startWharf(env);
      await receiver.listen(port);
      await eventually(
        async () =>
          expect(
            receiver
              .events()
              .map((e) => e.target.digest)
              .sort(),
          ).toEqual([...digests].sort()),
        60_000,
      );
      await eventually(async () => expect((await deliveries(server, name)).every((d) => d.status === 'delivered')).toBe(true), DELIVERY_WAIT_MS);
    } finally {
      await receiver.stop();
      await server.close();
      await database.drop();
    }
  }, 120_000);
});

describe('without WHARF_WEBHOOK_ALLOW_PRIVATE', () => {
  let server: WharfTestServer;

  beforeAll(async () => {
    server = await startWharf();
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  it.each([
    ['http://127.0.0.1:9000/hook', 'loopback'],
    ['http://10.0.0.7/hook', 'private'],
    ['http://169.254.169.254/latest/meta-data/', 'link-local'],
    ['http://[::1]:9000/', 'loopback'],
    ['http://localhost:9000/', 'loopback'],
    ['http://2130706433/', 'loopback'],
  ])('refuses %s (%s) when it is saved', async (url, kind) => {
    const res = await putWebhook(server, freshKey('ssrf'), { url, events: ['push'], secret: secret() });
    expectProblem(res, 400, 'url', kind, 'WHARF_WEBHOOK_ALLOW_PRIVATE=true');
  });

  it('refuses at delivery a host name that resolves to a private address: nothing reaches the receiver', async () => {
    // This machine's own name is no IP address, yet resolves to loopback here (/etc/hosts).
    const name = hostname();
    const resolved = await lookup(name);
    expect(resolved.address).toMatch(/^(127\.|::1$)/);
    const receiver = await WebhookReceiver.start();
    try {
      const key = freshKey('rebind');
      await createLocalRepository(server, key);
      const webhook = await createWebhook(server, { url: `http://${name}:${receiver.port}/hooks/wharf`, events: ['push'], repositories: [key], secret: secret() });
      await push(server, key, 'app', 'v1');
      await eventually(async () => {
        const [delivery] = await deliveries(server, webhook);
        expect(delivery).toMatchObject({ status: 'pending', attempts: 1, lastStatus: null });
        expect(delivery.lastError).toContain(`refused: ${name} resolves to ${resolved.address}`);
        expect(delivery.lastError).toContain('WHARF_WEBHOOK_ALLOW_PRIVATE=true');
      }, DELIVERY_WAIT_MS);
      expect(receiver.received).toEqual([]);
    } finally {
      await receiver.stop();
    }
  });
});
