import { availableParallelism } from 'node:os';
import * as path from 'node:path';

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
  /** 32 bytes that encrypt stored upstream credentials; unset: a key file in the data directory. */
  secretKey?: Buffer;

  get blobRoot(): string {
    return path.join(this.dataDir, 'storage');
  }

  get embeddedDatabaseDir(): string {
    return path.join(this.dataDir, 'pg');
  }
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
