// Runs Debian's `docker-registry` (CNCF Distribution 2.8) on a free loopback port: the
// reference implementation tests compare against, and later the upstream of remote repositories.
import { ChildProcess, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export interface DistributionRegistry {
  /** `127.0.0.1:PORT`, the form image references use. */
  host: string;
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** The temp dir holding config.yml and the storage root. */
  dir: string;
  stop(): Promise<void>;
}

export interface DistributionOptions {
  binary?: string;
  /** How long to wait for `/v2/` to answer. */
  startTimeoutMs?: number;
  /** The config's `storage` section; unset: the filesystem under the temp dir, deletes enabled. */
  storage?: Record<string, unknown>;
}

/** Asks the kernel for a free loopback port (a tiny race with other binders is acceptable in tests). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function configYaml(storage: Record<string, unknown>, port: number): string {
  // JSON is valid YAML, so no YAML writer is needed.
  return JSON.stringify(
    {
      version: 0.1,
      log: { level: 'warn', accesslog: { disabled: true } },
      storage,
      http: { addr: `127.0.0.1:${port}`, secret: 'wharf-tests' },
    },
    null,
    2,
  );
}

export async function startDistribution(options: DistributionOptions = {}): Promise<DistributionRegistry> {
  const { binary = '/usr/bin/docker-registry', startTimeoutMs = 15_000 } = options;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-distribution-'));
  const storageDir = path.join(dir, 'storage');
  await fs.mkdir(storageDir);
  const port = await freePort();
  const configPath = path.join(dir, 'config.yml');
  await fs.writeFile(configPath, configYaml(options.storage ?? { filesystem: { rootdirectory: storageDir }, delete: { enabled: true } }, port));

  // Its AWS SDK (the s3 driver) refuses to start when AWS_CA_BUNDLE names a bundle: its transport is its own.
  const { AWS_CA_BUNDLE: _, ...env } = process.env;
  const child = spawn(binary, ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'], env });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    // Keep only the tail: it is for error messages, and the registry logs every request.
    stderr = (stderr + chunk.toString()).slice(-8192);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const host = `127.0.0.1:${port}`;
  const url = `http://${host}`;
  const stop = async (): Promise<void> => {
    await killAndWait(child, exited);
    await fs.rm(dir, { recursive: true, force: true });
  };

  try {
    await waitForV2(url, startTimeoutMs, exited, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  return { host, url, dir, stop };
}

/**
 * Waits until `/v2/` answers with one of `statuses` (200 by default; 401 too for a registry under
 * token auth), failing early when the process exits and with its log when the time runs out.
 */
export async function waitForV2(url: string, timeoutMs: number, exited: Promise<number | null>, log: () => string, statuses: number[] = [200]): Promise<void> {
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`docker-registry exited with ${exitCode}: ${log()}`);
    try {
      const response = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (statuses.includes(response.status)) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`docker-registry did not answer ${url}/v2/ within ${timeoutMs} ms: ${log()}`);
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. */
export async function killAndWait(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
