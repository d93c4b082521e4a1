import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/** Readiness: proves the data directory accepts a write (full disk, read-only mount, permissions). */
export class DataDirProbe {
  constructor(private readonly dir: string) {}

  async check(): Promise<void> {
    const probe = path.join(this.dir, `.probe-${randomUUID()}`);
    await fs.writeFile(probe, 'ok');
    await fs.unlink(probe);
  }
}
