import { randomBytes } from 'node:crypto';
import { FileHandle, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APPEND_BATCH_BYTES, appendBatched, batchBytesFor } from './batched-file-append';

async function* chunksOf(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

describe('appendBatched', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'wharf-append-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function appendToFile(data: Buffer, chunkSize: number): Promise<{ content: Buffer; seen: number }> {
    const file = join(dir, 'upload');
    const handle = await open(file, 'a');
    let seen = 0;
    try {
      await appendBatched(chunksOf(data, chunkSize), handle, (chunk) => (seen += chunk.length));
    } finally {
      await handle.close();
    }
    return { content: await readFile(file), seen };
  }

  it('writes several batches in order, each chunk inspected once', async () => {
    const data = randomBytes(3 * APPEND_BATCH_BYTES + 12345);
    const { content, seen } = await appendToFile(data, 64 * 1024);
    expect(content.equals(data)).toBe(true);
    expect(seen).toBe(data.length);
  });

  it('flushes by chunk count when a client sends tiny chunks', async () => {
    const data = randomBytes(5000);
    const { content } = await appendToFile(data, 3);
    expect(content.equals(data)).toBe(true);
  });

  it('retries a writev that took only part of the bytes', async () => {
    const written: Buffer[] = [];
    const stingy = {
      // Takes at most 1000 bytes per call, as a regular file may.
      async writev(buffers: Buffer[]) {
        const all = Buffer.concat(buffers).subarray(0, 1000);
        written.push(Buffer.from(all));
        return { bytesWritten: all.length, buffers };
      },
    } as unknown as FileHandle;
    const data = randomBytes(10_000);
    await appendBatched(chunksOf(data, 333), stingy, () => undefined);
    expect(Buffer.concat(written).equals(data)).toBe(true);
  });

  it('on a failure, settles the write in flight before rejecting', async () => {
    const events: string[] = [];
    const slow = {
      async writev(buffers: Buffer[]) {
        events.push('write started');
        await new Promise((resolve) => setTimeout(resolve, 50));
        events.push('write done');
        return { bytesWritten: buffers.reduce((n, b) => n + b.length, 0), buffers };
      },
    } as unknown as FileHandle;
    let seen = 0;
    const failure = appendBatched(chunksOf(randomBytes(APPEND_BATCH_BYTES + 10), 1024 * 1024), slow, (chunk) => {
      seen += chunk.length;
      if (seen > APPEND_BATCH_BYTES) throw new Error('too long');
    });
    await expect(failure).rejects.toThrow('too long');
    events.push('rejected');
    expect(events).toEqual(['write started', 'write done', 'rejected']);
  });

  it('shrinks the batches as more uploads append at once, within 256 KiB to 2 MiB', () => {
    const MiB = 1024 * 1024;
    expect([1, 2, 4, 8, 64].map(batchBytesFor)).toEqual([2 * MiB, 2 * MiB, MiB, MiB / 2, MiB / 4]);
  });

  it('writes 512 KiB batches while eight uploads append together, each file intact', async () => {
    const sizes: number[] = [];
    const recording = (into: Buffer[]) =>
      ({
        async writev(buffers: Buffer[]) {
          const bytes = buffers.reduce((n, b) => n + b.length, 0);
          sizes.push(bytes);
          into.push(Buffer.concat(buffers));
          await new Promise((resolve) => setTimeout(resolve, 1));
          return { bytesWritten: bytes, buffers };
        },
      }) as unknown as FileHandle;
    const uploads = Array.from({ length: 8 }, () => ({ data: randomBytes(3 * 1024 * 1024), written: [] as Buffer[] }));
    await Promise.all(uploads.map((u) => appendBatched(chunksOf(u.data, 64 * 1024), recording(u.written), () => undefined)));
    for (const u of uploads) expect(Buffer.concat(u.written).equals(u.data)).toBe(true);
    expect(Math.max(...sizes)).toBe(512 * 1024);
  });
});
