import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { WharfConfig } from '@wharf/config';
import { ServerSettingQueries } from '@wharf/db';

const KEY_FILE = 'secret.key';
const PREFIX = 'v1:';
const KEY_CHECK = 'secret_key_fingerprint';

/** This host's server key is not the one the installation's secrets are sealed with: it does not start. */
export class ServerKeyMismatchError extends Error {
  constructor() {
    super(
      'the server key differs from the one this database was started with: every host on one database needs the same WHARF_SECRET_KEY (a host without it makes its own, in its data directory)',
    );
    this.name = 'ServerKeyMismatchError';
  }
}

/**
 * Encrypts secrets Wharf must be able to read back (upstream passwords) with AES-256-GCM under
 * the server key: WHARF_SECRET_KEY, else a key file in the data directory created at first
 * start. The key never goes into the database, so a database dump alone reveals nothing.
 */
@Injectable()
export class SecretBox implements OnModuleInit {
  private key: Buffer;

  constructor(
    private readonly config: WharfConfig,
    private readonly settings: ServerSettingQueries,
  ) {}

  async onModuleInit(): Promise<void> {
    this.key = this.config.secretKey ?? (await this.keyFile());
    // Hosts sharing a database must share the key, or one cannot read what another sealed.
    const fingerprint = createHmac('sha256', this.key).update('wharf server key check').digest('base64');
    if ((await this.settings.getOrSet(KEY_CHECK, fingerprint)) !== fingerprint) throw new ServerKeyMismatchError();
  }

  private async keyFile(): Promise<Buffer> {
    const file = path.join(this.config.dataDir, KEY_FILE);
    await createOnce(file, randomBytes(32).toString('base64'));
    const key = Buffer.from((await fs.readFile(file, 'utf8')).trim(), 'base64');
    if (key.length !== 32) throw new Error(`${file} must hold 32 bytes in base64`);
    return key;
  }

  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  decrypt(sealed: string): string {
    if (!sealed.startsWith(PREFIX)) throw new Error('unknown secret format');
    const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }
}

/**
 * Writes `content` to `file` unless the file exists, atomically: processes starting at once
 * on one data directory (cluster workers) all end up reading the one complete key. The
 * content goes to a private file first and is hard-linked into place, which fails if another
 * process got there first; an exclusive create of `file` itself could be read while empty.
 */
async function createOnce(file: string, content: string): Promise<void> {
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await fs.writeFile(draft, content, { flag: 'wx', mode: 0o600 });
  try {
    await fs.link(draft, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await fs.unlink(draft);
  }
}
