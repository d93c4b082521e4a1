import * as net from 'node:net';
import { Client } from 'undici';
import { Blob, buildImage, randomBlob, sha256Digest } from './helpers/oci-image-builder';
import { eventually } from './helpers/registry-http';
import { SpawnedWharf, spawnWharf } from './helpers/wharf-cluster';

jest.setTimeout(120_000);

// The built server with WHARF_WORKERS=2, as users run it: a primary and two worker processes
// on one port. Node's cluster hands each new connection to the next worker, so a test picks
// connections by the worker that serves them (the access log names it: its `pid`).

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One keep-alive connection to Wharf, and the worker process that serves it. */
class Connection {
  private static counter = 0;
  private readonly client: Client;
  pid = 0;

  constructor(private readonly wharf: SpawnedWharf) {
    this.client = new Client(wharf.baseUrl, { pipelining: 1 });
  }

  async request(method: string, path: string, options: { headers?: Record<string, string>; body?: Buffer } = {}): Promise<Answer> {
    const reqId = `cluster-test-${process.pid}-${++Connection.counter}`;
    const res = await this.client.request({
      method: method as 'GET',
      path,
      headers: { authorization: this.wharf.adminAuthorization, 'x-request-id': reqId, ...options.headers },
      body: options.body,
    });
    const body = Buffer.from(await res.body.arrayBuffer());
    const logged = await this.wharf.waitForLog((line) => line.msg === 'request' && line.reqId === reqId, 10_000);
    // A keep-alive connection stays with the worker that accepted it.
    if (this.pid !== 0) expect(logged.pid).toBe(this.pid);
    this.pid = logged.pid;
    return { status: res.statusCode, headers: res.headers, body };
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** Opens connections until two are served by different workers. */
async function connectionsOnTwoWorkers(wharf: SpawnedWharf, opened: Connection[]): Promise<[Connection, Connection]> {
  const byPid = new Map<number, Connection>();
  for (let i = 0; i < 12 && byPid.size < 2; i++) {
    const connection = new Connection(wharf);
    opened.push(connection);
    expect((await connection.request('GET', '/v2/')).status).toBe(200);
    if (!byPid.has(connection.pid)) byPid.set(connection.pid, connection);
  }
  expect(byPid.size).toBe(2);
  const [a, b] = [...byPid.values()];
  return [a, b];
}

/** The path and query of a Location header, absolute or not. */
function pathOf(location: string): string {
  const url = new URL(location, 'http://wharf.invalid');
  return url.pathname + url.search;
}

async function uploadBlob(connection: Connection, name: string, blob: Blob): Promise<void> {
  const res = await connection.request('POST', `/v2/${name}/blobs/uploads/?digest=${blob.digest}`, { headers: { 'content-type': 'application/octet-stream' }, body: blob.bytes });
  expect(res.status).toBe(201);
}

async function pushImage(connection: Connection, name: string, tag: string): Promise<string> {
  const image = buildImage({ layerCount: 1 });
  for (const blob of [image.config, ...image.layers]) await uploadBlob(connection, name, blob);
  const res = await connection.request('PUT', `/v2/${name}/manifests/${tag}`, { headers: { 'content-type': image.manifest.mediaType }, body: image.manifest.bytes });
  expect(res.status).toBe(201);
  return image.manifest.digest;
}

describe('Wharf with two worker processes', () => {
  let wharf: SpawnedWharf;
  const opened: Connection[] = [];

  beforeAll(async () => {
    wharf = await spawnWharf({ WHARF_WORKERS: '2' });
    await wharf.waitForLog((line) => line.msg.includes('with 2 worker processes'));
    const setup = new Connection(wharf);
    opened.push(setup);
    const created = await setup.request('PUT', '/api/repositories/team-local', {
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ rclass: 'local', packageType: 'docker' })),
    });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await Promise.all(opened.map((c) => c.close().catch(() => undefined)));
    await wharf?.stop();
  });

  it('start together on a new database and data directory: both come up without an error line', async () => {
    const workers = await wharf.workerPids();
    expect(workers).toHaveLength(2);
    const announced = wharf.logs.filter((line) => line.msg.startsWith('Wharf listening on'));
    expect(announced).toEqual([expect.objectContaining({ pid: wharf.child.pid, workers: 2, database: 'postgres' })]);
    // Migrations, the key file and the signing key raced without a failure; one of the two
    // created the first admin.
    expect(wharf.logs.filter((line) => line.level === 'error')).toEqual([]);
    expect(wharf.logs.filter((line) => line.msg.startsWith('created user "admin"'))).toHaveLength(1);
  });

  it('serve the web UI built into dist/web: / redirects to /ui/, every UI path is the app, assets are cached for good', async () => {
    const root = await fetch(`${wharf.baseUrl}/`, { redirect: 'manual' });
    expect([root.status, root.headers.get('location')]).toEqual([302, '/ui/']);
    const page = await fetch(`${wharf.baseUrl}/ui/repositories/anything`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<div id="root"></div>');
    const script = html.match(/src="(\/ui\/assets\/[^"]+\.js)"/)![1];
    const asset = await fetch(`${wharf.baseUrl}${script}`);
    expect([asset.status, asset.headers.get('content-type'), asset.headers.get('cache-control')]).toEqual([
      200,
      expect.stringMatching(/javascript/),
      expect.stringContaining('immutable'),
    ]);
    expect((await fetch(`${wharf.baseUrl}/ui/assets/missing.js`)).status).toBe(404);
  });

  it('serve connections in turn, and an upload continues on the other worker', async () => {
    const [a, b] = await connectionsOnTwoWorkers(wharf, opened);
    expect(new Set(await wharf.workerPids())).toEqual(new Set([a.pid, b.pid]));

    // Chunks through alternating workers: each appends at the offset the database holds, and
    // the digest at the end covers every byte, whichever process hashed which part.
    const blob = randomBlob(3 * 1024 * 1024 + 17);
    const started = await a.request('POST', '/v2/team-local/app/blobs/uploads/');
    expect(started.status).toBe(202);
    let location = String(started.headers.location);
    const parts = [blob.bytes.subarray(0, 1024 * 1024), blob.bytes.subarray(1024 * 1024, 2 * 1024 * 1024 + 5), blob.bytes.subarray(2 * 1024 * 1024 + 5)];
    let offset = 0;
    for (const [i, part] of parts.entries()) {
      const on = i % 2 === 0 ? b : a;
      const res = await on.request('PATCH', pathOf(location), {
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + part.length - 1}` },
        body: part,
      });
      expect(res.status).toBe(202);
      offset += part.length;
      expect(res.headers.range).toBe(`0-${offset - 1}`);
      location = String(res.headers.location);
    }
    const done = await a.request('PUT', `${pathOf(location)}${location.includes('?') ? '&' : '?'}digest=${blob.digest}`);
    expect(done.status).toBe(201);

    for (const on of [a, b]) {
      const got = await on.request('GET', `/v2/team-local/app/blobs/${blob.digest}`);
      expect(got.status).toBe(200);
      expect(sha256Digest(got.body)).toBe(blob.digest);
    }
  });

  it('a tag moved through one worker is served moved by the other', async () => {
    const [a, b] = await connectionsOnTwoWorkers(wharf, opened);
    const first = await pushImage(a, 'team-local/web', 'stable');
    const before = await b.request('GET', '/v2/team-local/web/manifests/stable', { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(before.headers['docker-content-digest']).toBe(first);

    const second = await pushImage(a, 'team-local/web', 'stable');
    // Worker b cached the tag; the change reaches it by LISTEN/NOTIFY, milliseconds later.
    await eventually(async () => {
      const after = await b.request('GET', '/v2/team-local/web/manifests/stable', { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
      expect(after.headers['docker-content-digest']).toBe(second);
    }, 3_000);
  });

  it('a worker that dies is replaced while the other serves on', async () => {
    const [victim, ...others] = await wharf.workerPids();
    process.kill(victim, 'SIGKILL');
    await wharf.waitForLog((line) => line.msg === `worker ${victim} exited (signal SIGKILL); starting another`);
    const fresh = new Connection(wharf);
    opened.push(fresh);
    expect((await fresh.request('GET', '/v2/')).status).toBe(200);
    expect(fresh.pid).toBe(others[0]);

    const replaced = await wharf.waitForLog((line) => /^worker \d+ replaced a crashed one$/.test(line.msg));
    const replacement = Number(/\d+/.exec(replaced.msg)![0]);
    const workers = await wharf.workerPids();
    expect(new Set(workers)).toEqual(new Set([others[0], replacement]));
    const [a, b] = await connectionsOnTwoWorkers(wharf, opened);
    expect(new Set([a.pid, b.pid])).toEqual(new Set(workers));
  });

  it('SIGTERM to the primary stops every worker, and the primary exits with 0', async () => {
    const workers = await wharf.workerPids();
    await Promise.all(opened.splice(0).map((c) => c.close()));
    wharf.child.kill('SIGTERM');
    expect(await wharf.exited).toBe(0);
    for (const pid of workers) expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  });
});

describe('Wharf with worker processes that cannot run', () => {
  it('refuses WHARF_WORKERS=2 on the embedded database, with the reason', async () => {
    const wharf = await spawnWharf({ WHARF_WORKERS: '2', DATABASE_URL: '' });
    try {
      expect(await wharf.exited).toBe(2);
      expect(wharf.stderr()).toContain('WHARF_WORKERS=2 needs DATABASE_URL: the embedded database serves one process');
    } finally {
      await wharf.stop();
    }
  });

  it('stops, with exit code 1, when its workers fail to start (the port is taken)', async () => {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const { port } = squatter.address() as net.AddressInfo;
    const wharf = await spawnWharf({ WHARF_WORKERS: '2', PORT: String(port) });
    try {
      expect(await wharf.exited).toBe(1);
      expect(wharf.logs.filter((line) => line.msg.includes('before Wharf was up; stopping'))).toHaveLength(1);
      expect(wharf.logs.some((line) => line.msg.startsWith('Wharf listening on'))).toBe(false);
    } finally {
      await wharf.stop();
      squatter.close();
    }
  });
});
