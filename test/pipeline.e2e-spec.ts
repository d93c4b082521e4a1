// The README's promotion pipeline, run as it stands (bash, curl, jq, skopeo and the example-image
// script) against a fresh server: CI pushes through a virtual, tests, promotes into a frozen,
// token-only production repository with one call, and production serves what CI pushed.
import { promises as fs } from 'node:fs';
import { asScript, readmeBlock } from './helpers/readme-block';
import { buildImage } from './helpers/oci-image-builder';
import { expectStatus, pushImage, request } from './helpers/registry-http';
import { run } from './helpers/registry-clients';
import { ACCEPT_ALL, expectProblem, jsonRequest } from './helpers/virtual-repository';
import { WharfTestServer, startWharf } from './helpers/wharf-server';

jest.setTimeout(180_000);

describe("the README's promotion pipeline", () => {
  let server: WharfTestServer;
  const password = 'choose-a-long-one';

  beforeAll(async () => {
    server = await startWharf({ WHARF_ADMIN_PASSWORD: password });
  });
  afterAll(async () => {
    await server?.close();
    await fs.rm('/tmp/wharf-app', { recursive: true, force: true });
  });

  it('runs as written: push through the virtual, promote with one call, production serves it', async () => {
    await fs.rm('/tmp/wharf-app', { recursive: true, force: true });
    const { stdout } = await run('bash', ['-c', asScript(await readmeBlock('pipeline'), server.host)], {
      env: { WHARF_ADMIN_PASSWORD: password },
      timeoutMs: 150_000,
    });
    const out = stdout.toString();
    const written = JSON.parse(await fs.readFile('/tmp/wharf-app/index.json', 'utf8')).manifests[0].digest;

    // The digest skopeo saw in dev, then in prod and through the virtual: the image CI pushed.
    const digests = out.match(/^sha256:[0-9a-f]{64}$/gm) ?? [];
    expect(digests).toEqual([written, written, written]);
    const promotion = JSON.parse(out.match(/^\{"id":.*$/m)![0]);
    expect(promotion).toMatchObject({ copy: false, tags: [{ source: '1.4.2', target: '1.4.2', digest: written }], removedFromSource: { tags: ['1.4.2'] } });
    const listed = JSON.parse(out.match(/^\[\{"id":.*$/m)![0]);
    expect(listed).toEqual([expect.objectContaining({ id: promotion.id, username: 'ci', sourceRepository: 'docker-dev', targetRepository: 'docker-prod' })]);
    expect(listed[0].tokenId).toEqual(expect.any(String));

    // A move: dev has it no more. Production is frozen: other content cannot take 1.4.2.
    const admin = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
    expectStatus(await request(server, '/v2/docker-dev/team/app/manifests/1.4.2', { auth: admin, headers: { accept: ACCEPT_ALL } }), 404);
    expectStatus(await request(server, '/v2/docker-prod/team/app/manifests/1.4.2', { auth: admin, headers: { accept: ACCEPT_ALL } }), 200);
    await pushImage(server, '/v2/docker-dev/team/app/', buildImage(), '1.4.2');
    const body = { targetRepo: 'docker-prod', dockerRepository: 'team/app', tag: '1.4.2' };
    // A password (the admin's too) does not promote into docker-prod; the pipeline's token does, but not onto a taken tag.
    expectProblem(await jsonRequest(server, 'POST', '/api/docker/docker-dev/v2/promote', body), 403, 'mustUseAuthTokenForPush');
    const ciBasic = `Basic ${Buffer.from('ci:ci-password-change-me').toString('base64')}`;
    const token = await jsonRequest(
      server,
      'POST',
      '/api/security/tokens',
      { name: 'again', expiresInSeconds: 600, repositories: ['docker-*'], actions: ['read', 'write', 'delete'] },
      ciBasic,
    );
    expectStatus(token, 201);
    const ciToken = `Basic ${Buffer.from(`ci:${token.json.token}`).toString('base64')}`;
    expectProblem(await jsonRequest(server, 'POST', '/api/docker/docker-dev/v2/promote', body, ciToken), 403, 'allowTagOverwrite', '1.4.2');
    expectStatus(await request(server, '/v2/docker-dev/team/app/manifests/1.4.2', { auth: admin, headers: { accept: ACCEPT_ALL } }), 200);
  });
});
