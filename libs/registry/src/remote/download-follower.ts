import { Readable } from 'node:stream';
import { UploadReader } from '@wharf/storage';

const READ_BYTES = 1024 * 1024;

/**
 * How far the one upstream download of a blob has got: bytes in its upload file, and
 * whether they matched the digest. Followers wait on `changed()`.
 */
export class DownloadProgress {
  written = 0;
  verified = false;
  failure?: Error;
  private wake!: () => void;
  private next = this.arm();

  advance(size: number): void {
    this.written = size;
    this.signal();
  }

  verify(): void {
    this.verified = true;
    this.signal();
  }

  fail(err: Error): void {
    this.failure ??= err;
    this.signal();
  }

  /** Resolves at the next change of any of the above. */
  changed(): Promise<void> {
    return this.next;
  }

  private signal(): void {
    const wake = this.wake;
    this.next = this.arm();
    wake();
  }

  private arm(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }
}

/**
 * A second (or later) client of a blob being downloaded: reads the upload file as it grows
 * instead of waiting for the stored blob, so it gets its first bytes at once. Like the first
 * client's stream it holds back the end: the last byte goes out only once the digest matched,
 * and a failed download ends the stream with an error (a short body, never bad bytes that look
 * complete).
 */
export class DownloadFollower extends Readable {
  private position = 0;
  private reading = false;

  constructor(
    private readonly reader: UploadReader,
    private readonly length: number,
    private readonly progress: DownloadProgress,
  ) {
    super({ highWaterMark: READ_BYTES });
  }

  _read(): void {
    if (this.reading) return;
    this.reading = true;
    this.pump().then(
      () => (this.reading = false),
      (err) => this.destroy(err),
    );
  }

  _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.reader.close().then(
      () => callback(err),
      (closeErr) => callback(err ?? closeErr),
    );
  }

  /** Pushes the next available bytes, waiting for the download when it has none yet. */
  private async pump(): Promise<void> {
    for (;;) {
      if (this.position >= this.length) {
        this.push(null);
        return;
      }
      if (this.progress.failure) throw this.progress.failure;
      const available = this.progress.verified ? this.length : Math.min(this.progress.written, this.length - 1);
      if (this.position < available) {
        const buffer = Buffer.allocUnsafe(Math.min(READ_BYTES, available - this.position));
        const read = await this.reader.read(buffer, this.position);
        if (read === 0) throw new Error(`the download's file ended at byte ${this.position}`);
        this.position += read;
        this.push(buffer.subarray(0, read));
        return;
      }
      await this.progress.changed();
    }
  }
}
