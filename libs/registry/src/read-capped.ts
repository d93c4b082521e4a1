import { Readable } from 'node:stream';

/**
 * Reads a small body (a manifest, a tag list) into memory, refusing it with `tooLarge(size)`
 * as soon as it passes `limit`, before the rest is read. Never for blobs.
 */
export async function readCapped(body: Readable, limit: number, tooLarge: (size: number) => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += (chunk as Buffer).length;
    // Leaving the loop by a throw ends the stream's iterator, which destroys the stream.
    if (total > limit) throw tooLarge(total);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
