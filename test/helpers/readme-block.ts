import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');

/** The first ```sh block after `<!-- <name>:` in the README: what a user copies, tested as written. */
export async function readmeBlock(name: string): Promise<string> {
  const readme = await fs.readFile(path.join(ROOT, 'README.md'), 'utf8');
  const marked = readme.indexOf(`<!-- ${name}:`);
  if (marked < 0) throw new Error(`README has no <!-- ${name}: --> marker`);
  const match = /```sh\n([\s\S]*?)```/.exec(readme.slice(marked));
  if (!match) throw new Error(`no sh block after the ${name} marker`);
  return match[1];
}

/** The block as a bash script against `host` (test servers listen on random ports), from the clone's root. */
export function asScript(block: string, host: string): string {
  return `set -euo pipefail\ncd ${JSON.stringify(ROOT)}\n${block.replaceAll('localhost:8080', host)}`;
}
