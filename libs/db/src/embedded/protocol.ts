/**
 * What EmbeddedDatabase (Wharf's thread) and its database thread (pglite-worker.ts) say to
 * each other. Kept apart from the worker so that Wharf's thread never evaluates the worker.
 */

/** `workerData.role` of the serving thread. */
export const SERVE_ROLE = 'wharf-embedded-database';
/** The child process's first argument: create the database in the directory that follows, then exit. */
export const CREATE_ARG = '--wharf-create-embedded-database';

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
}

/** From the database thread. `failed` in phase `open`: the database did not open, and nothing listens. */
export type FromWorker = { type: 'listening'; host: string; port: number } | { type: 'failed'; phase: 'open' | 'close'; error: SerializedError } | { type: 'closed' };

/** To the database thread: close the server and the database, then end. */
export type ToWorker = { type: 'close' };

/** From the creating child process, over its IPC channel, before it exits 1. */
export type FromCreator = { type: 'failed'; error: SerializedError };

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack };
  return { name: 'Error', message: String(err) };
}

/** An Error again, with the name it had (`RuntimeError` for a WebAssembly abort). */
export function deserializeError(serialized: SerializedError): Error {
  const err = new Error(serialized.message);
  err.name = serialized.name;
  if (serialized.stack) err.stack = serialized.stack;
  return err;
}
