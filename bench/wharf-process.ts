import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '../test/helpers/distribution-registry';

/** Wharf as a separate process (the built server), so its memory is measured alone. */
export interface WharfProcess {
  url: string;
  pid: number;
  dataDir: string;
  stop(): Promise<void>;
}

export async function startWharfProcess(env: Record<string, string> = {}, startTimeoutMs = 60_000): Promise<WharfProcess> {
  const port = await freePort();
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-bench-'));
  const main = path.join(__dirname, '..', 'dist', 'apps', 'server', 'src', 'main.js');
  // BENCH_WHARF_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the Wharf process alone.
  const nodeArgs = process.env.BENCH_WHARF_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, main], {
    env: { ...process.env, PORT: String(port), WHARF_HOST: '127.0.0.1', WHARF_DATA_DIR: dataDir, LOG_LEVEL: 'warn', WHARF_SHUTDOWN_GRACE_SECONDS: '1', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // Ready once Wharf says it listens (with several workers, all of them) and answers.
  let announced = false;
  let seen = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    if (announced) return;
    seen = (seen + chunk.toString('utf8')).slice(-4096);
    announced = seen.includes('"msg":"Wharf listening on');
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
    const ok =
      announced &&
      (await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      ));
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wharf was not ready within ${startTimeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, pid: child.pid!, dataDir, stop };
}

/** A process and all its descendants (Wharf's primary and its workers), from /proc. */
export async function processTree(pid: number): Promise<number[]> {
  const children = await fs.readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  const below = await Promise.all(
    children
      .split(' ')
      .filter(Boolean)
      .map((child) => processTree(Number(child))),
  );
  return [pid, ...below.flat()];
}

/**
 * Memory of a process tree, in MiB: the sum of its processes' PSS (resident pages, each shared
 * page split among the processes that map it, so the node binary of several workers counts
 * once in all) and the largest RSS peak (VmHWM) of any one of them.
 */
export async function memoryOf(pid: number): Promise<{ pssMiB: number; largestPeakRssMiB: number; processes: number }> {
  const pids = await processTree(pid);
  const kib = (text: string, field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)?.[1] ?? NaN);
  let pss = 0;
  let largestPeak = 0;
  for (const each of pids) {
    pss += kib(await fs.readFile(`/proc/${each}/smaps_rollup`, 'utf8'), 'Pss');
    largestPeak = Math.max(largestPeak, kib(await fs.readFile(`/proc/${each}/status`, 'utf8'), 'VmHWM'));
  }
  return { pssMiB: pss / 1024, largestPeakRssMiB: largestPeak / 1024, processes: pids.length };
}

/** Resets the peak RSS (VmHWM) of a process tree to its current RSS; false when the kernel refuses. */
export async function resetPeakMemory(pid: number): Promise<boolean> {
  const results = await Promise.all(
    (await processTree(pid)).map((each) =>
      fs.writeFile(`/proc/${each}/clear_refs`, '5').then(
        () => true,
        () => false,
      ),
    ),
  );
  return results.every(Boolean);
}
