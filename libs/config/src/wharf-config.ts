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
  /** The base URL clients use, for Location headers; unset: taken from each request's Host. */
  publicUrl?: string;
  logLevel: LogLevel;
  maxManifestBytes: number;
  /** On shutdown, how long in-flight requests may take before their connections are cut. */
  shutdownGraceSeconds: number;

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

  const databaseUrl = env.DATABASE_URL?.trim();
  if (databaseUrl) {
    if (!/^postgres(ql)?:\/\//.test(databaseUrl) || !isUrl(databaseUrl)) {
      problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL');
    } else config.databaseUrl = databaseUrl;
  }

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
