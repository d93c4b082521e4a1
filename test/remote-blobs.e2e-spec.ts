// Blobs through a remote repository whose upstream is a real CNCF Distribution registry behind
// a tamper proxy: a miss streams to the client and to disk at once, only verified bytes are
// cached, corrupted or cut upstream bodies reach the client as errors and leave nothing behind,
// concurrent requests for one uncached blob share one upstream download, and cached blobs are
// served with the upstream gone.
import { createHash } from 'node:crypto';
import { BuiltImage, buildImage } from './helpers/oci-image-builder';
import { HttpResult, eventually, expectRegistryError, expectStatus, request } from './helpers/registry-http';
import { RemoteFixture, RemoteRepositoryFields, blobFileExists, blobRequests, isCached, purgeCache, sleep, startRemoteFixture } from './helpers/remote-repository';
import { TamperProxy } from './helpers/tamper-proxy';
import { UpstreamRegistry, seedImage } from './helpers/upstream-registry';
import { HOSTS_PER_SERVER, itOnOneHost } from './helpers/scale-out-deployment';
import { WharfTestServer, storedFiles } from './helpers/wharf-server';

jest.setTimeout(240_000);

const MiB = 1024 * 1024;

/** What a client saw of one blob download: streamed and hashed, never held whole. */
interface Download {
  status?: number;
  headers?: Headers;
  length: number;
  digest: string;
  /** Set when the request or its body failed (connection cut, body shorter than announced). */
  error?: string;
  /** From the request to the end (or failure) of the body. */
  elapsedMs: number;
}

/** A client that hears nothing for this long has been left hanging: a failure of its own. */
const CLIENT_TIMEOUT_MS = 30_000;

describe('remote repositories: blobs', () => {
  let fixture: RemoteFixture;
  let server: WharfTestServer;
  let upstream: UpstreamRegistry;
  let proxy: TamperProxy;

  beforeAll(async () => {
    fixture = await startRemoteFixture({ connectTimeoutMillis: 2000, socketTimeoutMillis: 20_000 });
    ({ server, upstream, proxy } = fixture);
  });

  afterAll(() => fixture?.close());

  beforeEach(() => fixture.reset());

  const imageName = (label: string): string => fixture.imageName(label);
  const remote = (fields: RemoteRepositoryFields = {}): Promise<string> => fixture.remote(fields);

  /** A remote and an image seeded upstream under `name:1`. */
  async function seeded(label: string, image: BuiltImage): Promise<{ key: string; name: string }> {
    const key = await remote();
    const name = imageName(label);
    await seedImage(upstream, name, '1', image);
    proxy.clearRequests();
    return { key, name };
  }

  function blobUrl(key: string, name: string, digest: string): string {
    return `${server.baseUrl}/v2/${key}/${name}/blobs/${digest}`;
  }

  function blob(key: string, name: string, digest: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<HttpResult> {
    return request(server, `/v2/${key}/${name}/blobs/${digest}`, { method: options.method ?? 'GET', headers: options.headers });
  }

  /** A GET whose body is hashed as it streams; failures are recorded, not thrown. */
  async function download(url: string): Promise<Download> {
    const started = Date.now();
    const hash = createHash('sha256');
    let length = 0;
    let res: Response;
    try {
      res = await fetch(url, { headers: { authorization: server.adminAuthorization }, signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS) });
    } catch (error) {
      return { length, digest: '', error: describeError(error), elapsedMs: Date.now() - started };
    }
    const result: Download = { status: res.status, headers: res.headers, length: 0, digest: '', elapsedMs: 0 };
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        hash.update(chunk);
        length += chunk.length;
      }
    } catch (error) {
      result.error = describeError(error);
    }
    return { ...result, length, digest: `sha256:${hash.digest('hex')}`, elapsedMs: Date.now() - started };
  }

  function describeError(error: unknown): string {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return `${String(error)}${cause ? ` (${cause.code ?? cause.message})` : ''}`;
  }

  /** Asserts the client could not take the download for a good blob: an error status, or a body that failed or came short. */
  function expectFailedDownload(got: Download, expected: { digest: string; bytes: Buffer }): void {
    const context = JSON.stringify({ status: got.status, length: got.length, error: got.error, elapsedMs: got.elapsedMs });
    // The failure must reach the client promptly, not as our own timeout on a stalled body.
    expect({ stalled: got.elapsedMs >= CLIENT_TIMEOUT_MS - 1000, context }).toEqual({ stalled: false, context });
    const failedVisibly = got.status === undefined || got.status >= 500 || got.error !== undefined || got.length < expected.bytes.length;
    expect({ failedVisibly, context }).toEqual({ failedVisibly: true, context });
    // Never a complete-looking body with wrong bytes.
    if (got.status === 200 && got.error === undefined) expect(got.length).toBeLessThan(expected.bytes.length);
    expect(got.digest).not.toBe(expected.digest);
  }

  async function uploadFiles(): Promise<string[]> {
    return storedFiles(server.storage, '/uploads');
  }

  /** Temp upload files that appeared since `before`: a failed download must leave none behind. */
  async function uploadsLeft(before: string[]): Promise<string[]> {
    return (await uploadFiles()).filter((file) => !before.includes(file));
  }

  it('streams a miss to the client and the disk; later GETs, HEADs and ranges come from the cache, also with the upstream down', async () => {
    const image = buildImage({ layerCount: 1, layerSize: 256 * 1024 });
    const layer = image.layers[0];
    const { key, name } = await seeded('cached', image);

    const first = await blob(key, name, layer.digest);
    expectStatus(first, 200);
    expect(first.body.equals(layer.bytes)).toBe(true);
    expect(first.headers.get('docker-content-digest')).toBe(layer.digest);
    expect(first.headers.get('content-length')).toBe(String(layer.bytes.length));
    expect(blobRequests(proxy, 'GET', name, layer.digest)).toBe(1);
    // The client has its verified bytes before the cache commit (fsync, rename) completes.
    await eventually(async () => expect(await isCached(server, key, layer.digest)).toBe(true));

    await upstream.down();
    proxy.clearRequests();
    const again = await blob(key, name, layer.digest);
    expectStatus(again, 200);
    expect(again.body.equals(layer.bytes)).toBe(true);
    const head = await blob(key, name, layer.digest, { method: 'HEAD' });
    expectStatus(head, 200);
    expect(head.headers.get('content-length')).toBe(String(layer.bytes.length));
    expect(head.headers.get('docker-content-digest')).toBe(layer.digest);
    const range = await blob(key, name, layer.digest, { headers: { range: 'bytes=1000-1999' } });
    expectStatus(range, 206);
    expect(range.headers.get('content-range')).toBe(`bytes 1000-1999/${layer.bytes.length}`);
    expect(range.body.equals(layer.bytes.subarray(1000, 2000))).toBe(true);
    expect(proxy.requests).toHaveLength(0);

    // Uncached blobs of the same image cannot be had meanwhile: 503, not a 404.
    expectRegistryError(await blob(key, name, image.config.digest), 503, 'UNAVAILABLE');
  });

  it('answers HEAD on an uncached blob with the upstream size, without downloading it', async () => {
    const image = buildImage({ layerCount: 1, layerSize: 64 * 1024 });
    const layer = image.layers[0];
    const { key, name } = await seeded('head', image);

    const head = await blob(key, name, layer.digest, { method: 'HEAD' });
    expectStatus(head, 200);
    expect(head.headers.get('content-length')).toBe(String(layer.bytes.length));
    expect(head.headers.get('docker-content-digest')).toBe(layer.digest);
    expect(blobRequests(proxy, 'HEAD', name, layer.digest)).toBe(1);
    expect(blobRequests(proxy, 'GET', name)).toBe(0);
    expect(await blobFileExists(server, layer.digest)).toBe(false);
  });

  it('serves a range of an uncached blob after downloading the whole blob once', async () => {
    const image = buildImage({ layerCount: 1, layerSize: 2 * MiB });
    const layer = image.layers[0];
    const { key, name } = await seeded('range', image);

    const range = await blob(key, name, layer.digest, { headers: { range: 'bytes=100-199' } });
    expectStatus(range, 206);
    expect(range.body.equals(layer.bytes.subarray(100, 200))).toBe(true);
    expect(blobRequests(proxy, 'GET', name, layer.digest)).toBe(1);
    // The upstream was asked for the whole blob, not a range of it.
    expect(proxy.matching('GET', `/blobs/${layer.digest}`)[0].headers.range).toBeUndefined();

    const whole = await blob(key, name, layer.digest);
    expectStatus(whole, 200);
    expect(whole.body.equals(layer.bytes)).toBe(true);
    expect(blobRequests(proxy, 'GET', name, layer.digest)).toBe(1);
  });

  it('answers 404 BLOB_UNKNOWN for a blob the upstream does not have, 503 UNAVAILABLE when the upstream is down', async () => {
    const image = buildImage({ layerCount: 1 });
    const { key, name } = await seeded('unknown', image);
    const absent = `sha256:${'0'.repeat(64)}`;
    expectRegistryError(await blob(key, name, absent), 404, 'BLOB_UNKNOWN');
    expectStatus(await blob(key, name, absent, { method: 'HEAD' }), 404);

    await upstream.down();
    expectRegistryError(await blob(key, name, image.layers[0].digest), 503, 'UNAVAILABLE');
    expect(await blobFileExists(server, image.layers[0].digest)).toBe(false);
  });

  it.each([
    ['a single-chunk blob', 4 * 1024],
    ['a multi-chunk blob', 3 * MiB],
  ])('corrupted upstream bytes of %s: the client gets an error, nothing is cached, the next GET fetches again', async (_label, size) => {
    const image = buildImage({ layerCount: 1, layerSize: size });
    const layer = image.layers[0];
    const { key, name } = await seeded('corrupt', image);
    const uploadsBefore = await uploadFiles();

    const rule = proxy.corrupt(`/blobs/${layer.digest}`, { method: 'GET' });
    expectFailedDownload(await download(blobUrl(key, name, layer.digest)), layer);
    expect(rule.hits).toBe(1);
    await eventually(async () => expect(await uploadsLeft(uploadsBefore)).toEqual([]));
    expect(await blobFileExists(server, layer.digest)).toBe(false);

    rule.remove();
    const good = await download(blobUrl(key, name, layer.digest));
    expect(good).toMatchObject({ status: 200, length: layer.bytes.length, digest: layer.digest });
    expect(good.error).toBeUndefined();
    expect(blobRequests(proxy, 'GET', name, layer.digest)).toBe(2);
    await eventually(async () => expect(await isCached(server, key, layer.digest)).toBe(true));
  });

  it.each([
    ['mid-body', MiB],
    // The connection dies before Wharf has hooked the body up to the client and the disk.
    ['right after the headers', 10],
  ])('an upstream body cut %s: the client gets an error promptly, nothing is cached, the next GET works', async (_label, bytes) => {
    const image = buildImage({ layerCount: 1, layerSize: 2 * MiB });
    const layer = image.layers[0];
    const { key, name } = await seeded('cut', image);
    const uploadsBefore = await uploadFiles();

    const rule = proxy.truncate(`/blobs/${layer.digest}`, bytes, { method: 'GET', times: 1 });
    expectFailedDownload(await download(blobUrl(key, name, layer.digest)), layer);
    expect(rule.hits).toBe(1);
    await eventually(async () => expect(await uploadsLeft(uploadsBefore)).toEqual([]));
    expect(await blobFileExists(server, layer.digest)).toBe(false);

    const good = await download(blobUrl(key, name, layer.digest));
    expect(good).toMatchObject({ status: 200, length: layer.bytes.length, digest: layer.digest });
    expect(good.error).toBeUndefined();
    expect(blobRequests(proxy, 'GET', name, layer.digest)).toBe(2);
  });

  it('ten concurrent GETs of one uncached 64 MiB layer: exactly one upstream GET, ten identical correct bodies', async () => {
    const image = buildImage({ layerCount: 1, layerSize: 64 * MiB });
    const layer = image.layers[0];
    // Random data does not compress: the gzip'd layer is as big as its content.
    expect(layer.bytes.length).toBeGreaterThan(64 * MiB);
    const { key, name } = await seeded('big', image);

    const downloads = await Promise.all(Array.from({ length: 10 }, () => download(blobUrl(key, name, layer.digest))));
    for (const got of downloads) {
      expect({ status: got.status, length: got.length, digest: got.digest, error: got.error }).toEqual({
        status: 200,
        length: layer.bytes.length,
        digest: layer.digest,
        error: undefined,
      });
    }
    expect(blobRequests(proxy, 'GET', name, layer.digest)).toBe(1);
    // Clients get the last bytes once the digest matched, before the durable commit (fsync,
    // rename, database row) finishes: the file shows up a moment later.
    await eventually(async () => expect(await isCached(server, key, layer.digest)).toBe(true));

    const later = await download(blobUrl(key, name, layer.digest));
    expect(later).toMatchObject({ status: 200, digest: layer.digest });
    expect(blobRequests(proxy, 'GET', name, layer.digest)).toBe(1);
  });

  it('a cache purge right after a pull forgets the pulled blob too (its cache write is awaited)', async () => {
    const image = buildImage({ layerCount: 1, layerSize: 32 * MiB });
    const layer = image.layers[0];
    const { key, name } = await seeded('purged', image);
    // The client has every byte once the digest matched; the fsync, rename and database row
    // of the cached copy follow. The purge must not run before them, or they undo it.
    const first = await download(blobUrl(key, name, layer.digest));
    expect(first).toMatchObject({ status: 200, digest: layer.digest });
    expectStatus(await purgeCache(server, key), 200);

    const again = await download(blobUrl(key, name, layer.digest));
    expect(again).toMatchObject({ status: 200, digest: layer.digest });
    expect(blobRequests(proxy, 'GET', name, layer.digest)).toBe(2);
  });

  // On another host a client waits for the blob to be cached: it cannot read a download that
  // runs elsewhere (in S3 an upload is readable once committed), and here that one never ends.
  itOnOneHost('a client arriving while a download runs streams from it, before the download completes', async () => {
    const image = buildImage({ layerCount: 1, layerSize: 64 * MiB });
    const layer = image.layers[0];
    const { key, name } = await seeded('follow', image);
    const url = blobUrl(key, name, layer.digest);
    const headers = { authorization: server.adminAuthorization };

    // The first client takes the headers but reads nothing yet: once the buffers between it and
    // the upstream are full, the one download stalls, far from complete.
    const first = await fetch(url, { headers });
    expect(first.status).toBe(200);
    await eventually(async () => expect(blobRequests(proxy, 'GET', name, layer.digest)).toBe(1));
    await sleep(300);

    const second = await fetch(url, { headers, signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS) });
    expect(second.status).toBe(200);
    const reader = second.body!.getReader();
    const hash = createHash('sha256');
    let received = 0;
    const deadline = Date.now() + 5000;
    while (received < MiB && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      hash.update(value);
      received += value.length;
    }
    // Bytes of a download that cannot finish yet (its first client is not reading).
    expect(received).toBeGreaterThanOrEqual(MiB);
    expect(await blobFileExists(server, layer.digest)).toBe(false);

    const firstBody = Buffer.from(await first.arrayBuffer());
    expect(`sha256:${createHash('sha256').update(firstBody).digest('hex')}`).toBe(layer.digest);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      hash.update(value);
      received += value.length;
    }
    expect(received).toBe(layer.bytes.length);
    expect(`sha256:${hash.digest('hex')}`).toBe(layer.digest);
    expect(blobRequests(proxy, 'GET', name, layer.digest)).toBe(1);
  });

  it('concurrent GETs of a blob whose one download is corrupted: every client gets an error, nothing is cached', async () => {
    const image = buildImage({ layerCount: 1, layerSize: 4 * MiB });
    const layer = image.layers[0];
    const { key, name } = await seeded('corrupt-shared', image);
    const uploadsBefore = await uploadFiles();

    // Slow the upstream answer down so the followers arrive while the one download runs.
    proxy.delay(`/blobs/${layer.digest}`, 300, { method: 'GET' });
    proxy.corrupt(`/blobs/${layer.digest}`, { method: 'GET' });
    const downloads = await Promise.all(Array.from({ length: 4 }, () => download(blobUrl(key, name, layer.digest))));
    for (const got of downloads) expectFailedDownload(got, layer);
    // Clients on another host wait for the download's lease, then try once themselves.
    expect(blobRequests(proxy, 'GET', name, layer.digest)).toBeLessThanOrEqual(HOSTS_PER_SERVER);
    await eventually(async () => expect(await uploadsLeft(uploadsBefore)).toEqual([]));
    expect(await blobFileExists(server, layer.digest)).toBe(false);
  });

  it('finishes the cache write when the client that started the download goes away', async () => {
    const image = buildImage({ layerCount: 1, layerSize: 16 * MiB });
    const layer = image.layers[0];
    const { key, name } = await seeded('abandoned', image);
    const uploadsBefore = await uploadFiles();

    const controller = new AbortController();
    const res = await fetch(blobUrl(key, name, layer.digest), { headers: { authorization: server.adminAuthorization }, signal: controller.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await reader.cancel().catch(() => undefined);

    await eventually(async () => {
      expect(await blobFileExists(server, layer.digest)).toBe(true);
      expect(await uploadsLeft(uploadsBefore)).toEqual([]);
    }, 20_000);
    await sleep(300); // the link follows the rename into place
    proxy.clearRequests();
    const later = await download(blobUrl(key, name, layer.digest));
    expect(later).toMatchObject({ status: 200, length: layer.bytes.length, digest: layer.digest });
    expect(proxy.requests).toHaveLength(0);
  });
});
