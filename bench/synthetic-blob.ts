import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

const CHUNK = 4 * 1024 * 1024;

/**
 * A large blob generated on the fly: one random 4 MiB block, each copy stamped with its
 * index so no two chunks are equal, and no two instances alike. Deterministic, so its digest
 * is computed by a first pass; never held in memory whole.
 */
export class SyntheticBlob {
  private readonly block = randomBytes(CHUNK);
  private cachedDigest?: string;

  constructor(readonly size: number) {}

  /** The bytes [start, end) as a stream of (at most) 4 MiB chunks. */
  stream(start = 0, end = this.size): Readable {
    const block = this.block;
    let offset = start;
    return new Readable({
      highWaterMark: CHUNK,
      read() {
        if (offset >= end) return void this.push(null);
        const index = Math.floor(offset / CHUNK);
        const within = offset - index * CHUNK;
        const length = Math.min(CHUNK - within, end - offset);
        const chunk = Buffer.from(block.subarray(0, within + length));
        chunk.writeUInt32BE(index >>> 0, 0);
        offset += length;
        this.push(within === 0 ? chunk : chunk.subarray(within));
      },
    });
  }

  async digest(): Promise<string> {
    if (this.cachedDigest) return this.cachedDigest;
    const hash = createHash('sha256');
    for await (const chunk of this.stream()) hash.update(chunk as Buffer);
    this.cachedDigest = `sha256:${hash.digest('hex')}`;
    return this.cachedDigest;
  }
}
