import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/** Wharf as a separate process (the built server), so its memory is measured alone. */
export interface WharfProcess {
  url: string;
  pid: number;
  dataDir: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export async function startWharfProcess(env: Record<string, string> = {}, startTimeoutMs = 60_000): Promise<WharfProcess> {
  const port = await freePort();
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-bench-'));
  const main = path.join(__dirname, '..', 'dist', 'apps', 'server', 'src', 'main.js');
  // BENCH_WHARF_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the Wharf process alone.
  const nodeArgs = process.env.BENCH_WHARF_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, main], {
    env: { ...process.env, PORT: String(port), WHARF_HOST: '127.0.0.1', WHARF_DATA_DIR: dataDir, LOG_LEVEL: 'warn', WHARF_SHUTDOWN_GRACE_SECONDS: '1', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const url = `http://127.0.0.1:${port}`;

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await fs.rm(dataDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`wharf exited with ${child.exitCode ?? child.signalCode} before it was ready`);
    }
    const ok = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wharf was not ready within ${startTimeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, pid: child.pid!, dataDir, stop };
}

/** Peak and current resident memory of a process, from /proc (Linux), in MiB. */
export async function memoryOf(pid: number): Promise<{ peakMiB: number; rssMiB: number }> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { peakMiB: kib('VmHWM') / 1024, rssMiB: kib('VmRSS') / 1024 };
}

/** Resets a process's peak RSS (VmHWM) to its current RSS; false when the kernel refuses. */
export async function resetPeakMemory(pid: number): Promise<boolean> {
  return fs.writeFile(`/proc/${pid}/clear_refs`, '5').then(
    () => true,
    () => false,
  );
}
