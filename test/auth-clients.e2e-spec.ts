// Authentication with the real clients: `docker login` (client side, no daemon) then
// `docker manifest inspect`, skopeo with --src-creds/--dest-creds, podman login/push/pull. Each
// client follows Wharf's Bearer challenge to /v2/token on its own, so these tests check the token
// protocol the way clients really speak it; what they must be refused is checked too, and the
// registry's state is read back over HTTP as the admin.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BuiltImage, buildImage, readOciLayout, writeImageSource } from './helpers/oci-image-builder';
import { CommandError, Credentials, DockerCli, Podman, Skopeo, run } from './helpers/registry-clients';
import { RequestAuth, expectRegistryError, expectStatus, pushImage, request } from './helpers/registry-http';
import { WharfTestServer, basicAuthorization, createLocalRepository, startWharf } from './helpers/wharf-server';

jest.setTimeout(180_000);

const REPO = 'docker-team'; // alice: read, write; rita: read; bob: nothing
const OPEN = 'docker-open'; // anonymous read; alice: write

let server: WharfTestServer;
let work: string;
const alice: Credentials = { username: 'alice', password: `alice-${randomBytes(10).toString('hex')}` };
const rita: Credentials = { username: 'rita', password: `rita-${randomBytes(10).toString('hex')}` };
const bob: Credentials = { username: 'bob', password: `bob-${randomBytes(10).toString('hex')}` };
const seed = buildImage();
const openSeed = buildImage();

function basic(creds: Credentials): string {
  return basicAuthorization(creds.username, creds.password);
}

async function api(method: string, url: string, body?: unknown, auth?: RequestAuth) {
  return request(server, url, {
    method,
    auth,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** An access token for `owner`, created over REST with its password. */
async function accessToken(owner: Credentials, repositories: string[], actions: string[]): Promise<{ id: string; token: string }> {
  const res = await api('POST', '/api/security/tokens', { name: `cli-${randomBytes(4).toString('hex')}`, repositories, actions }, basic(owner));
  expectStatus(res, 201);
  return res.json;
}

async function revoke(owner: Credentials, id: string): Promise<void> {
  expectStatus(await api('DELETE', `/api/security/tokens/${id}`, undefined, basic(owner)), 204);
}

/** `host/<repo>/<image>:<tag>` */
function ref(name: string): string {
  return `${server.host}/${name}`;
}

function docker(name: string): string {
  return `docker://${ref(name)}`;
}

/** The manifest as the admin sees it over HTTP: these bytes, or unknown. */
async function expectStored(name: string, tag: string, manifest: Buffer | undefined): Promise<void> {
  const [repoKey, ...image] = name.split('/');
  const res = await request(server, `/v2/${repoKey}/${image.join('/')}/manifests/${tag}`, {
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
  });
  if (!manifest) return expectRegistryError(res, 404, 'MANIFEST_UNKNOWN');
  expectStatus(res, 200);
  expect(res.body.equals(manifest)).toBe(true);
}

/** Awaits a client command that must fail; returns its stderr (and stdout) for the assertions. */
async function refused(command: Promise<unknown>): Promise<string> {
  try {
    await command;
  } catch (err) {
    if (err instanceof CommandError) return `${err.stderr}\n${err.stdout}`;
    throw err;
  }
  throw new Error('the command succeeded, but it must have been refused');
}

async function sourceOf(image: BuiltImage): Promise<string> {
  return writeImageSource(path.join(work, `src-${randomBytes(4).toString('hex')}`), image, 'src');
}

beforeAll(async () => {
  // All clients come from 127.0.0.1 and several tests fail logins on purpose; the limit itself is
  // tested in auth.e2e-spec.ts.
  server = await startWharf({ WHARF_LOGIN_MAX_FAILURES: '100' });
  // Lowercase only: podman names an image pulled from oci:<dir> after the dir's path.
  work = path.join(os.tmpdir(), `wharf-auth-clients-${randomBytes(6).toString('hex')}`);
  await fs.mkdir(work);
  await createLocalRepository(server, REPO);
  await createLocalRepository(server, OPEN, { anonymousRead: true });
  for (const creds of [alice, rita, bob]) {
    expectStatus(await api('PUT', `/api/security/users/${creds.username}`, { password: creds.password }), 201);
  }
  expect([200, 201]).toContain(
    (await api('PUT', '/api/security/permissions/team', { repositories: [REPO], principals: { users: { alice: ['read', 'write'], rita: ['read'] } } })).status,
  );
  expect([200, 201]).toContain((await api('PUT', '/api/security/permissions/open', { repositories: [OPEN], principals: { users: { alice: ['write'] } } })).status);
  await pushImage(server, `/v2/${REPO}/app/`, seed, '1');
  await pushImage(server, `/v2/${OPEN}/app/`, openSeed, '1');
});
afterAll(async () => {
  await server?.close();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

describe('docker CLI (no daemon)', () => {
  const clis: DockerCli[] = [];
  async function newCli(): Promise<DockerCli> {
    const cli = await DockerCli.create();
    clis.push(cli);
    return cli;
  }
  afterAll(async () => {
    for (const cli of clis) await cli.close();
  });

  /** `docker login HOST -u USER -p PASSWORD` (the long flags, which the runner redacts in errors). */
  function login(cli: DockerCli, creds: Credentials) {
    return run('docker', ['login', server.host, '--username', creds.username, '--password', creds.password], {
      env: { DOCKER_CONFIG: cli.dir, DOCKER_HOST: `unix://${path.join(cli.dir, 'no-daemon.sock')}`, DOCKER_CLI_HINTS: 'false' },
    });
  }

  async function storedLogin(cli: DockerCli): Promise<Record<string, string> | undefined> {
    try {
      const config = JSON.parse(await fs.readFile(path.join(cli.dir, 'config.json'), 'utf8')) as { auths?: Record<string, Record<string, string>> };
      return config.auths?.[server.host];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  it('docker login succeeds with the right password and fails with a wrong one, storing nothing then', async () => {
    const cli = await newCli();
    const wrong = await refused(login(cli, { username: 'alice', password: 'not-alices-password' }));
    expect(wrong).toMatch(/unauthorized: invalid username or password/);
    expect(await storedLogin(cli)).toBeUndefined();
    const unknown = await refused(login(cli, { username: 'nobody', password: 'whatever-password' }));
    expect(unknown).toMatch(/unauthorized: invalid username or password/);
    expect(await storedLogin(cli)).toBeUndefined();

    const { stdout } = await login(cli, alice);
    expect(stdout.toString()).toMatch(/Login Succeeded/);
    // docker asked for an offline token and keeps the refresh token instead of the password.
    const stored = await storedLogin(cli);
    expect(stored).toBeDefined();
    expect(Buffer.from(stored!.auth, 'base64').toString('utf8')).toBe('alice:');
    expect(JSON.stringify(stored)).not.toContain(alice.password);
    const refresh = JSON.parse(Buffer.from(stored!.identitytoken.split('.')[1], 'base64url').toString('utf8'));
    expect(refresh).toMatchObject({ iss: 'wharf', aud: 'wharf', sub: 'alice', typ: 'refresh' });
  });

  it('docker manifest inspect --insecure works for a user with read, not for one without, not anonymously', async () => {
    const expected = JSON.parse(seed.manifest.bytes.toString('utf8'));
    const reader = await newCli();
    await login(reader, rita);
    expect(await reader.manifestInspect(ref(`${REPO}/app:1`))).toEqual(expected);

    const outsider = await newCli();
    await login(outsider, bob);
    // Wharf answers 404 NAME_UNKNOWN, which docker reports as a missing manifest.
    expect(await refused(outsider.manifestInspect(ref(`${REPO}/app:1`)))).toMatch(/no such manifest/);

    const anonymous = await newCli();
    expect(await refused(anonymous.manifestInspect(ref(`${REPO}/app:1`)))).toMatch(/^unauthorized/m);
    // Anonymous read is per repository.
    expect(await anonymous.manifestInspect(ref(`${OPEN}/app:1`))).toEqual(JSON.parse(openSeed.manifest.bytes.toString('utf8')));
  });

  it('docker login with an access token as the password works until the token is revoked', async () => {
    const { id, token } = await accessToken(alice, [REPO], ['read']);
    const cli = await newCli();
    const { stdout } = await login(cli, { username: 'alice', password: token });
    expect(stdout.toString()).toMatch(/Login Succeeded/);
    expect(await cli.manifestInspect(ref(`${REPO}/app:1`))).toEqual(JSON.parse(seed.manifest.bytes.toString('utf8')));

    await revoke(alice, id);
    // The stored login (the refresh token docker got for the access token) stops working at once...
    expect(await refused(cli.manifestInspect(ref(`${REPO}/app:1`)))).toMatch(/unauthorized: .*no longer valid/);
    // ...and the token is no password any more.
    const again = await refused(login(await newCli(), { username: 'alice', password: token }));
    expect(again).toMatch(/unauthorized: invalid username or password/);
  });

  it('an access token scoped to another repository logs in but does not read this one, and says why', async () => {
    const { token } = await accessToken(alice, [OPEN], ['read', 'write']);
    const cli = await newCli();
    await login(cli, { username: 'alice', password: token });
    // alice reads this repository, so the token's holder is told that only the scope is missing.
    expect(await refused(cli.manifestInspect(ref(`${REPO}/app:1`)))).toMatch(/denied: the access token does not cover repository/);
    expect(await cli.manifestInspect(ref(`${OPEN}/app:1`))).toEqual(JSON.parse(openSeed.manifest.bytes.toString('utf8')));
  });
});

describe('skopeo with --src-creds / --dest-creds', () => {
  const tools: Skopeo[] = [];
  async function skopeoAs(creds?: Credentials): Promise<Skopeo> {
    const skopeo = await Skopeo.create({ creds });
    tools.push(skopeo);
    return skopeo;
  }
  afterAll(async () => {
    for (const tool of tools) await tool.close();
  });

  it('a writer pushes with --dest-creds and a reader pulls the same bytes with --src-creds', async () => {
    const image = buildImage();
    const pusher = await skopeoAs(alice);
    expect(await pusher.copy(await sourceOf(image), docker(`${REPO}/skopeo:1`))).toBe(image.manifest.digest);
    await expectStored(`${REPO}/skopeo`, '1', image.manifest.bytes);

    const reader = await skopeoAs(rita);
    const back = path.join(work, 'skopeo-back');
    expect(await reader.copy(docker(`${REPO}/skopeo:1`), `oci:${back}:pulled`)).toBe(image.manifest.digest);
    const layout = await readOciLayout(back);
    for (const layer of image.layers) expect((await layout.readBlob(layer.digest)).equals(layer.bytes)).toBe(true);
    expect((await reader.inspectRaw(docker(`${REPO}/skopeo:1`))).equals(image.manifest.bytes)).toBe(true);
    expect(await reader.listTags(docker(`${REPO}/skopeo`))).toEqual(['1']);
  });

  it('a reader cannot push, a stranger cannot pull, wrong or no credentials are refused', async () => {
    const image = buildImage();
    const source = await sourceOf(image);
    const reader = await skopeoAs(rita);
    expect(await refused(reader.copy(source, docker(`${REPO}/denied:1`)))).toMatch(/denied: push on docker-team\/denied is not permitted for rita/);
    await expectStored(`${REPO}/denied`, '1', undefined);

    const stranger = await skopeoAs(bob);
    // No read: the repository does not exist for bob, whether he reads or writes.
    expect(await refused(stranger.inspectRaw(docker(`${REPO}/app:1`)))).toMatch(/name unknown: repository docker-team not found/);
    expect(await refused(stranger.copy(source, docker(`${REPO}/stranger:1`)))).toMatch(/name unknown: repository docker-team not found/);
    await expectStored(`${REPO}/stranger`, '1', undefined);

    const wrong = await skopeoAs({ username: 'alice', password: 'not-alices-password' });
    expect(await refused(wrong.inspectRaw(docker(`${REPO}/app:1`)))).toMatch(/unauthorized: invalid username or password/);
    expect(await refused(wrong.copy(source, docker(`${REPO}/wrong:1`)))).toMatch(/unauthorized: invalid username or password/);
    await expectStored(`${REPO}/wrong`, '1', undefined);

    const anonymous = await skopeoAs();
    expect(await refused(anonymous.inspectRaw(docker(`${REPO}/app:1`)))).toMatch(/reading manifest 1 in .*: unauthorized/);
  });

  it('an access token works as the --dest-creds password within its scope', async () => {
    const { token } = await accessToken(alice, [REPO], ['read', 'write']);
    const image = buildImage();
    const tool = await skopeoAs({ username: 'alice', password: token });
    expect(await tool.copy(await sourceOf(image), docker(`${REPO}/token:1`))).toBe(image.manifest.digest);
    await expectStored(`${REPO}/token`, '1', image.manifest.bytes);
    // Read-only token: pulls, does not push.
    const readOnly = await accessToken(alice, [REPO], ['read']);
    const limited = await skopeoAs({ username: 'alice', password: readOnly.token });
    expect((await limited.inspectRaw(docker(`${REPO}/token:1`))).equals(image.manifest.bytes)).toBe(true);
    expect(await refused(limited.copy(await sourceOf(buildImage()), docker(`${REPO}/token:2`)))).toMatch(/denied: push on docker-team\/token is not permitted for alice/);
    await expectStored(`${REPO}/token`, '2', undefined);
  });

  it('anonymous read lets skopeo pull without credentials, never push', async () => {
    const anonymous = await skopeoAs();
    expect((await anonymous.inspectRaw(docker(`${OPEN}/app:1`))).equals(openSeed.manifest.bytes)).toBe(true);
    expect(await anonymous.copy(docker(`${OPEN}/app:1`), `oci:${path.join(work, 'open-back')}:pulled`)).toBe(openSeed.manifest.digest);
    const image = buildImage();
    expect(await refused(anonymous.copy(await sourceOf(image), docker(`${OPEN}/anon:1`)))).toMatch(/initiating layer upload to .*: unauthorized/);
    await expectStored(`${OPEN}/anon`, '1', undefined);
    // A logged-in user who may write pushes there.
    const writer = await skopeoAs(alice);
    expect(await writer.copy(await sourceOf(image), docker(`${OPEN}/alice:1`))).toBe(image.manifest.digest);
  });
});

describe('podman login / push / pull (vfs storage)', () => {
  const podmen: Podman[] = [];
  async function newPodman(): Promise<Podman> {
    const podman = await Podman.create();
    podmen.push(podman);
    return podman;
  }
  afterAll(async () => {
    for (const podman of podmen) await podman.close();
  });

  it('a writer logs in and pushes; a reader logs in and pulls; the reader cannot push', async () => {
    const image = buildImage({ layerCount: 1 });
    const writer = await newPodman();
    await writer.login(server.host, alice);
    const layout = path.join(work, 'podman-src');
    await writeImageSource(layout, image, 'local');
    const localId = await writer.pull(`oci:${layout}:local`);
    const digest = await writer.push(localId, ref(`${REPO}/podman:1`));
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);

    const reader = await newPodman();
    await reader.login(server.host, rita);
    const id = await reader.pull(ref(`${REPO}/podman:1`));
    expect(`sha256:${id}`).toBe(image.config.digest);
    expect((await reader.inspectImage(ref(`${REPO}/podman:1`))).Digest).toBe(digest);

    expect(await refused(reader.push(ref(`${REPO}/podman:1`), ref(`${REPO}/podman:rita`)))).toMatch(/denied: push on docker-team\/podman is not permitted for rita/);
    await expectStored(`${REPO}/podman`, 'rita', undefined);
  });

  it('podman login fails with a wrong password; without a login a private repository is refused', async () => {
    const podman = await newPodman();
    expect(await refused(podman.login(server.host, { username: 'alice', password: 'not-alices-password' }))).toMatch(/invalid username\/password/i);
    expect(await refused(podman.pull(ref(`${REPO}/app:1`)))).toMatch(/reading manifest 1 in .*: unauthorized/);
    // Anonymous read: the open repository pulls without a login.
    const id = await podman.pull(ref(`${OPEN}/app:1`));
    expect(`sha256:${id}`).toBe(openSeed.config.digest);
  });

  it('podman login with an access token pushes; after revocation it is refused', async () => {
    const { id, token } = await accessToken(alice, [REPO], ['read', 'write']);
    const podman = await newPodman();
    await podman.login(server.host, { username: 'alice', password: token });
    const image = buildImage({ layerCount: 1 });
    const layout = path.join(work, 'podman-token-src');
    await writeImageSource(layout, image, 'local');
    const localId = await podman.pull(`oci:${layout}:local`);
    await podman.push(localId, ref(`${REPO}/podman-token:1`));

    await revoke(alice, id);
    expect(await refused(podman.push(localId, ref(`${REPO}/podman-token:2`)))).toMatch(/unauthorized: invalid username or password/);
    await expectStored(`${REPO}/podman-token`, '2', undefined);
  });
});
