import * as path from 'node:path';

/**
 * The embedded database's files would not open. PGlite says only `Aborted()` or "failed to
 * initialize properly"; this says where the files are and how to get going again.
 */
export class EmbeddedDatabaseUnreadableError extends Error {
  constructor(
    readonly dir: string,
    cause: unknown,
  ) {
    const dataDir = path.dirname(dir);
    super(
      `the embedded database in ${dir} cannot be opened (${describe(cause)}): its files are damaged or unreadable, ` +
        'for example because two Wharf servers had it open at once, the disk filled up, or its permissions changed. ' +
        `To recover, stop Wharf, then either restore ${dir} from a backup, or move it aside ` +
        `(mv ${dir} ${dir}.damaged) to start with an empty database: repositories, users and tags are in the database, ` +
        `the blob files in ${path.join(dataDir, 'storage')} are not touched.`,
      { cause },
    );
    this.name = 'EmbeddedDatabaseUnreadableError';
  }
}

function describe(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  // PGlite's WASM abort carries a hint meant for its own developers.
  return `${cause.name}: ${cause.message.replace(/\.?\s*Build with -sASSERTIONS for more info\.?/, '')}`;
}
