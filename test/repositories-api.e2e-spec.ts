// The repository REST API over HTTP: list, get, create, update, delete; validation errors that
// name the offending field; conflicts; unknown kinds; what deleting a repository
// does to its images and to blobs it shares; and the OpenAPI document.
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { buildImage } from './helpers/oci-image-builder';
import { HttpResult, V2_FORM, expectRegistryError, expectStatus, listFiles, pushBlob, pushImage, request, startUpload } from './helpers/registry-http';
import { WharfTestServer, createLocalRepository, startWharf } from './helpers/wharf-server';

let server: WharfTestServer;

beforeAll(async () => {
  server = await startWharf();
});
afterAll(() => server?.close());

function json(method: string, url: string, body?: unknown): Promise<HttpResult> {
  return request(server, url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** A problem+json refusal whose text names `field`. */
function expectProblem(res: HttpResult, status: number, field?: string): void {
  expectStatus(res, status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.json.status).toBe(status);
  expect(typeof res.json.detail).toBe('string');
  if (field) expect(JSON.stringify(res.json)).toContain(field);
}

async function keys(type?: string): Promise<string[]> {
  const res = await request(server, `/api/repositories${type ? `?type=${type}` : ''}`);
  expectStatus(res, 200);
  return res.json.map((r: { key: string }) => r.key);
}

describe('request bodies', () => {
  it('a JSON body sent without Content-Type: application/json is 415 "expected a JSON body", not a field error; malformed JSON is 400 saying so', async () => {
    const body = JSON.stringify({ rclass: 'local', packageType: 'docker' });
    for (const contentType of [undefined, 'text/plain', 'application/x-www-form-urlencoded']) {
      const res = await request(server, '/api/repositories/body-plain', { method: 'PUT', headers: contentType ? { 'content-type': contentType } : {}, body });
      expectProblem(res, 415, 'expected a JSON body');
    }
    expectProblem(await request(server, '/api/repositories/body-plain'), 404);
    expectProblem(await json('PUT', '/api/repositories/body-plain', '{"rclass": "local",'), 400, 'not valid JSON');
    // A JSON type with a charset or a +json suffix is JSON.
    const res = await request(server, '/api/repositories/body-charset', { method: 'PUT', headers: { 'content-type': 'application/json; charset=utf-8' }, body });
    expectStatus(res, 201);
    // A request without a body needs no type.
    expectStatus(await request(server, '/api/repositories/body-charset', { method: 'DELETE' }), 204);
  });
});

describe('repository CRUD', () => {
  it('PUT creates (201) and GET returns the repository', async () => {
    const res = await json('PUT', '/api/repositories/crud-local', { rclass: 'local', packageType: 'docker', description: 'first' });
    expectStatus(res, 201);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.json).toEqual({
      key: 'crud-local',
      rclass: 'local',
      packageType: 'docker',
      description: 'first',
      anonymousRead: false,
      actions: ['read', 'write', 'delete', 'manage'],
      stats: { images: 0, bytes: 0 },
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      // The push rules, off by default (test/push-rules.e2e-spec.ts).
      allowTagOverwrite: true,
      maxUniqueTags: 0,
      mustUseAuthTokenForPush: false,
      requireSignature: false,
      // Storage lifecycle, off by default (test/storage-info.e2e-spec.ts, test/lifecycle-rules.e2e-spec.ts).
      quotaBytes: 0,
      untaggedManifestDays: 0,
      retention: null,
    });
    expect(Number.isNaN(Date.parse(res.json.createdAt))).toBe(false);

    const got = await request(server, '/api/repositories/crud-local');
    expectStatus(got, 200);
    expect(got.json).toEqual(res.json);
    // A key in the body equal to the path's is accepted.
    expectStatus(await json('PUT', '/api/repositories/crud-keyed', { key: 'crud-keyed', rclass: 'local', packageType: 'docker' }), 201);
    // The new repository is usable at once.
    expectStatus(await request(server, '/v2/crud-local/app/blobs/uploads/', { method: 'POST' }), 202);
  });

  it('GET /api/repositories lists repositories in key order, filtered by ?type', async () => {
    for (const key of ['list-b', 'list-a', 'list-c']) await createLocalRepository(server, key);
    const all = await keys();
    expect(all).toEqual([...all].sort());
    expect(all).toEqual(expect.arrayContaining(['list-a', 'list-b', 'list-c']));
    const res = await request(server, '/api/repositories');
    const entry = res.json.find((r: { key: string }) => r.key === 'list-a');
    expect(entry).toEqual(expect.objectContaining({ key: 'list-a', rclass: 'local', packageType: 'docker', description: '' }));

    expect(await keys('local')).toEqual(all);
    expect(await keys('remote')).toEqual([]);
    expect(await keys('virtual')).toEqual([]);
    expectProblem(await request(server, '/api/repositories?type=bogus'), 400, 'type');
  });

  it('POST (update) answers 200 OK, not 201 Created', async () => {
    await createLocalRepository(server, 'upd-status');
    expectStatus(await json('POST', '/api/repositories/upd-status', { description: 'x' }), 200);
  });

  it('POST updates the description and keeps the rest', async () => {
    await createLocalRepository(server, 'upd-local');
    const before = (await request(server, '/api/repositories/upd-local')).json;
    await new Promise((r) => setTimeout(r, 10));
    const res = await json('POST', '/api/repositories/upd-local', { description: 'now described' });
    // The exact success status is the previous test's business.
    expect([200, 201]).toContain(res.status);
    expect(res.json).toEqual({ ...before, description: 'now described', updatedAt: expect.any(String) });
    expect(Date.parse(res.json.updatedAt)).toBeGreaterThan(Date.parse(before.updatedAt));
    expect((await request(server, '/api/repositories/upd-local')).json.description).toBe('now described');

    // Restating the same class is fine; changing it, or naming another key, is not.
    expect([200, 201]).toContain((await json('POST', '/api/repositories/upd-local', { rclass: 'local', packageType: 'docker' })).status);
    expectProblem(await json('POST', '/api/repositories/upd-local', { rclass: 'remote' }), 400, 'rclass');
    expectProblem(await json('POST', '/api/repositories/upd-local', { key: 'other-key' }), 400, 'key');
    expectProblem(await json('POST', '/api/repositories/upd-local', { description: 42 }), 400, 'description');
    expectProblem(await json('POST', '/api/repositories/upd-local', { colour: 'red' }), 400, 'colour');
    expect((await request(server, '/api/repositories/upd-local')).json).toEqual(expect.objectContaining({ rclass: 'local', description: 'now described' }));
    expectProblem(await json('POST', '/api/repositories/no-such-repo', { description: 'x' }), 404);
  });

  it('DELETE answers 204, then the repository is 404', async () => {
    await createLocalRepository(server, 'del-local');
    const del = await request(server, '/api/repositories/del-local', { method: 'DELETE' });
    expectStatus(del, 204);
    expect(del.body.length).toBe(0);
    expectProblem(await request(server, '/api/repositories/del-local'), 404, 'del-local');
    expectProblem(await request(server, '/api/repositories/del-local', { method: 'DELETE' }), 404);
    expect(await keys()).not.toContain('del-local');
  });

  it('GET of an unknown repository is 404', async () => {
    expectProblem(await request(server, '/api/repositories/never-made'), 404, 'never-made');
  });
});

describe('validation names the field', () => {
  const before = async () => keys();

  it.each([
    ['an unknown field', { rclass: 'local', packageType: 'docker', colour: 'red' }, 'colour'],
    ['a wrong type for description', { rclass: 'local', packageType: 'docker', description: 5 }, 'description'],
    ['a wrong type for rclass', { rclass: 7, packageType: 'docker' }, 'rclass'],
    ['a missing rclass', { packageType: 'docker' }, 'rclass'],
    ['an unknown rclass', { rclass: 'cloud', packageType: 'docker' }, 'rclass'],
    ['an unsupported packageType', { rclass: 'local', packageType: 'npm' }, 'packageType'],
    ['an upper-case key in the body', { key: 'Bad-Key', rclass: 'local', packageType: 'docker' }, 'key'],
    ['a body key that differs from the path', { key: 'someone-else', rclass: 'local', packageType: 'docker' }, 'key'],
  ])('400 for %s', async (_what, body, field) => {
    const existing = await before();
    expectProblem(await json('PUT', '/api/repositories/valid-key', body), 400, field);
    expect(await keys()).toEqual(existing);
  });

  it.each([
    ['upper case', 'Docker-Local'],
    ['too long (65 characters)', `a${'b'.repeat(63)}c`],
    ['a leading dash', '-local'],
    ['a double dot', 'a..b'],
    ['an underscore', 'docker_local'],
  ])('400 for a path key with %s, on PUT, GET, POST and DELETE', async (_what, key) => {
    const existing = await before();
    expectProblem(await json('PUT', `/api/repositories/${key}`, { rclass: 'local', packageType: 'docker' }), 400, 'key');
    expectProblem(await request(server, `/api/repositories/${key}`), 400, 'key');
    expectProblem(await json('POST', `/api/repositories/${key}`, { description: 'x' }), 400, 'key');
    expectProblem(await request(server, `/api/repositories/${key}`, { method: 'DELETE' }), 400, 'key');
    expect(await keys()).toEqual(existing);
  });

  it('accepts a key of exactly 64 characters', async () => {
    const key = `a${'b'.repeat(62)}c`;
    expectStatus(await json('PUT', `/api/repositories/${key}`, { rclass: 'local', packageType: 'docker' }), 201);
    expect(await keys()).toContain(key);
  });

  it('400 for a body that is not JSON', async () => {
    const existing = await before();
    expectProblem(await json('PUT', '/api/repositories/valid-key', '{"rclass": "local",'), 400);
    expect(await keys()).toEqual(existing);
  });
});

describe('conflicts and unknown kinds', () => {
  it('409 for a duplicate key, leaving the original as it was', async () => {
    expectStatus(await json('PUT', '/api/repositories/dup-local', { rclass: 'local', packageType: 'docker', description: 'original' }), 201);
    const original = (await request(server, '/api/repositories/dup-local')).json;
    expectProblem(await json('PUT', '/api/repositories/dup-local', { rclass: 'local', packageType: 'docker', description: 'impostor' }), 409, 'dup-local');
    expect((await request(server, '/api/repositories/dup-local')).json).toEqual(original);
  });

  // Remote and virtual repositories have their own suites (test/remote-*.e2e-spec.ts, test/virtual-*.e2e-spec.ts).
  it('400 for an unknown rclass, naming the kinds there are, and nothing is created', async () => {
    const res = await json('PUT', '/api/repositories/try-federated', { rclass: 'federated', packageType: 'docker' });
    expectProblem(res, 400, 'rclass');
    expect(JSON.stringify(res.json)).toContain('virtual');
    expectProblem(await request(server, '/api/repositories/try-federated'), 404);
  });
});

describe('deleting a repository', () => {
  it('removes its tags and manifests at once, while a blob shared with another repository stays readable there', async () => {
    await createLocalRepository(server, 'doomed');
    await createLocalRepository(server, 'survivor');
    const doomed = V2_FORM.base('doomed', 'team/app');
    const survivor = V2_FORM.base('survivor', 'team/app');
    const image = buildImage();
    await pushImage(server, doomed, image, 'v1');
    const shared = image.layers[0];
    await pushBlob(server, survivor, shared.bytes);
    const onlyDoomed = image.layers[1];
    const upload = await startUpload(server, doomed);
    const blobFiles = await listFiles(path.join(server.dataDir, 'storage', 'blobs'));
    expect((await request(server, '/v2/_catalog')).json.repositories).toContain('doomed/team/app');

    expectStatus(await request(server, '/api/repositories/doomed', { method: 'DELETE' }), 204);

    for (const url of [`${doomed}manifests/v1`, `${doomed}manifests/${image.manifest.digest}`, `${doomed}tags/list`, `${doomed}blobs/${shared.digest}`]) {
      expectRegistryError(await request(server, url), 404, 'NAME_UNKNOWN');
    }
    expectRegistryError(await request(server, upload), 404, 'NAME_UNKNOWN');
    expect((await request(server, '/v2/_catalog')).json.repositories).not.toContain('doomed/team/app');

    const kept = await request(server, `${survivor}blobs/${shared.digest}`);
    expectStatus(kept, 200);
    expect(kept.body.equals(shared.bytes)).toBe(true);
    // Bytes are only ever removed by GC: nothing on disk changed.
    expect(await listFiles(path.join(server.dataDir, 'storage', 'blobs'))).toEqual(blobFiles);

    // A new repository under the old key starts empty: no tags, manifests, links or uploads come back.
    await createLocalRepository(server, 'doomed');
    expectRegistryError(await request(server, `${doomed}manifests/v1`), 404, 'MANIFEST_UNKNOWN');
    expectRegistryError(await request(server, `${doomed}manifests/${image.manifest.digest}`), 404, 'MANIFEST_UNKNOWN');
    expectRegistryError(await request(server, `${doomed}tags/list`), 404, 'NAME_UNKNOWN');
    expectRegistryError(await request(server, `${doomed}blobs/${shared.digest}`), 404, 'BLOB_UNKNOWN');
    expectRegistryError(await request(server, `${doomed}blobs/${onlyDoomed.digest}`), 404, 'BLOB_UNKNOWN');
    expectRegistryError(await request(server, upload), 404, 'BLOB_UPLOAD_UNKNOWN');
    expect((await request(server, '/api/docker/doomed/v2/_catalog')).json.repositories).toEqual([]);
  });
});

describe('OpenAPI', () => {
  it('GET /api/openapi.json serves an OpenAPI document listing /api/repositories', async () => {
    const res = await request(server, '/api/openapi.json');
    expectStatus(res, 200);
    expect(res.headers.get('content-type')).toMatch(/json/);
    expect(res.json.openapi).toMatch(/^3\./);
    expect(res.json.info.title).toBe('Wharf');
    expect(Object.keys(res.json.paths['/api/repositories'])).toEqual(expect.arrayContaining(['get']));
    expect(Object.keys(res.json.paths['/api/repositories/{key}'])).toEqual(expect.arrayContaining(['get', 'put', 'post', 'delete']));
    // The registry protocol is not part of the REST document, except its token endpoint.
    expect(Object.keys(res.json.paths).filter((p) => p.startsWith('/v2'))).toEqual(['/v2/token']);
  });
});

describe('unknown REST routes', () => {
  it('404 with a problem body, not a registry envelope', async () => {
    const res = await request(server, `/api/nothing-here-${randomBytes(2).toString('hex')}`);
    expectProblem(res, 404);
    expect(res.json.errors).toBeUndefined();
  });
});
