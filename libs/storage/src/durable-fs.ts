import { open, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/** fsync of a directory: makes the entries created or renamed in it survive a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** mkdir -p, then fsyncs the parents of whatever it created so the new entries survive a crash. */
export async function mkdirDurably(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  for (let created = dir; ; created = dirname(created)) {
    await fsyncDir(dirname(created));
    if (created === first) return;
  }
}
