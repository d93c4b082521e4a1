import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { Digest, parseDigest } from '@wharf/oci';
import { DriverBackedBlobStore, PathNotFoundError } from '@wharf/storage';
import { S3StorageDriver } from '../libs/storage/src/driver/s3-storage.driver';
import { describeStorageDriverConformance } from '../libs/storage/src/driver/storage-driver-conformance';
import { CephRgw, startCephRgw } from './helpers/ceph-rgw';

// The S3 driver against a real S3: Ceph's RADOS Gateway, a single-node cluster started here.
// Parts of 5 MiB (S3's minimum) so that the suite's sizes cross part boundaries.
const MiB = 1024 * 1024;
let rgw: CephRgw;
let client: S3Client;
const bucket = `wharf-s3-driver-${randomBytes(3).toString('hex')}`;

beforeAll(async () => {
  rgw = await startCephRgw();
  await rgw.createBucket(bucket);
  client = new S3Client(rgw.s3Config);
});

afterAll(async () => {
  client?.destroy();
  await rgw?.stop();
});

function driver(prefix: string, copy?: { singleLimit: number; partBytes: number }): S3StorageDriver {
  return new S3StorageDriver({ client, bucket, prefix, partBytes: 5 * MiB, copy });
}

describeStorageDriverConformance('s3 (Ceph RADOS Gateway)', async () => ({ driver: driver('conformance'), cleanup: async () => undefined }));

async function unfinished(prefix: string): Promise<string[]> {
  const res = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  return (res.Uploads ?? []).map((upload) => upload.Key!);
}

describe('s3 storage driver: multipart uploads', () => {
  it('leaves no multipart upload behind: not after a commit, a cancel, nor the parts of a failed write', async () => {
    const s3 = driver('uploads');
    // A write that fails after sending a part, then a commit under one part's size (one PUT).
    const small = await s3.writer('/small');
    const failing = Readable.from(
      (async function* () {
        yield randomBytes(6 * MiB);
        throw new Error('gone');
      })(),
    );
    await expect(small.write(failing)).rejects.toThrow('gone');
    await small.write(Readable.from([Buffer.from('tiny')]));
    await small.commit();
    expect((await s3.getContent('/small')).toString()).toBe('tiny');
    // Several parts, committed; and one cancelled.
    const large = await s3.writer('/large');
    await large.write(Readable.from([randomBytes(11 * MiB)]));
    await large.commit();
    const cancelled = await s3.writer('/cancelled');
    await cancelled.write(Readable.from([randomBytes(6 * MiB)]));
    await cancelled.cancel();
    expect(await unfinished('uploads/')).toEqual([]);
  });

  it('moves a file beyond the single-copy limit as a multipart copy, whole (limits scaled down from 5 GiB and 1 GiB parts)', async () => {
    const s3 = driver('copies', { singleLimit: 6 * MiB, partBytes: 5 * MiB });
    const bytes = randomBytes(13 * MiB + 7);
    const writer = await s3.writer('/source');
    await writer.write(Readable.from([bytes]));
    await writer.commit();
    await s3.move('/source', '/target');
    await expect(s3.stat('/source')).rejects.toBeInstanceOf(PathNotFoundError);
    expect((await s3.stat('/target')).size).toBe(bytes.length);
    const chunks: Buffer[] = [];
    for await (const chunk of await s3.reader('/target')) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
    expect(await unfinished('copies/')).toEqual([]);
  });

  it('a new write of a key discards what an unfinished earlier one left', async () => {
    const s3 = driver('restart');
    const first = await s3.writer('/blob');
    await first.write(Readable.from([randomBytes(6 * MiB)]));
    await first.close();
    expect(await unfinished('restart/')).toEqual(['restart/blob']);
    const second = await s3.writer('/blob');
    expect(second.size).toBe(0);
    await second.write(Readable.from([Buffer.from('fresh')]));
    await second.commit();
    expect((await s3.getContent('/blob')).toString()).toBe('fresh');
    expect(await unfinished('restart/')).toEqual([]);
  });
});

describe('the blob store on S3', () => {
  function digestOf(data: Buffer): Digest {
    return parseDigest(`sha256:${createHash('sha256').update(data).digest('hex')}`);
  }
  async function readAll(stream: Readable): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    return Buffer.concat(chunks);
  }
  function inPieces(data: Buffer, size = 64 * 1024): Readable {
    const pieces: Buffer[] = [];
    for (let i = 0; i < data.length; i += size) pieces.push(data.subarray(i, i + size));
    return Readable.from(pieces);
  }

  it('stores a verified upload under its digest, deduplicates, and leaves no upload behind', async () => {
    const store = new DriverBackedBlobStore(driver('store-a'));
    const data = randomBytes(7 * MiB + 5);
    for (let copy = 0; copy < 2; copy++) {
      const id = randomUUID();
      await store.createUpload(id);
      await store.appendUpload(id, inPieces(data), { expectedOffset: 0, expectedLength: data.length });
      await expect(store.commitUpload(id, digestOf(data), data.length)).resolves.toEqual({ size: data.length });
      await expect(store.uploadSize(id)).resolves.toBeNull();
    }
    expect((await readAll(await store.read(digestOf(data)))).equals(data)).toBe(true);
    expect((await readAll(await store.read(digestOf(data), { start: 10, end: 19 }))).equals(data.subarray(10, 20))).toBe(true);
    const listed = await driver('store-a')
      .list('/uploads')
      .catch(() => []);
    expect(listed).toEqual([]);
    expect(await unfinished('store-a/')).toEqual([]);
  });

  it('refuses a wrong digest: nothing appears under either digest, the upload is gone', async () => {
    const store = new DriverBackedBlobStore(driver('store-b'));
    const data = randomBytes(6 * MiB);
    const claimed = digestOf(Buffer.from('something else'));
    const id = randomUUID();
    await store.createUpload(id);
    await store.appendUpload(id, inPieces(data), { expectedOffset: 0 });
    await expect(store.commitUpload(id, claimed)).rejects.toMatchObject({ code: 'DIGEST_INVALID' });
    await expect(store.stat(claimed)).resolves.toBeNull();
    await expect(store.stat(digestOf(data))).resolves.toBeNull();
    await expect(store.uploadSize(id)).resolves.toBeNull();
    expect(await unfinished('store-b/')).toEqual([]);
  });

  it('takes a chunked upload whose chunks alternate between two hosts, and a failed chunk leaves no trace', async () => {
    // Two stores on one bucket: two Wharf hosts with no shared memory (hashes included).
    const hosts = [new DriverBackedBlobStore(driver('store-c')), new DriverBackedBlobStore(driver('store-c'))];
    const chunks = [randomBytes(3 * MiB), randomBytes(4 * MiB), randomBytes(100), randomBytes(6 * MiB)];
    const id = randomUUID();
    await hosts[0].createUpload(id);
    let offset = 0;
    for (const [i, chunk] of chunks.entries()) {
      const host = hosts[i % 2];
      if (i === 2) {
        const failing = Readable.from(
          (async function* () {
            yield randomBytes(6 * MiB);
            throw new Error('connection reset');
          })(),
        );
        await expect(host.appendUpload(id, failing, { expectedOffset: offset })).rejects.toThrow('connection reset');
      }
      offset = await host.appendUpload(id, inPieces(chunk), { expectedOffset: offset, expectedLength: chunk.length });
    }
    const whole = Buffer.concat(chunks);
    expect(offset).toBe(whole.length);
    await expect(hosts[1].appendUpload(id, inPieces(Buffer.from('x')), { expectedOffset: 5 })).rejects.toMatchObject({ code: 'RANGE_INVALID' });
    // The host that commits saw only half the chunks: it hashes the upload from the store.
    await expect(hosts[1].commitUpload(id, digestOf(whole))).resolves.toEqual({ size: whole.length });
    expect((await readAll(await hosts[0].read(digestOf(whole)))).equals(whole)).toBe(true);
    expect(await unfinished('store-c/')).toEqual([]);
  });

  it('a body shorter than declared is SIZE_INVALID and changes nothing; an upload is not readable before commit', async () => {
    const store = new DriverBackedBlobStore(driver('store-d'));
    const id = randomUUID();
    await store.createUpload(id);
    await store.appendUpload(id, inPieces(randomBytes(1000)), { expectedOffset: 0 });
    await expect(store.appendUpload(id, inPieces(randomBytes(10)), { expectedOffset: 1000, expectedLength: 20 })).rejects.toMatchObject({ code: 'SIZE_INVALID' });
    await expect(store.uploadSize(id)).resolves.toBe(1000);
    await expect(store.readUpload(id)).rejects.toMatchObject({ code: 'BLOB_UPLOAD_UNKNOWN' });
    await store.deleteUpload(id);
    await expect(store.uploadSize(id)).resolves.toBeNull();
    expect(await unfinished('store-d/')).toEqual([]);
  });
});
