import { ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirLock } from './data-dir-lock';
import { DataDirLockedError } from './data-dir-locked.error';

/** Another process holding the lock through this very class, as a second Wharf would. */
function holdInChild(dir: string): Promise<ChildProcess> {
  const script = `require(${JSON.stringify(join(__dirname, 'data-dir-lock'))}).DataDirLock.acquire(${JSON.stringify(dir)}).then(() => { console.log('locked'); setInterval(() => {}, 1e6); }, (e) => { console.error(e.message); process.exit(3); })`;
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`the holder exited with ${code}`)));
  });
}

function exited(child: ChildProcess): Promise<unknown> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', resolve));
}

async function lockedError(attempt: Promise<unknown>): Promise<DataDirLockedError> {
  const err = await attempt.then(
    () => undefined,
    (e) => e,
  );
  expect(err).toBeInstanceOf(DataDirLockedError);
  return err as DataDirLockedError;
}

describe('DataDirLock', () => {
  let dir: string;
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-lock-'));
  });
  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.kill('SIGKILL');
      await exited(child);
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('is exclusive, names its holder, and lets the next one in once released', async () => {
    const lock = await DataDirLock.acquire(dir);
    expect(lock.kind).toBe('flock');
    expect(await readFile(join(dir, 'wharf.lock'), 'utf8')).toBe(`${process.pid}\n`);
    const err = await lockedError(DataDirLock.acquire(dir));
    expect(err.holderPid).toBe(process.pid);
    expect(err.message).toContain(dir);
    expect(err.message).toContain(`pid ${process.pid}`);
    await lock.release();
    await (await DataDirLock.acquire(dir)).release();
  });

  it('refuses while another process holds it, and a SIGKILLed holder leaves it free', async () => {
    const holder = await holdInChild(dir);
    children.push(holder);
    const err = await lockedError(DataDirLock.acquire(dir));
    expect(err.holderPid).toBe(holder.pid);
    holder.kill('SIGKILL');
    await exited(holder);
    const lock = await DataDirLock.acquire(dir);
    expect(lock.kind).toBe('flock');
    await lock.release();
  }, 30_000);

  describe('without the flock command', () => {
    const noFlock = { flockCommand: 'wharf-test-no-such-flock' };

    it('falls back to a pid file, refused while the pid in it lives', async () => {
      const other = spawn('sleep', ['30']);
      children.push(other);
      await writeFile(join(dir, 'wharf.lock'), `${other.pid}\n`);
      const err = await lockedError(DataDirLock.acquire(dir, noFlock));
      expect(err.holderPid).toBe(other.pid);
      other.kill('SIGKILL');
      await exited(other);
      const lock = await DataDirLock.acquire(dir, noFlock);
      expect(lock.kind).toBe('pid-file');
      expect(await readFile(join(dir, 'wharf.lock'), 'utf8')).toBe(`${process.pid}\n`);
      await lock.release();
      expect(await readFile(join(dir, 'wharf.lock'), 'utf8')).toBe('');
    });
  });
});
