// Listings over HTTP: tag lists and catalogs with n/last pagination and RFC 5988 Link headers in
// byte order, on both path forms; and the referrers API with its artifactType filter.
import { randomBytes } from 'node:crypto';
import { MediaTypes, blobOf, buildImage, imageIndex, imageManifest, randomBlob } from './helpers/oci-image-builder';
import {
  API_FORM,
  PATH_FORMS,
  PathForm,
  V2_FORM,
  expectRegistryError,
  expectStatus,
  pushBlobs,
  pushImage,
  pushManifest,
  request,
  sha256,
  startWharfWithLocalRepositories,
} from './helpers/registry-http';
import { WharfTestServer } from './helpers/wharf-server';

const KEY = 'docker-local';
const OTHER = 'docker-other';

let server: WharfTestServer;

beforeAll(async () => {
  server = await startWharfWithLocalRepositories(KEY, OTHER);
});
afterAll(() => server?.close());

/** Byte order, as the spec's "lexical" order of tags and names means. */
const byteOrder = (values: string[]) => [...values].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

/** Parses `<url>; rel="next"`, asserting the RFC 5988 shape; null without a Link header. */
function nextLink(headers: Headers): string | null {
  const link = headers.get('link');
  if (link === null) return null;
  const match = /^<([^>]+)>;\s*rel="next"$/.exec(link);
  expect(match).not.toBeNull();
  return match![1];
}

/** Follows Link headers from `first` to the end; returns each page's items. */
async function allPages(first: string, field: 'tags' | 'repositories', expectedPathname: string): Promise<string[][]> {
  const pages: string[][] = [];
  let url: string | null = first;
  while (url) {
    const res = await request(server, url);
    expectStatus(res, 200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    pages.push(res.json[field]);
    url = nextLink(res.headers);
    if (url) expect(new URL(url, server.baseUrl).pathname).toBe(expectedPathname);
    expect(pages.length).toBeLessThan(50);
  }
  return pages;
}

describe.each(PATH_FORMS.map((form) => [form.label, form] as const))('tags/list on %s', (_label, form: PathForm) => {
  const image = `tags-${form === V2_FORM ? 'v2' : 'api'}/app`;
  const base = form.base(KEY, image);
  const name = form === V2_FORM ? `${KEY}/${image}` : image;
  // Byte order puts digits, upper case, '_' and lower case apart, and '-' < '.' < digits:
  // a locale-aware collation would interleave them.
  const TAGS = ['v1.10', 'v1.9', 'v1-rc', 'V2', '_x', '1.0', 'a', 'A', 'b', 'Z9', 'latest', 'a-b', 'a.b', 'a_b', 'aB'];

  beforeAll(async () => {
    const image = buildImage();
    await pushImage(server, base, image, TAGS[0]);
    for (const tag of TAGS.slice(1)) expectStatus(await pushManifest(server, base, tag, image.manifest.bytes, image.manifest.mediaType), 201);
  });

  it('lists every tag in byte order with the name as addressed', async () => {
    const res = await request(server, `${base}tags/list`);
    expectStatus(res, 200);
    expect(res.json).toEqual({ name, tags: byteOrder(TAGS) });
    expect(res.headers.get('link')).toBeNull();
  });

  it('paginates with n and Link rel="next" until the last page, which has no Link', async () => {
    const first = await request(server, `${base}tags/list?n=4`);
    expectStatus(first, 200);
    expect(first.json.tags).toEqual(byteOrder(TAGS).slice(0, 4));
    expect(nextLink(first.headers)).toBe(`${base}tags/list?n=4&last=${byteOrder(TAGS)[3]}`);

    const pages = await allPages(`${base}tags/list?n=4`, 'tags', `${base}tags/list`);
    expect(pages.map((p) => p.length)).toEqual([4, 4, 4, 3]);
    expect(pages.flat()).toEqual(byteOrder(TAGS));
  });

  it('an exact multiple of n ends with a full page and no Link', async () => {
    const pages = await allPages(`${base}tags/list?n=5`, 'tags', `${base}tags/list`);
    expect(pages.map((p) => p.length)).toEqual([5, 5, 5]);
    expect(pages.flat()).toEqual(byteOrder(TAGS));
  });

  it('last alone starts after the given tag; n larger than the list returns it all', async () => {
    const sorted = byteOrder(TAGS);
    const after = await request(server, `${base}tags/list?last=${sorted[6]}`);
    expectStatus(after, 200);
    expect(after.json.tags).toEqual(sorted.slice(7));
    // `last` need not be an existing tag.
    const between = await request(server, `${base}tags/list?last=W`);
    expect(between.json.tags).toEqual(sorted.filter((t) => Buffer.compare(Buffer.from(t), Buffer.from('W')) > 0));

    const all = await request(server, `${base}tags/list?n=100`);
    expect(all.json.tags).toEqual(sorted);
    expect(all.headers.get('link')).toBeNull();
  });

  it('a NUL or an invalid UTF-8 byte in last: the page after it in byte order, never a 5xx', async () => {
    const sorted = byteOrder(TAGS);
    // Postgres text cannot hold a NUL; no tag holds one either, so after `a\0b` is exactly after `a`.
    for (const [last, raw] of [
      ['a%00b', 'a\0b'],
      ['%00', '\0'],
    ]) {
      const res = await request(server, `${base}tags/list?last=${last}`);
      expectStatus(res, 200);
      expect(res.json.tags).toEqual(sorted.filter((t) => Buffer.compare(Buffer.from(t), Buffer.from(raw)) > 0));
      const page = await request(server, `${base}tags/list?n=2&last=${last}`);
      expectStatus(page, 200);
      expect(page.json.tags).toEqual(res.json.tags.slice(0, 2));
    }
    // A lone 0xFF byte sorts after every tag.
    const high = await request(server, `${base}tags/list?last=%FF`);
    expectStatus(high, 200);
    expect(high.json.tags).toEqual([]);
    for (const n of ['%00', '1%00', '%FF']) expectRegistryError(await request(server, `${base}tags/list?n=${n}`), 400, 'PAGINATION_NUMBER_INVALID');
  });

  it('refuses a malformed n with PAGINATION_NUMBER_INVALID', async () => {
    for (const n of ['abc', '-1', '1.5', '99999999']) {
      expectRegistryError(await request(server, `${base}tags/list?n=${n}`), 400, 'PAGINATION_NUMBER_INVALID');
    }
  });

  it('answers NAME_UNKNOWN for an image that does not exist', async () => {
    expectRegistryError(await request(server, `${form.base(KEY, 'never-pushed')}tags/list`), 404, 'NAME_UNKNOWN');
    expectRegistryError(await request(server, `${form.base('no-such-repo', 'app')}tags/list`), 404, 'NAME_UNKNOWN');
  });
});

describe('_catalog', () => {
  // Names chosen so byte order differs from a locale's: '-' < '.' < '/' < '_' < letters.
  const LOCAL = ['a-b', 'a.b', 'a/b', 'a_b', 'ab', 'team/project/app', 'zeta'];
  const OTHERS = ['alpha', 'b/c'];

  beforeAll(async () => {
    const image = buildImage();
    for (const name of LOCAL) await pushImage(server, V2_FORM.base(KEY, `cat/${name}`), image, 'v1');
    for (const name of OTHERS) await pushImage(server, V2_FORM.base(OTHER, `cat/${name}`), image, 'v1');
    // An image with blobs but no manifest is not in the catalog.
    await pushBlobs(server, V2_FORM.base(KEY, 'cat/blobs-only'), [image.config]);
  });

  /** Everything this file's server holds, so the catalogs are exactly known. */
  async function expectedAll(): Promise<string[]> {
    const res = await request(server, '/v2/_catalog');
    return res.json.repositories;
  }

  it('on /v2/ lists <repoKey>/<image> across repositories, in byte order', async () => {
    const res = await request(server, '/v2/_catalog');
    expectStatus(res, 200);
    expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    const names: string[] = res.json.repositories;
    expect(names).toEqual(byteOrder(names));
    const ours = names.filter((n) => n.startsWith(`${KEY}/cat/`) || n.startsWith(`${OTHER}/cat/`));
    expect(ours).toEqual(byteOrder([...LOCAL.map((n) => `${KEY}/cat/${n}`), ...OTHERS.map((n) => `${OTHER}/cat/${n}`)]));
    expect(names).not.toContain(`${KEY}/cat/blobs-only`);
    expect(res.headers.get('link')).toBeNull();
  });

  it('on /v2/ paginates with n, last and Link', async () => {
    const all = await expectedAll();
    expect(all.length).toBeGreaterThan(6);
    const first = await request(server, '/v2/_catalog?n=3');
    expect(first.json.repositories).toEqual(all.slice(0, 3));
    expect(nextLink(first.headers)).toBe(`/v2/_catalog?n=3&last=${encodeURIComponent(all[2])}`);
    const pages = await allPages('/v2/_catalog?n=3', 'repositories', '/v2/_catalog');
    expect(pages.flat()).toEqual(all);
    expect(pages.slice(0, -1).every((p) => p.length === 3)).toBe(true);

    const after = await request(server, `/v2/_catalog?last=${encodeURIComponent(`${KEY}/cat/a/b`)}`);
    expect(after.json.repositories).toEqual(all.filter((n) => Buffer.compare(Buffer.from(n), Buffer.from(`${KEY}/cat/a/b`)) > 0));
  });

  it('on /api/docker/<key>/v2/_catalog lists only that repository, paginated', async () => {
    const res = await request(server, `/api/docker/${OTHER}/v2/_catalog`);
    expectStatus(res, 200);
    const otherNames: string[] = res.json.repositories;
    expect(otherNames.filter((n) => n.startsWith('cat/'))).toEqual(byteOrder(OTHERS.map((n) => `cat/${n}`)));
    expect(otherNames.some((n) => LOCAL.map((l) => `cat/${l}`).includes(n))).toBe(false);

    const local = (await request(server, `/api/docker/${KEY}/v2/_catalog`)).json.repositories as string[];
    expect(local).toEqual(byteOrder(local));
    expect(local.filter((n) => n.startsWith('cat/'))).toEqual(byteOrder(LOCAL.map((n) => `cat/${n}`)));
    expect(local).not.toContain('cat/alpha');

    const pages = await allPages(`/api/docker/${KEY}/v2/_catalog?n=2`, 'repositories', `/api/docker/${KEY}/v2/_catalog`);
    expect(pages.flat()).toEqual(local);
    expect(pages.slice(0, -1).every((p) => p.length === 2)).toBe(true);
  });

  it('an image whose last manifest is deleted leaves the catalog', async () => {
    const base = V2_FORM.base(OTHER, 'cat/ephemeral');
    const image = buildImage();
    const digest = await pushImage(server, base, image, 'v1');
    expect(await expectedAll()).toContain(`${OTHER}/cat/ephemeral`);
    expectStatus(await request(server, `${base}manifests/${digest}`, { method: 'DELETE' }), 202);
    expect(await expectedAll()).not.toContain(`${OTHER}/cat/ephemeral`);
    expect((await request(server, `/api/docker/${OTHER}/v2/_catalog`)).json.repositories).not.toContain('cat/ephemeral');
  });

  it('a NUL or an invalid UTF-8 byte in last: the page after it in byte order, on /v2/ and per repository, never a 5xx', async () => {
    const all = await expectedAll();
    const after = (names: string[], raw: string) => names.filter((n) => Buffer.compare(Buffer.from(n), Buffer.from(raw)) > 0);
    const bound = `${KEY}/cat/a\0b`;
    const res = await request(server, `/v2/_catalog?last=${encodeURIComponent(bound)}`);
    expectStatus(res, 200);
    expect(res.json.repositories).toEqual(after(all, bound));
    const paged = await request(server, `/v2/_catalog?n=1&last=${encodeURIComponent(bound)}`);
    expectStatus(paged, 200);
    expect(paged.json.repositories).toEqual(after(all, bound).slice(0, 1));
    expectStatus(await request(server, '/v2/_catalog?last=%00'), 200);

    const local = (await request(server, `/api/docker/${KEY}/v2/_catalog`)).json.repositories as string[];
    const perRepo = await request(server, `/api/docker/${KEY}/v2/_catalog?last=cat/a%00b`);
    expectStatus(perRepo, 200);
    expect(perRepo.json.repositories).toEqual(after(local, 'cat/a\0b'));

    for (const url of ['/v2/_catalog?last=%FF', `/api/docker/${KEY}/v2/_catalog?last=%FF`]) {
      const high = await request(server, url);
      expectStatus(high, 200);
      expect(high.json.repositories).toEqual([]);
    }
    expectRegistryError(await request(server, '/v2/_catalog?n=%00'), 400, 'PAGINATION_NUMBER_INVALID');
  });

  it('answers NAME_UNKNOWN for an unknown repository and PAGINATION_NUMBER_INVALID for a bad n', async () => {
    expectRegistryError(await request(server, '/api/docker/no-such-repo/v2/_catalog'), 404, 'NAME_UNKNOWN');
    expectRegistryError(await request(server, '/v2/_catalog?n=x'), 400, 'PAGINATION_NUMBER_INVALID');
    expectRegistryError(await request(server, `/api/docker/${KEY}/v2/_catalog?n=-2`), 400, 'PAGINATION_NUMBER_INVALID');
  });
});

describe.each(PATH_FORMS.map((form) => [form.label, form] as const))('referrers on %s', (_label, form: PathForm) => {
  const base = form.base(KEY, `refs-${form === V2_FORM ? 'v2' : 'api'}/app`);
  const EMPTY = blobOf(Buffer.from('{}'), MediaTypes.OciEmpty);
  const SBOM = 'application/vnd.example.sbom.v1+json';
  const SIG = 'application/vnd.example.signature.v1+json';
  let subject: { mediaType: string; digest: string; size: number };
  const referrers: Record<string, { digest: string; size: number; mediaType: string; artifactType: string; annotations?: Record<string, string> }> = {};

  async function pushReferrer(
    label: string,
    artifactType: string | undefined,
    options: { index?: boolean; annotations?: Record<string, string>; subjectOf?: typeof subject } = {},
  ) {
    const on = options.subjectOf ?? subject;
    let manifest;
    if (options.index) {
      manifest = imageIndex({ manifests: [], artifactType, subject: on, annotations: options.annotations });
    } else {
      const layer = randomBlob(64, 'application/octet-stream');
      await pushBlobs(server, base, [EMPTY, layer]);
      manifest = imageManifest({ config: EMPTY, layers: [layer], artifactType, subject: on, annotations: options.annotations });
    }
    const put = await pushManifest(server, base, manifest.digest, manifest.bytes, manifest.mediaType);
    expectStatus(put, 201);
    expect(put.headers.get('oci-subject')).toBe(on.digest);
    referrers[label] = {
      digest: manifest.digest,
      size: manifest.bytes.length,
      mediaType: manifest.mediaType,
      // Without artifactType, an image manifest's referrer type is its config's media type.
      artifactType: artifactType ?? MediaTypes.OciEmpty,
      ...(options.annotations ? { annotations: options.annotations } : {}),
    };
  }

  beforeAll(async () => {
    const image = buildImage();
    await pushImage(server, base, image, 'v1');
    subject = { mediaType: image.manifest.mediaType, digest: image.manifest.digest, size: image.manifest.bytes.length };
    await pushReferrer('sbom', SBOM, { annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' } });
    await pushReferrer('sig', SIG);
    await pushReferrer('sbom-index', SBOM, { index: true });
    await pushReferrer('untyped', undefined);
    // Refers to something else: never in this subject's list.
    await pushReferrer('elsewhere', SBOM, { subjectOf: { mediaType: MediaTypes.OciManifest, digest: sha256(randomBytes(4)), size: 10 } });
  });

  function descriptor(label: string) {
    return referrers[label];
  }

  it('returns an OCI index of every manifest whose subject is the digest', async () => {
    const res = await request(server, `${base}referrers/${subject.digest}`);
    expectStatus(res, 200);
    expect(res.headers.get('content-type')).toBe(MediaTypes.OciIndex);
    expect(res.headers.get('oci-filters-applied')).toBeNull();
    expect(res.json.schemaVersion).toBe(2);
    expect(res.json.mediaType).toBe(MediaTypes.OciIndex);
    const byDigest = (a: { digest: string }, b: { digest: string }) => a.digest.localeCompare(b.digest);
    expect([...res.json.manifests].sort(byDigest)).toEqual(['sbom', 'sig', 'sbom-index', 'untyped'].map(descriptor).sort(byDigest));
  });

  it('filters by artifactType and says so with OCI-Filters-Applied', async () => {
    const res = await request(server, `${base}referrers/${subject.digest}?artifactType=${encodeURIComponent(SBOM)}`);
    expectStatus(res, 200);
    expect(res.headers.get('content-type')).toBe(MediaTypes.OciIndex);
    expect(res.headers.get('oci-filters-applied')).toBe('artifactType');
    const digests = res.json.manifests.map((m: { digest: string }) => m.digest).sort();
    expect(digests).toEqual([descriptor('sbom').digest, descriptor('sbom-index').digest].sort());

    const none = await request(server, `${base}referrers/${subject.digest}?artifactType=application/vnd.none`);
    expectStatus(none, 200);
    expect(none.headers.get('oci-filters-applied')).toBe('artifactType');
    expect(none.json).toEqual({ schemaVersion: 2, mediaType: MediaTypes.OciIndex, manifests: [] });
  });

  it('an artifactType holding a NUL or an invalid UTF-8 byte matches nothing: an empty index, never a 5xx', async () => {
    for (const type of ['%00', `${encodeURIComponent(SBOM)}%00`, '%FF']) {
      const res = await request(server, `${base}referrers/${subject.digest}?artifactType=${type}`);
      expectStatus(res, 200);
      expect(res.headers.get('oci-filters-applied')).toBe('artifactType');
      expect(res.json).toEqual({ schemaVersion: 2, mediaType: MediaTypes.OciIndex, manifests: [] });
    }
  });

  it('returns an empty index for a digest nothing refers to', async () => {
    for (const digest of [descriptor('sig').digest, sha256(randomBytes(3))]) {
      const res = await request(server, `${base}referrers/${digest}`);
      expectStatus(res, 200);
      expect(res.headers.get('content-type')).toBe(MediaTypes.OciIndex);
      expect(res.json).toEqual({ schemaVersion: 2, mediaType: MediaTypes.OciIndex, manifests: [] });
    }
  });

  it('a deleted referrer leaves the list', async () => {
    const subjectImage = buildImage();
    const other = { mediaType: subjectImage.manifest.mediaType, digest: subjectImage.manifest.digest, size: subjectImage.manifest.bytes.length };
    await pushReferrer('short-lived', SIG, { subjectOf: other });
    const listed = await request(server, `${base}referrers/${other.digest}`);
    expect(listed.json.manifests.map((m: { digest: string }) => m.digest)).toEqual([descriptor('short-lived').digest]);
    expectStatus(await request(server, `${base}manifests/${descriptor('short-lived').digest}`, { method: 'DELETE' }), 202);
    const after = await request(server, `${base}referrers/${other.digest}`);
    expect(after.json.manifests).toEqual([]);
  });

  it('answers DIGEST_INVALID for a malformed digest and NAME_UNKNOWN for an unknown repository', async () => {
    expectRegistryError(await request(server, `${base}referrers/sha256:abc`), 400, 'DIGEST_INVALID');
    expectRegistryError(await request(server, `${base}referrers/latest`), 400, 'DIGEST_INVALID');
    expectRegistryError(await request(server, `${form.base('no-such-repo', 'app')}referrers/${subject.digest}`), 404, 'NAME_UNKNOWN');
  });
});

describe('referrers are per image', () => {
  it('a referrer pushed to another image of the same repository is not listed', async () => {
    const image = buildImage();
    const here = API_FORM.base(KEY, 'per-image/here');
    const there = API_FORM.base(KEY, 'per-image/there');
    await pushImage(server, here, image, 'v1');
    const EMPTY = blobOf(Buffer.from('{}'), MediaTypes.OciEmpty);
    await pushBlobs(server, there, [EMPTY]);
    const ref = imageManifest({
      config: EMPTY,
      layers: [EMPTY],
      artifactType: 'application/vnd.example.x',
      subject: { mediaType: image.manifest.mediaType, digest: image.manifest.digest, size: image.manifest.bytes.length },
    });
    expectStatus(await pushManifest(server, there, ref.digest, ref.bytes, ref.mediaType), 201);
    expect((await request(server, `${here}referrers/${image.manifest.digest}`)).json.manifests).toEqual([]);
    expect((await request(server, `${there}referrers/${image.manifest.digest}`)).json.manifests.map((m: { digest: string }) => m.digest)).toEqual([ref.digest]);
  });
});
