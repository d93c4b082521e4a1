// The REST endpoints the web UI browses with: a repository's images and an image's tags (pages in
// byte order, a virtual's members merged as far as the caller may read them), a manifest's
// contents (layers, config, index children, referrers), deleting a tag or an image, what the
// caller may do to each repository, and the server's public facts (GET /api/system/info).
import { Client } from 'pg';
import { version } from '../package.json';
import { ARM64, BuiltImage, MediaTypes, blobOf, buildImage, buildIndex, descriptorOf, imageIndex, imageManifest, randomBlob } from './helpers/oci-image-builder';
import {
  COSIGN_SIGNATURE,
  HttpResult,
  RequestAuth,
  V2_FORM,
  expectStatus,
  pushBlobs,
  pushImage,
  pushManifest,
  pushReferrerManifest,
  rawRequest,
  request,
} from './helpers/registry-http';
import { TestUser, createUser, createVirtualRepository, expectProblem, freshKey, grant, jsonRequest, newUser } from './helpers/virtual-repository';
import { WharfTestServer, createLocalRepository, startWharf } from './helpers/wharf-server';

let server: WharfTestServer;

beforeAll(async () => {
  server = await startWharf();
}, 60_000);

afterAll(async () => {
  await server?.close();
});

async function localRepo(settings: Record<string, unknown> = {}): Promise<string> {
  const key = freshKey('local');
  await createLocalRepository(server, key, settings);
  return key;
}

/** A small image (one 64-byte layer), so suites push many quickly. */
function smallImage(options: Parameters<typeof buildImage>[0] = {}): BuiltImage {
  return buildImage({ layerCount: 1, layerSize: 64, ...options });
}

function get(path: string, query: Record<string, string | number>, auth?: RequestAuth): Promise<HttpResult> {
  const params = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]));
  return request(server, `${path}?${params}`, { auth });
}

async function images(key: string, query: Record<string, string | number> = {}, auth?: RequestAuth): Promise<any> {
  const res = await get(`/api/repositories/${key}/images`, query, auth);
  expectStatus(res, 200);
  return res.json;
}

async function tags(key: string, image: string, query: Record<string, string | number> = {}, auth?: RequestAuth): Promise<any> {
  const res = await get(`/api/repositories/${key}/tags`, { image, ...query }, auth);
  expectStatus(res, 200);
  return res.json;
}

async function manifest(key: string, image: string, reference: string): Promise<any> {
  const res = await get(`/api/repositories/${key}/manifest`, { image, reference });
  expectStatus(res, 200);
  return res.json;
}

/** Pushes an image, then deletes its manifest: the image's row stays, holding nothing. */
async function emptiedImage(key: string, name: string): Promise<void> {
  const digest = await pushImage(server, V2_FORM.base(key, name), smallImage(), 'gone');
  expectStatus(await request(server, `${V2_FORM.base(key, name)}manifests/${digest}`, { method: 'DELETE' }), 202);
}

/** What the tags endpoint counts for an image manifest: the manifest, its config and its layers. */
function imageBytes(image: BuiltImage): number {
  return image.manifest.bytes.length + image.config.bytes.length + image.layers.reduce((sum, layer) => sum + layer.bytes.length, 0);
}

describe('images', () => {
  let key: string;
  const names = ['app-a', 'app-b', 'team/app', 'team/web', 'zeta'];
  let started: number;

  beforeAll(async () => {
    key = await localRepo();
    started = Date.now() - 1000;
    for (const name of names) await pushImage(server, V2_FORM.base(key, name), smallImage(), 'v1');
    await pushImage(server, V2_FORM.base(key, 'app-a'), smallImage(), 'v2');
    await pushImage(server, V2_FORM.base(key, 'app-a'), smallImage(), 'v3');
    // An image whose manifests were all deleted is not listed.
    await emptiedImage(key, 'emptied');
  });

  it('pages by name in byte order: limit, next, after', async () => {
    const first = await images(key, { limit: 2 });
    expect(first.images.map((i: any) => i.name)).toEqual(['app-a', 'app-b']);
    expect(first.next).toBe('app-b');
    const second = await images(key, { limit: 2, after: first.next });
    expect(second.images.map((i: any) => i.name)).toEqual(['team/app', 'team/web']);
    expect(second.next).toBe('team/web');
    const last = await images(key, { limit: 2, after: second.next });
    expect(last).toEqual({ images: [expect.objectContaining({ name: 'zeta' })], next: null });
    // Exactly a page's worth: no next page.
    expect((await images(key, { limit: 5 })).next).toBeNull();
    expect((await images(key, { limit: 4 })).next).toBe('team/web');
    // The default page holds them all; `after` is exclusive and need not be a name held.
    expect((await images(key)).images.map((i: any) => i.name)).toEqual(names);
    expect((await images(key, { after: 'b' })).images.map((i: any) => i.name)).toEqual(['team/app', 'team/web', 'zeta']);
  });

  it('skips images whose manifests were deleted, reading on past them to fill the page', async () => {
    const repo = await localRepo();
    for (const name of ['a1', 'a2', 'a3', 'a4', 'a5']) await emptiedImage(repo, name);
    for (const name of ['b1', 'b2', 'b3']) await pushImage(server, V2_FORM.base(repo, name), smallImage(), 'v1');
    expect(await images(repo, { limit: 2 })).toEqual({ images: [expect.objectContaining({ name: 'b1' }), expect.objectContaining({ name: 'b2' })], next: 'b2' });
    expect(await images(repo, { limit: 2, after: 'b2' })).toEqual({ images: [expect.objectContaining({ name: 'b3' })], next: null });
    expect((await images(repo, { limit: 1, after: 'a1' })).images.map((i: any) => i.name)).toEqual(['b1']);
  });

  it('counts tags, dates the latest change, names the repository', async () => {
    const all = (await images(key)).images;
    const appA = all.find((i: any) => i.name === 'app-a');
    expect(appA).toEqual({ name: 'app-a', tags: 3, updatedAt: expect.any(String), repositories: [key] });
    expect(all.find((i: any) => i.name === 'zeta').tags).toBe(1);
    const updated = Date.parse(appA.updatedAt);
    expect(updated).toBeGreaterThanOrEqual(started);
    expect(updated).toBeLessThanOrEqual(Date.now() + 1000);
    // app-a's last tag came after zeta's push.
    expect(updated).toBeGreaterThanOrEqual(Date.parse(all.find((i: any) => i.name === 'zeta').updatedAt));
  });

  it('q filters by a case-insensitive substring, LIKE wildcards taken literally', async () => {
    expect((await images(key, { q: 'APP' })).images.map((i: any) => i.name)).toEqual(['app-a', 'app-b', 'team/app']);
    expect((await images(key, { q: 'team/', limit: 1 })).next).toBe('team/app');
    expect((await images(key, { q: 'team/', after: 'team/app' })).images.map((i: any) => i.name)).toEqual(['team/web']);
    expect((await images(key, { q: '_' })).images).toEqual([]);
    expect((await images(key, { q: '%' })).images).toEqual([]);
    expect((await images(key, { q: 'nothing-like-it' })).images).toEqual([]);
  });

  it('refuses a bad limit, an unknown repository, and anonymous callers where reads are not anonymous', async () => {
    for (const limit of ['0', '501', 'x']) expectProblem(await get(`/api/repositories/${key}/images`, { limit }), 400, 'limit');
    expectProblem(await get('/api/repositories/no-such-repo/images', {}), 404, 'no-such-repo');
    expectProblem(await get(`/api/repositories/${key}/images`, {}, null), 401);
    const open = await localRepo({ anonymousRead: true });
    await pushImage(server, V2_FORM.base(open, 'public/app'), smallImage(), '1');
    expect((await images(open, {}, null)).images.map((i: any) => i.name)).toEqual(['public/app']);
  });

  it('pages through 10,000 images on the (repository_id, name) index', async () => {
    const big = await localRepo();
    const db = new Client({ connectionString: server.databaseUrl });
    await db.connect();
    try {
      // Rows as pushes leave them: an image, one manifest, one tag each.
      await db.query(
        `WITH repo AS (SELECT id FROM repositories WHERE key = $1),
         imgs AS (
           INSERT INTO images (repository_id, name)
           SELECT repo.id, 'bulk/img-' || lpad(n::text, 5, '0') FROM repo, generate_series(1, 10000) AS n RETURNING id
         ),
         mfs AS (
           INSERT INTO manifests (image_id, digest, media_type, size, content)
           SELECT id, 'sha256:' || encode(sha256(id::text::bytea), 'hex'), $2, 2, '{}'::bytea FROM imgs RETURNING id, image_id
         )
         INSERT INTO tags (image_id, name, manifest_id) SELECT image_id, 'latest', id FROM mfs`,
        [big, MediaTypes.OciManifest],
      );
      await db.query('ANALYZE images; ANALYZE manifests; ANALYZE tags');
    } finally {
      await db.end();
    }
    const timings: Record<string, number> = {};
    const timed = async (label: string, query: Record<string, string | number>) => {
      await images(big, query);
      const start = performance.now();
      const page = await images(big, query);
      timings[label] = Math.round((performance.now() - start) * 10) / 10;
      return page;
    };
    const first = await timed('first page', {});
    expect(first.images).toHaveLength(50);
    expect(first.images[0]).toEqual({ name: 'bulk/img-00001', tags: 1, updatedAt: expect.any(String), repositories: [big] });
    expect(first.next).toBe('bulk/img-00050');
    const deep = await timed('page after 9,000', { after: 'bulk/img-09000', limit: 500 });
    expect(deep.images.map((i: any) => i.name)).toEqual(Array.from({ length: 500 }, (_, i) => `bulk/img-${String(9001 + i).padStart(5, '0')}`));
    const last = await timed('last page', { after: 'bulk/img-09990' });
    expect(last.images).toHaveLength(10);
    expect(last.next).toBeNull();
    const filtered = await timed('q=img-0999', { q: 'IMG-0999' });
    expect(filtered.images.map((i: any) => i.name)).toEqual(Array.from({ length: 10 }, (_, i) => `bulk/img-0999${i}`));
    // For the record, not asserted: a shared CI host's timings vary.
    console.log(`images endpoint on 10,000 images (ms, over HTTP, one warm request each): ${JSON.stringify(timings)}`);
  });
});

describe('on a database whose collation does not sort as bytes', () => {
  // Postgres's own image defaults to en_US.utf8; there the (repository_id, name) index is not in
  // byte order, and each repository's names are sorted as bytes instead.
  const adminUrl = process.env.WHARF_TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const database = `wharf_test_icu_${Date.now()}`;

  async function admin(sql: string): Promise<boolean> {
    const client = new Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(sql);
      return true;
    } catch (err) {
      console.log(`skipped (no ICU collation here?): ${(err as Error).message}`);
      return false;
    } finally {
      await client.end();
    }
  }

  it('still pages in byte order', async () => {
    if (!(await admin(`CREATE DATABASE ${database} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'`))) return;
    const url = new URL(adminUrl);
    url.pathname = `/${database}`;
    const other = await startWharf({ DATABASE_URL: url.toString() });
    try {
      await createLocalRepository(other, 'icu');
      // en-US puts a_b before a-b, and a0 before a-b; bytes do not.
      for (const name of ['aa', 'a_b', 'a0', 'a/b', 'a.b', 'a-b']) await pushImage(other, V2_FORM.base('icu', name), smallImage(), '1');
      const page = async (query: Record<string, string>) => (await request(other, `/api/repositories/icu/images?${new URLSearchParams(query)}`)).json;
      expect((await page({})).images.map((i: any) => i.name)).toEqual(['a-b', 'a.b', 'a/b', 'a0', 'a_b', 'aa']);
      const first = await page({ limit: '2' });
      expect([first.images.map((i: any) => i.name), first.next]).toEqual([['a-b', 'a.b'], 'a.b']);
      const second = await page({ limit: '2', after: first.next });
      expect([second.images.map((i: any) => i.name), second.next]).toEqual([['a/b', 'a0'], 'a0']);
      const third = await page({ limit: '2', after: second.next });
      expect([third.images.map((i: any) => i.name), third.next]).toEqual([['a_b', 'aa'], null]);
    } finally {
      await other.close();
      await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    }
  });
});

describe('a virtual repository', () => {
  let [first, secret, second, virtual]: string[] = [];
  let reader: TestUser;
  const digests: Record<string, string> = {};

  beforeAll(async () => {
    [first, secret, second] = [await localRepo(), await localRepo(), await localRepo()];
    virtual = freshKey('virtual');
    await createVirtualRepository(server, virtual, { repositories: [first, secret, second] });
    reader = await createUser(server, newUser('browser'));
    // The reader may read the virtual and two of its members, not `secret`.
    await grant(server, [virtual, first, second], { [reader.name]: ['read'] });
    digests.first = await pushImage(server, V2_FORM.base(first, 'shared'), smallImage(), '1.0');
    digests.secret = await pushImage(server, V2_FORM.base(secret, 'shared'), smallImage(), '0.9');
    await pushImage(server, V2_FORM.base(secret, 'hidden'), smallImage(), '1');
    digests.second = await pushImage(server, V2_FORM.base(second, 'shared'), smallImage(), '1.0');
    digests.secondTwo = await pushImage(server, V2_FORM.base(second, 'shared'), smallImage(), '2.0');
    await pushImage(server, V2_FORM.base(second, 'only-second'), smallImage(), 'x');
  });

  it('lists each name once over the members the caller may read, tags summed, holders in resolution order', async () => {
    const seen = await images(virtual, {}, reader.basic);
    expect(seen).toEqual({
      images: [
        { name: 'only-second', tags: 1, updatedAt: expect.any(String), repositories: [second] },
        { name: 'shared', tags: 3, updatedAt: expect.any(String), repositories: [first, second] },
      ],
      next: null,
    });
    // The latest change over the members: the second member's last push.
    const secondOwn = (await images(second)).images.find((i: any) => i.name === 'shared');
    expect(seen.images[1].updatedAt).toBe(secondOwn.updatedAt);
    // The admin reads every member.
    const all = await images(virtual);
    expect(all.images.map((i: any) => [i.name, i.tags, i.repositories])).toEqual([
      ['hidden', 1, [secret]],
      ['only-second', 1, [second]],
      ['shared', 4, [first, secret, second]],
    ]);
    // Pages over the merged names.
    const page = await images(virtual, { limit: 1 }, reader.basic);
    expect(page).toEqual({ images: [expect.objectContaining({ name: 'only-second' })], next: 'only-second' });
    expect((await images(virtual, { after: 'only-second' }, reader.basic)).images.map((i: any) => i.name)).toEqual(['shared']);
    // A member it may not read is no way in: the reader does not see `secret` itself.
    expectProblem(await get(`/api/repositories/${secret}/images`, {}, reader.basic), 404, secret);
  });

  it('lists the tags a pull would resolve: the first member holding each, members the caller may not read left out', async () => {
    const seen = await tags(virtual, 'shared', {}, reader.basic);
    expect(seen.tags.map((t: any) => [t.name, t.repository, t.digest])).toEqual([
      ['1.0', first, digests.first],
      ['2.0', second, digests.secondTwo],
    ]);
    expect(seen.next).toBeNull();
    const admin = await tags(virtual, 'shared');
    expect(admin.tags.map((t: any) => [t.name, t.repository])).toEqual([
      ['0.9', secret],
      ['1.0', first],
      ['2.0', second],
    ]);
    const paged = await tags(virtual, 'shared', { limit: 1, after: '0.9' });
    expect(paged.tags.map((t: any) => t.name)).toEqual(['1.0']);
    expect(paged.next).toBe('1.0');
    // Only in the member the reader may not read: not there for it.
    expectProblem(await get(`/api/repositories/${virtual}/tags`, { image: 'hidden' }, reader.basic), 404, 'hidden');
  });
});

describe('tags', () => {
  let key: string;
  const image = 'multi/app';
  let single: BuiltImage;
  let index: ReturnType<typeof buildIndex>;

  beforeAll(async () => {
    key = await localRepo();
    single = smallImage();
    index = buildIndex({ layerCount: 2, layerSize: 128 });
    await pushImage(server, V2_FORM.base(key, image), index, 'multi');
    await pushImage(server, V2_FORM.base(key, image), single, 'single');
    await pushImage(server, V2_FORM.base(key, image), smallImage({ platform: ARM64, format: 'docker' }), 'arm');
  });

  it('shows each tag with its digest, media type, size and platforms', async () => {
    const started = Date.now();
    const page = await tags(key, image);
    expect(page.next).toBeNull();
    expect(page.tags).toEqual([
      expect.objectContaining({ name: 'arm', mediaType: MediaTypes.DockerManifest, platforms: ['linux/arm64/v8'], repository: key }),
      {
        name: 'multi',
        digest: index.index.digest,
        mediaType: MediaTypes.OciIndex,
        // Each child counted as manifest, config and layers; the index's own bytes are not.
        size: index.images.reduce((sum, each) => sum + imageBytes(each), 0),
        platforms: ['linux/amd64', 'linux/arm64/v8'],
        pushedAt: expect.any(String),
        repository: key,
      },
      {
        name: 'single',
        digest: single.manifest.digest,
        mediaType: MediaTypes.OciManifest,
        size: imageBytes(single),
        platforms: ['linux/amd64'],
        pushedAt: expect.any(String),
        repository: key,
      },
    ]);
    expect(Date.parse(page.tags[1].pushedAt)).toBeLessThanOrEqual(started + 1000);
    expect(Date.parse(page.tags[2].pushedAt)).toBeGreaterThanOrEqual(Date.parse(page.tags[1].pushedAt));
  });

  it('pages with limit, next and after', async () => {
    const first = await tags(key, image, { limit: 2 });
    expect(first.tags.map((t: any) => t.name)).toEqual(['arm', 'multi']);
    expect(first.next).toBe('multi');
    const rest = await tags(key, image, { limit: 2, after: first.next });
    expect(rest.tags.map((t: any) => t.name)).toEqual(['single']);
    expect(rest.next).toBeNull();
  });

  it('leaves attestation entries out of an index platforms; counts every child held', async () => {
    const arm = smallImage({ platform: ARM64 });
    // A BuildKit-style attestation: an image manifest of the index, under platform unknown/unknown.
    const statement = randomBlob(100, 'application/vnd.in-toto+json');
    const emptyConfig = blobOf(Buffer.from('{}'), MediaTypes.OciEmpty);
    const attestation = imageManifest({ config: emptyConfig, layers: [statement] });
    const index = imageIndex({
      manifests: [{ manifest: arm.manifest, platform: ARM64 }, descriptorOf(attestation, { platform: { os: 'unknown', architecture: 'unknown' } })],
    });
    const repo = await localRepo();
    const base = V2_FORM.base(repo, 'attested');
    await pushBlobs(server, base, [arm.config, ...arm.layers, emptyConfig, statement]);
    for (const child of [arm.manifest, attestation]) expectStatus(await pushManifest(server, base, child.digest, child.bytes, child.mediaType), 201);
    expectStatus(await pushManifest(server, base, 'latest', index.bytes, index.mediaType), 201);
    const [tag] = (await tags(repo, 'attested')).tags;
    expect(tag).toMatchObject({ name: 'latest', digest: index.digest, platforms: ['linux/arm64/v8'] });
    expect(tag.size).toBe(imageBytes(arm) + attestation.bytes.length + emptyConfig.bytes.length + statement.bytes.length);
  });

  it('404 for an image the repository does not hold, 400 for a bad name', async () => {
    expectProblem(await get(`/api/repositories/${key}/tags`, { image: 'not/here' }), 404, 'not/here');
    expectProblem(await get(`/api/repositories/${key}/tags`, { image: 'Bad_Name' }), 400, 'Bad_Name');
    expectProblem(await get(`/api/repositories/${key}/tags`, {}), 400, 'image');
  });
});

describe('manifest view contents', () => {
  let key: string;
  const image = 'detail/app';
  let single: BuiltImage;
  let index: ReturnType<typeof buildIndex>;

  beforeAll(async () => {
    key = await localRepo();
    const built = smallImage({ layerCount: 2 });
    // Annotated, as `docker buildx --annotation` leaves it.
    single = { ...built, manifest: imageManifest({ config: built.config, layers: built.layers, annotations: { 'org.opencontainers.image.source': 'https://example.com/app' } }) };
    index = buildIndex({ layerCount: 1, layerSize: 64 });
    await pushImage(server, V2_FORM.base(key, image), single, '1.0');
    await pushImage(server, V2_FORM.base(key, image), index, 'multi');
  });

  it('an image manifest: layers, config (os, architecture, command, history), annotations; the old fields as before', async () => {
    const view = await manifest(key, image, '1.0');
    expect(view).toMatchObject({ repository: key, image, reference: '1.0', servedBy: key, digest: single.manifest.digest, tags: ['1.0'], promotions: [] });
    expect(view.size).toBe(single.manifest.bytes.length);
    expect(view.layers).toEqual(single.layers.map((layer) => ({ digest: layer.digest, mediaType: MediaTypes.OciLayerGzip, size: layer.bytes.length })));
    expect(view.annotations).toEqual({ 'org.opencontainers.image.source': 'https://example.com/app' });
    expect(view.children).toEqual([]);
    expect(view.referrers).toEqual([]);
    expect(view).not.toHaveProperty('subject');
    expect(view).not.toHaveProperty('artifactType');
    const config = JSON.parse(single.config.bytes.toString());
    expect(view.config).toEqual({
      digest: single.config.digest,
      mediaType: MediaTypes.OciConfig,
      size: single.config.bytes.length,
      os: 'linux',
      architecture: 'amd64',
      created: config.created,
      cmd: ['/bin/sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      history: [
        { created: config.created, createdBy: 'wharf test layer 1' },
        { created: config.created, createdBy: 'wharf test layer 2' },
      ],
    });
  });

  it('an index: its children with platforms, no layers, no config', async () => {
    const view = await manifest(key, image, 'multi');
    expect(view.mediaType).toBe(MediaTypes.OciIndex);
    expect(view.layers).toEqual([]);
    expect(view.config).toBeNull();
    expect(view.children).toEqual([
      { digest: index.images[0].manifest.digest, mediaType: MediaTypes.OciManifest, size: index.images[0].manifest.bytes.length, platform: 'linux/amd64' },
      { digest: index.images[1].manifest.digest, mediaType: MediaTypes.OciManifest, size: index.images[1].manifest.bytes.length, platform: 'linux/arm64/v8' },
    ]);
    // A child by digest is an image manifest with its own config.
    expect((await manifest(key, image, index.images[1].manifest.digest)).config).toMatchObject({ os: 'linux', architecture: 'arm64', variant: 'v8' });
  });

  it('referrers of a manifest, and the subject and artifactType of a referrer', async () => {
    const subject = { mediaType: single.manifest.mediaType, digest: single.manifest.digest, size: single.manifest.bytes.length };
    const signature = await pushReferrerManifest(server, V2_FORM.base(key, image), subject);
    const view = await manifest(key, image, '1.0');
    expect(view.referrers).toEqual([{ digest: signature.digest, mediaType: MediaTypes.OciManifest, artifactType: COSIGN_SIGNATURE, size: expect.any(Number) }]);
    const referrer = await manifest(key, image, signature.digest);
    expect(referrer).toMatchObject({ subject: single.manifest.digest, artifactType: COSIGN_SIGNATURE, tags: [] });
    // An artifact's config is not an image config: only its descriptor.
    expect(referrer.config).toEqual({ digest: expect.any(String), mediaType: MediaTypes.OciEmpty, size: 2 });
    expect(referrer.layers).toHaveLength(1);
    // Through a virtual, from the member that holds it.
    const virtual = freshKey('virtual');
    await createVirtualRepository(server, virtual, { repositories: [key] });
    const through = await manifest(virtual, image, '1.0');
    expect(through).toMatchObject({ servedBy: key, referrers: view.referrers, config: view.config, layers: view.layers });
  });
});

describe('deletions', () => {
  let key: string;
  let readOnly: TestUser;
  let deleter: TestUser;
  let stranger: TestUser;

  beforeAll(async () => {
    key = await localRepo();
    [readOnly, deleter, stranger] = [await createUser(server, newUser('ro')), await createUser(server, newUser('del')), await createUser(server, newUser('nobody'))];
    await grant(server, [key], { [readOnly.name]: ['read'], [deleter.name]: ['delete'] });
    for (const tag of ['1', '2', '3']) await pushImage(server, V2_FORM.base(key, 'app'), smallImage(), tag);
    await pushImage(server, V2_FORM.base(key, 'doomed'), smallImage(), 'x');
  });

  const deleteTag = (image: string, tag: string, auth?: RequestAuth) =>
    request(server, `/api/repositories/${key}/tags?${new URLSearchParams({ image, tag })}`, { method: 'DELETE', auth });

  it('a tag: 204 with delete, then gone; 403 to a reader, 404 to a stranger, 401 to anonymous', async () => {
    expectProblem(await deleteTag('app', '1', readOnly.basic), 403, 'delete');
    expectProblem(await deleteTag('app', '1', stranger.basic), 404, key);
    expectProblem(await deleteTag('app', '1', null), 401);
    const res = await deleteTag('app', '1', deleter.basic);
    expectStatus(res, 204);
    expect(res.body.length).toBe(0);
    expect((await tags(key, 'app')).tags.map((t: any) => t.name)).toEqual(['2', '3']);
    expectStatus(await deleteTag('app', '2'), 204);
    expect((await images(key)).images.find((i: any) => i.name === 'app').tags).toBe(1);
    // Gone, or never there: 404.
    expectProblem(await deleteTag('app', '1'), 404, '1');
    expectProblem(await deleteTag('no-such-image', '1'), 404);
    expectProblem(await deleteTag('app', 'bad tag!'), 400, 'tag');
    expectProblem(await request(server, `/api/repositories/${key}/tags?image=app`, { method: 'DELETE' }), 400, 'tag');
  });

  it('push rules apply: a repository that keeps its tags refuses', async () => {
    const kept = await localRepo({ allowTagOverwrite: false });
    await pushImage(server, V2_FORM.base(kept, 'app'), smallImage(), '1');
    expectProblem(await request(server, `/api/repositories/${kept}/tags?image=app&tag=1`, { method: 'DELETE' }), 403, 'allowTagOverwrite');
    expect((await tags(kept, 'app')).tags.map((t: any) => t.name)).toEqual(['1']);
  });

  it('an image: 204 with delete, then its tags are 404 and it leaves the listing', async () => {
    const deleteImage = (image: string, auth?: RequestAuth) => request(server, `/api/repositories/${key}/images?image=${encodeURIComponent(image)}`, { method: 'DELETE', auth });
    expectProblem(await deleteImage('doomed', readOnly.basic), 403);
    expectStatus(await deleteImage('doomed', deleter.basic), 204);
    expectProblem(await get(`/api/repositories/${key}/tags`, { image: 'doomed' }), 404, 'doomed');
    expect((await images(key)).images.map((i: any) => i.name)).toEqual(['app']);
    expectProblem(await deleteImage('doomed'), 404, 'doomed');
  });
});

describe('actions and stats on repository answers', () => {
  it('each caller sees what it may do: the admin everything, a reader read; local repositories their images and bytes, a virtual none', async () => {
    const key = await localRepo();
    const pushed = smallImage();
    await pushImage(server, V2_FORM.base(key, 'app'), pushed, '1');
    const virtual = freshKey('virtual');
    await createVirtualRepository(server, virtual, { repositories: [key] });
    const reader = await createUser(server, newUser('viewer'));
    await grant(server, [key, virtual], { [reader.name]: ['read'] });
    const writer = await createUser(server, newUser('writer'));
    await grant(server, [key], { [writer.name]: ['write'] });
    // The usage counters are folded every 15 s, and when storage info is read.
    expectStatus(await request(server, '/api/storageinfo'), 200);

    const asAdmin = await request(server, `/api/repositories/${key}`);
    expectStatus(asAdmin, 200);
    expect(asAdmin.json.actions).toEqual(['read', 'write', 'delete', 'manage']);
    expect(asAdmin.json.stats).toEqual({ images: 1, bytes: pushed.config.bytes.length + pushed.layers[0].bytes.length });
    const asReader = await request(server, `/api/repositories/${key}`, { auth: reader.basic });
    expect(asReader.json.actions).toEqual(['read']);
    expect((await request(server, `/api/repositories/${key}`, { auth: writer.basic })).json.actions).toEqual(['read', 'write']);
    const virtualView = await request(server, `/api/repositories/${virtual}`, { auth: reader.basic });
    expect(virtualView.json.actions).toEqual(['read']);
    expect(virtualView.json).not.toHaveProperty('stats');

    const listed = await request(server, '/api/repositories', { auth: reader.basic });
    expectStatus(listed, 200);
    expect(listed.json.map((r: any) => [r.key, r.actions])).toEqual(expect.arrayContaining([[key, ['read']]]));
    expect(listed.json.find((r: any) => r.key === key).stats).toEqual(asAdmin.json.stats);
    expect(listed.json.every((r: any) => Array.isArray(r.actions) && r.actions.includes('read'))).toBe(true);
    const adminList = await request(server, '/api/repositories');
    expect(adminList.json.every((r: any) => r.actions.join() === 'read,write,delete,manage')).toBe(true);
    // The answers of create and update carry them too.
    const created = await jsonRequest(server, 'PUT', `/api/repositories/${freshKey('local')}`, { rclass: 'local', packageType: 'docker' });
    expect(created.json).toMatchObject({ actions: ['read', 'write', 'delete', 'manage'], stats: { images: 0, bytes: 0 } });
  });
});

describe('answers match the OpenAPI document', () => {
  type Schema = Record<string, any>;
  let schemas: Record<string, Schema>;
  let paths: Record<string, Record<string, any>>;

  beforeAll(async () => {
    const doc = (await request(server, '/api/openapi.json', { auth: null })).json;
    schemas = doc.components.schemas;
    paths = doc.paths;
  });

  /** A $ref or an allOf of one, followed. */
  function resolve(schema: Schema): Schema {
    if (schema.$ref) return resolve(schemas[String(schema.$ref).replace('#/components/schemas/', '')]);
    if (schema.allOf?.length === 1) return { ...resolve(schema.allOf[0]), nullable: schema.nullable };
    return schema;
  }

  /** Types, nullability, enums, and for objects exactly the documented properties, with the required ones. */
  function mismatches(schema: Schema, value: unknown, at = '$'): string[] {
    schema = resolve(schema);
    if (value === null) return schema.nullable ? [] : [`${at}: null but not nullable`];
    const type = schema.type ?? (schema.properties ? 'object' : undefined);
    if (type === 'object') {
      if (typeof value !== 'object' || Array.isArray(value)) return [`${at}: expected an object`];
      const record = value as Record<string, unknown>;
      const problems = (schema.required ?? []).filter((key: string) => !(key in record)).map((key: string) => `${at}.${key}: required but missing`);
      for (const [key, item] of Object.entries(record)) {
        const property = schema.properties?.[key] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
        if (property) problems.push(...mismatches(property, item, `${at}.${key}`));
        else problems.push(`${at}.${key}: not in the schema`);
      }
      return problems;
    }
    if (type === 'array') return Array.isArray(value) ? value.flatMap((item, i) => mismatches(schema.items ?? {}, item, `${at}[${i}]`)) : [`${at}: expected an array`];
    if (type === 'integer') return Number.isInteger(value) ? [] : [`${at}: expected an integer`];
    if (type === 'number') return typeof value === 'number' ? [] : [`${at}: expected a number`];
    if (type === 'boolean') return typeof value === 'boolean' ? [] : [`${at}: expected a boolean`];
    if (type === 'string') {
      if (typeof value !== 'string') return [`${at}: expected a string`];
      if (schema.enum && !schema.enum.includes(value)) return [`${at}: "${value}" is not one of ${schema.enum.join(', ')}`];
      if (schema.format === 'date-time' && Number.isNaN(Date.parse(value))) return [`${at}: not a date-time`];
    }
    return [];
  }

  function expectDocumented(res: HttpResult, method: string, path: string): void {
    expectStatus(res, 200);
    const schema = paths[path][method].responses['200'].content['application/json'].schema;
    expect({ path, problems: mismatches(schema, res.json) }).toEqual({ path, problems: [] });
  }

  it('images, tags, manifest views, repository views and system info', async () => {
    const key = await localRepo();
    const index = buildIndex({ layerCount: 1, layerSize: 64 });
    const built = smallImage();
    const single = { ...built, manifest: imageManifest({ config: built.config, layers: built.layers, annotations: { note: 'documented' } }) };
    await pushImage(server, V2_FORM.base(key, 'doc/app'), index, 'multi');
    await pushImage(server, V2_FORM.base(key, 'doc/app'), single, 'single');
    const subject = { mediaType: single.manifest.mediaType, digest: single.manifest.digest, size: single.manifest.bytes.length };
    const signature = await pushReferrerManifest(server, V2_FORM.base(key, 'doc/app'), subject);
    const virtual = freshKey('virtual');
    await createVirtualRepository(server, virtual, { repositories: [key] });

    expectDocumented(await get(`/api/repositories/${key}/images`, { limit: 1 }), 'get', '/api/repositories/{key}/images');
    expectDocumented(await get(`/api/repositories/${virtual}/images`, {}), 'get', '/api/repositories/{key}/images');
    expectDocumented(await get(`/api/repositories/${key}/tags`, { image: 'doc/app', limit: 1 }), 'get', '/api/repositories/{key}/tags');
    expectDocumented(await get(`/api/repositories/${virtual}/tags`, { image: 'doc/app' }), 'get', '/api/repositories/{key}/tags');
    for (const reference of ['single', 'multi', signature.digest]) {
      expectDocumented(await get(`/api/repositories/${key}/manifest`, { image: 'doc/app', reference }), 'get', '/api/repositories/{key}/manifest');
    }
    expectDocumented(await request(server, `/api/repositories/${key}`), 'get', '/api/repositories/{key}');
    expectDocumented(await request(server, `/api/repositories/${virtual}`), 'get', '/api/repositories/{key}');
    expectDocumented(await request(server, '/api/repositories'), 'get', '/api/repositories');
    expectDocumented(await request(server, '/api/system/info', { auth: null }), 'get', '/api/system/info');
    // The new operations are declared: anonymous where reads are, deletions with their 204.
    for (const path of ['/api/repositories/{key}/images', '/api/repositories/{key}/tags']) {
      expect(paths[path].get.security).toEqual([{ basic: [] }, { bearer: [] }, {}]);
      expect(Object.keys(paths[path].delete.responses)).toEqual(expect.arrayContaining(['204', '401', '403', '404', '429']));
    }
    expect(paths['/api/system/info'].get.security).toEqual([]);
  });
});

describe('system info', () => {
  it('answers anyone: the version, the registry host, TLS, whether anonymous reads are on', async () => {
    const fresh = await startWharf();
    try {
      const before = await request(fresh, '/api/system/info', { auth: null });
      expectStatus(before, 200);
      expect(before.json).toEqual({ version, registryHost: fresh.host, tls: false, anonymousAccess: false });
      // Credentials, even bad ones, are not needed nor checked.
      expectStatus(await request(fresh, '/api/system/info', { auth: 'Basic bm9ib2R5Om5vcGU=' }), 200);
      // The Host the client used (behind a proxy that keeps it).
      const proxied = await rawRequest(fresh, { method: 'GET', path: '/api/system/info', auth: null, headers: { host: 'registry.internal:5000' } });
      expect(proxied.status).toBe(200);
      expect(proxied.json.registryHost).toBe('registry.internal:5000');
      await createLocalRepository(fresh, 'open', { anonymousRead: true });
      expect((await request(fresh, '/api/system/info', { auth: null })).json.anonymousAccess).toBe(true);
    } finally {
      await fresh.close();
    }
  });

  it('takes the host and TLS from WHARF_PUBLIC_URL when set', async () => {
    const published = await startWharf({ WHARF_PUBLIC_URL: 'https://wharf.example.com:8443' });
    try {
      const res = await request(published, '/api/system/info', { auth: null });
      expect(res.json).toEqual({ version, registryHost: 'wharf.example.com:8443', tls: true, anonymousAccess: false });
    } finally {
      await published.close();
    }
  });
});
