import { parseRegistryRoute } from './registry-route';

describe('parseRegistryRoute', () => {
  it('splits the repository key from a multi-segment image on /v2/', () => {
    expect(parseRegistryRoute('docker-local/team/project/app/manifests/1.0')).toEqual({
      kind: 'manifest',
      repoKey: 'docker-local',
      image: 'team/project/app',
      reference: '1.0',
    });
  });

  it('takes the whole name as the image under /api/docker/<key>/v2/', () => {
    expect(parseRegistryRoute('team/app/tags/list', 'docker-local')).toEqual({ kind: 'tags', repoKey: 'docker-local', image: 'team/app' });
  });

  it('lets an image name contain endpoint words', () => {
    expect(parseRegistryRoute('r/a/manifests/b/manifests/latest')).toMatchObject({ image: 'a/manifests/b', reference: 'latest' });
    expect(parseRegistryRoute('r/blobs/blobs/uploads/')).toMatchObject({ kind: 'uploads', image: 'blobs' });
  });

  it('recognises every endpoint', () => {
    const d = `sha256:${'a'.repeat(64)}`;
    expect(parseRegistryRoute('')).toEqual({ kind: 'base' });
    expect(parseRegistryRoute('_catalog')).toEqual({ kind: 'catalog', repoKey: undefined });
    expect(parseRegistryRoute(`r/i/blobs/${d}`)).toMatchObject({ kind: 'blob', digest: d });
    expect(parseRegistryRoute('r/i/blobs/uploads')).toMatchObject({ kind: 'uploads' });
    expect(parseRegistryRoute('r/i/blobs/uploads/abc')).toMatchObject({ kind: 'upload', uploadId: 'abc' });
    expect(parseRegistryRoute(`r/i/referrers/${d}`)).toMatchObject({ kind: 'referrers', digest: d });
  });

  it('refuses names that could escape a path, before any decoding', () => {
    for (const bad of ['r/../x/tags/list', 'r/%2e%2e/x/tags/list', 'r/Team/app/tags/list', 'r//app/tags/list', 'r/app-/tags/list']) {
      expect(() => parseRegistryRoute(bad)).toThrow(expect.objectContaining({ code: 'NAME_INVALID' }));
    }
  });

  it('needs a repository key and an image on /v2/', () => {
    expect(() => parseRegistryRoute('alpine/manifests/latest')).toThrow(expect.objectContaining({ code: 'NAME_INVALID' }));
    expect(() => parseRegistryRoute('Bad_Key/app/manifests/latest')).toThrow(expect.objectContaining({ code: 'NAME_INVALID' }));
  });
});
