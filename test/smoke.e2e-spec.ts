import { createHash } from 'node:crypto';
import { WharfTestServer, createLocalRepository, startWharf } from './helpers/wharf-server';

describe('smoke: push and pull over HTTP on real Postgres', () => {
  let server: WharfTestServer;
  beforeAll(async () => {
    server = await startWharf();
    await createLocalRepository(server, 'docker-local');
  });
  afterAll(() => server?.close());

  it('stores a blob monolithically and serves the same bytes on both path forms', async () => {
    const bytes = Buffer.from('hello wharf');
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const authorization = server.adminAuthorization;
    const put = await fetch(`${server.baseUrl}/v2/docker-local/team/app/blobs/uploads/?digest=${digest}`, { method: 'POST', headers: { authorization }, body: bytes });
    expect(put.status).toBe(201);
    expect(put.headers.get('docker-content-digest')).toBe(digest);
    for (const url of [`/v2/docker-local/team/app/blobs/${digest}`, `/api/docker/docker-local/v2/team/app/blobs/${digest}`]) {
      const got = await fetch(`${server.baseUrl}${url}`, { headers: { authorization } });
      expect(got.status).toBe(200);
      expect(Buffer.from(await got.arrayBuffer())).toEqual(bytes);
    }
  });
});
