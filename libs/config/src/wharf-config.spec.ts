import { availableParallelism } from 'node:os';
import { ConfigError, loadConfig } from './wharf-config';

describe('loadConfig', () => {
  it('applies the defaults', () => {
    const config = loadConfig({});
    expect(config.port).toBe(8080);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.dataDir.endsWith('/data')).toBe(true);
    expect(config.logLevel).toBe('info');
  });

  it('names every bad value at once', () => {
    let error: ConfigError | undefined;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', WHARF_PUBLIC_URL: 'ftp://x', LOG_LEVEL: 'loud' });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems).toHaveLength(4);
    expect(error!.message).toMatch(/PORT/);
    expect(error!.message).toMatch(/DATABASE_URL/);
    expect(error!.message).toMatch(/WHARF_PUBLIC_URL/);
    expect(error!.message).toMatch(/LOG_LEVEL/);
  });

  it('keeps a valid DATABASE_URL and strips a trailing slash from the public URL', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://u@h:5432/db', WHARF_PUBLIC_URL: 'https://wharf.example/' });
    expect(config.databaseUrl).toBe('postgres://u@h:5432/db');
    expect(config.publicUrl).toBe('https://wharf.example');
  });

  describe('audit log and webhooks', () => {
    it('keeps audit rows 90 days and refuses private webhook targets by default', () => {
      const config = loadConfig({});
      expect(config.auditRetentionDays).toBe(90);
      expect(config.webhookAllowPrivate).toBe(false);
    });
    it('takes other values and names bad ones', () => {
      const config = loadConfig({ WHARF_AUDIT_RETENTION_DAYS: '7', WHARF_WEBHOOK_ALLOW_PRIVATE: 'true' });
      expect(config.auditRetentionDays).toBe(7);
      expect(config.webhookAllowPrivate).toBe(true);
      expect(() => loadConfig({ WHARF_AUDIT_RETENTION_DAYS: '0' })).toThrow(/WHARF_AUDIT_RETENTION_DAYS must be an integer from 1 to 36500, got "0"/);
      expect(() => loadConfig({ WHARF_WEBHOOK_ALLOW_PRIVATE: 'yes' })).toThrow(/WHARF_WEBHOOK_ALLOW_PRIVATE must be true or false, got "yes"/);
    });
  });

  describe('WHARF_WORKERS', () => {
    const postgres = { DATABASE_URL: 'postgres://u@h:5432/db' };
    it('is one process by default', () => {
      expect(loadConfig(postgres).workers).toBe(1);
      expect(loadConfig({}).workers).toBe(1);
    });
    it('takes a count or auto', () => {
      expect(loadConfig({ ...postgres, WHARF_WORKERS: '3' }).workers).toBe(3);
      expect(loadConfig({ ...postgres, WHARF_WORKERS: ' AUTO ' }).workers).toBe(availableParallelism());
      expect(loadConfig({ WHARF_WORKERS: '1' }).workers).toBe(1);
    });
    it.each(['0', '65', 'two', '-1', '1.5'])('refuses %p', (value) => {
      expect(() => loadConfig({ ...postgres, WHARF_WORKERS: value })).toThrow(`WHARF_WORKERS must be "auto" or an integer from 1 to 64, got "${value}"`);
    });
    it('refuses more than one on the embedded database, naming why (auto means one there)', () => {
      expect(() => loadConfig({ WHARF_WORKERS: '2' })).toThrow('WHARF_WORKERS=2 needs DATABASE_URL: the embedded database serves one process');
      expect(loadConfig({ WHARF_WORKERS: 'auto' }).workers).toBe(1);
    });
  });

  describe('WHARF_METRICS_TOKEN', () => {
    it('is unset by default: /metrics is open', () => {
      expect(loadConfig({}).metricsToken).toBeUndefined();
      expect(loadConfig({ WHARF_METRICS_TOKEN: '  ' }).metricsToken).toBeUndefined();
    });
    it('takes a token of 16 or more printable characters', () => {
      expect(loadConfig({ WHARF_METRICS_TOKEN: ' scrape-token-0123456789 ' }).metricsToken).toBe('scrape-token-0123456789');
    });
    it.each(['short', 'has a space in the middle', 'tab\tinside-0123456789'])('refuses %p', (value) => {
      expect(() => loadConfig({ WHARF_METRICS_TOKEN: value })).toThrow('WHARF_METRICS_TOKEN must be at least 16 printable characters without spaces');
    });
  });

  describe('WHARF_STORAGE', () => {
    it('is the filesystem by default', () => {
      const config = loadConfig({});
      expect(config.storage).toBe('filesystem');
      expect(config.s3).toBeUndefined();
    });

    it('takes the S3 settings, path style by default with an endpoint', () => {
      const config = loadConfig({
        WHARF_STORAGE: 's3',
        WHARF_S3_BUCKET: 'images',
        WHARF_S3_ENDPOINT: 'http://127.0.0.1:7480',
        WHARF_S3_PREFIX: '/wharf/',
        WHARF_S3_ACCESS_KEY_ID: 'key',
        WHARF_S3_SECRET_ACCESS_KEY: 'secret',
        WHARF_S3_REDIRECT: 'true',
      });
      expect(config.s3).toEqual({
        endpoint: 'http://127.0.0.1:7480',
        bucket: 'images',
        region: 'us-east-1',
        prefix: 'wharf',
        forcePathStyle: true,
        credentials: { accessKeyId: 'key', secretAccessKey: 'secret' },
        redirectSeconds: 300,
      });
      expect(loadConfig({ WHARF_STORAGE: 's3', WHARF_S3_BUCKET: 'b' }).s3).toMatchObject({ forcePathStyle: false, credentials: undefined, redirectSeconds: 0 });
    });

    it('names what is missing or wrong', () => {
      let error: ConfigError | undefined;
      try {
        loadConfig({ WHARF_STORAGE: 's3', WHARF_S3_ENDPOINT: 'ftp://x', WHARF_S3_ACCESS_KEY_ID: 'only-one', WHARF_S3_REDIRECT: 'maybe' });
      } catch (err) {
        error = err as ConfigError;
      }
      expect(error!.problems).toEqual([
        'WHARF_STORAGE=s3 needs WHARF_S3_BUCKET',
        'WHARF_S3_ENDPOINT must be an http(s) URL, got "ftp://x"',
        'WHARF_S3_ACCESS_KEY_ID and WHARF_S3_SECRET_ACCESS_KEY go together (or neither: the AWS SDK default chain)',
        'WHARF_S3_REDIRECT must be true or false, got "maybe"',
      ]);
      expect(() => loadConfig({ WHARF_STORAGE: 'tape' })).toThrow(/WHARF_STORAGE must be "filesystem" or "s3"/);
    });
  });

  describe('WHARF_PULL_LIMIT_*', () => {
    it("is off by default, with Docker Hub's six-hour window", () => {
      expect(loadConfig({}).pullLimits).toEqual({ authenticated: 0, anonymous: 0, windowSeconds: 21_600, users: new Map() });
    });

    it('takes the limits, the window and per-user exceptions', () => {
      const limits = loadConfig({
        WHARF_PULL_LIMIT_AUTHENTICATED: '200',
        WHARF_PULL_LIMIT_ANONYMOUS: '100',
        WHARF_PULL_LIMIT_WINDOW_SECONDS: '3600',
        WHARF_PULL_LIMIT_USERS: 'ci-bot=5000, admin=0,',
      }).pullLimits;
      expect(limits).toEqual({
        authenticated: 200,
        anonymous: 100,
        windowSeconds: 3600,
        users: new Map([
          ['ci-bot', 5000],
          ['admin', 0],
        ]),
      });
    });

    it('names every bad value', () => {
      let error: ConfigError | undefined;
      try {
        loadConfig({ WHARF_PULL_LIMIT_AUTHENTICATED: '-1', WHARF_PULL_LIMIT_WINDOW_SECONDS: '0', WHARF_PULL_LIMIT_USERS: 'ci-bot=5000,ops' });
      } catch (err) {
        error = err as ConfigError;
      }
      expect(error!.problems).toEqual([
        'WHARF_PULL_LIMIT_USERS must be user=limit pairs separated by commas (limit 0: unlimited), got "ops"',
        'WHARF_PULL_LIMIT_AUTHENTICATED must be an integer from 0 to 100000000, got "-1"',
        'WHARF_PULL_LIMIT_WINDOW_SECONDS must be an integer from 1 to 2592000, got "0"',
      ]);
    });
  });
});
