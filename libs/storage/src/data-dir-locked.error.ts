/** Another process holds the data directory: starting a second server on it would destroy its embedded database. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dir: string,
    /** The holder's pid as it wrote it into the lock file; undefined when it had not yet. */
    readonly holderPid: number | undefined,
  ) {
    super(
      `the data directory ${dir} is in use by another Wharf (${holderPid === undefined ? 'pid unknown' : `pid ${holderPid}`}): ` +
        'two servers on one embedded database destroy it. Stop that one first, or give this one its own WHARF_DATA_DIR ' +
        '(servers that share a DATABASE_URL may share a data directory).',
    );
    this.name = 'DataDirLockedError';
  }
}
