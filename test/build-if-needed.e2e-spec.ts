import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

// scripts/build-if-needed.sh (what `npm start` runs before starting) on a small tree of its own,
// whose `nest` (node_modules/.bin, which npx finds first) only counts its builds: the real
// build takes half a minute, and what is tested is when it runs.
const FAKE_NEST = `#!/usr/bin/env bash
# Like nest build: empties dist/, then writes it.
rm -rf dist
if [ -f FAIL ]; then mkdir -p dist/apps; echo half > dist/apps/half.js; exit 1; fi
if [ -f EDIT_DURING_BUILD ]; then rm EDIT_DURING_BUILD; echo '// edited meanwhile' >> apps/server/src/main.ts; fi
mkdir -p dist/apps/server/src
echo 'built' > dist/apps/server/src/main.js
echo build >> builds
`;

describe('scripts/build-if-needed.sh', () => {
  let tree: string;

  const builds = async () => (await fs.readFile(path.join(tree, 'builds'), 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
  /** Runs the script; resolves with how many builds it ran (0 or 1). */
  const start = async (): Promise<number> => {
    const before = await builds();
    await run('bash', [path.join(tree, 'scripts', 'build-if-needed.sh')], { cwd: os.tmpdir() });
    return (await builds()) - before;
  };
  const write = (file: string, text: string) => fs.mkdir(path.dirname(path.join(tree, file)), { recursive: true }).then(() => fs.writeFile(path.join(tree, file), text));
  const yearsAgo = new Date('2001-01-01T00:00:00Z');

  beforeEach(async () => {
    tree = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-build-'));
    await write('scripts/build-if-needed.sh', await fs.readFile(path.join(__dirname, '..', 'scripts', 'build-if-needed.sh'), 'utf8'));
    await write('node_modules/.bin/nest', FAKE_NEST);
    // The script runs `npm run build`; here that is the fake nest alone (the real one adds vite).
    await write('package.json', JSON.stringify({ name: 'tree', private: true, scripts: { build: 'nest build' } }));
    await fs.chmod(path.join(tree, 'node_modules/.bin/nest'), 0o755);
    await write('apps/server/src/main.ts', 'main();\n');
    await write('libs/db/src/index.ts', 'export {};\n');
    await write('libs/db/src/thing.spec.ts', 'test();\n');
    await write('migrations/1-init.ts', 'export {};\n');
    for (const file of ['tsconfig.json', 'tsconfig.build.json', 'nest-cli.json', 'package-lock.json']) await write(file, '{}\n');
    await write('README.md', 'docs\n');
    expect(await start()).toBe(1);
  });
  afterEach(() => fs.rm(tree, { recursive: true, force: true }));

  it('does not build again when nothing changed, nor for a spec file or a file that is no build input', async () => {
    expect(await start()).toBe(0);
    await write('libs/db/src/thing.spec.ts', 'test(); test();\n');
    await write('README.md', 'more docs\n');
    expect(await start()).toBe(0);
  });

  it.each([
    ['an edited source', () => write('libs/db/src/index.ts', 'export const x = 1;\n')],
    ['an added source', () => write('libs/db/src/new.ts', 'export {};\n')],
    ['a deleted source', () => fs.rm(path.join(tree, 'migrations/1-init.ts'))],
    ['a renamed source', () => fs.rename(path.join(tree, 'libs/db/src/index.ts'), path.join(tree, 'libs/db/src/main.ts'))],
    ['a source put back with an older time', () => fs.utimes(path.join(tree, 'apps/server/src/main.ts'), yearsAgo, yearsAgo)],
    ['a changed tsconfig.build.json', () => write('tsconfig.build.json', '{"compilerOptions":{}}\n')],
    ['a changed nest-cli.json', () => write('nest-cli.json', '{"monorepo":true}\n')],
    ['a changed package-lock.json', () => write('package-lock.json', '{"lockfileVersion":3}\n')],
    ['a missing dist/', () => fs.rm(path.join(tree, 'dist'), { recursive: true })],
  ])('builds again after %s, once', async (_what, change) => {
    await change();
    expect(await start()).toBe(1);
    expect(await start()).toBe(0);
  });

  it('a failed build leaves no fingerprint: it fails, and the next start builds again', async () => {
    await write('libs/db/src/index.ts', 'export const broken = ;\n');
    await write('FAIL', '');
    await expect(start()).rejects.toThrow();
    await fs.rm(path.join(tree, 'FAIL'));
    expect(await start()).toBe(1);
    expect(await start()).toBe(0);
  });

  it('an edit made while building makes the next start build again', async () => {
    await write('libs/db/src/index.ts', 'export const y = 2;\n');
    await write('EDIT_DURING_BUILD', '');
    expect(await start()).toBe(1);
    expect(await start()).toBe(1);
    expect(await start()).toBe(0);
  });
});
