import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { SpawnedWharf, spawnWharf } from './helpers/wharf-cluster';

jest.setTimeout(300_000);

// The built server on its embedded database, as `npm start` runs it: one data directory holds
// one Wharf. A second one on it used to start, write beside the first, and leave a database
// that no start could open again (`RuntimeError: Aborted()`).

const listening = (line: { msg: string }) => line.msg.startsWith('Wharf listening on');

/** The exit code, or 'still running' if the process has not exited within `ms`. */
function exitWithin(wharf: SpawnedWharf, ms: number): Promise<number | string> {
  return Promise.race([wharf.exited, new Promise<string>((resolve) => setTimeout(() => resolve('still running'), ms).unref())]);
}

describe('the embedded database and its data directory', () => {
  let dataDir: string;
  let first: SpawnedWharf | undefined;
  const others: SpawnedWharf[] = [];

  const start = async (): Promise<SpawnedWharf> => {
    const wharf = await spawnWharf({}, { embedded: true, dataDir });
    await wharf.waitForLog(listening, 240_000);
    return wharf;
  };
  const repository = (wharf: SpawnedWharf, method: 'GET' | 'PUT') =>
    fetch(`${wharf.baseUrl}/api/repositories/kept-local`, {
      method,
      headers: { authorization: wharf.adminAuthorization, 'content-type': 'application/json' },
      body: method === 'PUT' ? JSON.stringify({ rclass: 'local', packageType: 'docker' }) : undefined,
    });

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-embedded-'));
    first = await start();
    expect((await repository(first, 'PUT')).status).toBe(201);
  });
  afterAll(async () => {
    for (const wharf of [first, ...others]) await wharf?.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it("a second Wharf on the same data directory exits at once, naming the directory and the first one's pid; the first one's data stays", async () => {
    const second = await spawnWharf({}, { embedded: true, dataDir });
    others.push(second);
    expect(await exitWithin(second, 30_000)).toBe(2);
    expect(second.stderr()).toContain(`the data directory ${dataDir} is in use by another Wharf (pid ${first!.child.pid})`);
    expect(second.logs.some(listening)).toBe(false);

    expect((await repository(first!, 'GET')).status).toBe(200);
    await first!.stop();
    first = await start();
    expect((await repository(first, 'GET')).status).toBe(200);
  });

  it('a SIGKILLed Wharf does not keep the next one from starting', async () => {
    first!.child.kill('SIGKILL');
    await first!.exited;
    first = await start();
    expect((await repository(first, 'GET')).status).toBe(200);
  });

  it('SIGTERM stops it cleanly: the data directory is free at once', async () => {
    first!.child.kill('SIGTERM');
    expect(await first!.exited).toBe(0);
    first = await start();
    expect((await repository(first, 'GET')).status).toBe(200);
  });

  it('a damaged embedded database is reported with where its files are and how to recover, not as Aborted()', async () => {
    await first!.stop();
    first = undefined;
    // A pg_control cut short (what a second server writing beside the first can leave) is what
    // made every later start fail with `RuntimeError: Aborted()`.
    const pg = path.join(dataDir, 'pg');
    await fs.truncate(path.join(pg, 'global', 'pg_control'), 0);
    const broken = await spawnWharf({}, { embedded: true, dataDir });
    others.push(broken);
    expect(await exitWithin(broken, 120_000)).toBe(1);
    const stderr = broken.stderr();
    expect(stderr).toContain(`Wharf cannot start: the embedded database in ${pg} cannot be opened (RuntimeError: Aborted())`);
    expect(stderr).toContain(`restore ${pg} from a backup, or move it aside (mv ${pg} ${pg}.damaged) to start with an empty database`);
    expect(stderr).toContain(`the blob files in ${path.join(dataDir, 'storage')} are not touched`);
    expect(stderr).not.toContain('-sASSERTIONS');
    expect(stderr).not.toMatch(/^\s+at /m); // no stack trace
  });
});
