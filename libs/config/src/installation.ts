import * as fs from 'node:fs';
import * as path from 'node:path';

let root: string | undefined;

/** The directory holding Wharf's package.json, found from this file whether it runs from the sources or from dist/. */
export function installationRoot(): string {
  if (root) return root;
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  root = dir;
  return dir;
}

/** The version in package.json (read, not imported: an import would copy package.json into dist/). */
export function wharfVersion(): string {
  return JSON.parse(fs.readFileSync(path.join(installationRoot(), 'package.json'), 'utf8')).version;
}
