// The manifest REST view (GET /api/repositories/<key>/manifest?image=&reference=): what a pull
// finds, where it is held (a virtual's member), its tags, and the promotions that carried it —
// the stages an image passed, newest first, as far as the caller may read them.
import { buildImage } from './helpers/oci-image-builder';
import { V2_FORM, expectStatus, imageNamer, pushImage, request } from './helpers/registry-http';
import { createUser, createVirtualRepository, expectProblem, freshKey, grant, jsonRequest, newUser } from './helpers/virtual-repository';
import { WharfTestServer, createLocalRepository, startWharf } from './helpers/wharf-server';

let server: WharfTestServer;
const nextImage = imageNamer();

beforeAll(async () => {
  server = await startWharf();
}, 60_000);

afterAll(async () => {
  await server?.close();
});

async function localRepo(): Promise<string> {
  const key = freshKey('local');
  await createLocalRepository(server, key);
  return key;
}

function view(key: string, image: string, reference: string, auth?: string) {
  return request(server, `/api/repositories/${key}/manifest?${new URLSearchParams({ image, reference })}`, { auth });
}

async function promote(source: string, body: Record<string, unknown>): Promise<any> {
  const res = await jsonRequest(server, 'POST', `/api/docker/${source}/v2/promote`, body);
  expectStatus(res, 200);
  return res.json;
}

describe('manifest view', () => {
  it('lists the stages an image passed, newest first, with its tags', async () => {
    const [dev, qa, prod, image] = [await localRepo(), await localRepo(), await localRepo(), nextImage()];
    const digest = await pushImage(server, V2_FORM.base(dev, image), buildImage(), '1.0');
    const toQa = await promote(dev, { targetRepo: qa, dockerRepository: image, tag: '1.0', copy: true });
    const toProd = await promote(qa, { targetRepo: prod, dockerRepository: image, tag: '1.0', targetTag: 'stable', copy: false });

    const res = await view(prod, image, 'stable');
    expectStatus(res, 200);
    expect(res.json).toMatchObject({ repository: prod, image, reference: 'stable', servedBy: prod, digest, tags: ['stable'] });
    expect(res.json.promotions.map((p: any) => [p.id, p.sourceRepository, p.targetRepository, p.copy])).toEqual([
      [toProd.id, qa, prod, false],
      [toQa.id, dev, qa, true],
    ]);
    expect(res.json.promotions[0]).toMatchObject({ username: 'admin', tags: [{ source: '1.0', target: 'stable', digest }] });
    expect(Date.parse(res.json.promotions[0].createdAt)).toBeGreaterThanOrEqual(Date.parse(res.json.promotions[1].createdAt));
    // By digest too; the source of the move no longer holds it.
    expect((await view(prod, image, digest)).json.tags).toEqual(['stable']);
    expectStatus(await view(qa, image, '1.0'), 404);
  });

  it('shows which member of a virtual holds it', async () => {
    const [first, second, image] = [await localRepo(), await localRepo(), nextImage()];
    const digest = await pushImage(server, V2_FORM.base(second, image), buildImage(), 'v1');
    const virtual = freshKey('virtual');
    await createVirtualRepository(server, virtual, { repositories: [first, second] });
    const res = await view(virtual, image, 'v1');
    expectStatus(res, 200);
    expect(res.json).toMatchObject({ repository: virtual, servedBy: second, digest, tags: ['v1'], promotions: [] });
  });

  it('shows a reader only the promotions between repositories it may read', async () => {
    const [secret, shared, image] = [await localRepo(), await localRepo(), nextImage()];
    await pushImage(server, V2_FORM.base(secret, image), buildImage(), '1');
    await promote(secret, { targetRepo: shared, dockerRepository: image, tag: '1', copy: true });
    const outsider = await createUser(server, newUser('outsider'));
    await grant(server, [shared], { [outsider.name]: ['read'] });
    // Its target is readable: the reader sees where it came from.
    const seen = await view(shared, image, '1', outsider.basic);
    expectStatus(seen, 200);
    expect(seen.json.promotions).toHaveLength(1);
    const stranger = await createUser(server, newUser('stranger'));
    expectProblem(await view(shared, image, '1', stranger.basic), 404, shared);
    const listed = await request(server, `/api/promotions?image=${image}`, { auth: stranger.basic });
    expectStatus(listed, 200);
    expect(listed.json).toEqual([]);
  });

  it('refuses what is not there, naming it', async () => {
    const [key, image] = [await localRepo(), nextImage()];
    expectProblem(await view(key, image, 'missing'), 404, 'missing');
    expectProblem(await view(key, 'Bad_Name', 'x'), 400, 'image');
  });
});
