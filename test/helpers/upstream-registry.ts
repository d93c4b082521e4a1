// The upstream of remote repositories: Debian's `docker-registry` (CNCF Distribution 2.8) on a
// free loopback port, anonymous or with token auth whose realm is a TokenServer
// (token-server.ts), optionally in pull-through proxy mode. Unlike startDistribution() it can be
// taken down and brought back on the same port with the same storage, so tests can prove a
// cache serves while its upstream is gone.
import { ChildProcess, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, killAndWait, waitForV2 } from './distribution-registry';
import { BuiltImage, BuiltIndex, writeImageSource } from './oci-image-builder';
import { Credentials, Skopeo } from './registry-clients';
import { TokenServer } from './token-server';

export interface UpstreamProxyOptions {
  /** The registry to cache, e.g. another upstream's `url`. */
  remoteurl: string;
  username?: string;
  password?: string;
}

export interface UpstreamRegistryOptions {
  /** Token auth against this server (realm, service, issuer, rootcertbundle); omitted means anonymous. */
  tokenServer?: Pick<TokenServer, 'realm' | 'service' | 'issuer' | 'certPath'>;
  /** Runs Distribution as a pull-through cache of `remoteurl` (it then refuses pushes). */
  proxy?: UpstreamProxyOptions;
  /** Default: a free port picked at startup. */
  port?: number;
  /** Distribution's log level. Default 'warn'. */
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
  binary?: string;
  /** How long to wait for `/v2/` to answer (200 or 401). Default 15 s. */
  startTimeoutMs?: number;
}

export interface UpstreamRegistry {
  /** `127.0.0.1:PORT`, the form image references use. */
  host: string;
  /** `http://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** The temp dir holding config.yml and the storage root. */
  dir: string;
  storageDir: string;
  configPath: string;
  /** Whether the registry process is running (false between down() and up()). */
  readonly running: boolean;
  /** The token server it trusts, when token-authenticated. */
  tokenServer?: Pick<TokenServer, 'realm' | 'service' | 'issuer' | 'certPath'>;
  /** The tail of the registry's stderr (all runs). */
  log(): string;
  /** Stops the process, keeping the port's number and the storage: connections are refused until up(). */
  down(): Promise<void>;
  /** Starts the process again on the same port with the same config and storage. No-op when running. */
  up(): Promise<void>;
  /** down() then up(). */
  restart(): Promise<void>;
  /** Final cleanup: stops the process and removes the temp dir (config and storage). */
  stop(): Promise<void>;
}

function configYaml(options: UpstreamRegistryOptions, storageDir: string, port: number): string {
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: options.logLevel ?? 'warn', accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: storageDir }, delete: { enabled: true } },
    http: { addr: `127.0.0.1:${port}`, secret: 'wharf-tests' },
  };
  if (options.tokenServer) {
    const { realm, service, issuer, certPath } = options.tokenServer;
    config.auth = { token: { realm, service, issuer, rootcertbundle: certPath } };
  }
  if (options.proxy) {
    const { remoteurl, username, password } = options.proxy;
    config.proxy = { remoteurl, ...(username !== undefined ? { username, password: password ?? '' } : {}) };
  }
  // JSON is valid YAML, so no YAML writer is needed.
  return JSON.stringify(config, null, 2);
}

export async function startUpstreamRegistry(options: UpstreamRegistryOptions = {}): Promise<UpstreamRegistry> {
  const { binary = '/usr/bin/docker-registry', startTimeoutMs = 15_000 } = options;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-upstream-'));
  const storageDir = path.join(dir, 'storage');
  await fs.mkdir(storageDir);
  const port = options.port ?? (await freePort());
  const configPath = path.join(dir, 'config.yml');
  await fs.writeFile(configPath, configYaml(options, storageDir, port));
  const host = `127.0.0.1:${port}`;
  const url = `http://${host}`;

  let stderr = '';
  let child: ChildProcess | undefined;
  let exited: Promise<number | null> = Promise.resolve(null);

  const down = async (): Promise<void> => {
    const current = child;
    child = undefined;
    if (!current) return;
    await killAndWait(current, exited);
  };

  const up = async (): Promise<void> => {
    if (child) return;
    const spawned = spawn(binary, ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    spawned.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-16384);
    });
    // 'close' also follows a failure to spawn at all (reported as 'error'), which 'exit' may not.
    exited = new Promise<number | null>((resolve) => spawned.once('close', (code) => resolve(code)));
    spawned.once('error', (error) => (stderr += `\n${String(error)}`));
    child = spawned;
    try {
      // Any answer will do: 200 when anonymous, 401 with a Bearer challenge under token auth.
      await waitForV2(url, startTimeoutMs, exited, () => stderr, [200, 401]);
    } catch (error) {
      await down();
      throw error;
    }
  };

  const registry: UpstreamRegistry = {
    host,
    url,
    port,
    dir,
    storageDir,
    configPath,
    get running() {
      return child !== undefined;
    },
    tokenServer: options.tokenServer,
    log: () => stderr,
    down,
    up,
    restart: async () => {
      await down();
      await up();
    },
    stop: async () => {
      await down();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };

  try {
    await up();
  } catch (error) {
    await fs.rm(dir, { recursive: true, force: true });
    throw error;
  }
  return registry;
}

/**
 * Pushes `built` (an image or an index, with all its children) to `host/name:tag` on `upstream`
 * with skopeo, as `creds` when given (anonymous otherwise). `upstream` is anything with a `host`
 * (`127.0.0.1:PORT`): an UpstreamRegistry, a DistributionRegistry, a TamperProxy. Returns the
 * pushed manifest's digest, which is the built manifest's: skopeo preserves it.
 */
export async function seedImage(upstream: { host: string }, name: string, tag: string, built: BuiltImage | BuiltIndex, creds?: Credentials): Promise<string> {
  const skopeo = await Skopeo.create({ creds });
  try {
    const source = await writeImageSource(path.join(skopeo.dir, 'source'), built, tag);
    return await skopeo.copy(source, `docker://${upstream.host}/${name}:${tag}`, { all: 'index' in built });
  } finally {
    await skopeo.close();
  }
}
