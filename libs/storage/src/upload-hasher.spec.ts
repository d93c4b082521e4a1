import { createHash, randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { open } from 'node:fs/promises';
import { HASH_REPLY, HASH_REQUEST, HasherConnector, HashingPeer, UploadHasher, UploadHashingHub } from './upload-hasher';

const sha = (data: Buffer, algorithm = 'sha256') => createHash(algorithm).update(data).digest('hex');

describe('UploadHasher', () => {
  let dir: string;
  let file: string;
  let hasher: UploadHasher;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-hasher-'));
    file = join(dir, 'upload');
    await writeFile(file, '');
    hasher = new UploadHasher();
  });
  afterEach(async () => {
    await hasher.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('digests the prefix it was told about, as it grows', async () => {
    const first = randomBytes(3 * 1024 * 1024);
    const second = randomBytes(5 * 1024 * 1024 + 3);
    await appendFile(file, first);
    hasher.extend('u', file, first.length, true);
    await appendFile(file, second);
    hasher.extend('u', file, first.length + 1000);
    await expect(hasher.digest('u', file, first.length + second.length, 'sha256')).resolves.toBe(sha(Buffer.concat([first, second])));
  });

  it('winds back to the last settled size after a failed append', async () => {
    const kept = randomBytes(10_000);
    await appendFile(file, kept);
    hasher.extend('u', file, kept.length, true);
    await appendFile(file, randomBytes(7_000)); // an append that will fail
    hasher.extend('u', file, kept.length + 7_000);
    await truncate(file, kept.length);
    hasher.rewind('u', kept.length);
    const retry = randomBytes(4_000);
    await appendFile(file, retry);
    hasher.extend('u', file, kept.length + retry.length, true);
    await expect(hasher.digest('u', file, kept.length + retry.length, 'sha256')).resolves.toBe(sha(Buffer.concat([kept, retry])));
  });

  it('rehashes from the start when the state is behind, ahead or missing', async () => {
    const data = randomBytes(50_000);
    await appendFile(file, data);
    await expect(hasher.digest('fresh', file, data.length, 'sha256')).resolves.toBe(sha(data));
    hasher.extend('ahead', file, data.length);
    await expect(hasher.digest('ahead', file, 20_000, 'sha256')).resolves.toBe(sha(data.subarray(0, 20_000)));
    await expect(hasher.digest('u', file, data.length, 'sha512')).resolves.toBe(sha(data, 'sha512'));
  });

  it('rejects a digest of bytes the file does not hold, and keeps working', async () => {
    await appendFile(file, randomBytes(100));
    await expect(hasher.digest('u', file, 200, 'sha256')).rejects.toThrow(/ends at byte 100/);
    await expect(hasher.digest('u', file, 100, 'sha256')).resolves.toHaveLength(64);
  });

  it('starts a new worker after the old one is gone', async () => {
    const data = randomBytes(1000);
    await appendFile(file, data);
    hasher.extend('u', file, data.length, true);
    await hasher.close();
    await expect(hasher.digest('u', file, data.length, 'sha256')).resolves.toBe(sha(data));
  });

  it('ignores an extend that arrives after a later one (from another worker process)', async () => {
    const first = randomBytes(16_000);
    const second = randomBytes(16_000);
    await appendFile(file, first);
    hasher.extend('u', file, first.length, true);
    await appendFile(file, second);
    hasher.extend('u', file, first.length + second.length, true);
    await expect(hasher.digest('u', file, first.length + second.length, 'sha256')).resolves.toBe(sha(Buffer.concat([first, second])));
    // A probe: bytes the state already covers change on disk. Had the late extend reset the
    // state, the digest would cover the changed bytes.
    await overwrite(file, 0, Buffer.alloc(100, 7));
    hasher.extend('u', file, first.length, true);
    await expect(hasher.digest('u', file, first.length + second.length, 'sha256')).resolves.toBe(sha(Buffer.concat([first, second])));
  });
});

/** Writes `bytes` over the file at `position`. */
async function overwrite(path: string, position: number, bytes: Buffer): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.write(bytes, 0, bytes.length, position);
  } finally {
    await handle.close();
  }
}

/** A worker process's IPC channel, in memory: what the hub sends arrives at `replies`. */
class FakeWorkerChannel extends EventEmitter implements HashingPeer {
  connected = true;
  private readonly replyListeners: Array<(reply: any) => void> = [];
  send(message: Record<string, unknown>): boolean {
    setImmediate(() => this.replyListeners.forEach((listener) => listener(message[HASH_REPLY])));
    return true;
  }
  isConnected(): boolean {
    return this.connected;
  }
  /** An UploadHasher of this "worker", sending to the hub through this channel. */
  hasher(): UploadHasher {
    const connector: HasherConnector = (events) => {
      this.replyListeners.push((reply) => events.reply(reply));
      return { post: (message) => setImmediate(() => this.emit('message', { [HASH_REQUEST]: message })), hold: () => undefined, close: async () => undefined };
    };
    return new UploadHasher(connector);
  }
}

describe('UploadHashingHub', () => {
  let dir: string;
  let hub: UploadHashingHub;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-hub-'));
    hub = new UploadHashingHub(2);
  });
  afterEach(async () => {
    await hub.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps one running hash per upload for all workers: chunks through either are hashed once', async () => {
    const [a, b] = [new FakeWorkerChannel(), new FakeWorkerChannel()];
    hub.serve(a);
    hub.serve(b);
    const onA = a.hasher();
    const onB = b.hasher();
    const file = join(dir, 'upload');
    const chunks = [randomBytes(20_000), randomBytes(30_000), randomBytes(10_000)];
    await writeFile(file, '');
    let size = 0;
    for (const [i, chunk] of chunks.entries()) {
      await appendFile(file, chunk);
      size += chunk.length;
      (i % 2 === 0 ? onA : onB).extend('u', file, size, true);
    }
    // Once a's digest is in, every extend has been hashed. Then a probe changes bytes on disk
    // that only a's extends read: b's digest must still come from that shared state.
    await expect(onA.digest('u', file, size, 'sha256')).resolves.toBe(sha(Buffer.concat(chunks)));
    await overwrite(file, 0, Buffer.alloc(100, 7));
    await expect(onB.digest('u', file, size, 'sha256')).resolves.toBe(sha(Buffer.concat(chunks)));
  });

  it('answers each worker its own digests, for uploads on different threads', async () => {
    const [a, b] = [new FakeWorkerChannel(), new FakeWorkerChannel()];
    hub.serve(a);
    hub.serve(b);
    const files = await Promise.all(
      ['x', 'y', 'z', 'w'].map(async (name) => {
        const path = join(dir, name);
        const data = randomBytes(5_000);
        await writeFile(path, data);
        return { name, path, data };
      }),
    );
    const [onA, onB] = [a.hasher(), b.hasher()];
    const answers = await Promise.all(files.map(({ name, path, data }, i) => (i % 2 ? onB : onA).digest(name, path, data.length, 'sha256')));
    expect(answers).toEqual(files.map(({ data }) => sha(data)));
  });
});
