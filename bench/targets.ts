import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { request } from 'undici';
import { Client } from 'pg';
import { startDistribution } from '../test/helpers/distribution-registry';
import type { CephRgw } from '../test/helpers/ceph-rgw';
import { startUpstreamRegistry } from '../test/helpers/upstream-registry';
import { Endpoint, agent } from './registry-client';
import { RegistryTokens } from './registry-tokens';
import { startWharfProcess } from './wharf-process';

/** A registry under test: how to address it, and its process for memory readings. */
export interface Target extends Endpoint {
  name: 'Wharf' | 'Distribution';
  /** The server's process id, when known. */
  pid?: number;
  /** Wharf only: the admin's Basic header, for the REST API (and the labelled Basic rows). */
  adminHeaders?: Record<string, string>;
  /** Wharf only: what backs its metadata. */
  database?: string;
  /** Wharf only: its Postgres database and admin password, for another host to join (no database URL on the embedded one). */
  databaseUrl?: string;
  adminPassword?: string;
}

/**
 * Everything started during the run, stopped in reverse order by stopAll(): on success,
 * on failure, and on SIGINT/SIGTERM.
 */
export class Resources {
  private readonly stops: { name: string; stop: () => Promise<void> }[] = [];

  add(name: string, stop: () => Promise<void>): void {
    this.stops.push({ name, stop });
  }

  /** Idempotent: a second call (SIGINT during the final cleanup) waits for the first. */
  stopAll(): Promise<void> {
    this.stopping ??= this.drain().finally(() => (this.stopping = undefined));
    return this.stopping;
  }

  private stopping?: Promise<void>;

  private async drain(): Promise<void> {
    while (this.stops.length > 0) {
      const { name, stop } = this.stops.pop()!;
      const timeout = new Promise<void>((_, reject) => setTimeout(() => reject(new Error('timed out')), 20_000).unref());
      await Promise.race([stop(), timeout]).catch((err) => console.error(`stopping ${name}: ${(err as Error).message}`));
    }
  }
}

/**
 * Wharf from `dist/` as a child process, with a random admin password. With DATABASE_URL set
 * it gets a fresh database on that server (dropped afterwards), else the embedded one.
 */
export async function startWharfTarget(resources: Resources, settings: Record<string, string> = {}, joining?: Target): Promise<Target> {
  // A host joining another shares its database, admin and repository.
  const password = joining?.adminPassword ?? randomBytes(18).toString('base64url');
  const env: Record<string, string> = { WHARF_ADMIN_PASSWORD: password, ...settings };
  let database = 'embedded (PGlite)';
  const serverUrl = process.env.DATABASE_URL?.trim();
  if (joining?.databaseUrl) {
    env.DATABASE_URL = joining.databaseUrl;
    database = joining.database ?? database;
  } else if (serverUrl) {
    const dbName = `wharf_bench_${Date.now()}_${randomBytes(3).toString('hex')}`;
    try {
      await query(serverUrl, `CREATE DATABASE ${dbName}`);
      resources.add(`database ${dbName}`, () => query(serverUrl, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
      const url = new URL(serverUrl);
      url.pathname = `/${dbName}`;
      env.DATABASE_URL = url.toString();
      database = `PostgreSQL (fresh database on ${url.host})`;
    } catch (err) {
      console.warn(`cannot create a fresh database (${(err as Error).message}); using DATABASE_URL as it is`);
      env.DATABASE_URL = serverUrl;
      database = `PostgreSQL (${new URL(serverUrl).host}, existing database)`;
    }
  } else {
    env.DATABASE_URL = '';
  }
  // Hosts on one database share the server key, as an operator's WHARF_SECRET_KEY makes them.
  if (env.DATABASE_URL) env.WHARF_SECRET_KEY ??= createHash('sha256').update(`bench key for ${env.DATABASE_URL}`).digest('base64');
  const wharf = await startWharfProcess(env);
  resources.add('Wharf', () => wharf.stop());

  const adminHeaders = { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` };
  if (joining) return { ...joining, origin: wharf.url, tokens: new RegistryTokens(wharf.url, adminHeaders.authorization), pid: wharf.pid };
  // A fresh database may be the shared existing one: a key of its own avoids meeting old data.
  const repoKey = `bench-${randomBytes(3).toString('hex')}`;
  await createRepository(wharf.url, adminHeaders, repoKey, { rclass: 'local', packageType: 'docker' });
  return {
    name: 'Wharf',
    origin: wharf.url,
    // Registry requests carry Bearer tokens from /v2/token, as docker, podman and skopeo send them.
    headers: {},
    tokens: new RegistryTokens(wharf.url, adminHeaders.authorization),
    adminHeaders,
    pid: wharf.pid,
    database,
    databaseUrl: env.DATABASE_URL || undefined,
    adminPassword: password,
    v2: (image) => `/v2/${repoKey}/${image}`,
  };
}

/** Debian's docker-registry (CNCF Distribution) on its own loopback port, anonymous. */
export async function startDistributionTarget(resources: Resources): Promise<Target> {
  const registry = await startDistribution();
  resources.add('Distribution', () => registry.stop());
  return {
    name: 'Distribution',
    origin: registry.url,
    headers: {},
    pid: await pidOf(path.join(registry.dir, 'config.yml')),
    v2: (image) => `/v2/${image}`,
  };
}

/**
 * Distribution with its own `s3` driver on a bucket of `rgw`; `redirect` keeps its default of
 * answering blob GETs with presigned URLs, otherwise it streams them.
 */
export async function startDistributionOnS3(resources: Resources, rgw: CephRgw, bucket: string, redirect: boolean): Promise<Target> {
  const s3 = {
    region: rgw.region,
    regionendpoint: rgw.endpoint,
    bucket,
    accesskey: rgw.accessKeyId,
    secretkey: rgw.secretAccessKey,
    forcepathstyle: true,
    secure: false,
    v4auth: true,
  };
  const registry = await startDistribution({ storage: { s3, redirect: { disable: !redirect } } });
  resources.add(`Distribution on S3${redirect ? ' (redirects)' : ''}`, () => registry.stop());
  return { name: 'Distribution', origin: registry.url, headers: {}, pid: await pidOf(path.join(registry.dir, 'config.yml')), v2: (image) => `/v2/${image}` };
}

export interface PullThroughSetup {
  /** The upstream itself, for a direct pull. */
  upstream: Endpoint;
  /** Wharf's remote repository in front of the upstream. */
  wharf: Endpoint;
  /** Distribution in proxy mode in front of the upstream. */
  distribution: Endpoint;
}

/** A second Distribution as the upstream, a Wharf remote repository and a Distribution proxy in front of it. */
export async function startPullThrough(resources: Resources, wharf: Target): Promise<PullThroughSetup> {
  const upstream = await startUpstreamRegistry();
  resources.add('upstream Distribution', () => upstream.stop());
  const proxy = await startUpstreamRegistry({ proxy: { remoteurl: upstream.url } });
  resources.add('Distribution proxy', () => proxy.stop());
  const remoteKey = `bench-remote-${randomBytes(3).toString('hex')}`;
  await createRepository(wharf.origin, wharf.adminHeaders!, remoteKey, {
    rclass: 'remote',
    packageType: 'docker',
    url: upstream.url,
    metadataRetrievalCachePeriod: 600,
  });
  return {
    upstream: { origin: upstream.url, headers: {}, v2: (image) => `/v2/${image}` },
    wharf: { origin: wharf.origin, headers: wharf.headers, tokens: wharf.tokens, v2: (image) => `/v2/${remoteKey}/${image}` },
    distribution: { origin: proxy.url, headers: {}, v2: (image) => `/v2/${image}` },
  };
}

/** PUT /api/repositories/<key> with the admin's headers; anything but 201 is an error. */
export async function createRepository(origin: string, headers: Record<string, string>, key: string, body: Record<string, unknown>): Promise<void> {
  const res = await request(`${origin}/api/repositories/${key}`, {
    method: 'PUT',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    dispatcher: agent,
  });
  const text = await res.body.text();
  if (res.statusCode !== 201) throw new Error(`creating repository ${key}: ${res.statusCode} ${text}`);
}

async function query(url: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The process whose command line names `needle` (the helpers do not expose their child's pid). */
export async function pidOf(needle: string): Promise<number | undefined> {
  for (const entry of await fs.readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await fs.readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(needle)) return Number(entry);
  }
  return undefined;
}
