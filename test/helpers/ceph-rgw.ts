// Runs Ceph's RADOS Gateway (Debian's radosgw, Ceph 16 "pacific") as a real S3 for the tests: a
// throwaway single-node cluster of one monitor, one in-memory OSD (memstore) and radosgw, each a
// child process in the foreground with its data, logs and admin socket under one temp dir, on free
// loopback ports. Start-up takes 1.1-1.7 s on two cores; the three daemons use about 130 MiB of
// RSS idle (monitor 35, OSD 50, radosgw 46), flat over minutes. The OSD holds every object in
// memory, so its RSS grows with what is stored (about twice the bytes while writing) and falls
// again once radosgw's garbage collector has removed deleted objects (within a few seconds).
//
// What the configuration below needs, found by trying:
// - `auth * required = none`: no keyrings anywhere. radosgw then still asks the monitor for a
//   secure (encrypted) msgr2 session, which needs cephx, and loops on
//   `send_auth_request get_initial_auth_request returned -13` without ever listening, unless
//   `ms mon client mode = crc` (the ceph CLI and the OSD came up without it).
// - Pools of size 1 (`osd pool default size/min size = 1`, `mon allow pool size one`), few PGs
//   (radosgw makes up to seven pools as they are first needed, with `osd pool default pg num`
//   each) and the PG autoscaler off (it is a manager module, and there is no manager).
// - `paxos propose interval = 0.05`: the monitor commits maps quickly, and the OSD's boot and
//   radosgw's pool creation wait on them: with the default of 1 s start-up takes 11-12 s.
// - `rgw frontends = beast endpoint=127.0.0.1:PORT`; the radosgw pools are created by radosgw on
//   first start; the S3 user by `radosgw-admin user create` with a fixed access key and secret.
// - No manager daemon: S3 does not need one (`ceph -s` then shows no PG statistics, `rados df` no
//   pools).
// - `ms bind msgr1 = false` and `public addr = 127.0.0.1`: only msgr2, only on loopback (the OSD
//   picks its own ports in 6800-7300; two clusters started side by side came up in 1.8 s).
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { freePort } from './distribution-registry';

const execFileAsync = promisify(execFile);

export interface CephRgw {
  /** `http://127.0.0.1:PORT` */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `us-east-1`; radosgw accepts any region in the signature (its zonegroup's api_name is `default`). */
  region: string;
  /**
   * An S3Client configuration that works against this gateway: path-style addressing (there is
   * no wildcard DNS for virtual-host buckets) and checksums only when an operation requires them
   * (the SDK's default aws-chunked uploads with trailing checksums are answered with 411).
   */
  s3Config: S3ClientConfig;
  /** The temp dir holding ceph.conf, the daemons' data dirs and logs. */
  dir: string;
  createBucket(name: string): Promise<void>;
  /** The settings that put a Wharf's blobs in `bucket` of this gateway (WHARF_STORAGE=s3 and its WHARF_S3_*). */
  wharfEnv(bucket: string): Record<string, string>;
  /** Kills the three daemons and removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
  /** The tail of each daemon's log (and stderr), for error messages. */
  log(): string;
}

export interface CephRgwOptions {
  /** Bound on the whole start-up; on timeout the error carries the daemons' log tails. */
  startTimeoutMs?: number;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** The OSD keeps every object in memory; this is the size it reports (and fills up to). */
  memstoreBytes?: number;
  /** Extra `[global]` lines for ceph.conf (e.g. `debug rgw = 20`); they override the ones above them. */
  extraConfig?: string[];
}

interface Daemon {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  /** The exit code or signal, once it has exited. */
  exitCode?: number | string | null;
  stderr: string;
}

const LOG_TAIL = 4096;

/**
 * Runs `"$@"` (a daemon) and SIGKILLs it once this wrapper's stdin reaches its end: when stop()
 * closes the pipe, or when the test process ends, even by SIGKILL, which leaves no chance to
 * clean up otherwise. Exits with the daemon's status.
 */
const WATCHDOG = [
  'exec 3<&0',
  '"$@" </dev/null 3<&- &',
  'daemon=$!',
  '{ read -r _ <&3; kill -9 "$daemon"; } 2>/dev/null &',
  'watchdog=$!',
  'wait "$daemon"',
  'code=$?',
  'kill "$watchdog" 2>/dev/null',
  'exit "$code"',
].join('\n');

function cephConf(dir: string, fsid: string, monPort: number, rgwPort: number, memstoreBytes: number, extra: string[]): string {
  // $name is expanded by Ceph (mon.a, osd.0, client.rgw, client.admin).
  return [
    '[global]',
    `fsid = ${fsid}`,
    `mon host = v2:127.0.0.1:${monPort}`,
    'mon initial members = a',
    'public addr = 127.0.0.1',
    'ms bind msgr1 = false',
    'auth cluster required = none',
    'auth service required = none',
    'auth client required = none',
    'ms mon client mode = crc',
    `run dir = ${dir}/run`,
    `admin socket = ${dir}/run/$name.asok`,
    `pid file = ${dir}/run/$name.pid`,
    `log file = ${dir}/log/$name.log`,
    `crash dir = ${dir}/crash`,
    `mon data = ${dir}/mon/$name`,
    `osd data = ${dir}/osd/$name`,
    `rgw data = ${dir}/rgw`,
    'mon allow pool size one = true',
    'mon allow pool delete = true',
    'mon max pg per osd = 1000',
    'mon warn on pool no redundancy = false',
    'mon warn on insecure global id reclaim allowed = false',
    'paxos propose interval = 0.05',
    'osd pool default size = 1',
    'osd pool default min size = 1',
    'osd pool default pg num = 8',
    'osd pool default pgp num = 8',
    'osd pool default pg autoscale mode = off',
    'osd crush chooseleaf type = 0',
    'osd objectstore = memstore',
    `memstore device bytes = ${memstoreBytes}`,
    // Deleted objects' tails are collected by radosgw's garbage collector; short periods keep a
    // long test run's memstore small. One GC shard instead of 32: every GC pass reads each
    // shard's queue, and with 32 of them every 2 s the OSD's memory grew by about 20 MiB a minute
    // while idle (with one it stays flat).
    'rgw gc max objs = 1',
    'rgw gc obj min wait = 2',
    'rgw gc processor period = 2',
    'rgw gc processor max time = 2',
    // beast is asynchronous: 16 threads instead of 512 are plenty for tests.
    'rgw thread pool size = 16',
    ...extra,
    '',
    '[client.rgw]',
    `rgw frontends = beast endpoint=127.0.0.1:${rgwPort}`,
    '',
  ].join('\n');
}

export async function startCephRgw(options: CephRgwOptions = {}): Promise<CephRgw> {
  const {
    startTimeoutMs = 60_000,
    accessKeyId = 'WHARFTESTACCESSKEY01',
    secretAccessKey = 'wharf-test-secret-key-0123456789abcdefghij',
    memstoreBytes = 1024 * 1024 * 1024,
    extraConfig = [],
  } = options;
  const deadline = Date.now() + startTimeoutMs;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-ceph-'));
  for (const sub of ['run', 'log', 'crash', 'mon/mon.a', 'osd/osd.0', 'rgw']) await fs.mkdir(path.join(dir, sub), { recursive: true });
  const [monPort, rgwPort] = await distinctFreePorts(2);
  const fsid = randomUUID();
  const conf = path.join(dir, 'ceph.conf');
  await fs.writeFile(conf, cephConf(dir, fsid, monPort, rgwPort, memstoreBytes, extraConfig));
  const endpoint = `http://127.0.0.1:${rgwPort}`;
  const region = 'us-east-1';

  const daemons: Daemon[] = [];
  // Each daemon's stdin is a pipe from this process, watched by its wrapper (see WATCHDOG):
  // closing it, or this process ending in any way, SIGKILL's the daemon.
  const killAll = (): void => {
    for (const daemon of daemons) daemon.child.stdin?.destroy();
  };

  const log = (): string => {
    const parts: string[] = [];
    for (const daemon of daemons) {
      let file = '';
      try {
        file = tail(readFileSync(path.join(dir, 'log', `${daemon.name}.log`), 'utf8'), LOG_TAIL);
      } catch {
        // Not written yet, or removed by stop().
      }
      const state = daemon.exitCode === undefined ? 'running' : `exited with ${daemon.exitCode}`;
      parts.push(`--- ${daemon.name} (${state}) log:\n${file}${daemon.stderr ? `\n--- ${daemon.name} stderr:\n${daemon.stderr}` : ''}`);
    }
    return parts.join('\n');
  };

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // Nothing in the cluster is worth a clean shutdown (the OSD keeps its objects in memory), and
    // an OSD asked to stop waits for a monitor that may already be gone: SIGKILL all three.
    killAll();
    const stragglers = setTimeout(() => {
      for (const daemon of daemons) if (daemon.exitCode === undefined) daemon.child.kill('SIGKILL');
    }, 5000);
    await Promise.all(daemons.map((daemon) => daemon.exited));
    clearTimeout(stragglers);
    await fs.rm(dir, { recursive: true, force: true });
  };

  const run = (name: string, binary: string, args: string[]): Daemon => {
    const child = spawn('sh', ['-c', WATCHDOG, 'sh', binary, ...args], { cwd: dir, stdio: ['pipe', 'ignore', 'pipe'] });
    const daemon: Daemon = { name, child, stderr: '', exited: Promise.resolve(null) };
    daemon.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        daemon.exitCode = code ?? signal;
        resolve(code);
      });
      child.once('error', (error) => {
        daemon.stderr += String(error);
        daemon.exitCode = -1;
        resolve(-1);
      });
    });
    // A write after the daemon has gone (there are none) or the close in stop() must not throw.
    child.stdin?.on('error', () => undefined);
    child.stderr?.on('data', (chunk: Buffer) => {
      daemon.stderr = tail(daemon.stderr + chunk.toString(), LOG_TAIL);
    });
    daemons.push(daemon);
    return daemon;
  };

  /** A one-shot command with the cluster's conf, bounded by the start-up deadline. */
  const command = async (binary: string, args: string[]): Promise<string> => {
    const timeout = Math.max(1000, deadline - Date.now());
    try {
      const { stdout } = await execFileAsync(binary, ['-c', conf, ...args], { cwd: dir, timeout, maxBuffer: 16 * 1024 * 1024 });
      return stdout;
    } catch (error) {
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
      throw new Error(`${binary} ${args.join(' ')} failed: ${String(error)}\n${tail(stdout, LOG_TAIL)}\n${tail(stderr, LOG_TAIL)}`);
    }
  };

  try {
    await execFileAsync('monmaptool', ['--create', '--addv', 'a', `[v2:127.0.0.1:${monPort}]`, '--fsid', fsid, path.join(dir, 'monmap')]);
    await command('ceph-mon', ['--mkfs', '-i', 'a', '--monmap', path.join(dir, 'monmap')]);
    run('mon.a', 'ceph-mon', ['-f', '-i', 'a', '-c', conf]);
    // The CLI retries until the monitor answers (up to --connect-timeout), so this is also the
    // wait for the monitor. It prints the new OSD's id: 0.
    const osdUuid = randomUUID();
    const connectTimeout = String(Math.max(1, Math.floor((deadline - Date.now()) / 1000)));
    const osdId = (await command('ceph', ['--connect-timeout', connectTimeout, 'osd', 'new', osdUuid])).trim();
    if (osdId !== '0') throw new Error(`ceph osd new answered ${JSON.stringify(osdId)}, expected 0`);
    await command('ceph-osd', ['--mkfs', '-i', '0', '--osd-uuid', osdUuid]);
    run('osd.0', 'ceph-osd', ['-f', '-i', '0', '-c', conf]);
    // radosgw waits for the OSD by itself (it blocks creating its pools until they are active).
    run('client.rgw', 'radosgw', ['-f', '-n', 'client.rgw', '-c', conf]);
    await waitForHttp(endpoint, deadline, daemons);
    await command('radosgw-admin', ['user', 'create', '--uid=wharf-tests', '--display-name=Wharf tests', `--access-key=${accessKeyId}`, `--secret=${secretAccessKey}`]);
  } catch (error) {
    const message = `Ceph RADOS Gateway did not start: ${error instanceof Error ? error.message : String(error)}\n${log()}`;
    await stop();
    throw new Error(message);
  }

  const s3Config: S3ClientConfig = {
    endpoint,
    region,
    credentials: { accessKeyId, secretAccessKey },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
  const createBucket = async (name: string): Promise<void> => {
    const client = new S3Client(s3Config);
    try {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    } finally {
      client.destroy();
    }
  };

  const wharfEnv = (bucket: string): Record<string, string> => ({
    WHARF_STORAGE: 's3',
    WHARF_S3_ENDPOINT: endpoint,
    WHARF_S3_BUCKET: bucket,
    WHARF_S3_REGION: region,
    WHARF_S3_ACCESS_KEY_ID: accessKeyId,
    WHARF_S3_SECRET_ACCESS_KEY: secretAccessKey,
  });
  return { endpoint, accessKeyId, secretAccessKey, region, s3Config, dir, createBucket, wharfEnv, stop, log };
}

/** Ports that differ from each other (freePort closes its listener, so two calls can repeat). */
async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** Waits until radosgw answers HTTP at all (an anonymous GET / is a 200 ListAllMyBuckets). */
async function waitForHttp(endpoint: string, deadline: number, daemons: Daemon[]): Promise<void> {
  for (;;) {
    const dead = daemons.find((daemon) => daemon.exitCode !== undefined);
    if (dead) throw new Error(`${dead.name} exited with ${dead.exitCode}`);
    try {
      const response = await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`radosgw did not answer ${endpoint}/ in time`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function tail(text: string, size: number): string {
  return text.length > size ? text.slice(-size) : text;
}
