import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { CronExpressionParser } from 'cron-parser';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];

/** Typed, validated configuration. The only place that reads process.env is `loadConfig`. */
export class WharfConfig {
  port: number;
  host: string;
  dataDir: string;
  /** Unset: Wharf starts its embedded database under `dataDir/pg`. */
  databaseUrl?: string;
  /** HTTP server processes sharing the port (Node cluster); more than one needs `databaseUrl`. */
  workers: number;
  /** The base URL clients use, for Location headers; unset: taken from each request's Host. */
  publicUrl?: string;
  logLevel: LogLevel;
  maxManifestBytes: number;
  /** On shutdown, how long in-flight requests may take before their connections are cut. */
  shutdownGraceSeconds: number;
  /** The first admin's password; unset: generated and printed once at first start. */
  adminPassword?: string;
  /** The `service` of registry tokens (the audience of the JWTs Wharf signs). */
  authService: string;
  /** A PEM file with the EC P-256 private key that signs tokens; unset: one kept in the database. */
  jwtPrivateKeyFile?: string;
  /** Lifetime of registry bearer tokens. */
  tokenTtlSeconds: number;
  /** Lifetime of refresh tokens (docker login's offline tokens). */
  refreshTokenTtlSeconds: number;
  /** Failed logins allowed per user and per client address within the window. */
  /** Failed logins one user name may have from one address in the window before that pair is refused. */
  loginMaxFailures: number;
  /** Failed logins of one user name from all addresses before the addresses that failed for it are refused. */
  loginMaxFailuresPerUser: number;
  /** Failed logins from one address for all user names before the user names that failed there are refused. */
  loginMaxFailuresPerAddress: number;
  loginWindowSeconds: number;
  /** Manifest GETs allowed per user name and per anonymous address (Docker Hub's pull limits); all 0: off. */
  pullLimits: PullLimitSettings;
  /** 32 bytes that encrypt stored upstream credentials; unset: a key file in the data directory. */
  secretKey?: Buffer;
  /** Where blob bytes live: files under `dataDir/storage`, or an S3 bucket (shared by several hosts). */
  storage: 'filesystem' | 's3';
  /** Set when `storage` is `s3`. */
  s3?: S3Settings;
  /** The built web UI; unset: dist/web of this installation. */
  uiDir?: string;
  /** How long a web UI sign-in lasts. */
  sessionTtlSeconds: number;
  /** The bearer token GET /metrics requires; unset: /metrics is open. */
  metricsToken?: string;
  /** Garbage collection: when it runs by itself, and what it leaves alone. */
  gc: GcSettings;
  /** Audit log rows (and delivered webhook deliveries) older than this many days are deleted. */
  auditRetentionDays: number;
  /** Whether webhooks may target loopback, private, link-local and other non-public addresses. */
  webhookAllowPrivate: boolean;

  get blobRoot(): string {
    return path.join(this.dataDir, 'storage');
  }

  get embeddedDatabaseDir(): string {
    return path.join(this.dataDir, 'pg');
  }
}

export interface GcSettings {
  /** A cron expression (five fields, UTC) for scheduled runs, or undefined: only on demand. */
  schedule?: string;
  /** Blob links younger than this are never collected: a layer pushed before its manifest. */
  graceSeconds: number;
  /** Upload sessions idle longer than this are abandoned: collected with their data. */
  uploadMaxIdleSeconds: number;
}

export interface PullLimitSettings {
  /** Per user name in each window; 0: unlimited. */
  authenticated: number;
  /** Per client address (an IPv6 /64) of anonymous callers in each window; 0: unlimited. */
  anonymous: number;
  windowSeconds: number;
  /** Per-user exceptions to `authenticated` (a CI user's higher figure, or 0: unlimited). */
  users: ReadonlyMap<string, number>;
}

export interface S3Settings {
  /** Unset: AWS's own endpoint for the region. */
  endpoint?: string;
  bucket: string;
  region: string;
  /** Key prefix for everything Wharf stores, '' for the bucket's root. */
  prefix: string;
  /** Path-style URLs (`endpoint/bucket/key`), as MinIO and Ceph's gateway need. */
  forcePathStyle: boolean;
  /** Both or neither; neither: the AWS SDK's default chain (environment, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Blob GETs answer 307 to a presigned URL valid this long, or 0: bytes go through Wharf. */
  redirectSeconds: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

/** Reads and validates the environment; every bad value is reported at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): WharfConfig {
  const problems: string[] = [];
  const config = new WharfConfig();

  config.port = integer(env, 'PORT', 8080, 0, 65535, problems);
  config.host = env.WHARF_HOST?.trim() || '0.0.0.0';
  config.dataDir = path.resolve(env.WHARF_DATA_DIR?.trim() || './data');
  if (env.WHARF_UI_DIR?.trim()) config.uiDir = path.resolve(env.WHARF_UI_DIR.trim());
  config.maxManifestBytes = integer(env, 'WHARF_MAX_MANIFEST_BYTES', 4 * 1024 * 1024, 1024, 64 * 1024 * 1024, problems);

  config.shutdownGraceSeconds = integer(env, 'WHARF_SHUTDOWN_GRACE_SECONDS', 10, 0, 3600, problems);

  config.adminPassword = env.WHARF_ADMIN_PASSWORD || undefined;
  if (config.adminPassword !== undefined && config.adminPassword.length < 8) problems.push('WHARF_ADMIN_PASSWORD must have at least 8 characters');
  config.authService = env.WHARF_AUTH_SERVICE?.trim() || 'wharf';
  config.jwtPrivateKeyFile = env.WHARF_JWT_PRIVATE_KEY_FILE?.trim() || undefined;
  config.tokenTtlSeconds = integer(env, 'WHARF_TOKEN_TTL_SECONDS', 300, 60, 86_400, problems);
  config.refreshTokenTtlSeconds = integer(env, 'WHARF_REFRESH_TOKEN_TTL_SECONDS', 30 * 86_400, 300, 365 * 86_400, problems);
  config.loginMaxFailures = integer(env, 'WHARF_LOGIN_MAX_FAILURES', 10, 1, 10_000, problems);
  config.loginMaxFailuresPerUser = integer(env, 'WHARF_LOGIN_MAX_FAILURES_PER_USER', 5 * config.loginMaxFailures, 1, 1_000_000, problems);
  config.loginMaxFailuresPerAddress = integer(env, 'WHARF_LOGIN_MAX_FAILURES_PER_ADDRESS', 10 * config.loginMaxFailures, 1, 1_000_000, problems);
  config.loginWindowSeconds = integer(env, 'WHARF_LOGIN_WINDOW_SECONDS', 300, 1, 86_400, problems);
  config.pullLimits = pullLimits(env, problems);

  const secretKey = env.WHARF_SECRET_KEY?.trim();
  if (secretKey) {
    const decoded = Buffer.from(secretKey, 'base64');
    if (decoded.length !== 32) problems.push('WHARF_SECRET_KEY must be 32 bytes in base64 (for example: openssl rand -base64 32)');
    else config.secretKey = decoded;
  }

  const databaseUrl = env.DATABASE_URL?.trim();
  if (databaseUrl) {
    if (!/^postgres(ql)?:\/\//.test(databaseUrl) || !isUrl(databaseUrl)) {
      problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL');
    } else config.databaseUrl = databaseUrl;
  }

  config.workers = workers(env, config.databaseUrl !== undefined, problems);
  storage(env, config, problems);
  config.gc = gc(env, problems);
  config.auditRetentionDays = integer(env, 'WHARF_AUDIT_RETENTION_DAYS', 90, 1, 36_500, problems);
  config.webhookAllowPrivate = flag(env, 'WHARF_WEBHOOK_ALLOW_PRIVATE', false, problems);
  config.sessionTtlSeconds = integer(env, 'WHARF_SESSION_TTL_SECONDS', 8 * 3600, 60, 30 * 86_400, problems);
  config.metricsToken = metricsToken(env, problems);

  const publicUrl = env.WHARF_PUBLIC_URL?.trim();
  if (publicUrl) {
    if (!/^https?:\/\//.test(publicUrl) || !isUrl(publicUrl)) problems.push(`WHARF_PUBLIC_URL must be an http(s) URL, got "${publicUrl}"`);
    else config.publicUrl = publicUrl.replace(/\/+$/, '');
  }

  const logLevel = (env.LOG_LEVEL?.trim().toLowerCase() || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);
  config.logLevel = logLevel;

  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * WHARF_WORKERS: a count (1 by default) or `auto`: one per core on Postgres, one on the embedded
 * database, which lives inside the one Wharf process that started it. One is the default
 * because two workers made single pushes slower in the bench (README, Performance).
 */
function workers(env: NodeJS.ProcessEnv, postgres: boolean, problems: string[]): number {
  const raw = env.WHARF_WORKERS?.trim().toLowerCase() || '1';
  if (raw === 'auto') return postgres ? Math.min(availableParallelism(), MAX_WORKERS) : 1;
  const count = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(count >= 1 && count <= MAX_WORKERS)) {
    problems.push(`WHARF_WORKERS must be "auto" or an integer from 1 to ${MAX_WORKERS}, got "${env.WHARF_WORKERS}"`);
    return 1;
  }
  if (count > 1 && !postgres) {
    problems.push(`WHARF_WORKERS=${raw} needs DATABASE_URL: the embedded database serves one process`);
    return 1;
  }
  return count;
}
const MAX_WORKERS = 64;

/** WHARF_STORAGE and, for `s3`, the WHARF_S3_* settings. */
function storage(env: NodeJS.ProcessEnv, config: WharfConfig, problems: string[]): void {
  const kind = env.WHARF_STORAGE?.trim().toLowerCase() || 'filesystem';
  if (kind !== 'filesystem' && kind !== 's3') {
    problems.push(`WHARF_STORAGE must be "filesystem" or "s3", got "${env.WHARF_STORAGE}"`);
    config.storage = 'filesystem';
    return;
  }
  config.storage = kind;
  if (kind === 'filesystem') return;
  const bucket = env.WHARF_S3_BUCKET?.trim();
  if (!bucket) problems.push('WHARF_STORAGE=s3 needs WHARF_S3_BUCKET');
  const endpoint = env.WHARF_S3_ENDPOINT?.trim() || undefined;
  if (endpoint && (!/^https?:\/\//.test(endpoint) || !isUrl(endpoint))) problems.push(`WHARF_S3_ENDPOINT must be an http(s) URL, got "${endpoint}"`);
  const accessKeyId = env.WHARF_S3_ACCESS_KEY_ID?.trim();
  const secretAccessKey = env.WHARF_S3_SECRET_ACCESS_KEY?.trim();
  if (!accessKeyId !== !secretAccessKey) problems.push('WHARF_S3_ACCESS_KEY_ID and WHARF_S3_SECRET_ACCESS_KEY go together (or neither: the AWS SDK default chain)');
  const redirect = flag(env, 'WHARF_S3_REDIRECT', false, problems);
  config.s3 = {
    endpoint,
    bucket: bucket ?? '',
    region: env.WHARF_S3_REGION?.trim() || 'us-east-1',
    prefix: (env.WHARF_S3_PREFIX?.trim() ?? '').replace(/^\/+|\/+$/g, ''),
    forcePathStyle: flag(env, 'WHARF_S3_FORCE_PATH_STYLE', endpoint !== undefined, problems),
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
    redirectSeconds: redirect ? integer(env, 'WHARF_S3_REDIRECT_SECONDS', 300, 10, 7 * 86_400, problems) : 0,
  };
}

/** WHARF_GC_SCHEDULE (`off`, or a five-field cron expression), WHARF_GC_GRACE_SECONDS, WHARF_UPLOAD_MAX_IDLE_SECONDS. */
function gc(env: NodeJS.ProcessEnv, problems: string[]): GcSettings {
  const raw = env.WHARF_GC_SCHEDULE?.trim() || '0 3 * * *';
  let schedule: string | undefined;
  if (raw.toLowerCase() !== 'off') {
    if (raw.split(/\s+/).length !== 5) problems.push(`WHARF_GC_SCHEDULE must be "off" or a cron expression of five fields (minute hour day month weekday), got "${raw}"`);
    else {
      try {
        CronExpressionParser.parse(raw, { tz: 'UTC' });
        schedule = raw;
      } catch (err) {
        problems.push(`WHARF_GC_SCHEDULE is not a valid cron expression ("${raw}"): ${(err as Error).message}`);
      }
    }
  }
  return {
    schedule,
    graceSeconds: integer(env, 'WHARF_GC_GRACE_SECONDS', 3600, 0, 30 * 86_400, problems),
    uploadMaxIdleSeconds: integer(env, 'WHARF_UPLOAD_MAX_IDLE_SECONDS', 86_400, 1, 365 * 86_400, problems),
  };
}

/** WHARF_PULL_LIMIT_AUTHENTICATED, _ANONYMOUS, _WINDOW_SECONDS and _USERS (`name=limit,...`). */
function pullLimits(env: NodeJS.ProcessEnv, problems: string[]): PullLimitSettings {
  const users = new Map<string, number>();
  for (const entry of (env.WHARF_PULL_LIMIT_USERS ?? '').split(',')) {
    if (!entry.trim()) continue;
    const match = /^\s*([^=\s]+)\s*=\s*(\d{1,9})\s*$/.exec(entry);
    if (!match) problems.push(`WHARF_PULL_LIMIT_USERS must be user=limit pairs separated by commas (limit 0: unlimited), got "${entry.trim()}"`);
    else users.set(match[1], Number(match[2]));
  }
  return {
    authenticated: integer(env, 'WHARF_PULL_LIMIT_AUTHENTICATED', 0, 0, 100_000_000, problems),
    anonymous: integer(env, 'WHARF_PULL_LIMIT_ANONYMOUS', 0, 0, 100_000_000, problems),
    windowSeconds: integer(env, 'WHARF_PULL_LIMIT_WINDOW_SECONDS', 21_600, 1, 30 * 86_400, problems),
    users,
  };
}

/** WHARF_METRICS_TOKEN: sent as `Authorization: Bearer <token>`, so one word, and long enough not to be guessed. */
function metricsToken(env: NodeJS.ProcessEnv, problems: string[]): string | undefined {
  const token = env.WHARF_METRICS_TOKEN?.trim();
  if (!token) return undefined;
  if (!/^[\x21-\x7e]{16,}$/.test(token)) problems.push('WHARF_METRICS_TOKEN must be at least 16 printable characters without spaces');
  return token;
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean, problems: string[]): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  problems.push(`${name} must be true or false, got "${env[name]}"`);
  return fallback;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number, problems: string[]): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
    return fallback;
  }
  return value;
}

function isUrl(value: string): boolean {
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}
