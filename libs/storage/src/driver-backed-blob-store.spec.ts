import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { appendFile, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Digest, parseDigest } from '@wharf/oci';
import { DriverBackedBlobStore } from './driver-backed-blob-store';
import { FilesystemStorageDriver } from './driver/filesystem-storage.driver';

function digestOf(data: Buffer, algorithm: 'sha256' | 'sha512' = 'sha256'): Digest {
  return parseDigest(`${algorithm}:${createHash(algorithm).update(data).digest('hex')}`);
}

/** A body that arrives in several chunks, like a network request. */
function body(data: Buffer, chunkSize = 1000): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunkSize) chunks.push(data.subarray(i, i + chunkSize));
  return Readable.from(chunks);
}

/** A body that delivers `data` and then fails, like a dropped connection. */
function failingBody(data: Buffer): Readable {
  return Readable.from(
    (async function* () {
      yield data;
      throw new Error('connection reset');
    })(),
  );
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('DriverBackedBlobStore on the filesystem driver', () => {
  let root: string;
  let driver: DriverBackedBlobStore;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'wharf-storage-'));
    driver = new DriverBackedBlobStore(new FilesystemStorageDriver(root));
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const uploadsLeft = () => readdir(join(root, 'uploads'));

  async function upload(data: Buffer): Promise<string> {
    const id = randomUUID();
    await driver.createUpload(id);
    await driver.appendUpload(id, body(data), { expectedOffset: 0, expectedLength: data.length });
    return id;
  }

  it('stores a monolithic upload under blobs/<alg>/<2 hex>/<hex> and reads it back', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const digest = digestOf(data);
    const id = await upload(data);

    await expect(driver.commitUpload(id, digest, data.length)).resolves.toEqual({ size: data.length });

    const onDisk = await readFile(join(root, 'blobs', 'sha256', digest.hex.slice(0, 2), digest.hex));
    expect(onDisk.equals(data)).toBe(true);
    expect((await readAll(await driver.read(digest))).equals(data)).toBe(true);
    await expect(driver.stat(digest)).resolves.toEqual({ size: data.length });
    expect(await uploadsLeft()).toEqual([]);
  });

  it('assembles chunked appends in order', async () => {
    const data = randomBytes(10_000);
    const id = randomUUID();
    await driver.createUpload(id);
    let offset = 0;
    for (const end of [1, 4096, 7000, 10_000]) {
      offset = await driver.appendUpload(id, body(data.subarray(offset, end), 512), { expectedOffset: offset });
      expect(offset).toBe(end);
    }
    await expect(driver.uploadSize(id)).resolves.toBe(data.length);

    await driver.commitUpload(id, digestOf(data));
    expect((await readAll(await driver.read(digestOf(data)))).equals(data)).toBe(true);
    expect(await uploadsLeft()).toEqual([]);
  });

  it('refuses a wrong digest with DIGEST_INVALID and keeps neither blob nor upload', async () => {
    const data = randomBytes(5000);
    const claimed = digestOf(Buffer.from('something else'));
    const id = await upload(data);

    const error = await driver.commitUpload(id, claimed).catch((e) => e);
    expect(error).toMatchObject({ code: 'DIGEST_INVALID', status: 400 });
    expect(error.message).toContain(claimed.value);
    expect(error.message).toContain(digestOf(data).value);
    await expect(driver.stat(claimed)).resolves.toBeNull();
    await expect(driver.stat(digestOf(data))).resolves.toBeNull();
    await expect(driver.uploadSize(id)).resolves.toBeNull();
    expect(await uploadsLeft()).toEqual([]);
  });

  it('refuses a size that differs from the declared one with SIZE_INVALID and drops the upload', async () => {
    const data = randomBytes(100);
    const id = await upload(data);

    await expect(driver.commitUpload(id, digestOf(data), 101)).rejects.toMatchObject({ code: 'SIZE_INVALID' });
    await expect(driver.stat(digestOf(data))).resolves.toBeNull();
    await expect(driver.uploadSize(id)).resolves.toBeNull();
  });

  it('rejects an append at the wrong offset with RANGE_INVALID and the current range', async () => {
    const id = await upload(randomBytes(10));

    const error = await driver.appendUpload(id, body(randomBytes(5)), { expectedOffset: 4 }).catch((e) => e);
    expect(error).toMatchObject({ code: 'RANGE_INVALID', status: 416, headers: { Range: '0-9' } });
    await expect(driver.uploadSize(id)).resolves.toBe(10);
  });

  it('cuts a failed append back and still commits the right digest after a retry', async () => {
    const first = randomBytes(4000);
    const second = randomBytes(6000);
    const id = await upload(first);

    await expect(driver.appendUpload(id, failingBody(randomBytes(2500)), { expectedOffset: 4000 })).rejects.toThrow('connection reset');
    await expect(driver.uploadSize(id)).resolves.toBe(4000);

    await expect(driver.appendUpload(id, body(second), { expectedOffset: 4000 })).resolves.toBe(10_000);
    const whole = Buffer.concat([first, second]);
    await expect(driver.commitUpload(id, digestOf(whole), whole.length)).resolves.toEqual({ size: whole.length });
    expect((await readAll(await driver.read(digestOf(whole)))).equals(whole)).toBe(true);
  });

  it('refuses a body shorter or longer than expectedLength with SIZE_INVALID and keeps the size', async () => {
    const first = randomBytes(300);
    const id = await upload(first);

    for (const length of [99, 101]) {
      const error = await driver.appendUpload(id, body(randomBytes(100), 30), { expectedOffset: 300, expectedLength: length }).catch((e) => e);
      expect(error).toMatchObject({ code: 'SIZE_INVALID' });
      expect(error.message).toContain(String(length));
      await expect(driver.uploadSize(id)).resolves.toBe(300);
    }
    await driver.commitUpload(id, digestOf(first));
    await expect(driver.stat(digestOf(first))).resolves.toEqual({ size: 300 });
  });

  it('re-hashes the file when the running hash was lost to a restart', async () => {
    const first = randomBytes(2000);
    const second = randomBytes(3000);
    const id = await upload(first);

    const restarted = new DriverBackedBlobStore(new FilesystemStorageDriver(root));
    await restarted.appendUpload(id, body(second), { expectedOffset: 2000 });
    const whole = Buffer.concat([first, second]);
    await expect(restarted.commitUpload(id, digestOf(whole))).resolves.toEqual({ size: 5000 });
    expect((await readAll(await restarted.read(digestOf(whole)))).equals(whole)).toBe(true);
  });

  it('re-hashes the file when it grew beyond what the running hash covers', async () => {
    const first = randomBytes(2000);
    const extra = randomBytes(50);
    const id = await upload(first);
    // Another instance (sharing the volume) appended bytes this one never saw.
    await appendFile(join(root, 'uploads', id), extra);

    const whole = Buffer.concat([first, extra]);
    await expect(driver.commitUpload(id, digestOf(whole))).resolves.toEqual({ size: 2050 });
  });

  it('cuts an upload back to an acknowledged size, from the running hash too, and goes on from there', async () => {
    const first = randomBytes(3000);
    const id = await upload(first);
    // An append whose acknowledgement never came (its server died): written and hashed, then cut.
    const unacknowledged = randomBytes(2000);
    await driver.appendUpload(id, body(unacknowledged), { expectedOffset: 3000 });
    // Waits for the hashing thread to have hashed those bytes (it reads the file when it gets to it).
    await driver.verifyUpload(id, digestOf(Buffer.concat([first, unacknowledged])));
    await expect(driver.truncateUpload(id, 3000)).resolves.toBe(3000);
    await expect(driver.uploadSize(id)).resolves.toBe(3000);
    // Longer than what was cut: a hash that still covered the cut bytes would go wrong here.
    const again = randomBytes(4000);
    await expect(driver.appendUpload(id, body(again), { expectedOffset: 3000 })).resolves.toBe(7000);
    const whole = Buffer.concat([first, again]);
    await expect(driver.commitUpload(id, digestOf(whole))).resolves.toEqual({ size: 7000 });
    expect((await readAll(await driver.read(digestOf(whole)))).equals(whole)).toBe(true);
  });

  it('leaves an upload at or below the size alone and says what it holds; BLOB_UPLOAD_UNKNOWN when gone', async () => {
    const id = await upload(randomBytes(1000));
    await expect(driver.truncateUpload(id, 1000)).resolves.toBe(1000);
    await expect(driver.truncateUpload(id, 5000)).resolves.toBe(1000);
    await expect(driver.uploadSize(id)).resolves.toBe(1000);
    await driver.deleteUpload(id);
    await expect(driver.truncateUpload(id, 0)).rejects.toMatchObject({ code: 'BLOB_UPLOAD_UNKNOWN' });
  });

  it('supports sha512 digests', async () => {
    const data = randomBytes(70_000);
    const digest = digestOf(data, 'sha512');
    const id = await upload(data);

    await expect(driver.commitUpload(id, digest)).resolves.toEqual({ size: data.length });
    const onDisk = await readFile(join(root, 'blobs', 'sha512', digest.hex.slice(0, 2), digest.hex));
    expect(onDisk.equals(data)).toBe(true);
  });

  it('keeps the first copy when the same content is committed twice', async () => {
    const data = randomBytes(1234);
    const digest = digestOf(data);
    await driver.commitUpload(await upload(data), digest);
    const path = join(root, 'blobs', 'sha256', digest.hex.slice(0, 2), digest.hex);
    const firstInode = (await stat(path)).ino;

    await expect(driver.commitUpload(await upload(data), digest)).resolves.toEqual({ size: data.length });
    expect((await stat(path)).ino).toBe(firstInode);
    expect(await readdir(join(root, 'blobs', 'sha256', digest.hex.slice(0, 2)))).toEqual([digest.hex]);
    expect(await uploadsLeft()).toEqual([]);
  });

  it('reads an inclusive byte range', async () => {
    const data = randomBytes(2 * 1024 * 1024);
    const digest = digestOf(data);
    await driver.commitUpload(await upload(data), digest);

    const slice = await readAll(await driver.read(digest, { start: 1000, end: 1_500_000 }));
    expect(slice.equals(data.subarray(1000, 1_500_001))).toBe(true);
  });

  it('reports a missing blob as BLOB_UNKNOWN, null stat and a harmless delete', async () => {
    const digest = digestOf(Buffer.from('never stored'));
    await expect(driver.read(digest)).rejects.toMatchObject({ code: 'BLOB_UNKNOWN', status: 404 });
    await expect(driver.stat(digest)).resolves.toBeNull();
    await expect(driver.delete(digest)).resolves.toBeUndefined();
  });

  it('deletes a stored blob', async () => {
    const data = randomBytes(10);
    await driver.commitUpload(await upload(data), digestOf(data));
    await driver.delete(digestOf(data));
    await expect(driver.stat(digestOf(data))).resolves.toBeNull();
  });

  it('manages upload lifecycles and refuses unknown or malformed ids', async () => {
    const id = randomUUID();
    await expect(driver.uploadSize(id)).resolves.toBeNull();
    await driver.createUpload(id);
    await expect(driver.uploadSize(id)).resolves.toBe(0);
    await expect(driver.createUpload(id)).rejects.toMatchObject({ code: 'EEXIST' });
    await driver.deleteUpload(id);
    await driver.deleteUpload(id);
    await expect(driver.uploadSize(id)).resolves.toBeNull();

    await expect(driver.appendUpload(id, body(Buffer.from('x')), { expectedOffset: 0 })).rejects.toMatchObject({
      code: 'BLOB_UPLOAD_UNKNOWN',
    });
    await expect(driver.commitUpload(id, digestOf(Buffer.alloc(0)))).rejects.toMatchObject({ code: 'BLOB_UPLOAD_UNKNOWN' });
    for (const bad of ['../../etc/passwd', `${randomUUID()}/..`, 'ABCDEF00-0000-0000-0000-000000000000']) {
      await expect(driver.createUpload(bad)).rejects.toMatchObject({ code: 'BLOB_UPLOAD_UNKNOWN' });
    }
  });

  it("reports an append's progress and lets the upload be read while written and after commit", async () => {
    const id = randomUUID();
    await driver.createUpload(id);
    const data = randomBytes(5 * 1024 * 1024);
    const sizes: number[] = [];
    await driver.appendUpload(id, body(data, 64 * 1024), { expectedOffset: 0, onProgress: (size) => sizes.push(size) });
    expect(sizes.length).toBeGreaterThan(1);
    expect(sizes[sizes.length - 1]).toBe(data.length);
    expect([...sizes].sort((a, b) => a - b)).toEqual(sizes);

    const reader = await driver.readUpload(id);
    await driver.commitUpload(id, digestOf(data));
    const buffer = Buffer.alloc(1000);
    // The descriptor outlives the commit's rename.
    expect(await reader.read(buffer, data.length - 1000)).toBe(1000);
    expect(buffer.equals(data.subarray(data.length - 1000))).toBe(true);
    await reader.close();
    await expect(driver.readUpload(id)).rejects.toMatchObject({ code: 'BLOB_UPLOAD_UNKNOWN' });
  });

  it('serialises overlapping appends so only one can claim an offset', async () => {
    const id = randomUUID();
    await driver.createUpload(id);
    const a = randomBytes(50_000);
    const b = randomBytes(50_000);

    const results = await Promise.allSettled([driver.appendUpload(id, body(a), { expectedOffset: 0 }), driver.appendUpload(id, body(b), { expectedOffset: 0 })]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    await expect(driver.uploadSize(id)).resolves.toBe(50_000);
    await expect(driver.commitUpload(id, digestOf(a))).resolves.toEqual({ size: 50_000 });
  });
});
