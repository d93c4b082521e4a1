// The web UI in a real browser: playwright-core driving Debian's Chromium against a running
// Wharf (the built UI in dist/web) holding images pushed by skopeo. Screenshots of the main
// pages land in docs/screenshots for the README.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Browser, BrowserContext, Page } from 'playwright-core';
import { formatBytes } from '../apps/web/src/format';
import { WEB_DIST, containsText, hasCount, launchChromium, screenshot, visible } from './helpers/browser';
import { BuiltImage, BuiltIndex, buildImage, buildIndex, writeOciLayout } from './helpers/oci-image-builder';
import { DockerCli, Skopeo, run } from './helpers/registry-clients';
import { createUser, getRepository, jsonRequest, newUser } from './helpers/virtual-repository';
import { WharfTestServer, basicAuthorization, createLocalRepository, startWharf } from './helpers/wharf-server';

let server: WharfTestServer;
let browser: Browser;
let admin: BrowserContext;
let page: Page;
let skopeo: Skopeo;
let single: BuiltImage;
let multi: BuiltIndex;
const IMAGE = 'team/web-app';

async function pushWithSkopeo(built: BuiltImage | BuiltIndex, repository: string, tag: string): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-ui-layout-'));
  await writeOciLayout(dir, built, tag);
  await skopeo.copy(`oci:${dir}:${tag}`, `docker://${server.host}/${repository}/${IMAGE}:${tag}`, { all: 'index' in built });
  fs.rmSync(dir, { recursive: true, force: true });
}

async function signIn(context: BrowserContext, username: string, password: string): Promise<Page> {
  const tab = await context.newPage();
  await tab.goto(`${server.baseUrl}/ui/sign-in`);
  // With the keyboard once in the form: type, Tab to the password, Enter submits. (Headless
  // Chromium takes key events only after a first click: a fill() alone leaves them nowhere.)
  await tab.getByLabel('Username').click();
  await tab.keyboard.type(username);
  await tab.keyboard.press('Tab');
  await tab.keyboard.type(password);
  await tab.keyboard.press('Enter');
  await tab.waitForURL('**/ui/repositories');
  // The header names who is signed in.
  await visible(tab.getByRole('banner').getByRole('button', { name: username }));
  return tab;
}

beforeAll(async () => {
  server = await startWharf();
  browser = await launchChromium();
  await createLocalRepository(server, 'ui-local', { description: 'Team images' });
  await createLocalRepository(server, 'ui-private');
  await createLocalRepository(server, 'ui-public', { anonymousRead: true, description: 'Readable by anyone' });
  skopeo = await Skopeo.create({ creds: server.admin });
  single = buildImage({ layerCount: 3, layerSize: 4096 });
  multi = buildIndex();
  await pushWithSkopeo(single, 'ui-local', '1.0');
  await pushWithSkopeo(multi, 'ui-local', 'multi');
  await pushWithSkopeo(buildImage(), 'ui-public', 'latest');
  admin = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await signIn(admin, server.admin.username, server.admin.password);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await skopeo?.close();
  await server?.close();
});

describe('web UI', () => {
  it('a browser at / lands on the UI; anonymous sees the public repository only; signing in (keyboard only) sets a strict httpOnly cookie', async () => {
    const anonymous = await browser.newContext();
    const tab = await anonymous.newPage();
    await tab.goto(`${server.baseUrl}/`);
    await tab.waitForURL('**/ui/repositories');
    const table = tab.getByRole('table', { name: 'Repositories' });
    await visible(table.getByRole('link', { name: 'ui-public' }));
    expect(await table.getByRole('link').allTextContents()).toEqual(['ui-public']);
    await anonymous.close();

    await page.goto(`${server.baseUrl}/`);
    const repositories = page.getByRole('table', { name: 'Repositories' });
    await visible(repositories.getByRole('link', { name: 'ui-local' }));
    // Image count and size, current right after the pushes.
    const cells = await repositories.getByRole('row').filter({ hasText: 'ui-local' }).getByRole('cell').allTextContents();
    expect(cells.slice(3)).toEqual(['1', expect.stringMatching(/^\d+(\.\d+)? KB$/)]);
    const cookie = (await admin.cookies()).find((c) => c.name === 'wharf_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(cookie.expires).toBeGreaterThan(Date.now() / 1000);
    // Scripts cannot read it.
    expect(await page.evaluate(() => (globalThis as any).document.cookie as string)).not.toContain('wharf_session');
  });

  it('browses from a repository to an image, its tags with platforms, and a manifest with its layers', async () => {
    await page.getByRole('link', { name: 'ui-local' }).click();
    await visible(page.getByRole('table', { name: 'Images' }).getByRole('link', { name: IMAGE }));
    await screenshot(page, 'repository');
    // The images table's links are plain anchors with one click handler: still the app's own navigation, not a page load.
    await page.evaluate('window.samePage = true');
    await page.getByRole('link', { name: IMAGE }).click();
    const tags = page.getByRole('table', { name: 'Tags' });
    await visible(tags.getByRole('link', { name: 'multi', exact: true }));
    const multiRow = tags.getByRole('row').filter({ hasText: 'multi' });
    await containsText(multiRow, 'linux/amd64');
    await containsText(multiRow, 'linux/arm64/v8');
    await containsText(tags.getByRole('row').filter({ hasText: '1.0' }), single.manifest.digest.slice(0, 19));
    expect(await page.evaluate('window.samePage')).toBe(true);
    await screenshot(page, 'image');

    await tags.getByRole('link', { name: '1.0', exact: true }).click();
    const layers = page.getByRole('table', { name: 'Layers' });
    await hasCount(layers.getByRole('row'), 1 + single.layers.length);
    for (const layer of single.layers) await containsText(layers, layer.digest.slice(0, 19));
    for (const layer of single.layers) await containsText(layers.getByRole('row').filter({ hasText: layer.digest.slice(0, 19) }), formatBytes(layer.bytes.length));
    await containsText(page.getByRole('table', { name: 'Configuration' }), 'linux/amd64');
    await visible(page.getByText(`docker pull ${server.host}/ui-local/${IMAGE}@${single.manifest.digest}`));
    await screenshot(page, 'manifest');

    await page.goto(`${server.baseUrl}/ui/repositories/ui-local/images/${IMAGE}:multi`);
    const platforms = page.getByRole('table', { name: 'Platforms' });
    await hasCount(platforms.getByRole('row'), 3);
    await containsText(platforms, 'linux/arm64/v8');
  });

  it('a page opened by its address starts its API calls before React renders, and asks for each once', async () => {
    const calls: string[] = [];
    const record = (request: { url(): string }) => {
      const url = new URL(request.url());
      if (url.pathname.startsWith('/api/')) calls.push(url.pathname + url.search);
    };
    // [call, started before DOMContentLoaded]: before the scripts had all run, which React's first render follows.
    const startedBeforeScriptsRan = async () =>
      Object.fromEntries(
        (await page.evaluate(`(() => {
          const scriptsRan = performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd;
          return performance.getEntriesByType('resource')
            .map((entry) => [new URL(entry.name), entry.startTime < scriptsRan])
            .filter(([url]) => url.pathname.startsWith('/api/'))
            .map(([url, early]) => [url.pathname + url.search, early]);
        })()`)) as [string, boolean][],
      );
    page.on('request', record);
    try {
      await page.goto(`${server.baseUrl}/ui/repositories/ui-local`);
      await visible(page.getByRole('table', { name: 'Images' }).getByRole('link', { name: IMAGE }));
      expect(await startedBeforeScriptsRan()).toEqual({
        '/api/session': true,
        '/api/repositories/ui-local': true,
        '/api/repositories/ui-local/images?limit=50': true,
      });
      expect(calls.sort()).toEqual(['/api/repositories/ui-local', '/api/repositories/ui-local/images?limit=50', '/api/session']);

      calls.length = 0;
      await page.goto(`${server.baseUrl}/ui/repositories/ui-local/images/${IMAGE}:1.0`);
      await visible(page.getByRole('table', { name: 'Layers' }));
      const manifest = `/api/repositories/ui-local/manifest?image=${encodeURIComponent(IMAGE)}&reference=1.0`;
      expect(await startedBeforeScriptsRan()).toMatchObject({ '/api/session': true, '/api/repositories/ui-local': true, [manifest]: true });
      expect(calls.filter((call, i) => calls.indexOf(call) !== i)).toEqual([]);
    } finally {
      page.off('request', record);
    }
  });

  it('Set Me Up shows a docker login with a fresh access token, and that command works', async () => {
    await admin.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.baseUrl });
    await page.goto(`${server.baseUrl}/ui/repositories/ui-local?tab=setup`);
    await page.getByRole('button', { name: 'Create an access token for these commands' }).click();
    await visible(page.getByText('Access token created'));
    await page.getByRole('button', { name: 'Copy Docker: Sign in' }).click();
    const login = await page.evaluate(() => (globalThis as any).navigator.clipboard.readText() as Promise<string>);
    expect(login).toMatch(new RegExp(`^echo '.+' \\| docker login ${server.host} --username admin --password-stdin$`));
    expect(login).not.toContain(server.admin.password);
    await screenshot(page, 'set-me-up');

    const docker = await DockerCli.create();
    try {
      await run('bash', ['-c', login], { env: { DOCKER_CONFIG: docker.dir, DOCKER_HOST: `unix://${docker.dir}/no-daemon.sock` } });
      const manifest = await docker.manifestInspect(`${server.host}/ui-local/${IMAGE}:1.0`);
      expect((manifest.config as { digest: string }).digest).toBe(single.config.digest);
    } finally {
      await docker.close();
    }
  });

  it('an admin creates a virtual repository, ordering its members with the keyboard', async () => {
    await page.goto(`${server.baseUrl}/ui/admin/repositories/new`);
    await page.getByText('Virtual', { exact: true }).click();
    await page.getByLabel('Key').fill('ui-virtual');
    for (const member of ['ui-local', 'ui-public', 'ui-private']) {
      await page.getByRole('combobox', { name: 'Add a member' }).click();
      await page.getByRole('option', { name: `${member} (local)` }).click();
      await page.getByRole('button', { name: 'Add', exact: true }).click();
    }
    // ui-private to the top: focus its handle, pick it up, two rows up, drop.
    // Each key waits for dnd-kit's screen-reader announcement of the step before the next.
    const announced = (text: string) => page.locator('[aria-live]').filter({ hasText: text }).waitFor({ state: 'attached', timeout: 15_000 });
    const handle = page.getByRole('button', { name: 'Move ui-private', exact: true });
    await handle.press('Space');
    await announced('ui-private was moved over droppable area ui-private');
    await handle.press('ArrowUp');
    await announced('moved over droppable area ui-public');
    await handle.press('ArrowUp');
    await announced('moved over droppable area ui-local');
    await handle.press('Space');
    await announced('was dropped over droppable area ui-local');
    await containsText(page.getByRole('listitem').first(), 'ui-private');
    await page.getByRole('combobox', { name: 'Deployment target' }).click();
    await page.getByRole('option', { name: 'ui-local' }).click();
    await screenshot(page, 'virtual-form');
    await page.getByRole('button', { name: 'Create repository' }).click();
    await page.waitForURL('**/ui/repositories/ui-virtual');

    const view = await getRepository(server, 'ui-virtual');
    expect(view.json).toMatchObject({ rclass: 'virtual', repositories: ['ui-private', 'ui-local', 'ui-public'], defaultDeploymentRepo: 'ui-local' });
    await containsText(page.getByRole('table', { name: 'Images' }), IMAGE);
    await page.getByRole('link', { name: 'Repositories' }).first().click();
    await visible(page.getByRole('table', { name: 'Repositories' }).getByRole('link', { name: 'ui-virtual' }));
    await screenshot(page, 'repositories');
  });

  it('an admin creates a remote repository whose Set Me Up maps one-word names to library/, edits a repository and deletes one', async () => {
    await page.goto(`${server.baseUrl}/ui/admin/repositories/new`);
    await page.getByText('Remote (cache)', { exact: true }).click();
    await page.getByLabel('Key').fill('ui-hub');
    await page.getByLabel(/^Upstream registry URL/).fill('https://registry-1.docker.io');
    await page.getByRole('button', { name: 'Create repository' }).click();
    await page.waitForURL('**/ui/repositories/ui-hub');
    expect((await getRepository(server, 'ui-hub')).json).toMatchObject({ rclass: 'remote', url: 'https://registry-1.docker.io', libraryPrefix: true });
    await page.getByRole('tab', { name: 'Set Me Up' }).click();
    await containsText(page.getByRole('alert').filter({ hasText: 'pull-through cache' }), `${server.host}/ui-hub/alpine`);
    await containsText(page.getByRole('alert').filter({ hasText: 'pull-through cache' }), 'library/alpine');

    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByLabel('Description').fill('Docker Hub, cached');
    await page.getByRole('button', { name: 'Save' }).click();
    await visible(page.getByText('Docker Hub, cached'));
    expect((await getRepository(server, 'ui-hub')).json.description).toBe('Docker Hub, cached');

    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete repository' }).click();
    await page.waitForURL('**/ui/repositories');
    expect((await getRepository(server, 'ui-hub')).status).toBe(404);
  });

  it('promotes a tag from its manifest page, with a dry run first', async () => {
    await page.goto(`${server.baseUrl}/ui/repositories/ui-local/images/${IMAGE}:1.0`);
    await page.getByRole('button', { name: 'Promote' }).click();
    await page.getByRole('combobox', { name: /^Target repository/ }).click();
    await page.getByRole('option', { name: 'ui-public' }).click();
    await page.getByRole('button', { name: 'Dry run' }).click();
    await visible(page.getByText('Dry run: nothing changed'));
    expect((await tagsOf('ui-public')).map((t) => t.name)).not.toContain('1.0');
    await page.getByRole('button', { name: 'Copy', exact: true }).click();
    await visible(page.getByRole('status').getByText('Promoted'));
    const promoted = (await tagsOf('ui-public')).find((t) => t.name === '1.0');
    expect(promoted?.digest).toBe(single.manifest.digest);
  });

  it('deletes a tag from the image page', async () => {
    await page.goto(`${server.baseUrl}/ui/repositories/ui-local/images/${IMAGE}`);
    await page.getByRole('button', { name: 'Delete tag multi' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete tag' }).click();
    await hasCount(page.getByRole('table', { name: 'Tags' }).getByRole('link', { name: 'multi', exact: true }), 0);
    expect((await tagsOf('ui-local')).map((t) => t.name)).toEqual(['1.0']);
  });

  it('creates an access token with its secret shown once, lists it, and revokes it', async () => {
    await page.goto(`${server.baseUrl}/ui/tokens`);
    await page.getByRole('button', { name: 'New token' }).click();
    await page.getByLabel('Name').fill('ci-pipeline');
    await page.getByRole('button', { name: 'Create token' }).click();
    const secret = (await page.getByRole('dialog').locator('pre').textContent())!.trim();
    const withToken = basicAuthorization(server.admin.username, secret);
    expect((await jsonRequest(server, 'GET', '/api/repositories/ui-local', undefined, withToken)).status).toBe(200);
    await page.getByRole('button', { name: 'Done' }).click();
    const row = page.getByRole('table', { name: 'Access tokens' }).getByRole('row').filter({ hasText: 'ci-pipeline' });
    await visible(row);
    expect(await page.content()).not.toContain(secret);
    await screenshot(page, 'tokens');
    await row.getByRole('button', { name: 'Revoke ci-pipeline' }).click();
    await containsText(row, 'revoked');
    expect((await jsonRequest(server, 'GET', '/api/repositories/ui-local', undefined, withToken)).status).toBe(401);
  });

  it('shows storage use and runs garbage collection', async () => {
    await page.goto(`${server.baseUrl}/ui/admin/storage`);
    await containsText(page.getByRole('table', { name: 'Storage per repository' }), 'ui-local');
    await page.getByRole('button', { name: 'Dry run' }).click();
    await containsText(page.getByRole('table', { name: 'Garbage collection runs' }), 'finished');
    await screenshot(page, 'storage');
  });

  it('an admin creates a group, a user in it and a permission for the group; that user then sees the repository', async () => {
    await page.goto(`${server.baseUrl}/ui/admin/groups`);
    await page.getByRole('button', { name: 'New group' }).click();
    await page.getByRole('dialog').getByLabel('Name').fill('qa');
    await page.getByRole('button', { name: 'Create group' }).click();
    await visible(page.getByRole('table', { name: 'Groups' }).getByRole('row').filter({ hasText: 'qa' }));

    await page.goto(`${server.baseUrl}/ui/admin/users`);
    await page.getByRole('button', { name: 'New user' }).click();
    const userForm = page.getByRole('dialog');
    await userForm.getByLabel('Username').fill('dana');
    await userForm.getByLabel(/^Password/).fill('dana-password-1');
    await userForm.getByRole('combobox', { name: 'Groups' }).click();
    await page.getByRole('option', { name: 'qa' }).click();
    await userForm.getByRole('button', { name: 'Create user' }).click();
    await containsText(page.getByRole('table', { name: 'Users' }).getByRole('row').filter({ hasText: 'dana' }), 'qa');
    await screenshot(page, 'users');

    await page.goto(`${server.baseUrl}/ui/admin/permissions`);
    await page.getByRole('button', { name: 'New permission' }).click();
    const form = page.getByRole('dialog');
    await form.getByLabel('Name').fill('qa-reads');
    await form.getByLabel(/^Repositories/).fill('ui-private');
    await form.getByLabel(/^Repositories/).press('Enter');
    await form.getByLabel(/^Repositories/).press('Escape');
    await form.getByRole('combobox', { name: /^User or group/ }).click();
    await page.getByRole('option', { name: 'qa (group)' }).click();
    await form.getByLabel('Read (pull)').check();
    await form.getByRole('button', { name: 'Create permission' }).click();
    await containsText(page.getByRole('table', { name: 'Permissions' }), 'qa-reads');
    const stored = await jsonRequest(server, 'GET', '/api/security/permissions/qa-reads');
    expect(stored.json).toMatchObject({ repositories: ['ui-private'], principals: { groups: { qa: ['read'] } } });
    await screenshot(page, 'permissions');

    const context = await browser.newContext();
    const tab = await signIn(context, 'dana', 'dana-password-1');
    const table = tab.getByRole('table', { name: 'Repositories' });
    await visible(table.getByRole('link', { name: 'ui-private' }));
    expect((await table.getByRole('link').allTextContents()).sort()).toEqual(['ui-private', 'ui-public']);
    await context.close();
  });

  it('a user without rights sees nothing private and no administration', async () => {
    const viewer = await createUser(server, newUser('viewer'));
    const context = await browser.newContext();
    const tab = await signIn(context, viewer.name, viewer.password);
    const table = tab.getByRole('table', { name: 'Repositories' });
    await visible(table.getByRole('link', { name: 'ui-public' }));
    expect(await table.getByRole('link').allTextContents()).toEqual(['ui-public']);
    await hasCount(tab.getByRole('link', { name: 'New repository' }), 0);
    await hasCount(tab.getByText('Administration'), 0);
    await tab.goto(`${server.baseUrl}/ui/repositories/ui-private`);
    await containsText(tab.getByRole('alert'), 'Could not load');
    await tab.goto(`${server.baseUrl}/ui/admin/users`);
    await visible(tab.getByText('Administrators only'));
    // Nor does the API behind the pages answer for it.
    expect(await tab.evaluate(() => fetch('/api/repositories/ui-private/images').then((r) => r.status))).toBe(404);
    // The user's menu (loaded after the first render): to the access tokens, then sign out.
    await tab.getByRole('button', { name: viewer.name }).click();
    await tab.getByRole('menuitem', { name: 'Access tokens' }).click();
    await visible(tab.getByRole('heading', { name: 'Access tokens' }));
    await tab.getByRole('button', { name: viewer.name }).click();
    await tab.getByRole('menuitem', { name: 'Sign out' }).click();
    await visible(tab.getByRole('link', { name: 'Sign in' }));
    // (Marked as the UI's call: a plain 401 would open Chromium's password dialog and hold the fetch.)
    expect(await tab.evaluate(() => fetch('/api/session', { headers: { 'X-Requested-With': 'XMLHttpRequest' } }).then((r) => r.status))).toBe(401);
    await context.close();
  });

  it('changes made with the cookie need the CSRF token; pages carry their own strict CSP', async () => {
    const statuses = await page.evaluate(async () => {
      const post = await fetch('/api/security/tokens', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"name":"x","repositories":["*"],"actions":["read"]}',
      });
      const signOut = await fetch('/api/session', { method: 'DELETE' });
      return [post.status, signOut.status];
    });
    expect(statuses).toEqual([403, 403]);
    const res = await fetch(`${server.baseUrl}/ui/repositories`);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('is usable on a narrow screen', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, storageState: await admin.storageState() });
    const tab = await phone.newPage();
    await tab.goto(`${server.baseUrl}/ui/repositories/ui-local/images/${IMAGE}`);
    await visible(tab.getByRole('button', { name: 'Toggle navigation' }));
    await containsText(tab.getByRole('table', { name: 'Tags' }), '1.0');
    await screenshot(tab, 'narrow-image');
    await tab.getByRole('button', { name: 'Toggle navigation' }).click();
    await visible(tab.getByRole('link', { name: 'Access tokens' }));
    await phone.close();
  });

  it('ships less than 250 KB of gzipped JavaScript for the first view', () => {
    const manifest: Record<string, { file: string; imports?: string[]; css?: string[]; isEntry?: boolean }> = JSON.parse(
      fs.readFileSync(path.join(WEB_DIST, '.vite', 'manifest.json'), 'utf8'),
    );
    // The entry and what it imports statically; lazy pages are not part of the first view.
    const files = new Set<string>();
    const visit = (key: string) => {
      const chunk = manifest[key];
      if (files.has(chunk.file)) return;
      files.add(chunk.file);
      for (const imported of chunk.imports ?? []) visit(imported);
    };
    visit('index.html');
    const gzipped = [...files].reduce((sum, file) => sum + gzipSync(fs.readFileSync(path.join(WEB_DIST, file))).length, 0);
    expect(files.size).toBeGreaterThan(0);
    expect(gzipped).toBeLessThan(250 * 1024);
  });
});

async function tagsOf(key: string): Promise<{ name: string; digest: string }[]> {
  const res = await jsonRequest(server, 'GET', `/api/repositories/${key}/tags?image=${encodeURIComponent(IMAGE)}`);
  expect(res.status).toBe(200);
  return (res.json as { tags: { name: string; digest: string }[] }).tags;
}
