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
});
