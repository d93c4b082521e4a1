// A chunked upload whose server is killed (SIGKILL: no cleanup runs) in the middle of a PATCH:
// the bytes that PATCH had written stay in the upload file, beyond what the session in the
// database acknowledged. A server started again on the same database and data directory
// reports the acknowledged offset and must take the upload on from exactly there.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { absolute, expectStatus, request, withQuery } from './helpers/registry-http';
import { SpawnedWharf, spawnWharf } from './helpers/wharf-cluster';
import { WharfTestServer, createTestDatabase, startWharf } from './helpers/wharf-server';

jest.setTimeout(300_000);

const KEY = 'crash-local';
const CHUNK = 4 * 1024 * 1024;
const listening = (line: { msg: string }) => line.msg.startsWith('Wharf listening on');
const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

async function fileSize(file: string): Promise<number> {
  return (await fs.stat(file).catch(() => ({ size: -1 }))).size;
}

/**
 * Starts a PATCH of `chunk` at `start`, sends it in small pieces, and resolves once the upload
 * file holds more than `start` bytes (the PATCH is part-way on disk); the request stays open.
 */
async function patchUntilOnDisk(baseUrl: string, auth: string, location: string, chunk: Buffer, start: number, file: string): Promise<http.ClientRequest> {
  const req = http.request(new URL(location, baseUrl), {
    method: 'PATCH',
    headers: {
      authorization: auth,
      'content-type': 'application/octet-stream',
      'content-length': String(chunk.length),
      'content-range': `${start}-${start + chunk.length - 1}`,
    },
  });
  req.on('error', () => undefined); // the server is about to die under it
  const piece = 64 * 1024;
  // Three quarters of the chunk: past the server's write batch, never the whole chunk.
  for (let sent = 0; sent < (chunk.length * 3) / 4; sent += piece) {
    if (!req.write(chunk.subarray(sent, sent + piece))) await new Promise((resolve) => req.once('drain', resolve));
  }
  const deadline = Date.now() + 30_000;
  while ((await fileSize(file)) <= start) {
    if (Date.now() > deadline) throw new Error(`the upload file never grew past ${start} bytes`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return req;
}

describe('a chunked upload cut by a crash', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let dataDir: string | undefined;
  let crashed: SpawnedWharf | undefined;
  let restarted: WharfTestServer | undefined;

  afterAll(async () => {
    await restarted?.close();
    await crashed?.stop();
    await database?.drop();
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('resumes at the offset its session reports after a SIGKILL mid-PATCH; the bytes the dead PATCH left are not part of it', async () => {
    database = await createTestDatabase();
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-upload-crash-'));
    crashed = await spawnWharf({ DATABASE_URL: database.url }, { dataDir });
    await crashed.waitForLog(listening);
    const auth = crashed.adminAuthorization;
    const base = `/v2/${KEY}/team/app/`;
    expectStatus(
      await fetchResult(crashed.baseUrl, `/api/repositories/${KEY}`, {
        method: 'PUT',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({ rclass: 'local', packageType: 'docker' }),
      }),
      201,
    );

    const blob = randomBytes(2 * CHUNK + 12_345);
    const digest = sha256(blob);
    const started = await fetchResult(crashed.baseUrl, `${base}blobs/uploads/`, { method: 'POST', headers: { authorization: auth } });
    expectStatus(started, 202);
    const location = new URL(started.headers.get('location')!, crashed.baseUrl).pathname;
    const uploadFile = path.join(dataDir, 'storage', 'uploads', location.split('/').pop()!);
    const first = await fetchResult(crashed.baseUrl, location, {
      method: 'PATCH',
      headers: { authorization: auth, 'content-type': 'application/octet-stream', 'content-range': `0-${CHUNK - 1}` },
      body: blob.subarray(0, CHUNK),
    });
    expectStatus(first, 202);
    expect(first.headers.get('range')).toBe(`0-${CHUNK - 1}`);

    await patchUntilOnDisk(crashed.baseUrl, auth, location, blob.subarray(CHUNK, 2 * CHUNK), CHUNK, uploadFile);
    crashed.child.kill('SIGKILL');
    await crashed.exited;
    const left = await fileSize(uploadFile);
    expect(left).toBeGreaterThan(CHUNK);

    // The same database and data directory, as a restarted deployment.
    restarted = await startWharf({ DATABASE_URL: database.url, WHARF_DATA_DIR: dataDir, WHARF_ADMIN_PASSWORD: 'cluster-admin-password' });
    const status = await request(restarted, location);
    expectStatus(status, 204);
    expect(status.headers.get('range')).toBe(`0-${CHUNK - 1}`);

    const second = await request(restarted, location, {
      method: 'PATCH',
      headers: { 'content-type': 'application/octet-stream', 'content-range': `${CHUNK}-${2 * CHUNK - 1}` },
      body: blob.subarray(CHUNK, 2 * CHUNK),
    });
    expectStatus(second, 202);
    expect(second.headers.get('range')).toBe(`0-${2 * CHUNK - 1}`);
    const put = await request(restarted, withQuery(absolute(restarted, location), 'digest', digest), {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'content-range': `${2 * CHUNK}-${blob.length - 1}` },
      body: blob.subarray(2 * CHUNK),
    });
    expectStatus(put, 201);
    const read = await request(restarted, `${base}blobs/${digest}`);
    expectStatus(read, 200);
    expect(read.body.equals(blob)).toBe(true);
  });
});

/** A fetch to the spawned server (the registry-http helpers speak to in-process servers). */
async function fetchResult(baseUrl: string, pathAndQuery: string, init: RequestInit) {
  const res = await fetch(new URL(pathAndQuery, baseUrl), init);
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body, json: undefined };
}
