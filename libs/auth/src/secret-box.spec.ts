import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '@wharf/config';
import { SecretBox } from './secret-box';

describe('SecretBox', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-secret-box-'));
  });
  afterEach(() => fs.rm(dataDir, { recursive: true, force: true }));

  it('boxes started at once on one data directory share the one key file they create', async () => {
    const config = loadConfig({ WHARF_DATA_DIR: dataDir });
    const boxes = Array.from({ length: 8 }, () => new SecretBox(config));
    await Promise.all(boxes.map((box) => box.onModuleInit()));

    const sealed = boxes[0].encrypt('upstream-password');
    for (const box of boxes) expect(box.decrypt(sealed)).toBe('upstream-password');
    expect(await fs.readdir(dataDir)).toEqual(['secret.key']);
    expect((await fs.stat(path.join(dataDir, 'secret.key'))).mode & 0o777).toBe(0o600);
  });

  it('keeps the key file of an earlier start', async () => {
    const config = loadConfig({ WHARF_DATA_DIR: dataDir });
    const first = new SecretBox(config);
    await first.onModuleInit();
    const sealed = first.encrypt('kept');
    const later = new SecretBox(config);
    await later.onModuleInit();
    expect(later.decrypt(sealed)).toBe('kept');
  });

  it('uses WHARF_SECRET_KEY when set, and writes no file', async () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const box = new SecretBox(loadConfig({ WHARF_DATA_DIR: dataDir, WHARF_SECRET_KEY: key }));
    await box.onModuleInit();
    const other = new SecretBox(loadConfig({ WHARF_DATA_DIR: os.tmpdir(), WHARF_SECRET_KEY: key }));
    await other.onModuleInit();
    expect(other.decrypt(box.encrypt('same key'))).toBe('same key');
    expect(await fs.readdir(dataDir)).toEqual([]);
  });
});
