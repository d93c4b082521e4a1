import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { DataDirLockedError } from './data-dir-locked.error';

const open = promisify(fs.open);
const close = promisify(fs.close);
const ftruncate = promisify(fs.ftruncate);
const write = promisify(fs.write);

/** flock's exit status when another holds the lock (its default, 1, is also its usage-error status). */
const CONFLICT = 75;

/**
 * `flock`: an OS lock the kernel drops when the holder dies, even by SIGKILL, so a crash never
 * blocks the next start. `pid-file`: where the `flock` command is missing (macOS), a pid check
 * that a crash leaves stale only if its pid is reused by a live process.
 */
export type DataDirLockKind = 'flock' | 'pid-file';

/**
 * An exclusive lock on a data directory (`<dir>/wharf.lock`), holding the holder's pid so a
 * second process can name it. Node has no flock(2): a short-lived `flock -n 3` child locks the
 * open file description it shares with this process through its fd 3. flock locks belong to
 * the description, so the lock outlives the child, stays with this process's descriptor, and
 * goes with it when the process ends, however it ends.
 */
export class DataDirLock {
  static readonly FILE = 'wharf.lock';

  private constructor(
    readonly file: string,
    readonly kind: DataDirLockKind,
    // A plain descriptor, not a FileHandle: Node closes a FileHandle it garbage-collects, which
    // would drop the lock while the server still runs.
    private fd: number | undefined,
  ) {}

  /** Takes the lock or throws DataDirLockedError naming the holder; `flockCommand` is for tests. */
  static async acquire(dir: string, options: { flockCommand?: string } = {}): Promise<DataDirLock> {
    const file = path.join(dir, DataDirLock.FILE);
    const fd = await open(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    try {
      const outcome = await flock(fd, file, options.flockCommand ?? 'flock');
      if (outcome === 'held-elsewhere') throw new DataDirLockedError(dir, await readHolder(file));
      if (outcome === 'no-flock') {
        const holder = await readHolder(file);
        if (holder !== undefined && holder !== process.pid && isAlive(holder)) throw new DataDirLockedError(dir, holder);
      }
      await ftruncate(fd, 0);
      await write(fd, `${process.pid}\n`, 0);
      return new DataDirLock(file, outcome === 'locked' ? 'flock' : 'pid-file', fd);
    } catch (err) {
      await close(fd).catch(() => undefined);
      throw err;
    }
  }

  /** Lets the next process in; the pid goes too, so a pid-file lock is not taken for a live one after pid reuse. */
  async release(): Promise<void> {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    await ftruncate(fd, 0).catch(() => undefined);
    await close(fd);
  }
}

function flock(fd: number, file: string, command: string): Promise<'locked' | 'held-elsewhere' | 'no-flock'> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, ['-n', '-x', '-E', String(CONFLICT), '3'], { stdio: ['ignore', 'ignore', 'pipe', fd] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? resolve('no-flock') : reject(err)));
    child.once('close', (code, signal) => {
      if (code === 0) resolve('locked');
      else if (code === CONFLICT) resolve('held-elsewhere');
      else reject(new Error(`cannot lock ${file}: ${command} ended with ${code ?? signal}: ${stderr.trim()}`));
    });
  });
}

async function readHolder(file: string): Promise<number | undefined> {
  const text = await fs.promises.readFile(file, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
