import { FileHandle } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';

/**
 * Read size for both ways of consuming the stream. Two buffers of this size stay hot in the
 * CPU cache between the read from the page cache and the write to the socket: measured on a
 * 512 MiB blob over loopback (2026-12-01, warm page cache, 5 pulls each, MB/s against
 * Distribution's sendfile in the same runs), 256 KiB 2,990-3,540 (more syscalls), 512 KiB
 * 4,590-5,260, 1 MiB 3,910-4,860, 4 MiB 2,340-3,690, 16 MiB 2,240-2,890; Distribution
 * 3,040-3,760. Reused buffers also beat fs.createReadStream's fresh one per read (15-25%,
 * measured 2026-11-23), as they leave the collector nothing to do.
 */
const READ_BYTES = 512 * 1024;

/**
 * An inclusive byte range of an open file, as a Readable for any consumer, plus `pipeInto`,
 * the fast path for a socket-like destination: two buffers are reused, one being written
 * while the next is read, each handed back only when the destination's write callback says
 * the bytes left it. Owns the file handle and closes it when done either way.
 */
export class FileRangeStream extends Readable {
  private position: number;

  constructor(
    private readonly handle: FileHandle,
    start: number,
    private readonly end: number,
  ) {
    super({ highWaterMark: READ_BYTES });
    this.position = start;
  }

  /** Writes the range into `out` (without ending it); the stream is spent afterwards. */
  async pipeInto(out: Writable): Promise<void> {
    const buffers = [Buffer.allocUnsafeSlow(READ_BYTES), Buffer.allocUnsafeSlow(READ_BYTES)];
    let writing: Promise<void> = Promise.resolve();
    try {
      for (let turn = 0; this.position <= this.end; turn++) {
        // The buffer written two turns ago: the write awaited at the end of the last turn freed it.
        const chunk = await this.readInto(buffers[turn % 2]);
        await writing;
        writing = writeTo(out, chunk);
        writing.catch(() => undefined); // awaited on the next turn or below
      }
      await writing;
    } finally {
      this.destroy();
    }
  }

  _read(): void {
    if (this.position > this.end) {
      this.push(null);
      return;
    }
    // Buffers handed to push() belong to the consumer, so this path allocates each one.
    this.readInto(Buffer.allocUnsafe(Math.min(READ_BYTES, this.end - this.position + 1))).then(
      (chunk) => this.push(chunk),
      (err) => this.destroy(err),
    );
  }

  _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.handle.close().then(
      () => callback(err),
      (closeErr) => callback(err ?? closeErr),
    );
  }

  private async readInto(buffer: Buffer): Promise<Buffer> {
    const length = Math.min(buffer.length, this.end - this.position + 1);
    const { bytesRead } = await this.handle.read(buffer, 0, length, this.position);
    // The file is content-addressed and never rewritten, so a short file means damage.
    if (bytesRead === 0) throw new Error(`blob file ended at byte ${this.position}, before ${this.end + 1}`);
    this.position += bytesRead;
    return buffer.subarray(0, bytesRead);
  }
}

/** Resolves once `out` has taken the chunk (for a socket: handed it to the kernel). */
function writeTo(out: Writable, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    if (out.destroyed) return reject(new Error('the destination was closed'));
    const onClose = () => reject(new Error('the destination was closed'));
    out.once('close', onClose);
    out.write(chunk, (err) => {
      out.off('close', onClose);
      if (err) reject(err);
      else resolve();
    });
  });
}
