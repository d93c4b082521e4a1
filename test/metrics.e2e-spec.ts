import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'undici';
import { BuiltImage, buildImage, imageConfig, imageManifest, randomLayer, writeImageSource } from './helpers/oci-image-builder';
import { V2_FORM, eventually, expectStatus, pushImage, request, startUpload } from './helpers/registry-http';
import { Skopeo } from './helpers/registry-clients';
import { createRemoteRepository, isCached } from './helpers/remote-repository';
import { TamperProxy, startTamperProxy } from './helpers/tamper-proxy';
import { UpstreamRegistry, seedImage, startUpstreamRegistry } from './helpers/upstream-registry';
import { SpawnedWharf, spawnWharf } from './helpers/wharf-cluster';
import { WharfTestServer, createLocalRepository, startWharf } from './helpers/wharf-server';

jest.setTimeout(180_000);

// GET /metrics against what real clients did: skopeo pushing and pulling through a counting
// proxy (so the request counters are checked against every request the client sent), a remote
// repository on a real Distribution registry, garbage collection and retention, and the
// built server with two worker processes, whose answer must cover both.

const TOKEN = 'metrics-test-token-0123456789';
const BEARER = { authorization: `Bearer ${TOKEN}` };

/** One scrape: each series (`name{a="x",b="y"}`, labels sorted) and its value. */
type Scrape = Map<string, number>;

function seriesKey(name: string, labels: Record<string, string | number> = {}): string {
  const parts = Object.entries(labels)
    .map(([label, value]) => `${label}="${value}"`)
    .sort();
  return parts.length ? `${name}{${parts.join(',')}}` : name;
}

function parse(text: string): Scrape {
  const scrape: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, label, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[label] = value;
    scrape.set(seriesKey(match[1], labels), Number(match[3]));
  }
  return scrape;
}

function value(scrape: Scrape, name: string, labels: Record<string, string | number> = {}): number {
  return scrape.get(seriesKey(name, labels)) ?? 0;
}

/** How much a series grew between two scrapes. */
function grew(before: Scrape, after: Scrape, name: string, labels: Record<string, string | number> = {}): number {
  return value(after, name, labels) - value(before, name, labels);
}

/** The class Wharf gives a request path (README: Metrics), worked out here independently from the path alone. */
function classOf(pathname: string): string {
  if (pathname === '/v2/token') return 'token';
  if (/\/manifests\/[^/]+$/.test(pathname)) return 'manifest';
  if (/\/blobs\/uploads\/?([^/]+)?$/.test(pathname)) return 'upload';
  if (/\/blobs\/[^/]+$/.test(pathname)) return 'blob';
  if (pathname === '/v2' || pathname.startsWith('/v2/')) return 'registry';
  return pathname.startsWith('/api/') ? 'api' : 'other';
}

const REGISTRY_CLASSES = ['manifest', 'blob', 'upload', 'registry', 'token'];

describe('GET /metrics', () => {
  let server: WharfTestServer;
  /** Between skopeo and Wharf, recording every request and the status it got. */
  let proxy: TamperProxy;
  let upstream: UpstreamRegistry;
  let skopeo: Skopeo;
  let work: string;

  beforeAll(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-metrics-'));
    // The proxy is Wharf's public URL, so Location headers and the token realm lead clients through it too.
    proxy = await startTamperProxy('http://127.0.0.1:9');
    server = await startWharf({ WHARF_METRICS_TOKEN: TOKEN, WHARF_PUBLIC_URL: proxy.url, WHARF_GC_GRACE_SECONDS: '0', WHARF_GC_SCHEDULE: 'off' });
    proxy.target = server.baseUrl;
    await createLocalRepository(server, 'metrics-local');
    upstream = await startUpstreamRegistry();
    skopeo = await Skopeo.create({ creds: server.admin });
  });

  afterAll(async () => {
    await skopeo?.close();
    await server?.close();
    await proxy?.stop();
    await upstream?.stop();
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  async function scrape(): Promise<Scrape> {
    const res = await fetch(`${server.baseUrl}/metrics`, { headers: BEARER });
    expect(res.status).toBe(200);
    return parse(await res.text());
  }

  it('needs WHARF_METRICS_TOKEN as a bearer token when it is set: 401 with a challenge otherwise', async () => {
    const refusals: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer wrong-token-0123456789' },
      { authorization: server.adminAuthorization },
      { authorization: TOKEN },
    ];
    for (const headers of refusals) {
      const refused = await fetch(`${server.baseUrl}/metrics`, { headers });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="wharf-metrics"');
      expect(await refused.text()).not.toContain('wharf_');
    }
    const res = await fetch(`${server.baseUrl}/metrics`, { headers: BEARER });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    expect(text).toContain('# TYPE wharf_http_requests_total counter');
    expect(text).toContain('# TYPE wharf_http_request_duration_seconds histogram');
    // Node's process metrics come along.
    const scraped = parse(text);
    expect(value(scraped, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(value(scraped, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(value(scraped, 'wharf_db_pool_connections', { state: 'max' })).toBe(10);
  });

  it('counts what skopeo pushed and pulled: every request by class, method and status, and the bytes of each blob per repository', async () => {
    const image = buildImage({ layerCount: 2, layerSize: 96 * 1024 });
    const blobs = [image.config, ...image.layers];
    const sizes = new Map(blobs.map((blob) => [blob.digest, blob.bytes.length]));
    const imageBytes = blobs.reduce((sum, blob) => sum + blob.bytes.length, 0);
    const source = await writeImageSource(path.join(work, 'source'), image, 'v1');

    const before = await scrape();
    proxy.clearRequests();
    await skopeo.copy(source, `docker://${proxy.host}/metrics-local/app:v1`);
    const pushes = proxy.requests.length;
    expect(await skopeo.copy(`docker://${proxy.host}/metrics-local/app:v1`, `oci:${path.join(work, 'pulled')}:v1`)).toBe(image.manifest.digest);
    const after = await scrape();

    // Every request skopeo sent reached Wharf through the proxy: the counters grew by exactly those.
    const sent = new Map<string, number>();
    for (const req of proxy.requests) {
      const key = seriesKey('wharf_http_requests_total', { class: classOf(req.path), method: req.method, status: String(req.status) });
      sent.set(key, (sent.get(key) ?? 0) + 1);
    }
    const counted = new Map<string, number>();
    for (const [key, now] of after) {
      const cls = /^wharf_http_requests_total\{class="(\w+)"/.exec(key)?.[1];
      if (cls && REGISTRY_CLASSES.includes(cls) && now !== (before.get(key) ?? 0)) counted.set(key, now - (before.get(key) ?? 0));
    }
    expect(counted).toEqual(sent);
    // Sanity: the push and the pull happened as a client does them.
    expect(sent.get(seriesKey('wharf_http_requests_total', { class: 'manifest', method: 'PUT', status: '201' }))).toBe(1);
    expect(sent.get(seriesKey('wharf_http_requests_total', { class: 'manifest', method: 'GET', status: '200' }))).toBeGreaterThanOrEqual(1);
    expect(sent.get(seriesKey('wharf_http_requests_total', { class: 'blob', method: 'GET', status: '200' }))).toBe(blobs.length);
    expect(sent.get(seriesKey('wharf_http_requests_total', { class: 'token', method: 'GET', status: '200' }))).toBeGreaterThanOrEqual(1);
    // The histogram counts the same requests.
    for (const [cls, method] of [
      ['manifest', 'GET'],
      ['manifest', 'PUT'],
      ['blob', 'GET'],
    ]) {
      const answered = [...sent].filter(([key]) => key.startsWith(`wharf_http_requests_total{class="${cls}",method="${method}",`)).reduce((sum, [, n]) => sum + n, 0);
      expect(grew(before, after, 'wharf_http_request_duration_seconds_count', { class: cls, method })).toBe(answered);
      expect(grew(before, after, 'wharf_http_request_duration_seconds_bucket', { class: cls, method, le: '+Inf' })).toBe(answered);
    }

    // Bytes: each blob's size once pushed (committed uploads) and once pulled (bodies sent).
    const committed = proxy.requests
      .slice(0, pushes)
      .filter((req) => classOf(req.path) === 'upload' && req.status === 201)
      .map((req) => new URL(req.url, 'http://x').searchParams.get('digest')!);
    expect(new Set(committed)).toEqual(new Set(sizes.keys()));
    expect(grew(before, after, 'wharf_blob_bytes_pushed_total', { repository: 'metrics-local' })).toBe(imageBytes);
    expect(grew(before, after, 'wharf_blob_bytes_pulled_total', { repository: 'metrics-local' })).toBe(imageBytes);
  });

  it('counts a range as the bytes sent, not the blob', async () => {
    const image = buildImage({ layerCount: 1, layerSize: 64 * 1024 });
    await pushImage(server, V2_FORM.base('metrics-local', 'ranged'), image, 'v1');
    const before = await scrape();
    const ranged = await request(server, `${V2_FORM.base('metrics-local', 'ranged')}blobs/${image.layers[0].digest}`, { headers: { range: 'bytes=100-1123' } });
    expectStatus(ranged, 206);
    expect(ranged.body).toHaveLength(1024);
    // A HEAD sends no body.
    expectStatus(await request(server, `${V2_FORM.base('metrics-local', 'ranged')}blobs/${image.layers[0].digest}`, { method: 'HEAD' }), 200);
    const after = await scrape();
    expect(grew(before, after, 'wharf_blob_bytes_pulled_total', { repository: 'metrics-local' })).toBe(1024);
    expect(grew(before, after, 'wharf_http_requests_total', { class: 'blob', method: 'GET', status: '206' })).toBe(1);
    expect(grew(before, after, 'wharf_http_requests_total', { class: 'blob', method: 'HEAD', status: '200' })).toBe(1);
  });

  it('counts a remote cache: miss, hit, revalidated, stale, upstream errors and the circuit breaker', async () => {
    const app = buildImage({ layerCount: 1, layerSize: 8 * 1024 });
    await seedImage(upstream, 'library/cached', '1', app);
    // Every tag revalidated on each pull (no freshness period), short timeouts for the outage.
    await createRemoteRepository(server, 'metrics-remote', { url: upstream.url, metadataRetrievalCachePeriod: 0, connectTimeoutMillis: 1000, socketTimeoutMillis: 2000 });
    const base = V2_FORM.base('metrics-remote', 'library/cached');
    const accept = { accept: app.manifest.mediaType };
    const labels = (kind: string, result: string) => ({ repository: 'metrics-remote', kind, result });
    const cache = 'wharf_remote_cache_requests_total';

    let before = await scrape();
    expectStatus(await request(server, `${base}manifests/1`, { headers: accept }), 200); // not cached: miss
    expectStatus(await request(server, `${base}manifests/${app.manifest.digest}`, { headers: accept }), 200); // by digest: hit
    expectStatus(await request(server, `${base}manifests/1`, { headers: accept }), 200); // the tag confirmed upstream: revalidated
    expectStatus(await request(server, `${base}blobs/${app.config.digest}`), 200); // miss: fetched and cached
    // The client has every byte once they are verified; the cache entry is committed just after.
    await eventually(async () => expect(await isCached(server, 'metrics-remote', app.config.digest)).toBe(true));
    expectStatus(await request(server, `${base}blobs/${app.config.digest}`), 200); // hit
    let after = await scrape();
    expect({
      manifestMiss: grew(before, after, cache, labels('manifest', 'miss')),
      manifestHit: grew(before, after, cache, labels('manifest', 'hit')),
      revalidated: grew(before, after, cache, labels('manifest', 'revalidated')),
      stale: grew(before, after, cache, labels('manifest', 'stale')),
      blobMiss: grew(before, after, cache, labels('blob', 'miss')),
      blobHit: grew(before, after, cache, labels('blob', 'hit')),
      errors: grew(before, after, 'wharf_remote_upstream_errors_total', { repository: 'metrics-remote' }),
    }).toEqual({ manifestMiss: 1, manifestHit: 1, revalidated: 1, stale: 0, blobMiss: 1, blobHit: 1, errors: 0 });
    expect(value(after, 'wharf_remote_circuit_open', { repository: 'metrics-remote' })).toBe(0);
    // Bytes sent from a remote are counted under the remote's key.
    expect(grew(before, after, 'wharf_blob_bytes_pulled_total', { repository: 'metrics-remote' })).toBe(2 * app.config.bytes.length);

    // The upstream goes away: the cached tag is served stale; the breaker opens after five failed requests.
    await upstream.down();
    try {
      before = after;
      expectStatus(await request(server, `${base}manifests/1`, { headers: accept }), 200); // stale, 1 failure
      for (let i = 0; i < 5; i++) expectStatus(await request(server, `${base}manifests/2`, { headers: accept }), 503); // 4 failures, then failing fast
      after = await scrape();
      expect(grew(before, after, cache, labels('manifest', 'stale'))).toBe(1);
      expect(grew(before, after, cache, labels('manifest', 'miss'))).toBe(5);
      expect(grew(before, after, 'wharf_remote_upstream_errors_total', { repository: 'metrics-remote' })).toBe(5);
      expect(value(after, 'wharf_remote_circuit_open', { repository: 'metrics-remote' })).toBe(1);
    } finally {
      await upstream.up();
    }
  });

  it('counts garbage collection and retention, and the upload sessions open', async () => {
    await createLocalRepository(server, 'metrics-kept', { retention: { rules: [{ keepLatest: 1 }] } });
    const kept = V2_FORM.base('metrics-kept', 'app');
    const images = [0, 1].map(() => imageWith());
    // Pushed in order: the older tag goes to retention, with its manifest; its blobs to GC.
    await pushImage(server, kept, images[0], 'old');
    await pushImage(server, kept, images[1], 'new');

    const before = await scrape();
    const run = await request(server, '/api/system/gc', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expectStatus(run, 200);
    expect(run.json).toMatchObject({ status: 'finished', result: { retention: { tags: 1, manifests: 1 } } });
    const after = await scrape();
    expect(grew(before, after, 'wharf_gc_runs_total', { status: 'finished' })).toBe(1);
    expect(run.json.result.blobs.bytes).toBeGreaterThan(0);
    expect(grew(before, after, 'wharf_gc_freed_bytes_total')).toBe(run.json.result.blobs.bytes);
    expect(grew(before, after, 'wharf_gc_removed_total', { kind: 'blob' })).toBe(run.json.result.blobs.count);
    expect(grew(before, after, 'wharf_gc_removed_total', { kind: 'blob_link' })).toBe(run.json.result.blobLinks.count);
    expect(grew(before, after, 'wharf_retention_removed_total', { kind: 'tag' })).toBe(1);
    expect(grew(before, after, 'wharf_retention_removed_total', { kind: 'manifest' })).toBe(1);
    const ended = value(after, 'wharf_gc_last_run_timestamp_seconds', { status: 'finished' });
    expect(ended * 1000).toBeGreaterThan(Date.parse(run.json.startedAt));
    expect(ended * 1000).toBeLessThanOrEqual(Date.now());

    // A dry run changes nothing, and counts nothing.
    expectStatus(await request(server, '/api/system/gc', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"dryRun":true}' }), 200);
    expect(value(await scrape(), 'wharf_gc_runs_total', { status: 'finished' })).toBe(value(after, 'wharf_gc_runs_total', { status: 'finished' }));

    // Upload sessions are read from the database when scraped.
    const open = value(after, 'wharf_upload_sessions_open');
    const location = await startUpload(server, V2_FORM.base('metrics-local', 'uploading'));
    expect(value(await scrape(), 'wharf_upload_sessions_open')).toBe(open + 1);
    expectStatus(await request(server, location, { method: 'DELETE' }), 204);
    expect(value(await scrape(), 'wharf_upload_sessions_open')).toBe(open);
  });

  it('counts cache invalidations by topic', async () => {
    const before = await scrape();
    await createLocalRepository(server, 'metrics-invalidating');
    const after = await scrape();
    expect(grew(before, after, 'wharf_cache_invalidations_total', { topic: 'repositories' })).toBeGreaterThanOrEqual(1);
  });
});

/** An image with a layer of its own. */
function imageWith(): BuiltImage {
  const layers = [randomLayer(8 * 1024)];
  const config = imageConfig({ layers });
  return { manifest: imageManifest({ config, layers }), config, layers, platform: { architecture: 'amd64', os: 'linux' } };
}

// --- worker processes -------------------------------------------------------------------------

/** One keep-alive connection to a spawned Wharf, and the worker process that serves it (from the access log). */
class Connection {
  private static counter = 0;
  private readonly client: Client;
  pid = 0;

  constructor(private readonly wharf: SpawnedWharf) {
    this.client = new Client(wharf.baseUrl, { pipelining: 1 });
  }

  /** A registry request, its worker read from its access-log line (a keep-alive connection keeps its worker). */
  async get(pathname: string): Promise<number> {
    const reqId = `metrics-test-${process.pid}-${++Connection.counter}`;
    const res = await this.client.request({ method: 'GET', path: pathname, headers: { authorization: this.wharf.adminAuthorization, 'x-request-id': reqId } });
    await res.body.dump();
    const logged = await this.wharf.waitForLog((line) => line.msg === 'request' && line.reqId === reqId, 10_000);
    if (this.pid !== 0) expect(logged.pid).toBe(this.pid);
    this.pid = logged.pid;
    return res.statusCode;
  }

  /** /metrics on this connection's worker (it writes no access-log line). */
  async metrics(headers: Record<string, string> = BEARER): Promise<{ status: number; text: string }> {
    const res = await this.client.request({ method: 'GET', path: '/metrics', headers });
    return { status: res.statusCode, text: await res.body.text() };
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

describe('GET /metrics with two worker processes (the built server)', () => {
  let wharf: SpawnedWharf;
  const opened: Connection[] = [];

  beforeAll(async () => {
    wharf = await spawnWharf({ WHARF_WORKERS: '2', WHARF_METRICS_TOKEN: TOKEN });
    await wharf.waitForLog((line) => line.msg.includes('with 2 worker processes'));
  });

  afterAll(async () => {
    await Promise.all(opened.map((c) => c.close().catch(() => undefined)));
    await wharf?.stop();
  });

  it('answers the figures of both workers added up, whichever worker Prometheus reaches', async () => {
    // Connections until two are served by different workers (Node's cluster deals them in turn).
    const byPid = new Map<number, Connection>();
    let made = 0;
    for (let i = 0; i < 12 && byPid.size < 2; i++) {
      const connection = new Connection(wharf);
      opened.push(connection);
      expect(await connection.get('/v2/')).toBe(200);
      made += 1;
      if (!byPid.has(connection.pid)) byPid.set(connection.pid, connection);
    }
    expect(byPid.size).toBe(2);
    const [a, b] = [...byPid.values()];
    expect(new Set(await wharf.workerPids())).toEqual(new Set([a.pid, b.pid]));
    for (let i = 0; i < 3; i++) expect(await a.get('/v2/')).toBe(200);
    for (let i = 0; i < 5; i++) expect(await b.get('/v2/')).toBe(200);
    made += 8;

    for (const connection of [a, b]) {
      expect((await connection.metrics({})).status).toBe(401);
      const res = await connection.metrics();
      expect(res.status).toBe(200);
      const scraped = parse(res.text);
      // Every GET /v2/ of the test, on either worker; neither worker alone served them all.
      expect(value(scraped, 'wharf_http_requests_total', { class: 'registry', method: 'GET', status: '200' })).toBe(made);
      expect(value(scraped, 'wharf_http_request_duration_seconds_count', { class: 'registry', method: 'GET' })).toBe(made);
      // Each worker's pool of 10 connections; the process metrics of both.
      expect(value(scraped, 'wharf_db_pool_connections', { state: 'max' })).toBe(20);
      expect(value(scraped, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    }
  });
});
