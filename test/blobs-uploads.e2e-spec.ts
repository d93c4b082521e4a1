// Blobs and blob uploads over HTTP, on both path forms: reads with ranges, deletes, every
// upload flavour of the distribution spec (monolithic, POST+PUT, chunked, streamed), status,
// cancel, mounts, and the failures that must leave nothing visible.
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { FileWriter, PathNotFoundError } from '@wharf/storage';
import {
  API_FORM,
  PATH_FORMS,
  PathForm,
  V2_FORM,
  absolute,
  eventually,
  expectRawRegistryError,
  expectRegistryError,
  expectStatus,
  imageNamer,
  pushBlob,
  rawExchange,
  rawRequest,
  request,
  sha256,
  sha512,
  startUpload,
  startWharfWithLocalRepositories,
  streamedRequest,
  withQuery,
} from './helpers/registry-http';
import { itOnOneHost } from './helpers/scale-out-deployment';
import { WharfTestServer, storedFiles } from './helpers/wharf-server';

const KEY = 'docker-local';
const OTHER = 'docker-other';

let server: WharfTestServer;
/** A fresh image name per test, so tests never see each other's uploads or links. */
const freshImage = imageNamer();

beforeAll(async () => {
  server = await startWharfWithLocalRepositories(KEY, OTHER);
});
afterAll(() => server?.close());

/** The path of a request made to an upload Location, relative to the server. */
function pathOf(location: string): string {
  const url = new URL(location);
  return `${url.pathname}${url.search}`;
}

async function expectBlob(base: string, digest: string, bytes: Buffer): Promise<void> {
  const res = await request(server, `${base}blobs/${digest}`);
  expectStatus(res, 200);
  expect(res.headers.get('docker-content-digest')).toBe(digest);
  expect(res.headers.get('content-length')).toBe(String(bytes.length));
  expect(res.body.equals(bytes)).toBe(true);
}

async function expectNoBlob(base: string, digest: string): Promise<void> {
  expectRegistryError(await request(server, `${base}blobs/${digest}`), 404, 'BLOB_UNKNOWN');
  const head = await request(server, `${base}blobs/${digest}`, { method: 'HEAD' });
  expect(head.status).toBe(404);
}

async function uploadStatus(location: string) {
  return request(server, location);
}

async function patchChunk(location: string, bytes: Buffer, start: number, extra: Record<string, string> = {}) {
  return request(server, location, {
    method: 'PATCH',
    headers: {
      'content-type': 'application/octet-stream',
      'content-range': `${start}-${start + bytes.length - 1}`,
      ...extra,
    },
    body: bytes,
  });
}

/** Where the blob store keeps an upload's bytes, by its Location. */
function uploadPath(location: string): string {
  return `/uploads/${pathOf(location).split('/').pop()!.split('?')[0]}`;
}

async function storedBlobFiles(): Promise<string[]> {
  return storedFiles(server.storage, '/blobs');
}

describe.each(PATH_FORMS.map((form) => [form.label, form] as const))('blobs on %s', (_label, form: PathForm) => {
  it('HEAD and GET serve Content-Length, Docker-Content-Digest and the exact bytes', async () => {
    const base = form.base(KEY, freshImage());
    const bytes = randomBytes(3000);
    const digest = await pushBlob(server, base, bytes);

    await expectBlob(base, digest, bytes);
    const head = await request(server, `${base}blobs/${digest}`, { method: 'HEAD' });
    expectStatus(head, 200);
    expect(head.headers.get('content-length')).toBe('3000');
    expect(head.headers.get('docker-content-digest')).toBe(digest);
    expect(head.body.length).toBe(0);
  });

  it('serves byte ranges with 206 and Content-Range, and 416 for an unsatisfiable range', async () => {
    const base = form.base(KEY, freshImage());
    const bytes = randomBytes(1000);
    const digest = await pushBlob(server, base, bytes);

    const cases: Array<[string, number, number]> = [
      ['bytes=0-9', 0, 9],
      ['bytes=100-199', 100, 199],
      ['bytes=990-', 990, 999],
      ['bytes=-10', 990, 999],
      ['bytes=995-5000', 995, 999],
    ];
    for (const [range, start, end] of cases) {
      const res = await request(server, `${base}blobs/${digest}`, { headers: { range } });
      expectStatus(res, 206);
      expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/1000`);
      expect(res.headers.get('content-length')).toBe(String(end - start + 1));
      expect(res.headers.get('docker-content-digest')).toBe(digest);
      expect(res.body.equals(bytes.subarray(start, end + 1))).toBe(true);
    }

    for (const range of ['bytes=1000-', 'bytes=5000-6000', 'bytes=20-10']) {
      const res = await request(server, `${base}blobs/${digest}`, { headers: { range } });
      expectRegistryError(res, 416, 'RANGE_INVALID');
      expect(res.headers.get('content-range')).toBe('bytes */1000');
    }
    // The blob itself is untouched by the refused ranges.
    await expectBlob(base, digest, bytes);
  });

  it('DELETE answers 202, then the blob is BLOB_UNKNOWN', async () => {
    const base = form.base(KEY, freshImage());
    const bytes = randomBytes(100);
    const digest = await pushBlob(server, base, bytes);

    const del = await request(server, `${base}blobs/${digest}`, { method: 'DELETE' });
    expectStatus(del, 202);
    await expectNoBlob(base, digest);
    expectRegistryError(await request(server, `${base}blobs/${digest}`, { method: 'DELETE' }), 404, 'BLOB_UNKNOWN');
  });

  it('answers BLOB_UNKNOWN for a blob never pushed', async () => {
    const base = form.base(KEY, freshImage());
    const digest = sha256(randomBytes(10));
    await expectNoBlob(base, digest);
    expectRegistryError(await request(server, `${base}blobs/${digest}`, { method: 'DELETE' }), 404, 'BLOB_UNKNOWN');
  });

  it('answers DIGEST_INVALID for a malformed digest on GET, HEAD and DELETE', async () => {
    const base = form.base(KEY, freshImage());
    const bytes = randomBytes(64);
    const stored = await pushBlob(server, base, bytes);
    for (const bad of ['sha256:abc', `sha256:${'A'.repeat(64)}`, `md5:${'a'.repeat(32)}`, 'notadigest', `sha512:${'a'.repeat(64)}`]) {
      expectRegistryError(await request(server, `${base}blobs/${bad}`), 400, 'DIGEST_INVALID');
      expectRegistryError(await request(server, `${base}blobs/${bad}`, { method: 'DELETE' }), 400, 'DIGEST_INVALID');
      expect((await request(server, `${base}blobs/${bad}`, { method: 'HEAD' })).status).toBe(400);
    }
    await expectBlob(base, stored, bytes);
  });
});

describe.each(PATH_FORMS.map((form) => [form.label, form] as const))('uploads on %s', (_label, form: PathForm) => {
  it('monolithic POST ?digest= answers 201 with Location and Docker-Content-Digest', async () => {
    const base = form.base(KEY, freshImage());
    const bytes = randomBytes(2048);
    const digest = sha256(bytes);
    const res = await request(server, `${base}blobs/uploads/?digest=${digest}`, { method: 'POST', body: bytes });
    expectStatus(res, 201);
    expect(res.headers.get('docker-content-digest')).toBe(digest);
    expect(pathOf(absolute(server, res.headers.get('location')!))).toBe(`${base}blobs/${digest}`);
    await expectBlob(base, digest, bytes);
  });

  it('monolithic POST of an empty blob', async () => {
    const base = form.base(KEY, freshImage());
    const empty = Buffer.alloc(0);
    const digest = sha256(empty);
    const res = await request(server, `${base}blobs/uploads/?digest=${digest}`, { method: 'POST', body: empty });
    expectStatus(res, 201);
    await expectBlob(base, digest, empty);
  });

  it('POST then PUT with the whole body', async () => {
    const base = form.base(KEY, freshImage());
    const bytes = randomBytes(5000);
    const digest = sha256(bytes);
    const start = await request(server, `${base}blobs/uploads/`, { method: 'POST' });
    expectStatus(start, 202);
    const location = absolute(server, start.headers.get('location')!);
    expect(pathOf(location)).toMatch(new RegExp(`^${base}blobs/uploads/[0-9a-f-]{36}`));
    expect(start.headers.get('docker-upload-uuid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(start.headers.get('range')).toBe('0-0');

    await expectNoBlob(base, digest);
    const put = await request(server, withQuery(location, 'digest', digest), {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    expectStatus(put, 201);
    expect(put.headers.get('docker-content-digest')).toBe(digest);
    expect(pathOf(absolute(server, put.headers.get('location')!))).toBe(`${base}blobs/${digest}`);
    await expectBlob(base, digest, bytes);
  });

  it('chunked: POST, PATCH with Content-Range, PATCH, PUT ?digest= with an empty body', async () => {
    const base = form.base(KEY, freshImage());
    const bytes = randomBytes(3 * 1024 + 17);
    const digest = sha256(bytes);
    const first = bytes.subarray(0, 1024);
    const second = bytes.subarray(1024);
    const location = await startUpload(server, base);
    const uuid = pathOf(location).split('/').pop()!.split('?')[0];

    const p1 = await patchChunk(location, first, 0);
    expectStatus(p1, 202);
    expect(p1.headers.get('range')).toBe('0-1023');
    expect(p1.headers.get('docker-upload-uuid')).toBe(uuid);
    const next = absolute(server, p1.headers.get('location')!);
    expect(pathOf(next)).toMatch(new RegExp(`^${base}blobs/uploads/${uuid}`));

    const p2 = await patchChunk(next, second, 1024);
    expectStatus(p2, 202);
    expect(p2.headers.get('range')).toBe(`0-${bytes.length - 1}`);

    // Not visible until the final PUT.
    await expectNoBlob(base, digest);

    const put = await request(server, withQuery(absolute(server, p2.headers.get('location')!), 'digest', digest), { method: 'PUT' });
    expectStatus(put, 201);
    expect(put.headers.get('docker-content-digest')).toBe(digest);
    expect(pathOf(absolute(server, put.headers.get('location')!))).toBe(`${base}blobs/${digest}`);
    await expectBlob(base, digest, bytes);
    // The session is over once committed.
    expectRegistryError(await uploadStatus(location), 404, 'BLOB_UPLOAD_UNKNOWN');
  });

  it('streamed PATCH without Content-Range (chunked transfer encoding)', async () => {
    const base = form.base(KEY, freshImage());
    const parts = [randomBytes(700), randomBytes(1), randomBytes(64 * 1024), randomBytes(333)];
    const bytes = Buffer.concat(parts);
    const digest = sha256(bytes);
    const location = await startUpload(server, base);

    const patch = await streamedRequest(server, 'PATCH', location, parts, { 'content-type': 'application/octet-stream' });
    expect(patch.status).toBe(202);
    expect(patch.headers.range).toBe(`0-${bytes.length - 1}`);

    const status = await uploadStatus(location);
    expectStatus(status, 204);
    expect(status.headers.get('range')).toBe(`0-${bytes.length - 1}`);

    const put = await request(server, withQuery(location, 'digest', digest), { method: 'PUT' });
    expectStatus(put, 201);
    await expectBlob(base, digest, bytes);
  });

  it('a streamed final PUT carries the last bytes', async () => {
    const base = form.base(KEY, freshImage());
    const head = randomBytes(500);
    const tail = [randomBytes(300), randomBytes(200)];
    const bytes = Buffer.concat([head, ...tail]);
    const digest = sha256(bytes);
    const location = await startUpload(server, base);
    expectStatus(await patchChunk(location, head, 0), 202);
    const put = await streamedRequest(server, 'PUT', withQuery(location, 'digest', digest), tail);
    expect(put.status).toBe(201);
    await expectBlob(base, digest, bytes);
  });

  it('GET on an upload answers 204 with Range, Location and Docker-Upload-UUID', async () => {
    const base = form.base(KEY, freshImage());
    const location = await startUpload(server, base);
    const uuid = pathOf(location).split('/').pop()!.split('?')[0];
    expectStatus(await patchChunk(location, randomBytes(1234), 0), 202);

    const res = await uploadStatus(location);
    expectStatus(res, 204);
    expect(res.headers.get('range')).toBe('0-1233');
    expect(res.headers.get('docker-upload-uuid')).toBe(uuid);
    expect(pathOf(absolute(server, res.headers.get('location')!))).toMatch(new RegExp(`^${base}blobs/uploads/${uuid}`));
    expect(res.body.length).toBe(0);
  });

  it('DELETE cancels an upload: 204, then BLOB_UPLOAD_UNKNOWN everywhere', async () => {
    const base = form.base(KEY, freshImage());
    const bytes = randomBytes(100);
    const location = await startUpload(server, base);
    expectStatus(await patchChunk(location, bytes, 0), 202);

    const del = await request(server, location, { method: 'DELETE' });
    expectStatus(del, 204);
    expectRegistryError(await uploadStatus(location), 404, 'BLOB_UPLOAD_UNKNOWN');
    expectRegistryError(await patchChunk(location, bytes, 100), 404, 'BLOB_UPLOAD_UNKNOWN');
    expectRegistryError(await request(server, withQuery(location, 'digest', sha256(bytes)), { method: 'PUT' }), 404, 'BLOB_UPLOAD_UNKNOWN');
    expectRegistryError(await request(server, location, { method: 'DELETE' }), 404, 'BLOB_UPLOAD_UNKNOWN');
    await expectNoBlob(base, sha256(bytes));
    // The upload's bytes are gone from storage too.
    await expect(server.storage.stat(uploadPath(location))).rejects.toBeInstanceOf(PathNotFoundError);
  });

  it('refuses an out-of-order chunk (gap or overlap) with 416, and the upload continues correctly', async () => {
    const base = form.base(KEY, freshImage());
    const bytes = randomBytes(300);
    const digest = sha256(bytes);
    const location = await startUpload(server, base);
    expectStatus(await patchChunk(location, bytes.subarray(0, 100), 0), 202);

    const gap = await patchChunk(location, bytes.subarray(150, 250), 150);
    expectRegistryError(gap, 416, 'RANGE_INVALID');
    expect(gap.headers.get('range')).toBe('0-99');

    const overlap = await patchChunk(location, bytes.subarray(50, 150), 50);
    expectRegistryError(overlap, 416, 'RANGE_INVALID');
    expect(overlap.headers.get('range')).toBe('0-99');

    const status = await uploadStatus(location);
    expect(status.headers.get('range')).toBe('0-99');

    expectStatus(await patchChunk(location, bytes.subarray(100, 200), 100), 202);
    expectStatus(await patchChunk(location, bytes.subarray(200), 200), 202);
    const put = await request(server, withQuery(location, 'digest', digest), { method: 'PUT' });
    expectStatus(put, 201);
    await expectBlob(base, digest, bytes);
  });

  it('refuses a monolithic upload whose digest does not match: DIGEST_INVALID, nothing visible', async () => {
    const base = form.base(KEY, freshImage());
    const bytes = randomBytes(500);
    const claimed = sha256(randomBytes(500));
    const before = await storedBlobFiles();
    const res = await request(server, `${base}blobs/uploads/?digest=${claimed}`, { method: 'POST', body: bytes });
    expectRegistryError(res, 400, 'DIGEST_INVALID');
    await expectNoBlob(base, claimed);
    await expectNoBlob(base, sha256(bytes));
    expect(await storedBlobFiles()).toEqual(before);
  });

  it('refuses a chunked upload whose final digest does not match: DIGEST_INVALID, nothing visible, session over', async () => {
    const base = form.base(KEY, freshImage());
    const bytes = randomBytes(500);
    const claimed = sha256(Buffer.concat([bytes, Buffer.from('x')]));
    const location = await startUpload(server, base);
    expectStatus(await patchChunk(location, bytes, 0), 202);
    const put = await request(server, withQuery(location, 'digest', claimed), { method: 'PUT' });
    expectRegistryError(put, 400, 'DIGEST_INVALID');
    await expectNoBlob(base, claimed);
    await expectNoBlob(base, sha256(bytes));
    expectRegistryError(await uploadStatus(location), 404, 'BLOB_UPLOAD_UNKNOWN');
  });

  it('a final PUT without ?digest= is DIGEST_INVALID and nothing becomes visible', async () => {
    const base = form.base(KEY, freshImage());
    const bytes = randomBytes(64);
    const location = await startUpload(server, base);
    expectStatus(await patchChunk(location, bytes, 0), 202);
    expectRegistryError(await request(server, location, { method: 'PUT' }), 400, 'DIGEST_INVALID');
    expectRegistryError(await request(server, withQuery(location, 'digest', 'sha256:nothex'), { method: 'PUT' }), 400, 'DIGEST_INVALID');
    await expectNoBlob(base, sha256(bytes));
    // A malformed final PUT does not end the session: the client can still finish it.
    const put = await request(server, withQuery(location, 'digest', sha256(bytes)), { method: 'PUT' });
    expectStatus(put, 201);
    await expectBlob(base, sha256(bytes), bytes);
  });

  it('a chunk whose Content-Length disagrees with its Content-Range is SIZE_INVALID and changes nothing', async () => {
    const base = form.base(KEY, freshImage());
    const bytes = randomBytes(200);
    const location = await startUpload(server, base);
    expectStatus(await patchChunk(location, bytes.subarray(0, 100), 0), 202);

    const res = await request(server, location, {
      method: 'PATCH',
      headers: { 'content-range': '100-299' },
      body: bytes.subarray(100),
    });
    expectRegistryError(res, 400, 'SIZE_INVALID');
    expect((await uploadStatus(location)).headers.get('range')).toBe('0-99');

    expectStatus(await patchChunk(location, bytes.subarray(100), 100), 202);
    expectStatus(await request(server, withQuery(location, 'digest', sha256(bytes)), { method: 'PUT' }), 201);
    await expectBlob(base, sha256(bytes), bytes);
  });

  it('a truncated chunk (Content-Length above the bytes sent, then EOF) leaves the upload as it was', async () => {
    const base = form.base(KEY, freshImage());
    const bytes = randomBytes(3000);
    const digest = sha256(bytes);
    const location = await startUpload(server, base);
    expectStatus(await patchChunk(location, bytes.subarray(0, 1000), 0), 202);

    const res = await rawRequest(server, {
      method: 'PATCH',
      path: pathOf(location),
      headers: { 'content-type': 'application/octet-stream', 'content-length': '2000', 'content-range': '1000-2999' },
      body: bytes.subarray(1000, 1500),
      endAfterBody: true,
    });
    // Either no answer (the socket is gone) or an error; never a success.
    expect(res.status === undefined || res.status >= 400).toBe(true);

    await eventually(async () => expect((await uploadStatus(location)).headers.get('range')).toBe('0-999'));
    await expectNoBlob(base, digest);
    // The cut chunk's bytes were not kept: resending it completes the right blob.
    expectStatus(await patchChunk(location, bytes.subarray(1000), 1000), 202);
    expectStatus(await request(server, withQuery(location, 'digest', digest), { method: 'PUT' }), 201);
    await expectBlob(base, digest, bytes);
  });

  it('a truncated monolithic POST ?digest= makes nothing visible', async () => {
    const base = form.base(KEY, freshImage());
    const bytes = randomBytes(4000);
    const digest = sha256(bytes);
    const before = await storedBlobFiles();
    const res = await rawRequest(server, {
      method: 'POST',
      path: `${base}blobs/uploads/?digest=${digest}`,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) },
      body: bytes.subarray(0, 1000),
      endAfterBody: true,
    });
    expect(res.status === undefined || res.status >= 400).toBe(true);
    // Give the server time to notice the cut before checking.
    await new Promise((r) => setTimeout(r, 200));
    await expectNoBlob(base, digest);
    expect(await storedBlobFiles()).toEqual(before);
  });

  it('a truncated final PUT makes nothing visible and keeps the bytes received before', async () => {
    const base = form.base(KEY, freshImage());
    const bytes = randomBytes(2000);
    const digest = sha256(bytes);
    const location = await startUpload(server, base);
    expectStatus(await patchChunk(location, bytes.subarray(0, 500), 0), 202);

    const res = await rawRequest(server, {
      method: 'PUT',
      path: pathOf(withQuery(location, 'digest', digest)),
      headers: { 'content-type': 'application/octet-stream', 'content-length': '1500' },
      body: bytes.subarray(500, 900),
      endAfterBody: true,
    });
    expect(res.status === undefined || res.status >= 400).toBe(true);
    await eventually(async () => expect((await uploadStatus(location)).headers.get('range')).toBe('0-499'));
    await expectNoBlob(base, digest);
  });

  // Behind a load balancer the excess is the balancer's to frame (HAProxy answers it itself).
  itOnOneHost('a body longer than its Content-Length: the upload gets its own DIGEST_INVALID (not a bare 400 for the excess), then the connection closes', async () => {
    const base = form.base(KEY, freshImage());
    const bytes = randomBytes(1000);
    const digest = sha256(bytes);
    const head = (method: string, target: string) =>
      Buffer.from(
        `${method} ${target} HTTP/1.1\r\nHost: ${server.host}\r\nAuthorization: ${server.adminAuthorization}\r\nContent-Type: application/octet-stream\r\nContent-Length: 600\r\n\r\n`,
      );
    // The server reads 600 bytes as the body; the rest would be read as a next request: garbage,
    // or a well-formed request that must not be answered after a mis-framed upload either.
    const excesses = [bytes.subarray(600), Buffer.from(`GET /v2/ HTTP/1.1\r\nHost: ${server.host}\r\n\r\n`)];
    for (const excess of excesses) {
      const location = await startUpload(server, base);
      for (const target of [`${base}blobs/uploads/?digest=${digest}`, pathOf(withQuery(location, 'digest', digest))]) {
        const method = target.includes('/uploads/?') ? 'POST' : 'PUT';
        const { responses, closedByServer } = await rawExchange(server, Buffer.concat([head(method, target), bytes.subarray(0, 600), excess]));
        expect(responses.map((r) => r.status)).toEqual([400]);
        expectRawRegistryError(responses[0], 400, 'DIGEST_INVALID');
        expect(responses[0].headers.connection).toBe('close');
        expect(closedByServer).toBe(true);
      }
    }
    await expectNoBlob(base, digest);
    await expectNoBlob(base, sha256(bytes.subarray(0, 600)));
  });

  it('a malformed chunk inside a streamed PATCH is a 400 and a closed connection; the upload keeps what it had', async () => {
    const base = form.base(KEY, freshImage());
    const location = await startUpload(server, base);
    const head = `PATCH ${pathOf(location)} HTTP/1.1\r\nHost: ${server.host}\r\nAuthorization: ${server.adminAuthorization}\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const { responses, closedByServer } = await rawExchange(server, Buffer.from(`${head}5\r\nhello\r\nzz\r\n`));
    expect(responses.map((r) => r.status)).toEqual([400]);
    expect(closedByServer).toBe(true);
    await eventually(async () => expect((await uploadStatus(location)).headers.get('range')).toBe('0-0'));
    expectStatus(await patchChunk(location, Buffer.from('hello'), 0), 202);
  });

  it('sha512 digests: monolithic and chunked uploads, reads by sha512, refused mismatch', async () => {
    const base = form.base(KEY, freshImage());
    const bytes = randomBytes(4096);
    const digest = sha512(bytes);
    const res = await request(server, `${base}blobs/uploads/?digest=${digest}`, { method: 'POST', body: bytes });
    expectStatus(res, 201);
    expect(res.headers.get('docker-content-digest')).toBe(digest);
    await expectBlob(base, digest, bytes);
    const hex = digest.slice('sha512:'.length);
    expect(await storedBlobFiles()).toContain(path.join('sha512', hex.slice(0, 2), hex));

    const chunked = randomBytes(3000);
    const chunkedDigest = sha512(chunked);
    const location = await startUpload(server, base);
    expectStatus(await patchChunk(location, chunked.subarray(0, 1000), 0), 202);
    expectStatus(await patchChunk(location, chunked.subarray(1000), 1000), 202);
    const put = await request(server, withQuery(location, 'digest', chunkedDigest), { method: 'PUT' });
    expectStatus(put, 201);
    expect(put.headers.get('docker-content-digest')).toBe(chunkedDigest);
    await expectBlob(base, chunkedDigest, chunked);
    const ranged = await request(server, `${base}blobs/${chunkedDigest}`, { headers: { range: 'bytes=10-19' } });
    expectStatus(ranged, 206);
    expect(ranged.body.equals(chunked.subarray(10, 20))).toBe(true);

    const wrong = sha512(randomBytes(10));
    expectRegistryError(await request(server, `${base}blobs/uploads/?digest=${wrong}`, { method: 'POST', body: bytes }), 400, 'DIGEST_INVALID');
    await expectNoBlob(base, wrong);
  });

  it('answers BLOB_UPLOAD_UNKNOWN for an unknown upload id on GET, PATCH, PUT and DELETE', async () => {
    const base = form.base(KEY, freshImage());
    const digest = sha256(Buffer.from('x'));
    for (const id of ['3f2504e0-4f89-41d3-9a0c-0305e82c3301', 'not-an-upload', '..%2f..%2fetc']) {
      const url = `${base}blobs/uploads/${id}`;
      expectRegistryError(await request(server, url), 404, 'BLOB_UPLOAD_UNKNOWN');
      expectRegistryError(await request(server, url, { method: 'PATCH', body: Buffer.from('x') }), 404, 'BLOB_UPLOAD_UNKNOWN');
      expectRegistryError(await request(server, `${url}?digest=${digest}`, { method: 'PUT', body: Buffer.from('x') }), 404, 'BLOB_UPLOAD_UNKNOWN');
      expectRegistryError(await request(server, url, { method: 'DELETE' }), 404, 'BLOB_UPLOAD_UNKNOWN');
    }
    await expectNoBlob(base, digest);
  });

  it("an upload is bound to its image: another image's URL does not reach it", async () => {
    const image = freshImage();
    const location = await startUpload(server, form.base(KEY, image));
    const uuid = pathOf(location).split('/').pop()!.split('?')[0];
    const elsewhere = `${form.base(KEY, freshImage())}blobs/uploads/${uuid}`;
    expectRegistryError(await request(server, elsewhere), 404, 'BLOB_UPLOAD_UNKNOWN');
    expectRegistryError(await request(server, `${form.base(OTHER, image)}blobs/uploads/${uuid}`), 404, 'BLOB_UPLOAD_UNKNOWN');
    expectStatus(await uploadStatus(location), 204);
  });
});

describe('uploads across the two path forms', () => {
  it('an upload started on /v2 continues and completes on /api/docker', async () => {
    const image = freshImage('team/cross');
    const bytes = randomBytes(2000);
    const digest = sha256(bytes);
    const location = await startUpload(server, V2_FORM.base(KEY, image));
    const uuid = pathOf(location).split('/').pop()!.split('?')[0];
    expectStatus(await patchChunk(location, bytes.subarray(0, 1000), 0), 202);

    const apiUpload = absolute(server, `${API_FORM.base(KEY, image)}blobs/uploads/${uuid}`);
    const status = await uploadStatus(apiUpload);
    expectStatus(status, 204);
    expect(status.headers.get('range')).toBe('0-999');
    expect(pathOf(absolute(server, status.headers.get('location')!))).toMatch(new RegExp(`^${API_FORM.base(KEY, image)}blobs/uploads/${uuid}`));
    expectStatus(await patchChunk(apiUpload, bytes.subarray(1000), 1000), 202);
    expectStatus(await request(server, withQuery(apiUpload, 'digest', digest), { method: 'PUT' }), 201);

    await expectBlob(V2_FORM.base(KEY, image), digest, bytes);
    await expectBlob(API_FORM.base(KEY, image), digest, bytes);
  });
});

describe('cross-repository mount', () => {
  it('mounts a blob from another local repository: 201 with Location and Docker-Content-Digest', async () => {
    const source = freshImage('src');
    const bytes = randomBytes(1500);
    const digest = await pushBlob(server, V2_FORM.base(KEY, source), bytes);
    const target = V2_FORM.base(OTHER, freshImage('dst'));
    await expectNoBlob(target, digest);

    const res = await request(server, `${target}blobs/uploads/?mount=${digest}&from=${KEY}/${source}`, { method: 'POST' });
    expectStatus(res, 201);
    expect(res.headers.get('docker-content-digest')).toBe(digest);
    expect(pathOf(absolute(server, res.headers.get('location')!))).toBe(`${target}blobs/${digest}`);
    await expectBlob(target, digest, bytes);
    await expectBlob(API_FORM.base(OTHER, 'anything'), digest, bytes);
    // The source keeps its blob.
    await expectBlob(V2_FORM.base(KEY, source), digest, bytes);
  });

  it('mounts within one repository on the /api/docker form, where from names an image', async () => {
    const source = freshImage('src');
    const bytes = randomBytes(500);
    const digest = await pushBlob(server, API_FORM.base(KEY, source), bytes);
    const target = API_FORM.base(KEY, freshImage('dst'));
    const res = await request(server, `${target}blobs/uploads/?mount=${digest}&from=${source}`, { method: 'POST' });
    expectStatus(res, 201);
    expect(res.headers.get('docker-content-digest')).toBe(digest);
    await expectBlob(target, digest, bytes);
  });

  it('falls back to an upload (202 with Location) when the source lacks the blob, without leaking it', async () => {
    // The blob exists on the server, in docker-local, but the mount names a source without it.
    const bytes = randomBytes(800);
    const digest = await pushBlob(server, V2_FORM.base(KEY, freshImage('src')), bytes);
    const target = V2_FORM.base(OTHER, freshImage('dst'));

    for (const from of [`${OTHER}/${freshImage('empty')}`, `no-such-repo/${freshImage()}`]) {
      const res = await request(server, `${target}blobs/uploads/?mount=${digest}&from=${from}`, { method: 'POST' });
      expectStatus(res, 202);
      expect(res.headers.get('docker-content-digest')).toBeNull();
      expect(res.headers.get('docker-upload-uuid')).toMatch(/^[0-9a-f-]{36}$/);
      const location = absolute(server, res.headers.get('location')!);
      expect(pathOf(location)).toMatch(new RegExp(`^${target}blobs/uploads/[0-9a-f-]{36}`));
      await expectNoBlob(target, digest);
      // The fallback upload works like any other.
      expectStatus(await uploadStatus(location), 204);
    }

    const res = await request(server, `${target}blobs/uploads/?mount=${digest}&from=${OTHER}/x`, { method: 'POST' });
    const location = absolute(server, res.headers.get('location')!);
    const put = await request(server, withQuery(location, 'digest', digest), { method: 'PUT', body: bytes });
    expectStatus(put, 201);
    await expectBlob(target, digest, bytes);
  });
});

describe('dedup on disk', () => {
  it('stores a blob pushed under several images and repositories once', async () => {
    const bytes = randomBytes(10_000);
    const digest = sha256(bytes);
    const hex = digest.slice('sha256:'.length);
    const before = await storedBlobFiles();

    await pushBlob(server, V2_FORM.base(KEY, freshImage('a')), bytes);
    const afterFirst = await storedBlobFiles();
    expect(afterFirst).toEqual([...before, path.join('sha256', hex.slice(0, 2), hex)].sort());

    // Again under another image, another repository, chunked, and on the other path form.
    await pushBlob(server, V2_FORM.base(KEY, freshImage('b')), bytes);
    await pushBlob(server, API_FORM.base(OTHER, freshImage('c')), bytes);
    const location = await startUpload(server, V2_FORM.base(OTHER, freshImage('d')));
    expectStatus(await patchChunk(location, bytes, 0), 202);
    expectStatus(await request(server, withQuery(location, 'digest', digest), { method: 'PUT' }), 201);

    expect(await storedBlobFiles()).toEqual(afterFirst);
    expect((await storedBlobFiles()).filter((f) => f.endsWith(hex))).toHaveLength(1);
    // And no upload temp files are left behind by the dedup'd commits.
    await expect(server.storage.stat(uploadPath(location))).rejects.toBeInstanceOf(PathNotFoundError);
  });
});

describe('declared ranges and lengths on streamed chunks', () => {
  it('a streamed chunk shorter than its Content-Range is SIZE_INVALID and leaves the upload as it was', async () => {
    const base = V2_FORM.base(KEY, freshImage());
    const bytes = randomBytes(300);
    const location = await startUpload(server, base);
    expectStatus(await patchChunk(location, bytes.subarray(0, 100), 0), 202);

    // Content-Range promises 200 bytes; the chunked body brings 50.
    const res = await streamedRequest(server, 'PATCH', location, [bytes.subarray(100, 150)], { 'content-range': '100-299' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body.toString('utf8')).errors[0].code).toBe('SIZE_INVALID');
    expect((await uploadStatus(location)).headers.get('range')).toBe('0-99');

    expectStatus(await patchChunk(location, bytes.subarray(100), 100), 202);
    expectStatus(await request(server, withQuery(location, 'digest', sha256(bytes)), { method: 'PUT' }), 201);
    await expectBlob(base, sha256(bytes), bytes);
  });

  it('a streamed chunk longer than its Content-Range is SIZE_INVALID and leaves the upload as it was', async () => {
    const base = V2_FORM.base(KEY, freshImage());
    const bytes = randomBytes(300);
    const location = await startUpload(server, base);
    expectStatus(await patchChunk(location, bytes.subarray(0, 100), 0), 202);

    const res = await streamedRequest(server, 'PATCH', location, [bytes.subarray(100, 200), bytes.subarray(200)], { 'content-range': '100-199' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body.toString('utf8')).errors[0].code).toBe('SIZE_INVALID');
    expect((await uploadStatus(location)).headers.get('range')).toBe('0-99');
  });

  it('a final PUT may carry the last chunk with its Content-Range', async () => {
    const base = V2_FORM.base(KEY, freshImage());
    const bytes = randomBytes(400);
    const digest = sha256(bytes);
    const location = await startUpload(server, base);
    expectStatus(await patchChunk(location, bytes.subarray(0, 250), 0), 202);

    const wrongStart = await request(server, withQuery(location, 'digest', digest), {
      method: 'PUT',
      headers: { 'content-range': '200-349' },
      body: bytes.subarray(250),
    });
    expectRegistryError(wrongStart, 416, 'RANGE_INVALID');
    await expectNoBlob(base, digest);

    const put = await request(server, withQuery(location, 'digest', digest), {
      method: 'PUT',
      headers: { 'content-range': '250-399' },
      body: bytes.subarray(250),
    });
    expectStatus(put, 201);
    await expectBlob(base, digest, bytes);
  });

  it('a malformed Content-Range is BLOB_UPLOAD_INVALID and changes nothing', async () => {
    const base = V2_FORM.base(KEY, freshImage());
    const location = await startUpload(server, base);
    expectStatus(await patchChunk(location, randomBytes(10), 0), 202);
    for (const range of ['abc', '20-10', 'bytes=x-y']) {
      const res = await request(server, location, { method: 'PATCH', headers: { 'content-range': range }, body: randomBytes(11) });
      expectRegistryError(res, 400, 'BLOB_UPLOAD_INVALID');
    }
    expect((await uploadStatus(location)).headers.get('range')).toBe('0-9');
  });
});

describe('large blobs stream through', () => {
  it('a 24 MiB blob, pushed in 3 chunks, reads back whole and in ranges across chunk boundaries', async () => {
    const base = V2_FORM.base(KEY, freshImage('large'));
    const size = 24 * 1024 * 1024;
    const bytes = randomBytes(size);
    const digest = sha256(bytes);
    const location = await startUpload(server, base);
    const third = size / 3;
    for (let i = 0; i < 3; i++) expectStatus(await patchChunk(location, bytes.subarray(i * third, (i + 1) * third), i * third), 202);
    expectStatus(await request(server, withQuery(location, 'digest', digest), { method: 'PUT' }), 201);
    await expectBlob(base, digest, bytes);
    const start = third - 1000;
    const ranged = await request(server, `${base}blobs/${digest}`, { headers: { range: `bytes=${start}-${start + 2 * 1024 * 1024}` } });
    expectStatus(ranged, 206);
    expect(ranged.body.equals(bytes.subarray(start, start + 2 * 1024 * 1024 + 1))).toBe(true);
  });

  it('goes on serving a blob after a client walks away in the middle of downloading it', async () => {
    const base = V2_FORM.base(KEY, freshImage('walked'));
    const bytes = randomBytes(32 * 1024 * 1024);
    const digest = await pushBlob(server, base, bytes);
    const walkAway = new AbortController();
    const res = await fetch(absolute(server, `${base}blobs/${digest}`), { headers: { authorization: server.adminAuthorization }, signal: walkAway.signal });
    const reader = res.body!.getReader();
    expect((await reader.read()).done).toBe(false); // some bytes arrived, then the client goes
    walkAway.abort();
    await reader.read().catch(() => undefined);
    await expectBlob(base, digest, bytes);
  });
});

describe('an upload file that disagrees with its session (the server died mid-PATCH)', () => {
  // The upload's file as the storage driver holds it between PATCHes (on S3: a multipart upload and its tail).
  const damage = async (location: string, harm: (file: FileWriter) => Promise<unknown>) => {
    const file = await server.storage.writer(uploadPath(location), { append: true });
    await harm(file);
    await file.close();
  };

  it('bytes beyond the acknowledged offset are not part of the upload: a PATCH at the reported offset goes on, a final PUT without body commits what was acknowledged', async () => {
    const base = V2_FORM.base(KEY, freshImage());
    const bytes = randomBytes(300_000);
    for (const finish of ['patch', 'put'] as const) {
      const location = await startUpload(server, base);
      expectStatus(await patchChunk(location, bytes.subarray(0, 100_000), 0), 202);
      // What a PATCH that was never acknowledged left behind.
      await damage(location, (file) => file.write(Readable.from([randomBytes(50_000)])));
      expect((await uploadStatus(location)).headers.get('range')).toBe('0-99999');
      if (finish === 'patch') {
        const rest = await patchChunk(location, bytes.subarray(100_000), 100_000);
        expectStatus(rest, 202);
        expect(rest.headers.get('range')).toBe(`0-${bytes.length - 1}`);
        expectStatus(await request(server, withQuery(location, 'digest', sha256(bytes)), { method: 'PUT' }), 201);
        await expectBlob(base, sha256(bytes), bytes);
      } else {
        const acknowledged = bytes.subarray(0, 100_000);
        expectStatus(await request(server, withQuery(location, 'digest', sha256(acknowledged)), { method: 'PUT' }), 201);
        await expectBlob(base, sha256(acknowledged), acknowledged);
      }
    }
  });

  it('acknowledged bytes missing from disk: 416 with the Range the disk holds, the session follows, and the upload goes on from there', async () => {
    const base = V2_FORM.base(KEY, freshImage());
    const bytes = randomBytes(200_000);
    const location = await startUpload(server, base);
    expectStatus(await patchChunk(location, bytes.subarray(0, 120_000), 0), 202);
    await damage(location, (file) => file.truncate(70_000));
    const refused = await patchChunk(location, bytes.subarray(120_000), 120_000);
    expectRegistryError(refused, 416, 'RANGE_INVALID');
    expect(refused.headers.get('range')).toBe('0-69999');
    expect((await uploadStatus(location)).headers.get('range')).toBe('0-69999');
    expectStatus(await patchChunk(location, bytes.subarray(70_000), 70_000), 202);
    expectStatus(await request(server, withQuery(location, 'digest', sha256(bytes)), { method: 'PUT' }), 201);
    await expectBlob(base, sha256(bytes), bytes);
  });
});

describe('concurrency', () => {
  it('two PATCHes racing on one upload: one wins, the other is refused, the upload stays consistent', async () => {
    const base = V2_FORM.base(KEY, freshImage());
    const location = await startUpload(server, base);
    const a = randomBytes(256 * 1024);
    const b = randomBytes(256 * 1024);
    const results = await Promise.all([request(server, location, { method: 'PATCH', body: a }), request(server, location, { method: 'PATCH', body: b })]);
    const statuses = results.map((r) => r.status).sort();
    // Either they serialise (both accepted, one after the other) or one is refused as out of order.
    expect([
      [202, 202],
      [202, 416],
    ]).toContainEqual(statuses);
    for (const r of results.filter((r) => r.status === 416)) expectRegistryError(r, 416, 'RANGE_INVALID');

    const range = (await uploadStatus(location)).headers.get('range');
    const size = Number(range!.split('-')[1]) + 1;
    const candidates = statuses[1] === 416 ? [a, b] : [Buffer.concat([a, b]), Buffer.concat([b, a])];
    expect(candidates.map((c) => c.length)).toContain(size);
    // Exactly one candidate's digest commits.
    const digests = candidates.map(sha256);
    const put = await request(server, withQuery(location, 'digest', digests[0]), { method: 'PUT' });
    if (put.status !== 201) {
      // The upload held the other candidate: a fresh session with it must commit.
      expectRegistryError(put, 400, 'DIGEST_INVALID');
      await expectNoBlob(base, digests[0]);
      await pushBlob(server, base, candidates[1]);
      await expectBlob(base, digests[1], candidates[1]);
    } else {
      await expectBlob(base, digests[0], candidates[0]);
    }
  });

  it('the same blob pushed by ten clients at once: all 201, stored once', async () => {
    const bytes = randomBytes(200_000);
    const digest = sha256(bytes);
    const hex = digest.slice('sha256:'.length);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        request(server, `${(i % 2 ? API_FORM : V2_FORM).base(i < 5 ? KEY : OTHER, freshImage('race'))}blobs/uploads/?digest=${digest}`, {
          method: 'POST',
          body: bytes,
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(201));
    expect((await storedBlobFiles()).filter((f) => f.endsWith(hex))).toHaveLength(1);
    await expectBlob(V2_FORM.base(KEY, 'any'), digest, bytes);
    await expectBlob(V2_FORM.base(OTHER, 'any'), digest, bytes);
  });
});

describe('a blob whose bytes are missing from disk', () => {
  it('answers 404 BLOB_UNKNOWN without the headers of a successful read (no year-long cache of the error)', async () => {
    const base = V2_FORM.base(KEY, freshImage('lost'));
    const bytes = randomBytes(500);
    const digest = await pushBlob(server, base, bytes);
    const hex = digest.slice('sha256:'.length);
    await server.storage.delete(`/blobs/sha256/${hex.slice(0, 2)}/${hex}`);

    for (const headers of [{}, { range: 'bytes=0-9' }] as Array<Record<string, string>>) {
      const res = await request(server, `${base}blobs/${digest}`, { headers });
      expectRegistryError(res, 404, 'BLOB_UNKNOWN');
      expect(res.headers.get('cache-control')).toBeNull();
      expect(res.headers.get('docker-content-digest')).toBeNull();
      expect(res.headers.get('etag')).toBeNull();
      expect(res.headers.get('content-range')).toBeNull();
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    }
  });
});
