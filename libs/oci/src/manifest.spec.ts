import { parseManifest } from './manifest';
import { MediaType } from './media-types';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const config = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: d('c'), size: 10 };
const layer = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d('1'), size: 100 };
const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('parseManifest', () => {
  it('parses an OCI image manifest and defaults artifactType to the config media type', () => {
    const parsed = parseManifest(bytes({ schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [layer] }), MediaType.OciManifest);
    expect(parsed.isIndex).toBe(false);
    expect(parsed.layers.map((l) => l.digest)).toEqual([d('1')]);
    expect(parsed.artifactType).toBe(config.mediaType);
  });

  it('takes the media type from Content-Type when the body omits it', () => {
    expect(parseManifest(bytes({ schemaVersion: 2, config, layers: [] }), MediaType.OciManifest).mediaType).toBe(MediaType.OciManifest);
    expect(parseManifest(bytes({ schemaVersion: 2, manifests: [] }), 'application/octet-stream').mediaType).toBe(MediaType.OciIndex);
  });

  it('parses an index with its children and subject', () => {
    const child = { mediaType: MediaType.OciManifest, digest: d('2'), size: 5, platform: { os: 'linux', architecture: 'arm64' } };
    const subject = { mediaType: MediaType.OciManifest, digest: d('3'), size: 7 };
    const parsed = parseManifest(bytes({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [child], subject, artifactType: 'x/y' }));
    expect(parsed.isIndex).toBe(true);
    expect(parsed.manifests[0].digest).toBe(d('2'));
    expect(parsed.subject?.digest).toBe(d('3'));
    expect(parsed.artifactType).toBe('x/y');
  });

  it.each([
    ['malformed JSON', Buffer.from('{"schemaVersion":'), undefined],
    ['schemaVersion 1', bytes({ schemaVersion: 1, config, layers: [layer] }), undefined],
    ['Content-Type that disagrees with mediaType', bytes({ schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [layer] }), MediaType.DockerManifest],
    ['a layer with a bad digest', bytes({ schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [{ ...layer, digest: 'sha256:xyz' }] }), undefined],
    ['a negative size', bytes({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: { ...config, size: -1 }, layers: [] }), undefined],
    ['an index with layers', bytes({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [], layers: [] }), undefined],
    ['a Docker manifest without layers', bytes({ schemaVersion: 2, mediaType: MediaType.DockerManifest, config, layers: [] }), undefined],
    ['an unknown media type', bytes({ schemaVersion: 2, mediaType: 'text/plain', config, layers: [] }), undefined],
  ])('refuses %s with MANIFEST_INVALID', (_what, body, contentType) => {
    expect(() => parseManifest(body, contentType)).toThrow(expect.objectContaining({ code: 'MANIFEST_INVALID' }));
  });
});
