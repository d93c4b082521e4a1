import cluster from 'node:cluster';
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
      // Worker processes reach a shared hasher by separate pipes: an extend may arrive after a
      // later one, reporting a prefix the state already covers (appended bytes never change).
      if (states.has(id) && states.get(id).offset > size) return;
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

/** The hashing program could not digest the upload (`detail` is its own message). */
class UploadHashingError extends Error {
  constructor(readonly detail: string) {
    super(`hashing the upload failed: ${detail}`);
  }
}

interface Waiter {
  resolve(hex: string): void;
  reject(err: Error): void;
}

/** What an `UploadHasher` sends to its hashing side (a thread, or the primary's hub that relays it to one). */
type HashRequest =
  | { op: 'extend'; id: string; file: string; size: number; settled: boolean }
  | { op: 'rewind'; id: string; size: number }
  | { op: 'forget'; id: string }
  | { op: 'digest'; id: string; file: string; size: number; algorithm: Algorithm; reply: number };

/** What the hashing side answers to a `digest`. */
export interface HasherReply {
  reply: number;
  hex?: string;
  error?: string;
}

export interface HasherEvents {
  reply(reply: HasherReply): void;
  /** The hashing side is gone: its state with it; pending digests fail. */
  failed(err: Error): void;
}

/** Where the hashing program runs, and how messages get there. */
export interface HasherLink {
  post(message: HashRequest): void;
  /** Keep this process alive (a digest is awaited) or not. */
  hold(held: boolean): void;
  close(): Promise<void>;
}

export type HasherConnector = (events: HasherEvents) => HasherLink;

/** The hashing program on a thread of this process. */
export const hashingThread: HasherConnector = (events) => {
  const worker = new Worker(WORKER_SOURCE, { eval: true });
  worker.on('message', (reply: HasherReply) => events.reply(reply));
  worker.on('error', (err) => events.failed(err));
  worker.on('exit', (code) => events.failed(new Error(`the hashing worker exited (${code})`)));
  // Idle, the thread must not keep the process alive; only while a digest is awaited does it.
  // After the listeners: adding a 'message' listener refs the worker's port again.
  worker.unref();
  return {
    post: (message) => worker.postMessage(message),
    hold: (held) => (held ? worker.ref() : worker.unref()),
    close: async () => void (await worker.terminate()),
  };
};

export const HASH_REQUEST = 'wharf:hash';
export const HASH_REPLY = 'wharf:hash-reply';

/**
 * In a worker process of a multi-process Wharf: the primary's hashing hub, so that an upload's
 * running hash is one, whichever worker each of its chunks arrives at (otherwise each worker
 * would hash the chunks the others wrote, again).
 */
export const hashingHubOfPrimary: HasherConnector = (events) => {
  const onMessage = (message: Record<string, HasherReply> | undefined) => {
    if (message?.[HASH_REPLY]) events.reply(message[HASH_REPLY]);
  };
  const onGone = () => events.failed(new Error('the primary process is gone'));
  process.on('message', onMessage);
  process.once('disconnect', onGone);
  return {
    // send()'s false means a backlog as well as a closed channel: only a send that fails, or no
    // channel at all, means the primary is gone.
    post: (message) => {
      if (!process.connected || !process.send) return onGone();
      process.send({ [HASH_REQUEST]: message }, undefined, undefined, (err) => err && onGone());
    },
    hold: () => undefined, // the IPC channel belongs to the cluster, which keeps it open
    close: async () => {
      process.off('message', onMessage);
      process.off('disconnect', onGone);
    },
  };
};

/**
 * Hashes uploads off the main thread while they are written, so SHA-256 (a third of a push's
 * main-thread time when done inline) runs beside receiving instead of in line with it. The
 * caller reports which prefix of the upload file is written (`extend`), marks the sizes a
 * successful append ended at (`settled`), and winds back to one after a failed append.
 * State is only an optimisation: without it (a restart, a rewind past the last settled size,
 * a hashing thread gone) `digest` hashes the file from the start. The hashing runs on a
 * thread of this process, or in a worker process on the primary's hub (`forThisProcess`).
 */
export class UploadHasher {
  private current?: { link: HasherLink; waiting: Map<number, Waiter> };
  private nextReply = 1;

  constructor(private readonly connect: HasherConnector = hashingThread) {}

  /** The hasher for this process: on the primary's hub in a cluster worker, else on a thread. */
  static forThisProcess(): UploadHasher {
    return new UploadHasher(cluster.isWorker ? hashingHubOfPrimary : hashingThread);
  }

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

  /** Stops the hashing side (tests, shutdown); the next call starts a new one. */
  async close(): Promise<void> {
    const link = this.current?.link;
    this.current = undefined;
    await link?.close();
  }

  private send(message: HashRequest, waiter?: Waiter): void {
    this.current ??= this.start();
    if (waiter && message.op === 'digest') {
      this.current.waiting.set(message.reply, waiter);
      this.current.link.hold(true);
    }
    this.current.link.post(message);
  }

  private start(): { link: HasherLink; waiting: Map<number, Waiter> } {
    const waiting = new Map<number, Waiter>();
    const link: HasherLink = this.connect({
      reply: ({ reply, hex, error }) => {
        const waiter = waiting.get(reply);
        waiting.delete(reply);
        if (waiting.size === 0) link.hold(false);
        if (error !== undefined) waiter?.reject(new UploadHashingError(error));
        else waiter?.resolve(hex!);
      },
      failed: (err) => {
        if (this.current?.link === link) this.current = undefined;
        for (const waiter of waiting.values()) waiter.reject(err);
        waiting.clear();
      },
    });
    return { link, waiting };
  }
}

/**
 * The primary's side of `hashingHubOfPrimary`: hashers shared by all worker processes, each on
 * its own thread; an upload's messages always go to the same one (by its id), and a digest's
 * answer goes back to the worker that asked.
 */
export class UploadHashingHub {
  private readonly hashers: UploadHasher[];

  constructor(threadCount: number) {
    this.hashers = Array.from({ length: Math.max(1, threadCount) }, () => new UploadHasher(hashingThread));
  }

  /** Takes the hashing requests of one worker process. */
  serve(peer: HashingPeer): void {
    peer.on('message', (message: Record<string, HashRequest> | undefined) => {
      const request = message?.[HASH_REQUEST];
      if (!request) return;
      const hasher = this.hashers[shardOf(request.id, this.hashers.length)];
      if (request.op === 'extend') hasher.extend(request.id, request.file, request.size, request.settled);
      else if (request.op === 'rewind') hasher.rewind(request.id, request.size);
      else if (request.op === 'forget') hasher.forget(request.id);
      else {
        const answer = (fields: Omit<HasherReply, 'reply'>) => peer.isConnected() && peer.send({ [HASH_REPLY]: { reply: request.reply, ...fields } });
        hasher.digest(request.id, request.file, request.size, request.algorithm).then(
          (hex) => answer({ hex }),
          (err: Error) => answer({ error: err instanceof UploadHashingError ? err.detail : err.message }),
        );
      }
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.hashers.map((hasher) => hasher.close()));
  }
}

/** A worker process as the hub sees it (a cluster Worker). */
export interface HashingPeer {
  on(event: 'message', listener: (message: any) => void): unknown;
  send(message: unknown): unknown;
  isConnected(): boolean;
}

function shardOf(id: string, count: number): number {
  let hash = 0;
  for (let i = 0; i < id.length; i++) hash = (hash * 31 + id.charCodeAt(i)) >>> 0;
  return hash % count;
}
