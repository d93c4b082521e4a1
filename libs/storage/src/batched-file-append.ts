import { FileHandle } from 'node:fs/promises';

/**
 * Bytes gathered before one writev by an upload appending alone (fewer when several append at
 * once, below). Network bodies arrive in 64 KiB reads; writing each one
 * is a round trip to libuv's thread pool, and on a small VM those hops, not the disk, capped
 * a 512 MiB push at ~300 MB/s. 2 MiB batches cut them 32-fold (measured: ~500 MB/s).
 */
export const APPEND_BATCH_BYTES = 2 * 1024 * 1024;
/** Also bounds the iovec count of one writev when a client sends tiny chunks. */
const APPEND_BATCH_CHUNKS = 256;

/**
 * What all the uploads of this process may hold in batches that fill, together: with more
 * uploads at once, each batch is smaller (down to 256 KiB). The chunks in a batch are the
 * socket's own 64 KiB buffers; held across two young-generation collections they move to
 * the old one, and only full mark-compacts free them. Eight concurrent 64 MiB pushes, three
 * rounds: 24 mark-compacts with 2 MiB batches, 4 with 512 KiB (`--trace-gc`, 2026-12-02).
 */
const BATCH_BYTES_OF_ALL_UPLOADS = 4 * 1024 * 1024;
const MIN_BATCH_BYTES = 256 * 1024;
let appendsInFlight = 0;

/** One upload's batch size while `appendsInFlight` uploads are appending. */
export function batchBytesFor(appends: number): number {
  return Math.max(MIN_BATCH_BYTES, Math.min(APPEND_BATCH_BYTES, Math.floor(BATCH_BYTES_OF_ALL_UPLOADS / Math.max(1, appends))));
}

/**
 * Appends `source` to `handle` (opened with O_APPEND) in large batches, with one batch being
 * written while the next fills, so receiving and writing overlap. At most two batches are held
 * in memory; while the second waits, the source is not read (backpressure reaches the sender).
 * `inspect` sees every chunk in order before it is written (length checks) and may throw to
 * stop; `written` hears the running total each time a batch is down. On any failure, returns only after the write in flight has settled, so the
 * caller can cut the file back without a late write landing after it.
 */
export async function appendBatched(
  source: AsyncIterable<Buffer>,
  handle: FileHandle,
  inspect: (chunk: Buffer) => void,
  written: (total: number) => void = () => undefined,
): Promise<void> {
  let batch: Buffer[] = [];
  let batchBytes = 0;
  let total = 0;
  let inFlight: Promise<void> = Promise.resolve();
  appendsInFlight++;
  const flush = async () => {
    await inFlight;
    total += batchBytes;
    const size = total;
    inFlight = writeAll(handle, batch).then(() => written(size));
    inFlight.catch(() => undefined); // awaited later; not an unhandled rejection meanwhile
    batch = [];
    batchBytes = 0;
  };
  try {
    for await (const chunk of source) {
      inspect(chunk);
      batch.push(chunk);
      batchBytes += chunk.length;
      if (batchBytes >= batchBytesFor(appendsInFlight) || batch.length >= APPEND_BATCH_CHUNKS) await flush();
    }
    if (batch.length > 0) await flush();
    await inFlight;
  } catch (err) {
    await inFlight.catch(() => undefined);
    throw err;
  } finally {
    appendsInFlight--;
  }
}

/** writev until every byte is down: a regular file may take fewer bytes than asked. */
async function writeAll(handle: FileHandle, buffers: Buffer[]): Promise<void> {
  let pending = buffers;
  for (;;) {
    const { bytesWritten } = await handle.writev(pending);
    if (bytesWritten === 0) throw new Error('the file took no bytes');
    pending = dropBytes(pending, bytesWritten);
    if (pending.length === 0) return;
  }
}

function dropBytes(buffers: Buffer[], count: number): Buffer[] {
  let index = 0;
  while (index < buffers.length && count >= buffers[index].length) count -= buffers[index++].length;
  const rest = buffers.slice(index);
  if (rest.length > 0 && count > 0) rest[0] = rest[0].subarray(count);
  return rest;
}
