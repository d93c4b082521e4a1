import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './distribution-registry';
import { createTestDatabase, testServerKey } from './wharf-server';

const MAIN = path.join(__dirname, '..', '..', 'dist', 'apps', 'server', 'src', 'main.js');

/** One JSON log line of the spawned server. */
export interface LogLine {
  level: string;
  pid: number;
  msg: string;
  [field: string]: unknown;
}

/** The built server (`npm run build`) as its own process tree: `node dist/.../main.js`. */
export interface SpawnedWharf {
  baseUrl: string;
  port: number;
  dataDir: string;
  child: ChildProcess;
  /** Every log line so far, parsed. */
  logs: LogLine[];
  /** Everything written to stderr so far. */
  stderr(): string;
  adminAuthorization: string;
  /** Resolves with the exit code (or signal) once the primary has exited. */
  exited: Promise<number | string>;
  /** The primary's children, from /proc. */
  workerPids(): Promise<number[]>;
  /** Waits for a log line that `match` accepts (seen already or to come). */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** SIGTERM, then the database and data directory go (not a data directory the caller passed). */
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** The embedded database instead of a fresh one on the test Postgres. */
  embedded?: boolean;
  /** A data directory the caller owns (kept on stop), e.g. one that several servers try to share. */
  dataDir?: string;
}

/**
 * Spawns the built server on a fresh database and data directory (unless `options` say
 * otherwise), LOG_LEVEL=info (the access log says which process answered each request).
 * `waitForLog` waits for its "listening" line.
 */
export async function spawnWharf(env: Record<string, string>, options: SpawnOptions = {}): Promise<SpawnedWharf> {
  await fs.access(MAIN).catch(() => {
    throw new Error(`${MAIN} is missing: build first (npm run build; the test script does)`);
  });
  const database = options.embedded ? undefined : await createTestDatabase();
  const dataDir = options.dataDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-cluster-')));
  const port = await freePort();
  const password = 'cluster-admin-password';
  const child = spawn(process.execPath, [MAIN], {
    // An empty DATABASE_URL is none: the embedded database.
    env: {
      ...process.env,
      PORT: String(port),
      WHARF_HOST: '127.0.0.1',
      WHARF_DATA_DIR: dataDir,
      DATABASE_URL: database?.url ?? '',
      WHARF_ADMIN_PASSWORD: password,
      LOG_LEVEL: 'info',
      WHARF_SHUTDOWN_GRACE_SECONDS: '1',
      ...(env.DATABASE_URL || database ? { WHARF_SECRET_KEY: testServerKey(env.DATABASE_URL || database!.url) } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const logs: LogLine[] = [];
  const waiters: Array<() => void> = [];
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line));
      } catch {
        logs.push({ level: 'unparsed', pid: 0, msg: line });
      }
    }
    waiters.splice(0).forEach((wake) => wake());
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));

  const waitForLog = async (match: (line: LogLine) => boolean, timeoutMs = 60_000): Promise<LogLine> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = logs.find(match);
      if (found) return found;
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`wharf exited (${child.exitCode ?? child.signalCode}); stderr: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`no such log line within ${timeoutMs} ms; stderr: ${stderr}`);
      await new Promise<void>((wake) => {
        waiters.push(wake);
        setTimeout(wake, 200);
      });
    }
  };

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(kill);
    }
    await database?.drop();
    if (!options.dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  };

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    child,
    logs,
    stderr: () => stderr,
    adminAuthorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`,
    exited,
    workerPids: async () => {
      const children = await fs.readFile(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').catch(() => '');
      return children.split(' ').filter(Boolean).map(Number);
    },
    waitForLog,
    stop,
  };
}
