// Thin wrappers around the real registry clients (skopeo, podman, the docker CLI). Each instance
// owns a temp dir for its config, credentials and storage, so tests never read or write the
// machine's ~/.docker, /run/containers or /var/lib/containers, and never see each other's logins.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface Credentials {
  username: string;
  password: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Written to the child's stdin (e.g. a password for --password-stdin). */
  input?: string;
}

export interface RunResult {
  stdout: Buffer;
  stderr: string;
}

/** A failed client run; the message carries the command line and stderr, which is what explains it. */
export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number | string | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`${command} failed (${exitCode}): ${stderr.trim() || stdout.trim()}`);
    this.name = 'CommandError';
  }
}

const DEFAULT_TIMEOUT_MS = 90_000;

/** Runs a program without a shell; stdout stays a Buffer so raw manifests keep their exact bytes. */
export function run(file: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const commandLine = [file, ...redactSecrets(args)].join(' ');
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      {
        env: { ...process.env, ...options.env },
        timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'buffer',
      },
      (error, stdout, stderr) => {
        if (error) {
          const code = error.killed ? `killed by ${error.signal ?? 'timeout'}` : (error.code ?? null);
          reject(new CommandError(commandLine, code as number | string | null, stdout.toString(), stderr.toString()));
        } else {
          resolve({ stdout, stderr: stderr.toString() });
        }
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}

const SECRET_FLAGS = new Set(['--creds', '--src-creds', '--dest-creds', '--password']);

/** Error messages end up in test logs; the values of credential flags must not. */
function redactSecrets(args: string[]): string[] {
  return args.map((arg, i) => (i > 0 && SECRET_FLAGS.has(args[i - 1]) ? '***' : arg));
}

async function tempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `wharf-${prefix}-`));
}

async function readTrimmed(file: string): Promise<string> {
  return (await fs.readFile(file, 'utf8')).trim();
}

// --- skopeo ---------------------------------------------------------------------------------

export interface SkopeoOptions {
  /** Sent to every registry this instance talks to; omitted means anonymous (or a prior login()). */
  creds?: Credentials;
  timeoutMs?: number;
}

export interface SkopeoCopyOptions {
  /** Copy every image of a list/index (`--all`), not just this machine's platform. */
  all?: boolean;
  /** Convert the manifest (`--format`); omitted keeps the source's type and digest. */
  format?: 'oci' | 'v2s2';
  /**
   * `--preserve-digests`, on by default without `format`: skopeo's blob-info cache is shared by
   * every root process (/var/lib/containers/cache), and without this flag skopeo may swap a
   * layer for a differently compressed copy it saw elsewhere, changing the manifest digest.
   */
  preserveDigests?: boolean;
}

export class Skopeo {
  private constructor(
    readonly dir: string,
    private readonly options: SkopeoOptions,
  ) {}

  static async create(options: SkopeoOptions = {}): Promise<Skopeo> {
    const dir = await tempDir('skopeo');
    // An explicit accept-anything policy, so the machine's /etc/containers/policy.json is irrelevant.
    await fs.writeFile(path.join(dir, 'policy.json'), JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
    await fs.mkdir(path.join(dir, 'registries.d'));
    await fs.writeFile(path.join(dir, 'auth.json'), '{}');
    return new Skopeo(dir, options);
  }

  private get authfile(): string {
    return path.join(this.dir, 'auth.json');
  }

  private exec(args: string[]): Promise<RunResult> {
    const globals = ['--policy', path.join(this.dir, 'policy.json'), '--registries.d', path.join(this.dir, 'registries.d')];
    return run('skopeo', [...globals, ...args], {
      timeoutMs: this.options.timeoutMs,
      env: { REGISTRY_AUTH_FILE: this.authfile, TMPDIR: this.dir },
    });
  }

  private creds(flag: string): string[] {
    const { creds } = this.options;
    return creds ? [flag, `${creds.username}:${creds.password}`] : [];
  }

  async login(host: string, creds: Credentials): Promise<void> {
    await this.exec(['login', '--authfile', this.authfile, '--tls-verify=false', '--username', creds.username, '--password', creds.password, host]);
  }

  /**
   * `skopeo copy` between any two transports (`docker://host/repo:tag`, `oci:/dir:tag`).
   * Returns the digest of the manifest written to the destination.
   */
  async copy(source: string, destination: string, options: SkopeoCopyOptions = {}): Promise<string> {
    const digestFile = path.join(this.dir, `digest-${Date.now()}-${Math.random().toString(36).slice(2)}`);
    const args = [
      'copy',
      '--authfile',
      this.authfile,
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      '--digestfile',
      digestFile,
      ...this.creds('--src-creds').filter(() => source.startsWith('docker://')),
      ...this.creds('--dest-creds').filter(() => destination.startsWith('docker://')),
      ...(options.all ? ['--all'] : []),
      ...(options.format ? ['--format', options.format] : []),
      ...((options.preserveDigests ?? !options.format) ? ['--preserve-digests'] : []),
      source,
      destination,
    ];
    await this.exec(args);
    const digest = await readTrimmed(digestFile);
    await fs.rm(digestFile, { force: true });
    return digest;
  }

  /** The manifest exactly as the registry served it (`skopeo inspect --raw`). */
  async inspectRaw(image: string): Promise<Buffer> {
    const { stdout } = await this.exec(['inspect', '--raw', '--tls-verify=false', '--authfile', this.authfile, ...this.creds('--creds'), image]);
    return stdout;
  }

  /** `skopeo inspect` (resolves a list to this machine's platform): Digest, Layers, Architecture, ... */
  async inspect(image: string): Promise<SkopeoInspect> {
    const { stdout } = await this.exec(['inspect', '--tls-verify=false', '--authfile', this.authfile, ...this.creds('--creds'), image]);
    return JSON.parse(stdout.toString()) as SkopeoInspect;
  }

  /** `skopeo list-tags docker://host/repo` */
  async listTags(repository: string): Promise<string[]> {
    const { stdout } = await this.exec(['list-tags', '--tls-verify=false', '--authfile', this.authfile, ...this.creds('--creds'), repository]);
    return (JSON.parse(stdout.toString()) as { Tags: string[] }).Tags;
  }

  async delete(image: string): Promise<void> {
    await this.exec(['delete', '--tls-verify=false', '--authfile', this.authfile, ...this.creds('--creds'), image]);
  }

  async close(): Promise<void> {
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}

export interface SkopeoInspect {
  Name: string;
  Digest: string;
  Tag?: string;
  Architecture: string;
  Os: string;
  Layers: string[];
}

// --- podman ---------------------------------------------------------------------------------

export interface PodmanOptions {
  /**
   * Sent as `--creds` on every pull from and push to a registry; omitted means anonymous (or a
   * prior login(), which stores credentials in this instance's own auth file).
   */
  creds?: Credentials;
  timeoutMs?: number;
}

export interface PodmanImage {
  Id: string;
  Digest: string;
  RepoDigests: string[];
  RepoTags: string[];
  Architecture: string;
  Os: string;
}

/** Podman as root with vfs storage under a temp --root, so it needs no overlay mounts or fuse. */
export class Podman {
  private constructor(
    readonly dir: string,
    private readonly options: PodmanOptions,
  ) {}

  static async create(options: PodmanOptions = {}): Promise<Podman> {
    const dir = await tempDir('podman');
    for (const sub of ['root', 'runroot', 'tmp']) await fs.mkdir(path.join(dir, sub));
    // No search registries or mirrors: tests always use fully qualified references.
    await fs.writeFile(path.join(dir, 'registries.conf'), 'unqualified-search-registries = []\n');
    await fs.writeFile(path.join(dir, 'auth.json'), '{}');
    return new Podman(dir, options);
  }

  private exec(args: string[], input?: string): Promise<RunResult> {
    const globals = [
      '--root',
      path.join(this.dir, 'root'),
      '--runroot',
      path.join(this.dir, 'runroot'),
      '--tmpdir',
      path.join(this.dir, 'tmp'),
      '--storage-driver',
      'vfs',
      '--events-backend',
      'none',
      '--cgroup-manager',
      'cgroupfs',
    ];
    return run('podman', [...globals, ...args], {
      timeoutMs: this.options.timeoutMs,
      input,
      env: {
        CONTAINERS_REGISTRIES_CONF: path.join(this.dir, 'registries.conf'),
        REGISTRY_AUTH_FILE: path.join(this.dir, 'auth.json'),
        TMPDIR: path.join(this.dir, 'tmp'),
      },
    });
  }

  /** `podman login --tls-verify=false`, into this instance's auth file (REGISTRY_AUTH_FILE). */
  async login(host: string, creds: Credentials): Promise<void> {
    await this.exec(['login', '--tls-verify=false', '--username', creds.username, '--password-stdin', host], creds.password);
  }

  async logout(host: string): Promise<void> {
    await this.exec(['logout', host]);
  }

  /** `--creds` for a registry reference when this instance has credentials; none for local transports. */
  private creds(image: string): string[] {
    const { creds } = this.options;
    return creds && isRegistryReference(image) ? ['--creds', `${creds.username}:${creds.password}`] : [];
  }

  /** Pulls `host/repo:tag` (no transport prefix); returns the local image id. */
  async pull(image: string): Promise<string> {
    const { stdout } = await this.exec(['pull', '--quiet', '--tls-verify=false', ...this.creds(image), image]);
    return stdout.toString().trim().split('\n').pop() ?? '';
  }

  /** Pushes a local image to `destination`; returns the pushed manifest's digest. */
  async push(localImage: string, destination: string, options: { format?: 'oci' | 'v2s2' } = {}): Promise<string> {
    const digestFile = path.join(this.dir, `digest-${Date.now()}-${Math.random().toString(36).slice(2)}`);
    await this.exec([
      'push',
      '--quiet',
      '--tls-verify=false',
      '--digestfile',
      digestFile,
      ...this.creds(destination),
      ...(options.format ? ['--format', options.format] : []),
      localImage,
      destination,
    ]);
    const digest = await readTrimmed(digestFile);
    await fs.rm(digestFile, { force: true });
    return digest;
  }

  async tag(image: string, newName: string): Promise<void> {
    await this.exec(['tag', image, newName]);
  }

  async inspectImage(image: string): Promise<PodmanImage> {
    const { stdout } = await this.exec(['image', 'inspect', image]);
    return (JSON.parse(stdout.toString()) as PodmanImage[])[0];
  }

  async close(): Promise<void> {
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}

/** Podman's transports other than a registry (`docker://` or none): they take no credentials. */
const LOCAL_TRANSPORT = /^(oci|oci-archive|docker-archive|dir|containers-storage|docker-daemon):/;

function isRegistryReference(image: string): boolean {
  return !LOCAL_TRANSPORT.test(image);
}

// --- docker CLI -----------------------------------------------------------------------------

export interface DockerCliOptions {
  timeoutMs?: number;
}

/**
 * The docker CLI with its own DOCKER_CONFIG and no daemon: `login` falls back to logging in from
 * the client, and `manifest` subcommands talk to registries directly.
 */
export class DockerCli {
  private constructor(
    readonly dir: string,
    private readonly options: DockerCliOptions,
  ) {}

  static async create(options: DockerCliOptions = {}): Promise<DockerCli> {
    return new DockerCli(await tempDir('docker'), options);
  }

  private exec(args: string[], input?: string): Promise<RunResult> {
    return run('docker', args, {
      timeoutMs: this.options.timeoutMs,
      input,
      env: {
        DOCKER_CONFIG: this.dir,
        // Point at a socket that cannot exist, so a daemon on the machine can never be used.
        DOCKER_HOST: `unix://${path.join(this.dir, 'no-daemon.sock')}`,
        DOCKER_CLI_HINTS: 'false',
      },
    });
  }

  /**
   * `docker login HOST --password-stdin` (client-side, as there is no daemon), stored in this
   * instance's DOCKER_CONFIG; later `manifest` commands use it when the registry asks for credentials.
   */
  async login(host: string, creds: Credentials): Promise<void> {
    await this.exec(['login', '--username', creds.username, '--password-stdin', host], creds.password);
  }

  async logout(host: string): Promise<void> {
    await this.exec(['logout', host]);
  }

  /** `docker manifest inspect --insecure`: the manifest or list, as JSON. */
  async manifestInspect(image: string): Promise<Record<string, unknown>> {
    const { stdout } = await this.exec(['manifest', 'inspect', '--insecure', image]);
    return JSON.parse(stdout.toString()) as Record<string, unknown>;
  }

  /** `docker manifest inspect --verbose`: per-platform entries with Descriptor.digest. */
  async manifestInspectVerbose(image: string): Promise<DockerVerboseManifest[]> {
    const { stdout } = await this.exec(['manifest', 'inspect', '--insecure', '--verbose', image]);
    const parsed = JSON.parse(stdout.toString()) as DockerVerboseManifest | DockerVerboseManifest[];
    return Array.isArray(parsed) ? parsed : [parsed];
  }

  /** `docker manifest create --insecure LIST MEMBER...` (kept locally until pushed). */
  async manifestCreate(list: string, members: string[], options: { amend?: boolean } = {}): Promise<void> {
    await this.exec(['manifest', 'create', '--insecure', ...(options.amend ? ['--amend'] : []), list, ...members]);
  }

  /** `docker manifest push --insecure LIST`; returns the pushed list's digest. */
  async manifestPush(list: string, options: { purge?: boolean } = {}): Promise<string> {
    const { stdout } = await this.exec(['manifest', 'push', '--insecure', ...(options.purge ? ['--purge'] : []), list]);
    const digest = stdout
      .toString()
      .match(/sha256:[a-f0-9]{64}/g)
      ?.pop();
    if (!digest) throw new Error(`docker manifest push printed no digest: ${stdout.toString()}`);
    return digest;
  }

  async close(): Promise<void> {
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}

export interface DockerVerboseManifest {
  Ref: string;
  Descriptor: { mediaType: string; digest: string; size: number; platform?: { architecture: string; os: string } };
  SchemaV2Manifest?: Record<string, unknown>;
  OCIManifest?: Record<string, unknown>;
}
