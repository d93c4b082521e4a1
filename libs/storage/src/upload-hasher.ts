import { Worker } from 'node:worker_threads';

type Algorithm = 'sha256' | 'sha512';

/**
 * The worker's program. It keeps one running sha256 per upload and reads the upload file
 * itself (from the page cache) rather than receiving the bytes: nothing is copied between
 * threads. Messages are handled in order, so a digest request sees every extend before it.
 * Kept as source text so the same code runs from ts-jest and from the compiled server.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync } = require('node:fs');
const states = new Map(); // upload id -> { hash, offset, checkpoint?: { hash, offset } }
const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);

function hashFile(hash, file, from, to) {
  const fd = openSync(file, 'r');
  try {
    for (let position = from; position < to; ) {
      const read = readSync(fd, buffer, 0, Math.min(buffer.length, to - position), position);
      if (read === 0) throw new Error('upload file ends at byte ' + position + ', before ' + to);
      hash.update(buffer.subarray(0, read));
      position += read;
    }
  } finally {
    closeSync(fd);
  }
}

/** The upload's running sha256 brought to cover exactly the first size bytes. */
function extend(id, file, size) {
  let state = states.get(id);
  if (!state || state.offset > size) {
    state = { hash: createHash('sha256'), offset: 0 };
    states.set(id, state);
  }
  try {
    hashFile(state.hash, file, state.offset, size);
  } catch (err) {
    states.delete(id);
    throw err;
  }
  state.offset = size;
  return state;
}

parentPort.on('message', (message) => {
  const { op, id, file, size, reply } = message;
  try {
    if (op === 'extend') {
      const state = extend(id, file, size);
      if (message.settled) state.checkpoint = { hash: state.hash.copy(), offset: size };
    } else if (op === 'rewind') {
      const state = states.get(id);
      if (state && state.offset !== size) {
        if (state.checkpoint && state.checkpoint.offset === size) states.set(id, { hash: state.checkpoint.hash.copy(), offset: size, checkpoint: state.checkpoint });
        else states.delete(id);
      }
    } else if (op === 'digest') {
      let hex;
      if (message.algorithm === 'sha256') {
        hex = extend(id, file, size).hash.copy().digest('hex');
      } else {
        const hash = createHash(message.algorithm);
        hashFile(hash, file, 0, size);
        hex = hash.digest('hex');
      }
      parentPort.postMessage({ reply, hex });
    } else if (op === 'forget') {
      states.delete(id);
    }
  } catch (err) {
    // A failed extend only costs its state: the next digest hashes the file from the start.
    if (reply !== undefined) parentPort.postMessage({ reply, error: String(err && err.message) });
  }
});
`;

interface Waiter {
  resolve(hex: string): void;
  reject(err: Error): void;
}

/**
 * Hashes uploads on a worker thread while they are written, so SHA-256 (a third of a push's
 * main-thread time when done inline) runs beside receiving instead of in line with it. The
 * caller reports which prefix of the upload file is written (`extend`), marks the sizes a
 * successful append ended at (`settled`), and winds back to one after a failed append.
 * State is only an optimisation: without it (a restart, a rewind past the last settled size,
 * a worker crash) `digest` hashes the file from the start.
 */
export class UploadHasher {
  private current?: { worker: Worker; waiting: Map<number, Waiter> };
  private nextReply = 1;

  /** The first `size` bytes of the upload file are written; `settled` when an append ended there. */
  extend(uploadId: string, file: string, size: number, settled = false): void {
    this.send({ op: 'extend', id: uploadId, file, size, settled });
  }

  /** A failed append was cut back to `size` bytes. */
  rewind(uploadId: string, size: number): void {
    this.send({ op: 'rewind', id: uploadId, size });
  }

  /** The hex digest of the upload file's first `size` bytes. */
  digest(uploadId: string, file: string, size: number, algorithm: Algorithm): Promise<string> {
    return new Promise((resolve, reject) => {
      const reply = this.nextReply++;
      this.send({ op: 'digest', id: uploadId, file, size, algorithm, reply }, { resolve, reject });
    });
  }

  forget(uploadId: string): void {
    if (this.current) this.send({ op: 'forget', id: uploadId });
  }

  /** Stops the worker (tests, shutdown); the next call starts a new one. */
  async close(): Promise<void> {
    const worker = this.current?.worker;
    this.current = undefined;
    await worker?.terminate();
  }

  private send(message: Record<string, unknown>, waiter?: Waiter): void {
    this.current ??= this.start();
    if (waiter) {
      this.current.waiting.set(message.reply as number, waiter);
      this.current.worker.ref();
    }
    this.current.worker.postMessage(message);
  }

  private start(): { worker: Worker; waiting: Map<number, Waiter> } {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    const waiting = new Map<number, Waiter>();
    const started = { worker, waiting };
    worker.on('message', ({ reply, hex, error }: { reply: number; hex?: string; error?: string }) => {
      const waiter = waiting.get(reply);
      waiting.delete(reply);
      if (waiting.size === 0) worker.unref();
      if (error !== undefined) waiter?.reject(new Error(`hashing the upload failed: ${error}`));
      else waiter?.resolve(hex!);
    });
    const fail = (err: Error) => {
      if (this.current === started) this.current = undefined;
      for (const waiter of waiting.values()) waiter.reject(err);
      waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the hashing worker exited (${code})`)));
    // Idle, the worker must not keep the process alive; only while a digest is awaited does it.
    // After the listeners: adding a 'message' listener refs the worker's port again.
    worker.unref();
    return started;
  }
}
