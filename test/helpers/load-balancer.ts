// HAProxy (Debian's package) as the load balancer in front of several Wharf hosts: round robin
// per request (so the PATCHes of one upload reach different hosts), health checks every 250 ms
// so a killed host leaves the rotation quickly, and bodies streamed both ways.
import { ChildProcess, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './distribution-registry';

export interface LoadBalancer {
  /** 127.0.0.1:PORT, as clients address it. */
  host: string;
  /** http://127.0.0.1:PORT */
  url: string;
  /** Responses each host has sent so far, by host address (HAProxy's statistics). */
  responsesByHost(): Promise<Record<string, number>>;
  /** Requests each host is serving now, by host address. */
  activeByHost(): Promise<Record<string, number>>;
  stop(): Promise<void>;
  log(): string;
}

/** `backends`: the hosts' `127.0.0.1:PORT` addresses. */
export async function startLoadBalancer(backends: string[]): Promise<LoadBalancer> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-lb-'));
  const port = await freePort();
  const statsPort = await freePort();
  const config = [
    'global',
    '  maxconn 2000',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 10m',
    '  timeout server 10m',
    // A request that found its host dead is sent again to another one when it had no body.
    '  retries 2',
    '  option redispatch',
    'listen stats',
    `  bind 127.0.0.1:${statsPort}`,
    '  stats enable',
    '  stats uri /stats',
    'frontend registry',
    `  bind 127.0.0.1:${port}`,
    '  default_backend wharf',
    'backend wharf',
    '  balance roundrobin',
    '  option httpchk',
    // HTTP/1.1 with a Host: Wharf (like Node's HTTP server) answers 400 to a request without one.
    '  http-check send meth GET uri /health/live ver HTTP/1.1 hdr Host wharf',
    // A killed host refuses the check at once and leaves the rotation within half a second; a
    // busy one (a long synchronous step) gets two seconds to answer before it counts as failed.
    '  timeout check 2s',
    ...backends.map((backend, i) => `  server host${i} ${backend} check inter 250ms fall 2 rise 1`),
    '',
  ].join('\n');
  const configPath = path.join(dir, 'haproxy.cfg');
  await fs.writeFile(configPath, config);

  let output = '';
  // -db: stay in the foreground, no daemon.
  const child: ChildProcess = spawn('haproxy', ['-db', '-f', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  const collect = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-16384));
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    await fs.rm(dir, { recursive: true, force: true });
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`haproxy exited at start: ${output}`);
    }
    const ok = await fetch(`${url}/health/live`).then(
      (res) => res.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`haproxy did not answer within 10 s: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  /** One figure per host from HAProxy's CSV statistics. */
  const perHost = async (figure: (fields: Record<string, string>) => number): Promise<Record<string, number>> => {
    const csv = await (await fetch(`http://127.0.0.1:${statsPort}/stats;csv`)).text();
    const [header, ...rows] = csv.replace(/^# /, '').trim().split('\n');
    const columns = header.split(',');
    const figures: Record<string, number> = {};
    for (const row of rows) {
      const fields = Object.fromEntries(row.split(',').map((value, i) => [columns[i], value]));
      const index = /^host(\d+)$/.exec(fields.svname)?.[1];
      if (fields.pxname === 'wharf' && index !== undefined) figures[backends[Number(index)]] = figure(fields);
    }
    return figures;
  };
  const responsesByHost = () => perHost((fields) => ['hrsp_1xx', 'hrsp_2xx', 'hrsp_3xx', 'hrsp_4xx', 'hrsp_5xx'].reduce((sum, column) => sum + Number(fields[column] || 0), 0));
  const activeByHost = () => perHost((fields) => Number(fields.scur || 0));
  return { host: `127.0.0.1:${port}`, url, responsesByHost, activeByHost, stop, log: () => output };
}
