import { randomBytes } from 'node:crypto';
import { buildImage } from './helpers/oci-image-builder';
import { API_FORM, HttpResult, PATH_FORMS, V2_FORM, pushBlob, pushImage, request } from './helpers/registry-http';
import { WharfTestServer, createLocalRepository, startWharf } from './helpers/wharf-server';

// Pushed content is served by the origin that will also serve the web UI: it must never be
// sniffed into a renderable type nor run as a page there.
let server: WharfTestServer;

beforeAll(async () => {
  server = await startWharf();
  await createLocalRepository(server, 'headers');
});

afterAll(() => server?.close());

function expectInert(res: HttpResult): void {
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('content-security-policy')).toBe("sandbox; default-src 'none'");
}

describe.each(PATH_FORMS.map((form) => [form.label, form] as const))('registry answers on %s', (_label, form) => {
  it('blobs, manifests, listings and errors carry nosniff and a sandboxing CSP', async () => {
    const base = form.base('headers', `img-${form === V2_FORM ? 'v2' : 'api'}`);
    // An HTML page pushed as a blob stays bytes: served as application/octet-stream.
    const page = Buffer.from(`<html><script>alert(document.cookie)</script>${randomBytes(8).toString('hex')}</html>`);
    const digest = await pushBlob(server, base, page);
    const blob = await request(server, `${base}blobs/${digest}`);
    expect(blob.status).toBe(200);
    expect(blob.headers.get('content-type')).toBe('application/octet-stream');
    expectInert(blob);
    expectInert(await request(server, `${base}blobs/${digest}`, { method: 'HEAD' }));

    const image = buildImage({ layerCount: 1 });
    await pushImage(server, base, image, 'v1');
    const manifest = await request(server, `${base}manifests/v1`, { headers: { accept: image.manifest.mediaType } });
    expect(manifest.status).toBe(200);
    expectInert(manifest);
    expectInert(await request(server, `${base}tags/list`));
    expectInert(await request(server, form === API_FORM ? '/api/docker/headers/v2/_catalog' : '/v2/_catalog'));
    expectInert(await request(server, `${base}manifests/missing`));
    expectInert(await request(server, `${base}blobs/${digest}`, { auth: null }));
  });
});
