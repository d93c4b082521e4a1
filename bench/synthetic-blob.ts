import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

const CHUNK = 4 * 1024 * 1024;

/**
 * A large blob generated on the fly: one random 4 MiB block, each copy stamped with its
 * index so no two chunks are equal. Deterministic, so its digest is computed by a first pass.
 */
export class SyntheticBlob {
  private readonly block = randomBytes(CHUNK);

  constructor(readonly size: number) {}

  stream(): Readable {
    const block = this.block;
    const size = this.size;
    let offset = 0;
    return new Readable({
      highWaterMark: CHUNK,
      read() {
        if (offset >= size) return void this.push(null);
        const length = Math.min(CHUNK, size - offset);
        const chunk = Buffer.from(block.subarray(0, length));
        chunk.writeUInt32BE((offset / CHUNK) >>> 0, 0);
        offset += length;
        this.push(chunk);
      },
    });
  }

  async digest(): Promise<string> {
    const hash = createHash('sha256');
    for await (const chunk of this.stream()) hash.update(chunk as Buffer);
    return `sha256:${hash.digest('hex')}`;
  }
}
