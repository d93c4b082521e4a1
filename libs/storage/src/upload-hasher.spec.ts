import { createHash, randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UploadHasher } from './upload-hasher';

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
});
