// The README's "First steps" block, run as it stands (bash, curl, skopeo, the docker CLI and the
// example-image script) against a fresh server: the quick start must work on a machine without
// internet, from a clone, exactly as written.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { asScript, readmeBlock } from './helpers/readme-block';
import { run } from './helpers/registry-clients';
import { WharfTestServer, startWharf } from './helpers/wharf-server';

jest.setTimeout(180_000);

describe("the README's quick start", () => {
  let server: WharfTestServer;
  let dockerConfig: string;
  const password = 'choose-a-long-one';

  beforeAll(async () => {
    server = await startWharf({ WHARF_ADMIN_PASSWORD: password });
    dockerConfig = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-quick-docker-'));
  });
  afterAll(async () => {
    await server?.close();
    for (const dir of [dockerConfig, '/tmp/wharf-hello', '/tmp/wharf-hello-copy']) await fs.rm(dir, { recursive: true, force: true });
  });

  it('runs as written: creates a repository, writes an image offline, pushes, pulls, lists tags, logs docker in', async () => {
    const block = await readmeBlock('quick-start');
    expect(block).toContain('localhost:8080');
    for (const dir of ['/tmp/wharf-hello', '/tmp/wharf-hello-copy']) await fs.rm(dir, { recursive: true, force: true });
    // Only the address differs: the test server listens on a random port.
    const script = asScript(block, server.host);
    const { stdout } = await run('bash', ['-c', script], { env: { DOCKER_CONFIG: dockerConfig }, timeoutMs: 150_000 });
    const out = stdout.toString();

    // Both tag listings, and the docker client's view of the pushed manifest.
    // curl prints the bodies without a newline, so they are found by their shape.
    const listings = out.match(/\{"name":"[^"]*","tags":\[[^\]]*\]\}/g) ?? [];
    expect(listings.map((body) => JSON.parse(body))).toEqual([
      { name: 'team/hello', tags: ['1.0'] },
      // On /v2/ the name is the whole path the client used.
      { name: 'docker-local/team/hello', tags: ['1.0'] },
    ]);
    expect(out).toContain('"mediaType": "application/vnd.oci.image.manifest.v1+json"');
    // The pulled copy holds the same manifest as the image written by the script.
    const written = JSON.parse(await fs.readFile('/tmp/wharf-hello/index.json', 'utf8')).manifests[0].digest;
    const copied = JSON.parse(await fs.readFile('/tmp/wharf-hello-copy/index.json', 'utf8')).manifests[0].digest;
    expect(copied).toBe(written);
  });
});
