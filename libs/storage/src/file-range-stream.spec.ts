import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { FileRangeStream } from './file-range-stream';

/** Looks at each chunk only when it acknowledges it, later: a buffer reused too early shows up as wrong bytes. */
class LateReader extends Writable {
  readonly received: Buffer[] = [];
  _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    setTimeout(() => {
      this.received.push(Buffer.from(chunk));
      callback();
    }, 5);
  }
}

describe('FileRangeStream', () => {
  let dir: string;
  let file: string;
  // Over two read buffers (4 MiB each), so both are reused.
  const data = randomBytes(9 * 1024 * 1024 + 777);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-range-'));
    file = join(dir, 'blob');
    await writeFile(file, data);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const streamOf = async (start: number, end: number) => new FileRangeStream(await open(file, 'r'), start, end);

  it('reads an inclusive range as a Readable', async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of await streamOf(100, 5 * 1024 * 1024)) chunks.push(chunk);
    expect(Buffer.concat(chunks).equals(data.subarray(100, 5 * 1024 * 1024 + 1))).toBe(true);
  });

  it('pipes the whole file without reusing a buffer before its write is acknowledged', async () => {
    const out = new LateReader();
    const stream = await streamOf(0, data.length - 1);
    await stream.pipeInto(out);
    expect(Buffer.concat(out.received).equals(data)).toBe(true);
    expect(stream.destroyed).toBe(true);
  });

  it('ends at once for an empty range', async () => {
    const out = new LateReader();
    await (await streamOf(0, -1)).pipeInto(out);
    expect(out.received).toEqual([]);
  });

  it('rejects when the destination closes mid-way, and releases the file', async () => {
    const out = new LateReader();
    const stream = await streamOf(0, data.length - 1);
    setTimeout(() => out.destroy(), 2);
    await expect(stream.pipeInto(out)).rejects.toThrow();
    await new Promise((resolve) => stream.once('close', resolve).closed && resolve(undefined));
    expect(stream.destroyed).toBe(true);
  });

  it('fails instead of ending short when the file is shorter than the range', async () => {
    const stream = await streamOf(data.length - 10, data.length + 10);
    await expect(stream.pipeInto(new LateReader())).rejects.toThrow(/ended at byte/);
  });
});
