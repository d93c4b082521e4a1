import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { loadConfig } from '@wharf/config';
import { PathNotFoundError, StorageDriver } from '@wharf/storage';
import { startWharf as boot } from '../../apps/server/src/bootstrap';
import { startScaleOut, testDeployment } from './scale-out-deployment';

export interface WharfTestServer {
  /** http://127.0.0.1:PORT */
  baseUrl: string;
  /** 127.0.0.1:PORT, as docker/podman/skopeo address it. */
  host: string;
  dataDir: string;
  databaseUrl: string;
  /** The first admin, created at boot from WHARF_ADMIN_PASSWORD (generated unless `env` sets it). */
  admin: { username: string; password: string };
  /** `Basic ...` for the admin, for HTTP requests. */
  adminAuthorization: string;
  /** The driver the server's blobs and uploads live in (its disk, or the bucket), for tests that look at or damage stored files. */
  storage: StorageDriver;
  close(): Promise<void>;
}

const ADMIN_URL = process.env.WHARF_TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * Boots the real server on a random loopback port with a temporary data directory and, unless
 * `env` names a DATABASE_URL (another instance's), a fresh Postgres database dropped on close.
 * With WHARF_TEST_DEPLOYMENT=scale-out (and no storage chosen by `env`), two such hosts on S3
 * behind a load balancer, seen as one server.
 */
export async function startWharf(env: Record<string, string> = {}): Promise<WharfTestServer> {
  if (testDeployment() === 'scale-out' && !env.WHARF_STORAGE) return startScaleOut(env, startOneWharf);
  return startOneWharf(env);
}

async function startOneWharf(env: Record<string, string>): Promise<WharfTestServer> {
  const own = env.DATABASE_URL ? undefined : await createTestDatabase();
  const databaseUrl = env.DATABASE_URL ?? own!.url;
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-e2e-'));
  const admin = { username: 'admin', password: env.WHARF_ADMIN_PASSWORD ?? `admin-${randomBytes(12).toString('hex')}` };
  const config = loadConfig({
    WHARF_ADMIN_PASSWORD: admin.password,
    PORT: '0',
    WHARF_HOST: '127.0.0.1',
    WHARF_DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: process.env.WHARF_TEST_LOG_LEVEL ?? 'warn',
    WHARF_SHUTDOWN_GRACE_SECONDS: '1',
    WHARF_SECRET_KEY: testServerKey(databaseUrl),
    ...env,
  });
  const wharf = await boot(config);
  const host = wharf.address;
  return {
    baseUrl: `http://${host}`,
    host,
    dataDir,
    databaseUrl,
    admin,
    adminAuthorization: basicAuthorization(admin.username, admin.password),
    storage: wharf.app.get(StorageDriver),
    close: async () => {
      await wharf.close();
      await own?.drop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The files under `dir` of a storage driver, recursively, as paths relative to it
 * (`sha256/ab/<hex>` under `/blobs`), sorted; none when it does not exist.
 */
export async function storedFiles(storage: StorageDriver, dir: string): Promise<string[]> {
  const children = await storage.list(dir).catch((err) => {
    if (err instanceof PathNotFoundError) return [];
    throw err;
  });
  const files: string[] = [];
  for (const child of children) {
    const info = await storage.stat(child);
    if (info.isDirectory) files.push(...(await storedFiles(storage, child)).map((file) => path.posix.join(path.posix.basename(child), file)));
    else files.push(path.posix.basename(child));
  }
  return files.sort();
}

/** The server key of every test host on a database: hosts sharing one share it, as an operator's WHARF_SECRET_KEY makes them. */
export function testServerKey(databaseUrl: string): string {
  return createHash('sha256').update(`test key for ${databaseUrl}`).digest('base64');
}

/** A new, empty database on the test Postgres. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `wharf_test_${Date.now()}_${randomBytes(4).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  return { url: withDatabase(ADMIN_URL, name), drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

export async function createLocalRepository(server: WharfTestServer, key: string, settings: Record<string, unknown> = {}): Promise<void> {
  const res = await fetch(`${server.baseUrl}/api/repositories/${key}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: server.adminAuthorization },
    body: JSON.stringify({ rclass: 'local', packageType: 'docker', ...settings }),
  });
  if (res.status !== 201) throw new Error(`creating repository ${key}: ${res.status} ${await res.text()}`);
}

async function adminQuery(sql: string): Promise<void> {
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
