import { randomBytes } from 'node:crypto';
import { UploadReader } from '@wharf/storage';
import { DownloadFollower, DownloadProgress } from './download-follower';

/** An upload file as a buffer of which the first `written` bytes exist. */
function uploadOf(data: Buffer): UploadReader & { closed: boolean } {
  return {
    closed: false,
    async read(buffer: Buffer, position: number) {
      return data.copy(buffer, 0, position, Math.min(data.length, position + buffer.length));
    },
    async close() {
      this.closed = true;
    },
  };
}

async function collect(stream: DownloadFollower, into: Buffer[]): Promise<void> {
  for await (const chunk of stream) into.push(chunk as Buffer);
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('DownloadFollower', () => {
  const data = randomBytes(3 * 1024 * 1024 + 5);

  it('streams what is written as it grows and holds the last byte until the digest matched', async () => {
    const progress = new DownloadProgress();
    const reader = uploadOf(data);
    const chunks: Buffer[] = [];
    const done = collect(new DownloadFollower(reader, data.length, progress), chunks);

    progress.advance(1024 * 1024);
    await settle();
    expect(Buffer.concat(chunks).length).toBe(1024 * 1024);

    progress.advance(data.length);
    await settle();
    expect(Buffer.concat(chunks).length).toBe(data.length - 1);

    progress.verify();
    await done;
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    expect(reader.closed).toBe(true);
  });

  it("ends with the download's error when it fails, never with a complete-looking body", async () => {
    const progress = new DownloadProgress();
    const chunks: Buffer[] = [];
    const done = collect(new DownloadFollower(uploadOf(data), data.length, progress), chunks);
    progress.advance(data.length);
    await settle();
    progress.fail(new Error('digest mismatch'));
    await expect(done).rejects.toThrow('digest mismatch');
    expect(Buffer.concat(chunks).length).toBeLessThan(data.length);
  });
});
