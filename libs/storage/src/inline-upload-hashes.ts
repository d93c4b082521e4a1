import { Hash, createHash } from 'node:crypto';

/**
 * Running SHA-256 hashes of uploads whose bytes are not on this machine's disk (S3): each
 * append's bytes are hashed as they pass. Per process: an upload that continues in another
 * process or on another host is hashed again from the stored bytes when it is verified.
 */
export class InlineUploadHashes {
  private readonly running = new Map<string, { hash: Hash; offset: number }>();

  /**
   * The hash to feed an append that starts at `offset`, or undefined when this process has
   * not seen the bytes before it. `undo` puts back the state from before the append.
   */
  begin(uploadId: string, offset: number): { hash: Hash; done(size: number): void; undo(): void } | undefined {
    const current = this.running.get(uploadId) ?? (offset === 0 ? { hash: createHash('sha256'), offset: 0 } : undefined);
    if (!current || current.offset !== offset) {
      this.running.delete(uploadId);
      return undefined;
    }
    const checkpoint = current.hash.copy();
    this.running.set(uploadId, current);
    return {
      hash: current.hash,
      done: (size) => (current.offset = size),
      undo: () => this.running.set(uploadId, { hash: checkpoint, offset }),
    };
  }

  /** The hex digest of exactly `size` bytes, when the running hash covers that much. */
  digest(uploadId: string, size: number): string | undefined {
    const current = this.running.get(uploadId);
    return current?.offset === size ? current.hash.copy().digest('hex') : undefined;
  }

  forget(uploadId: string): void {
    this.running.delete(uploadId);
  }
}
