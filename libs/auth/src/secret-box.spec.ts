import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '@wharf/config';
import type { ServerSettingQueries } from '@wharf/db';
import { SecretBox, ServerKeyMismatchError } from './secret-box';

/** The installation's shared settings, as one database would hold them. */
function sharedSettings(): ServerSettingQueries {
  const values = new Map<string, string>();
  return {
    getOrSet: async (name: string, value: string) => {
      if (!values.has(name)) values.set(name, value);
      return values.get(name)!;
    },
  } as ServerSettingQueries;
}

describe('SecretBox', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-secret-box-'));
  });
  afterEach(() => fs.rm(dataDir, { recursive: true, force: true }));

  it('boxes started at once on one data directory share the one key file they create', async () => {
    const config = loadConfig({ WHARF_DATA_DIR: dataDir });
    const settings = sharedSettings();
    const boxes = Array.from({ length: 8 }, () => new SecretBox(config, settings));
    await Promise.all(boxes.map((box) => box.onModuleInit()));

    const sealed = boxes[0].encrypt('upstream-password');
    for (const box of boxes) expect(box.decrypt(sealed)).toBe('upstream-password');
    expect(await fs.readdir(dataDir)).toEqual(['secret.key']);
    expect((await fs.stat(path.join(dataDir, 'secret.key'))).mode & 0o777).toBe(0o600);
  });

  it('keeps the key file of an earlier start', async () => {
    const config = loadConfig({ WHARF_DATA_DIR: dataDir });
    const settings = sharedSettings();
    const first = new SecretBox(config, settings);
    await first.onModuleInit();
    const sealed = first.encrypt('kept');
    const later = new SecretBox(config, settings);
    await later.onModuleInit();
    expect(later.decrypt(sealed)).toBe('kept');
  });

  it('uses WHARF_SECRET_KEY when set, and writes no file', async () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const settings = sharedSettings();
    const box = new SecretBox(loadConfig({ WHARF_DATA_DIR: dataDir, WHARF_SECRET_KEY: key }), settings);
    await box.onModuleInit();
    const other = new SecretBox(loadConfig({ WHARF_DATA_DIR: os.tmpdir(), WHARF_SECRET_KEY: key }), settings);
    await other.onModuleInit();
    expect(other.decrypt(box.encrypt('same key'))).toBe('same key');
    expect(await fs.readdir(dataDir)).toEqual([]);
  });

  it('refuses to start with a key other than the one the database was started with', async () => {
    const settings = sharedSettings();
    await new SecretBox(loadConfig({ WHARF_DATA_DIR: dataDir }), settings).onModuleInit();
    const other = new SecretBox(loadConfig({ WHARF_DATA_DIR: dataDir, WHARF_SECRET_KEY: Buffer.alloc(32, 9).toString('base64') }), settings);
    await expect(other.onModuleInit()).rejects.toBeInstanceOf(ServerKeyMismatchError);
    await expect(other.onModuleInit()).rejects.toThrow(/same WHARF_SECRET_KEY/);
  });
});
