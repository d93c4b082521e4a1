// Names and the errors every endpoint shares: the base endpoint and health, both path forms for
// one image with a deep name, invalid names sent byte for byte (dot segments, percent-encoded
// dots, upper case, slash junk) that must create nothing anywhere, unknown repositories, and
// unsupported methods.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Client } from 'pg';
import { buildImage, imageManifest, MediaTypes, blobOf } from './helpers/oci-image-builder';
import {
  API_FORM,
  PATH_FORMS,
  PathForm,
  V2_FORM,
  absolute,
  expectRegistryError,
  expectStatus,
  listFiles,
  pushBlob,
  pushImage,
  rawRequest,
  request,
  sha256,
  startWharfWithLocalRepositories,
  withQuery,
} from './helpers/registry-http';
import { WharfTestServer, createLocalRepository } from './helpers/wharf-server';

const KEY = 'docker-local';

let server: WharfTestServer;

beforeAll(async () => {
  server = await startWharfWithLocalRepositories(KEY);
});
afterAll(() => server?.close());

async function dbCount(table: string): Promise<number> {
  const client = new Client({ connectionString: server.databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT count(*)::int AS n FROM ${table}`);
    return rows[0].n;
  } finally {
    await client.end();
  }
}

describe('base endpoint and health', () => {
  it('GET /v2/ answers 200 with Docker-Distribution-API-Version: registry/2.0', async () => {
    for (const url of ['/v2/', '/v2', `/api/docker/${KEY}/v2/`]) {
      const res = await request(server, url);
      expectStatus(res, 200);
      expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
      expect(res.json).toEqual({});
    }
    const head = await request(server, '/v2/', { method: 'HEAD' });
    expectStatus(head, 200);
    expect(head.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
  });

  it('a request target no URL parser takes gets a 400 and the server goes on', async () => {
    // Node's HTTP parser lets an absolute-form target with a broken host through; reading its
    // path throws. That must be an answer, not an exception in the server's request listener.
    for (const path of ['http://[x/v2/', 'http://[::1]:x/v2/']) {
      const res = await rawRequest(server, { method: 'GET', path });
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
    }
    expectStatus(await request(server, '/v2/'), 200);
  });

  it('GET /health/live and /health/ready answer 200', async () => {
    const live = await request(server, '/health/live');
    expectStatus(live, 200);
    expect(live.json).toEqual({ status: 'ok' });
    const ready = await request(server, '/health/ready');
    expectStatus(ready, 200);
    expect(ready.json).toEqual({ status: 'ok', checks: { database: 'ok', dataDir: 'ok' } });
  });
});

describe('both path forms address the same image', () => {
  const image = 'team/project/app';

  it('what is pushed on one form is served, listed and deleted on the other', async () => {
    const built = buildImage();
    const digest = await pushImage(server, V2_FORM.base(KEY, image), built, 'v1');
    const api = API_FORM.base(KEY, image);

    const manifest = await request(server, `${api}manifests/v1`);
    expectStatus(manifest, 200);
    expect(manifest.body.equals(built.manifest.bytes)).toBe(true);
    expect(manifest.headers.get('docker-content-digest')).toBe(digest);
    for (const blob of [built.config, ...built.layers]) {
      const res = await request(server, `${api}blobs/${blob.digest}`);
      expectStatus(res, 200);
      expect(res.body.equals(blob.bytes)).toBe(true);
    }
    expect((await request(server, `${api}tags/list`)).json).toEqual({ name: image, tags: ['v1'] });
    expect((await request(server, `${V2_FORM.base(KEY, image)}tags/list`)).json).toEqual({ name: `${KEY}/${image}`, tags: ['v1'] });
    expect((await request(server, '/v2/_catalog')).json.repositories).toContain(`${KEY}/${image}`);
    expect((await request(server, `/api/docker/${KEY}/v2/_catalog`)).json.repositories).toContain(image);

    // Pushed on /api/docker, visible on /v2.
    const second = buildImage();
    await pushImage(server, api, second, 'v2');
    const onV2 = await request(server, `${V2_FORM.base(KEY, image)}manifests/v2`);
    expect(onV2.body.equals(second.manifest.bytes)).toBe(true);

    expectStatus(await request(server, `${api}manifests/v1`, { method: 'DELETE' }), 202);
    expectRegistryError(await request(server, `${V2_FORM.base(KEY, image)}manifests/v1`), 404, 'MANIFEST_UNKNOWN');
  });

  it('Locations answer in the form the request came in', async () => {
    for (const form of PATH_FORMS) {
      const base = form.base(KEY, 'team/project/located');
      const bytes = randomBytes(32);
      const start = await request(server, `${base}blobs/uploads/`, { method: 'POST' });
      expect(new URL(absolute(server, start.headers.get('location')!)).pathname.startsWith(`${base}blobs/uploads/`)).toBe(true);
      const put = await request(server, withQuery(absolute(server, start.headers.get('location')!), 'digest', sha256(bytes)), { method: 'PUT', body: bytes });
      expect(new URL(absolute(server, put.headers.get('location')!)).pathname).toBe(`${base}blobs/${sha256(bytes)}`);
    }
  });

  it('names may contain path components that look like endpoints', async () => {
    for (const image of ['a/manifests/b', 'x/blobs/uploads', 'tags/list/y', 'referrers/z']) {
      for (const form of PATH_FORMS) {
        const base = form.base(KEY, image);
        const built = buildImage({ layerCount: 1 });
        await pushImage(server, base, built, 'latest');
        const got = await request(server, `${base}manifests/latest`);
        expectStatus(got, 200);
        expect(got.body.equals(built.manifest.bytes)).toBe(true);
        const tags = await request(server, `${base}tags/list`);
        expect(tags.json.tags).toEqual(['latest']);
        const blob = await request(server, `${base}blobs/${built.layers[0].digest}`);
        expect(blob.body.equals(built.layers[0].bytes)).toBe(true);
      }
    }
    const catalog = (await request(server, `/api/docker/${KEY}/v2/_catalog`)).json.repositories;
    expect(catalog).toEqual(expect.arrayContaining(['a/manifests/b', 'x/blobs/uploads', 'tags/list/y', 'referrers/z']));
  });
});

describe('valid names at the edges of the grammar', () => {
  it('repository keys with dots and dashes, image components with __, -- and ., 128-character tags', async () => {
    await createLocalRepository(server, 'my.repo-1');
    await createLocalRepository(server, 'x');
    const tag = `T${'a'.repeat(126)}_`;
    for (const [key, image] of [
      ['my.repo-1', 'a__b/c--d/e.f_g-h'],
      ['x', '0/1/2/3/4/5/6/7/8/9'],
      ['my.repo-1', 'n'.repeat(255)],
    ] as const) {
      for (const form of PATH_FORMS) {
        const base = form.base(key, image);
        const built = buildImage({ layerCount: 1 });
        await pushImage(server, base, built, tag);
        const got = await request(server, `${base}manifests/${tag}`);
        expectStatus(got, 200);
        expect(got.body.equals(built.manifest.bytes)).toBe(true);
        expect((await request(server, `${base}tags/list`)).json.tags).toContain(tag);
      }
    }
    expect((await request(server, '/v2/_catalog')).json.repositories).toEqual(
      expect.arrayContaining(['my.repo-1/a__b/c--d/e.f_g-h', 'x/0/1/2/3/4/5/6/7/8/9', `my.repo-1/${'n'.repeat(255)}`]),
    );
  });
});

describe('invalid names', () => {
  const INVALID: Array<[string, string]> = [
    ['POST', `/v2/${KEY}/../evil/blobs/uploads/`],
    ['POST', `/v2/${KEY}/app/../../evil/blobs/uploads/`],
    ['PUT', `/v2/${KEY}/../../../evil/manifests/latest`],
    ['POST', `/v2/${KEY}/%2e%2e/evil/blobs/uploads/`],
    ['POST', `/v2/${KEY}/%2E%2E%2Fevil/blobs/uploads/`],
    ['POST', `/v2/${KEY}/..%2f..%2fevil/blobs/uploads/`],
    ['POST', `/v2/../evil/blobs/uploads/`],
    ['POST', `/v2/%2e%2e/evil/blobs/uploads/`],
    ['POST', `/api/docker/${KEY}/v2/../../evil/blobs/uploads/`],
    ['POST', `/api/docker/${KEY}/v2/%2e%2e/evil/blobs/uploads/`],
    ['POST', `/api/docker/../v2/evil/blobs/uploads/`],
    ['POST', `/api/docker/%2e%2e/v2/evil/blobs/uploads/`],
    ['PUT', `/v2/${KEY}/App/manifests/latest`],
    ['GET', `/v2/Docker-Local/app/tags/list`],
    ['GET', `/api/docker/Docker-Local/v2/app/tags/list`],
    ['GET', `/api/docker/${KEY}/v2/Team/app/tags/list`],
    ['PUT', `/v2/${KEY}/app//manifests/latest`],
    ['GET', `/v2/${KEY}/app/manifests/latest/`],
    ['GET', `/v2/${KEY}/app/tags/list/`],
    ['POST', `/v2/${KEY}/app./blobs/uploads/`],
    ['POST', `/v2/${KEY}/app-/blobs/uploads/`],
    ['POST', `/v2/${KEY}/_app/blobs/uploads/`],
    ['POST', `/v2/${KEY}/a%20b/blobs/uploads/`],
    ['GET', `/v2/${KEY}/tags/list`],
    ['GET', `/v2/${KEY}/${'a'.repeat(256)}/tags/list`],
    ['GET', `/v2/${'k'.repeat(65)}/app/tags/list`],
  ];

  it.each(INVALID)('%s %s -> 400 NAME_INVALID', async (method, url) => {
    const res = await rawRequest(server, {
      method,
      path: url,
      headers: method === 'GET' ? {} : { 'content-length': '0' },
    });
    expect(res.status).toBe(400);
    expect(res.json?.errors?.[0]?.code).toBe('NAME_INVALID');
    expect(typeof res.json.errors[0].message).toBe('string');
    expect(res.json.errors[0]).toHaveProperty('detail');
    expect(res.headers['docker-distribution-api-version']).toBe('registry/2.0');
  });

  it('a full push through invalid names creates no file, upload or image anywhere', async () => {
    const marker = `evil${randomBytes(4).toString('hex')}`;
    const parent = path.dirname(server.dataDir);
    const before = { data: await listFiles(server.dataDir), images: await dbCount('images'), uploads: await dbCount('upload_sessions') };
    const bytes = randomBytes(64);
    const digest = sha256(bytes);
    const manifest = imageManifest({ config: blobOf(bytes, MediaTypes.OciConfig), layers: [] });

    for (const name of [`../${marker}`, `../../${marker}`, `%2e%2e/${marker}`, `%2e%2e%2f%2e%2e%2f${marker}`, `..%2F${marker}`, `${marker.toUpperCase()}`]) {
      for (const prefix of [`/v2/${KEY}/`, `/api/docker/${KEY}/v2/`]) {
        const base = `${prefix}${name}/`;
        const results = [
          await rawRequest(server, { method: 'POST', path: `${base}blobs/uploads/`, headers: { 'content-length': '0' } }),
          await rawRequest(server, { method: 'POST', path: `${base}blobs/uploads/?digest=${digest}`, headers: { 'content-length': String(bytes.length) }, body: bytes }),
          await rawRequest(server, {
            method: 'PUT',
            path: `${base}manifests/latest`,
            headers: { 'content-type': MediaTypes.OciManifest, 'content-length': String(manifest.bytes.length) },
            body: manifest.bytes,
          }),
          await rawRequest(server, { method: 'GET', path: `${base}blobs/${digest}` }),
          await rawRequest(server, { method: 'GET', path: `${base}tags/list` }),
        ];
        for (const res of results) {
          expect({ url: base, status: res.status, code: res.json?.errors?.[0]?.code }).toEqual({ url: base, status: 400, code: 'NAME_INVALID' });
        }
      }
    }

    expect(await listFiles(server.dataDir)).toEqual(before.data);
    expect(await dbCount('images')).toBe(before.images);
    expect(await dbCount('upload_sessions')).toBe(before.uploads);
    // Nothing named after the marker next to or inside the data directory, at any depth we could reach.
    for (const dir of [parent, path.dirname(parent), server.dataDir, path.join(server.dataDir, 'storage')]) {
      const entries = await fs.readdir(dir).catch(() => [] as string[]);
      expect(entries.filter((e) => e.toLowerCase().includes(marker))).toEqual([]);
    }
    expect((await request(server, '/v2/_catalog')).json.repositories.some((n: string) => n.includes(marker))).toBe(false);
  });
});

describe('unknown repository key', () => {
  const MISSING = 'no-such-repo';
  const digest = sha256(Buffer.from('nothing'));
  const uploadId = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';

  it.each(PATH_FORMS.map((form) => [form.label, form] as const))('answers 404 NAME_UNKNOWN on every endpoint on %s', async (_label, form: PathForm) => {
    const base = form.base(MISSING, 'app');
    const built = buildImage({ layerCount: 1 });
    const cases: Array<[string, string, Buffer | undefined]> = [
      ['GET', `${base}manifests/latest`, undefined],
      ['PUT', `${base}manifests/latest`, built.manifest.bytes],
      ['DELETE', `${base}manifests/latest`, undefined],
      ['GET', `${base}blobs/${digest}`, undefined],
      ['DELETE', `${base}blobs/${digest}`, undefined],
      ['POST', `${base}blobs/uploads/`, undefined],
      ['POST', `${base}blobs/uploads/?digest=${digest}`, Buffer.from('nothing')],
      ['POST', `${base}blobs/uploads/?mount=${digest}&from=${KEY}/app`, undefined],
      ['GET', `${base}blobs/uploads/${uploadId}`, undefined],
      ['PATCH', `${base}blobs/uploads/${uploadId}`, Buffer.from('x')],
      ['PUT', `${base}blobs/uploads/${uploadId}?digest=${digest}`, undefined],
      ['DELETE', `${base}blobs/uploads/${uploadId}`, undefined],
      ['GET', `${base}tags/list`, undefined],
      ['GET', `${base}referrers/${digest}`, undefined],
    ];
    for (const [method, url, body] of cases) {
      const res = await request(server, url, { method, body, headers: method === 'PUT' && url.includes('manifests') ? { 'content-type': MediaTypes.OciManifest } : {} });
      expectRegistryError(res, 404, 'NAME_UNKNOWN');
    }
    expect((await request(server, `${base}manifests/latest`, { method: 'HEAD' })).status).toBe(404);
    expect((await request(server, `${base}blobs/${digest}`, { method: 'HEAD' })).status).toBe(404);
    // Nothing was created on the way.
    expect((await request(server, `/api/repositories/${MISSING}`)).status).toBe(404);
  });

  it('answers 404 NAME_UNKNOWN for the catalog of an unknown repository', async () => {
    expectRegistryError(await request(server, `/api/docker/${MISSING}/v2/_catalog`), 404, 'NAME_UNKNOWN');
  });
});

describe('unsupported methods', () => {
  const image = 'methods/app';
  let built: ReturnType<typeof buildImage>;
  let uploadLocation: string;

  beforeAll(async () => {
    built = buildImage({ layerCount: 1 });
    await pushImage(server, V2_FORM.base(KEY, image), built, 'v1');
    const start = await request(server, `${V2_FORM.base(KEY, image)}blobs/uploads/`, { method: 'POST' });
    uploadLocation = new URL(absolute(server, start.headers.get('location')!)).pathname;
  });

  it.each(PATH_FORMS.map((form) => [form.label, form] as const))('answer 405 UNSUPPORTED on %s and change nothing', async (_label, form: PathForm) => {
    const base = form.base(KEY, image);
    const layer = built.layers[0];
    const uploadId = uploadLocation.split('/').pop()!;
    const cases: Array<[string, string]> = [
      ['PATCH', `${base}manifests/v1`],
      ['POST', `${base}manifests/v1`],
      ['PUT', `${base}blobs/${layer.digest}`],
      ['POST', `${base}blobs/${layer.digest}`],
      ['PATCH', `${base}blobs/${layer.digest}`],
      ['GET', `${base}blobs/uploads/`],
      ['PUT', `${base}blobs/uploads/`],
      ['DELETE', `${base}blobs/uploads/`],
      ['POST', `${base}blobs/uploads/${uploadId}`],
      ['POST', `${base}tags/list`],
      ['DELETE', `${base}tags/list`],
      ['PUT', `${base}referrers/${built.manifest.digest}`],
      ['DELETE', `${base}referrers/${built.manifest.digest}`],
      ['POST', form === V2_FORM ? '/v2/' : `/api/docker/${KEY}/v2/`],
      ['DELETE', form === V2_FORM ? '/v2/' : `/api/docker/${KEY}/v2/`],
      ['DELETE', form.catalog(KEY)],
      ['PUT', form.catalog(KEY)],
    ];
    for (const [method, url] of cases) {
      const res = await request(server, url, { method, body: ['GET', 'DELETE'].includes(method) ? undefined : Buffer.from('{}') });
      expect({ method, url, status: res.status, code: res.json?.errors?.[0]?.code }).toEqual({ method, url, status: 405, code: 'UNSUPPORTED' });
      expectRegistryError(res, 405, 'UNSUPPORTED');
    }

    // Everything is as it was.
    const manifest = await request(server, `${base}manifests/v1`);
    expect(manifest.body.equals(built.manifest.bytes)).toBe(true);
    const blob = await request(server, `${base}blobs/${layer.digest}`);
    expect(blob.body.equals(layer.bytes)).toBe(true);
    expect((await request(server, `${base}tags/list`)).json.tags).toEqual(['v1']);
    const status = await request(server, `${base}blobs/uploads/${uploadId}`);
    expectStatus(status, 204);
    expect(status.headers.get('range')).toBe('0-0');
  });
});

describe('errors on HEAD carry the status and no body', () => {
  it('HEAD of an unknown manifest or blob is a bodiless 404 with the API version header', async () => {
    const base = V2_FORM.base(KEY, 'head/app');
    await pushBlob(server, base, randomBytes(10));
    for (const url of [`${base}manifests/nope`, `${base}blobs/${sha256(randomBytes(3))}`]) {
      const res = await request(server, url, { method: 'HEAD' });
      expect(res.status).toBe(404);
      expect(res.body.length).toBe(0);
      expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    }
    const bad = await request(server, `${base}manifests/sha256:nothex`, { method: 'HEAD' });
    expect(bad.status).toBe(400);
    expect(bad.body.length).toBe(0);
  });
});
