import { createHash, randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { request } from 'undici';
import { Row } from '../report';
import { Endpoint, OCI_MANIFEST, RegistryClient, agent, authorized, smallImage } from '../registry-client';
import { createRepository } from '../targets';
import { BenchContext, inParallel, percentile } from './common';

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const ACCEPT_INDEX = `${OCI_INDEX}, ${OCI_MANIFEST}`;
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
/** Layer size is irrelevant to promotion (rows are copied, no byte): 1 KiB keeps the setup short. */
const LAYER_BYTES = 1024;
const IMAGE_LAYERS = 50;
const PLATFORMS = ['amd64', 'arm64', 'arm/v7', 'arm/v6', '386', 'ppc64le', 's390x', 'riscv64', 'mips64le', 'loong64'];
const CHILD_LAYERS = 5;
/** Images pushed at once during the setup (each image's blobs go one after another). */
const SETUP_CONCURRENCY = 32;
const TARGET_P50_MS = 100;

const IMAGE = 'bench/promo-image';
const INDEX = 'bench/promo-index';
const SINGLE = `image of ${IMAGE_LAYERS} layers`;
const MULTI = `index of ${PLATFORMS.length} platforms × ${CHILD_LAYERS} layers`;

interface Promoted {
  dryRun: boolean;
  manifestsAdded: number;
  blobsLinked: number;
  removedFromSource?: { manifests: number };
}

/**
 * Promotion (`POST /api/docker/<key>/v2/promote`), Wharf only: Distribution has none, its cells
 * say n/a. Local repositories: one dev, eleven prod (three in quick mode). Pushed into dev (1 KiB
 * synthetic blobs, one POST each): under `bench/promo-image`, one fresh single-platform image of
 * 50 layers per tag; under `bench/promo-index`, one fresh index of 10 platforms per tag, each
 * child with its own config and 5 layers (11 manifests and 60 blobs per tag). No two tags share
 * a blob. Each tag is copied into several prod repositories: each copy adds all its rows there
 * (manifests, references, tag, blob links: links are per repository), and a blob push costs
 * ~5 ms of this machine, so 100 timed copies need a tenth of the pushes.
 *
 * Then, one request at a time, timed at the client (Basic admin credentials, as REST allows):
 * warm-up copies (not counted); copies of one tag into the first prods, the image's and the
 * index's alternating; moves of one index tag (tags of their own) into the first prod, each
 * preceded by a dry run of the same move (its transaction rolled back); the image copies again,
 * now with nothing new to add. Then `scale.tags` more tags (small distinct images) are pushed
 * into the index's image in dev, as a dev repository that CI pushes to accumulates them, and the
 * index copies (into the last prod) and the moves are measured again: a move checks what the
 * source's remaining tags still hold. Every answer is checked against the rows it should have
 * added, and the result read back.
 */
export async function promotion(ctx: BenchContext): Promise<Row[]> {
  const { wharf, signal } = ctx;
  if (!wharf.adminHeaders) throw new Error('the Wharf target has no admin credentials');
  // The setup's requests in flight each listen on the workload's signal.
  setMaxListeners(4 * SETUP_CONCURRENCY, signal);
  const admin = wharf.adminHeaders;
  // 100 timed copies of each kind: 10 tags into each of 10 prods. A move out of the larger source takes ~1 s on Postgres 15 here.
  const targets = ctx.scale.quick ? 2 : 10;
  const perTarget = ctx.scale.quick ? 5 : 10;
  const m = ctx.scale.quick ? 3 : 10;
  const mLate = ctx.scale.quick ? 3 : 5;
  const warm = 2;
  const copiesEach = targets * perTarget;
  const more = ctx.scale.tags;

  const suffix = randomBytes(3).toString('hex');
  const dev = `bench-dev-${suffix}`;
  const prods = Array.from({ length: targets + 1 }, (_, k) => `bench-prod${k + 1}-${suffix}`);
  const lateProd = prods[targets];
  for (const key of [dev, ...prods]) await createRepository(wharf.origin, admin, key, { rclass: 'local', packageType: 'docker' });
  const under = (key: string): Endpoint => ({ origin: wharf.origin, headers: wharf.headers, tokens: wharf.tokens, v2: (image) => `/v2/${key}/${image}` });
  const source = under(dev);

  const setupStarted = performance.now();
  const imageTags = [...tags('w', warm), ...tags('t', perTarget)];
  const indexTags = [...tags('w', warm), ...tags('t', perTarget), ...tags('m', m + mLate)];
  const blobs = { count: 0 };
  await inParallel(imageTags.length, SETUP_CONCURRENCY, async (i) => {
    await pushImage(source, IMAGE, imageTags[i], IMAGE_LAYERS, 'amd64', blobs, signal);
  });
  await inParallel(indexTags.length, SETUP_CONCURRENCY, async (i) => {
    await pushIndex(source, INDEX, indexTags[i], blobs, signal);
  });
  const setupSeconds = (performance.now() - setupStarted) / 1000;
  console.log(`  setup: ${imageTags.length} images and ${indexTags.length} indexes, ${blobs.count} blobs, in ${setupSeconds.toFixed(1)} s`);

  const promote = async (target: string, image: string, tag: string, options: { copy: boolean; dryRun?: boolean }): Promise<{ ms: number; result: Promoted }> => {
    const body = JSON.stringify({ targetRepo: target, dockerRepository: image, tag, copy: options.copy, dryRun: options.dryRun ?? false });
    const started = performance.now();
    const res = await request(`${wharf.origin}/api/docker/${dev}/v2/promote`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body,
      signal,
      dispatcher: agent,
    });
    const text = await res.body.text();
    const ms = performance.now() - started;
    if (res.statusCode !== 200) throw new Error(`promoting ${image}:${tag} into ${target}: ${res.statusCode} ${text.slice(0, 300)}`);
    return { ms, result: JSON.parse(text) as Promoted };
  };
  /** Fails the workload when an answer says other rows than expected were written. */
  const check = (what: string, result: Promoted, expected: Partial<Record<'manifestsAdded' | 'blobsLinked' | 'removed', number>> & { dryRun?: boolean }) => {
    const got = { manifestsAdded: result.manifestsAdded, blobsLinked: result.blobsLinked, removed: result.removedFromSource?.manifests, dryRun: result.dryRun };
    for (const [key, value] of Object.entries(expected)) {
      if (got[key as keyof typeof got] !== value) throw new Error(`${what}: ${key} ${got[key as keyof typeof got]}, expected ${value}`);
    }
  };
  const imageRows = { manifestsAdded: 1, blobsLinked: IMAGE_LAYERS + 1 };
  const indexRows = { manifestsAdded: PLATFORMS.length + 1, blobsLinked: PLATFORMS.length * (CHILD_LAYERS + 1) };
  const copyIndex = async (prod: string, tag: string): Promise<number> => {
    const index = await promote(prod, INDEX, tag, { copy: true });
    check(`copy ${INDEX}:${tag} into ${prod}`, index.result, indexRows);
    return index.ms;
  };
  /** Each move preceded by a dry run of it. */
  const moveIndex = async (moveTags: string[]): Promise<{ dry: number[]; real: number[] }> => {
    const moved = { ...indexRows, removed: indexRows.manifestsAdded };
    const out = { dry: [] as number[], real: [] as number[] };
    for (const tag of moveTags) {
      const dry = await promote(prods[0], INDEX, tag, { copy: false, dryRun: true });
      check(`dry run of moving ${INDEX}:${tag}`, dry.result, { ...moved, dryRun: true });
      out.dry.push(dry.ms);
      const real = await promote(prods[0], INDEX, tag, { copy: false });
      check(`move ${INDEX}:${tag}`, real.result, { ...moved, dryRun: false });
      out.real.push(real.ms);
    }
    return out;
  };

  for (const tag of tags('w', warm)) {
    check(`copy ${IMAGE}:${tag}`, (await promote(prods[0], IMAGE, tag, { copy: true })).result, imageRows);
    await copyIndex(prods[0], tag);
  }
  const copies = { image: [] as number[], index: [] as number[] };
  for (const prod of prods.slice(0, targets)) {
    for (const tag of tags('t', perTarget)) {
      const image = await promote(prod, IMAGE, tag, { copy: true });
      check(`copy ${IMAGE}:${tag} into ${prod}`, image.result, imageRows);
      copies.image.push(image.ms);
      copies.index.push(await copyIndex(prod, tag));
    }
  }
  const moveTags = tags('m', m + mLate);
  const moves = await moveIndex(moveTags.slice(0, m));
  const again: number[] = [];
  for (const prod of prods.slice(0, targets)) {
    for (const tag of tags('t', perTarget)) {
      const repeat = await promote(prod, IMAGE, tag, { copy: true });
      check(`copy ${IMAGE}:${tag} into ${prod} again`, repeat.result, { manifestsAdded: 0, blobsLinked: 0 });
      again.push(repeat.ms);
    }
  }
  const smallTagsBefore = warm + perTarget + mLate;

  // The index's image in dev grows by `more` tags, each a distinct small image (shared blobs).
  const filler = smallImage();
  const client = new RegistryClient(source);
  await client.pushSmall(INDEX, filler.config, signal);
  await client.pushSmall(INDEX, filler.layer, signal);
  const fillStarted = performance.now();
  await inParallel(more, SETUP_CONCURRENCY, async (i) => {
    await client.putManifest(INDEX, `more${i}`, filler.manifest(`more${i}`), signal);
  });
  const fillSeconds = (performance.now() - fillStarted) / 1000;
  console.log(`  ${more} more tags in ${INDEX}, in ${fillSeconds.toFixed(1)} s`);
  const lateCopies: number[] = [];
  for (const tag of tags('t', perTarget)) lateCopies.push(await copyIndex(lateProd, tag));
  const lateMoves = await moveIndex(moveTags.slice(m));

  // What the answers claimed is there: a promoted index in each prod (its children by digest), a moved one gone from dev.
  for (const prod of prods) {
    const index = await new RegistryClient(under(prod)).getManifest(INDEX, 't0', signal, ACCEPT_INDEX);
    for (const child of (JSON.parse(index.toString('utf8')) as { manifests: { digest: string }[] }).manifests) {
      await new RegistryClient(under(prod)).getManifest(INDEX, child.digest, signal, ACCEPT_INDEX);
    }
  }
  for (const tag of [moveTags[0], moveTags[m]]) {
    if ((await manifestStatus(source, INDEX, tag, signal)) !== 404) throw new Error(`${INDEX}:${tag} is still in ${dev} after its move`);
  }

  const verdict = (ms: number[]) => `target < ${TARGET_P50_MS} ms p50: ${percentile(ms, 50) < TARGET_P50_MS ? 'met' : 'missed'}`;
  const row = (workload: string, unit: string, values: number[], note: string): Row => ({
    workload,
    unit,
    better: 'lower',
    wharf: percentile(values, unit.startsWith('p99') ? 99 : 50),
    distribution: 'n/a',
    note: `${note}; Distribution: no promotion`,
  });
  const p99 = (values: number[]) => `p99 ${fmt(percentile(values, 99))} ms`;
  const spread = `${perTarget} tags × ${targets} prod repositories`;
  const imageNote = `${copiesEach} in a row (${spread}), each a fresh image into its target (1 manifest, ${imageRows.blobsLinked} blob links)`;
  const indexNote = `${copiesEach} in a row (${spread}), alternating with the image's, each a fresh index into its target (${indexRows.manifestsAdded} manifests, ${indexRows.blobsLinked} blob links)`;
  const large = `source image with ${more.toLocaleString('en-US')} more tags`;
  const moveNote = (count: number, tagsHeld: number) =>
    `${count} in a row, each taking 11 manifests out of a source image left with ${tagsHeld.toLocaleString('en-US')}–${(tagsHeld + count - 1).toLocaleString('en-US')} tags`;
  return [
    row(`promotion (copy, one tag): ${SINGLE}`, 'p50 ms', copies.image, `${imageNote}; ${verdict(copies.image)}`),
    row(`promotion (copy, one tag): ${SINGLE}`, 'p99 ms', copies.image, `max ${fmt(Math.max(...copies.image))} ms`),
    row(`promotion (copy, one tag): ${MULTI}`, 'p50 ms', copies.index, `${indexNote}; ${verdict(copies.index)}`),
    row(
      `promotion (copy, one tag): ${MULTI}`,
      'p99 ms',
      copies.index,
      `max ${fmt(Math.max(...copies.index))} ms; setup: ${blobs.count} blobs of 1 KiB pushed in ${setupSeconds.toFixed(0)} s`,
    ),
    row(`promotion (move, one tag): ${MULTI}`, 'p50 ms', moves.real, `${moveNote(m, smallTagsBefore)}; ${p99(moves.real)}`),
    row(`promotion dry run (move, rolled back): ${MULTI}`, 'p50 ms', moves.dry, `${m}, each just before the same move; ${p99(moves.dry)}`),
    row(`promotion (copy) again of a promoted ${SINGLE}: no new rows`, 'p50 ms', again, `the ${copiesEach} copies above, again; ${p99(again)}`),
    row(`promotion (copy, one tag): ${MULTI}, ${large}`, 'p50 ms', lateCopies, `${perTarget} in a row into a new prod repository; ${p99(lateCopies)}; ${verdict(lateCopies)}`),
    row(
      `promotion (move, one tag): ${MULTI}, ${large}`,
      'p50 ms',
      lateMoves.real,
      `${moveNote(mLate, warm + perTarget + more)}; ${p99(lateMoves.real)}; ${verdict(lateMoves.real)}`,
    ),
    row(`promotion dry run (move, rolled back): ${MULTI}, ${large}`, 'p50 ms', lateMoves.dry, `${mLate}, each just before the same move; ${p99(lateMoves.dry)}`),
  ];
}

function tags(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i}`);
}

function fmt(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A config, `layers` fresh 1 KiB layers and the manifest naming them; under `reference` (a tag, or its digest when omitted). */
async function pushImage(
  endpoint: Endpoint,
  image: string,
  reference: string | undefined,
  layers: number,
  platform: string,
  counter: { count: number },
  signal: AbortSignal,
): Promise<{ digest: string; size: number }> {
  const [architecture, variant] = platform.split('/');
  const config = Buffer.from(
    JSON.stringify({
      architecture,
      ...(variant ? { variant } : {}),
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [] },
      config: { Labels: { seed: randomBytes(8).toString('hex') } },
    }),
  );
  const layerBlobs = Array.from({ length: layers }, () => randomBytes(LAYER_BYTES));
  for (const blob of [config, ...layerBlobs]) {
    await pushBlob(endpoint, image, blob, signal);
    counter.count += 1;
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: sha256(config), size: config.length },
      layers: layerBlobs.map((b) => ({ mediaType: OCI_LAYER, digest: sha256(b), size: b.length })),
    }),
  );
  const digest = sha256(manifest);
  await new RegistryClient(endpoint).putManifest(image, reference ?? digest, manifest, signal);
  return { digest, size: manifest.length };
}

/** One child per platform (pushed by digest), then the index under `tag`. */
async function pushIndex(endpoint: Endpoint, image: string, tag: string, counter: { count: number }, signal: AbortSignal): Promise<void> {
  const children: object[] = [];
  for (const platform of PLATFORMS) {
    const child = await pushImage(endpoint, image, undefined, CHILD_LAYERS, platform, counter, signal);
    const [architecture, variant] = platform.split('/');
    children.push({ mediaType: OCI_MANIFEST, digest: child.digest, size: child.size, platform: { architecture, os: 'linux', ...(variant ? { variant } : {}) } });
  }
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: children }));
  await new RegistryClient(endpoint).putManifest(image, tag, index, signal, OCI_INDEX);
}

/** A monolithic upload in one request: POST with ?digest= and the bytes. */
async function pushBlob(endpoint: Endpoint, image: string, bytes: Buffer, signal: AbortSignal): Promise<void> {
  const res = await request(`${endpoint.origin}${endpoint.v2(image)}/blobs/uploads/?digest=${sha256(bytes)}`, {
    method: 'POST',
    headers: await authorized(endpoint, `${endpoint.v2(image)}/blobs/uploads/`, { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) }),
    body: bytes,
    signal,
    dispatcher: agent,
  });
  const text = await res.body.text();
  if (res.statusCode !== 201) throw new Error(`POST ${endpoint.v2(image)}/blobs/uploads/?digest=: ${res.statusCode} ${text.slice(0, 300)}`);
}

async function manifestStatus(endpoint: Endpoint, image: string, reference: string, signal: AbortSignal): Promise<number> {
  const res = await request(`${endpoint.origin}${endpoint.v2(image)}/manifests/${reference}`, {
    method: 'HEAD',
    headers: await authorized(endpoint, `${endpoint.v2(image)}/manifests/`, { accept: ACCEPT_INDEX }),
    signal,
    dispatcher: agent,
  });
  await res.body.dump();
  return res.statusCode;
}
