import { randomBytes } from 'node:crypto';
import { runLoad } from '../load-client';
import { Row } from '../report';
import { Endpoint, MANIFEST_ACCEPT, RegistryClient, authorized, smallImage } from '../registry-client';
import { SyntheticBlob } from '../synthetic-blob';
import { Target, createRepository } from '../targets';
import { BenchContext, Both, Measured, bothRepeatedAll, mbps, measuredRow, mib } from './common';

const CONNECTIONS = 64;
const MEMBERS = 3;
/**
 * Each load runs half the manifest workload's duration (5 s after a 1 s warm-up in a full run):
 * three Wharf loads and one Distribution load per repetition, three repetitions, is ~75 s, what
 * the whole run's 9-minute bound leaves (at the full 10 s it would be ~150 s and push the run past it).
 */
const LOAD_SHARE = 0.5;

/** The three ways a tag is read on Wharf: on the member itself, and through the virtual. */
const WAYS = ['direct', 'first', 'last'] as const;
type Way = (typeof WAYS)[number];
/** The figures of one repetition: each way's req/s, and the two ratios to the direct GET of the same repetition. */
const FIGURES = [...WAYS, 'firstRatio', 'lastRatio'] as const;

/**
 * Virtual repositories (issue 11 §2): three local repositories and a virtual over them, in
 * that order. A small image is tagged `first` in the first member and `last` in the last; a
 * 512 MiB blob is held by the last member. Manifest GET by tag at 64 connections, closed loop:
 * (a) `first` directly on the first member, (b) `first` through the virtual, (c) `last` through
 * the virtual (two members answer "not held" first); and a warm-page-cache blob pull directly
 * from the member and through the virtual. Wharf's three loads alternate their order from one
 * repetition to the next, and with Distribution's, as the other loads do. Distribution has no
 * virtual repositories: its column is the direct GET (and pull) of the same content, and each
 * virtual row's note gives Wharf's direct figure and the ratio virtual/direct.
 */
export async function virtualRepositories(ctx: BenchContext): Promise<Row[]> {
  const { wharf, distribution } = ctx;
  if (!wharf.adminHeaders) throw new Error('the Wharf target has no admin credentials');
  const suffix = randomBytes(3).toString('hex');
  const memberKeys = Array.from({ length: MEMBERS }, (_, i) => `bench-member${i + 1}-${suffix}`);
  const virtualKey = `bench-virtual-${suffix}`;
  for (const key of memberKeys) await createRepository(wharf.origin, wharf.adminHeaders, key, { rclass: 'local', packageType: 'docker' });
  await createRepository(wharf.origin, wharf.adminHeaders, virtualKey, {
    rclass: 'virtual',
    packageType: 'docker',
    repositories: memberKeys,
    defaultDeploymentRepo: memberKeys[0],
  });
  const under = (key: string): Endpoint => ({ origin: wharf.origin, headers: wharf.headers, tokens: wharf.tokens, v2: (image) => `/v2/${key}/${image}` });
  const firstMember = under(memberKeys[0]);
  const lastMember = under(memberKeys[MEMBERS - 1]);
  const virtual = under(virtualKey);

  // One image name, held by the first and the last member under different tags: the virtual
  // asks members that hold the name but not the tag before it finds `last`.
  const image = 'bench/virtual';
  await seed(firstMember, image, 'first', ctx.signal);
  await seed(lastMember, image, 'last', ctx.signal);
  await seed(distribution, image, 'first', ctx.signal);
  // The answers are the same content either way (a failed resolution would show as errors, not speed).
  const direct = await new RegistryClient(firstMember).getManifest(image, 'first', ctx.signal);
  if (!direct.equals(await new RegistryClient(virtual).getManifest(image, 'first', ctx.signal))) throw new Error('the virtual answers another manifest for `first`');

  const load = async (endpoint: Endpoint, tag: string): Promise<number> => {
    const result = await runLoad({
      origin: endpoint.origin,
      path: `${endpoint.v2(image)}/manifests/${tag}`,
      method: 'GET',
      headers: await authorized(endpoint, `${endpoint.v2(image)}/manifests/${tag}`, { accept: MANIFEST_ACCEPT }),
      connections: CONNECTIONS,
      durationMs: Math.round(ctx.scale.loadMs * LOAD_SHARE),
    });
    if (result.errors > 0) console.error(`  ${endpoint.v2(image)}/manifests/${tag}: ${result.errors} errors of ${result.requests} (${result.firstError})`);
    if (result.errors > result.requests / 100) throw new Error(`${result.errors} errors of ${result.requests}: ${result.firstError}`);
    return result.rps;
  };
  const wharfWays: Record<Way, () => Promise<number>> = {
    direct: () => load(firstMember, 'first'),
    first: () => load(virtual, 'first'),
    last: () => load(virtual, 'last'),
  };
  const manifests = await bothRepeatedAll(ctx, ctx.scale.reps, FIGURES, async (target, _signal, rep) => {
    if (target !== wharf) {
      const rps = await load(target, 'first');
      return { direct: rps, first: rps, last: rps, firstRatio: 1, lastRatio: 1 };
    }
    const out = {} as Record<Way, number>;
    for (let i = 0; i < WAYS.length; i++) {
      const way = WAYS[(i + rep) % WAYS.length];
      out[way] = await wharfWays[way]();
    }
    return { ...out, firstRatio: out.first / out.direct, lastRatio: out.last / out.direct };
  });

  // The large blob is pushed after the manifest loads: the writeback of its 1 GiB (both
  // registries) would otherwise run during them.
  const blob = new SyntheticBlob(ctx.scale.blobBytes);
  const digest = await blob.digest();
  await new RegistryClient(lastMember).pushMonolithic(image, blob, ctx.signal);
  await new RegistryClient(distribution).pushMonolithic(image, blob, ctx.signal);
  const pulls = await bothRepeatedAll(ctx, ctx.scale.reps, ['direct', 'virtual', 'ratio'] as const, async (target, signal, rep) => {
    const pull = async (endpoint: Endpoint): Promise<number> => {
      const client = new RegistryClient(endpoint);
      await client.pullBlob(image, digest, signal); // warm: the page cache, and the path
      const t = await client.pullBlob(image, digest, signal);
      return mbps(t.bytes, t.seconds);
    };
    if (target !== wharf) {
      const value = await pull(target);
      return { direct: value, virtual: value, ratio: 1 };
    }
    let directMBps: number;
    let virtualMBps: number;
    if (rep % 2 === 0) {
      directMBps = await pull(lastMember);
      virtualMBps = await pull(virtual);
    } else {
      virtualMBps = await pull(virtual);
      directMBps = await pull(lastMember);
    }
    return { direct: directMBps, virtual: virtualMBps, ratio: virtualMBps / directMBps };
  });

  const name = `virtual of ${MEMBERS}: manifest GET by tag, ${CONNECTIONS} conns`;
  const size = mib(ctx.scale.blobBytes);
  const directNote = 'Wharf with a Bearer token from /v2/token, as clients send; Distribution: direct GET (no virtual repositories)';
  return [
    measuredRow(`${name}, direct on the first member`, 'req/s', 'higher', manifests.direct, directNote),
    measuredRow(`${name}, through it, tag in the first member`, 'req/s', 'higher', manifests.first, ratioNote(manifests.direct, manifests.firstRatio, 'req/s', 0.8)),
    measuredRow(`${name}, through it, tag in the last member`, 'req/s', 'higher', manifests.last, ratioNote(manifests.direct, manifests.lastRatio, 'req/s')),
    measuredRow(`virtual of ${MEMBERS}: blob pull ${size}, warm page cache, direct from the member`, 'MB/s', 'higher', pulls.direct, 'Distribution: direct pull'),
    measuredRow(
      `virtual of ${MEMBERS}: blob pull ${size}, warm page cache, through the virtual (blob in the last member)`,
      'MB/s',
      'higher',
      pulls.virtual,
      ratioNote(pulls.direct, pulls.ratio, 'MB/s'),
    ),
  ];
}

/**
 * Wharf's direct figure and the ratio virtual/direct: the median of the ratios of each
 * repetition (both measured in the same minute), with their range, and the target when there is one.
 */
function ratioNote(direct: Both<Measured>, ratios: Both<Measured>, unit: string, target?: number): string {
  if (typeof direct.wharf === 'string' || typeof ratios.wharf === 'string') return 'Distribution: direct';
  const r = ratios.wharf;
  const verdict = target === undefined ? '' : `, target ≥ ${target}×: ${r.median >= target ? 'met' : 'missed'}`;
  return `Distribution: direct; Wharf direct ${Math.round(direct.wharf.median)} ${unit}; virtual/direct ${r.median.toFixed(2)}× (per run ${r.min.toFixed(2)}–${r.max.toFixed(2)}${verdict})`;
}

/** A small image (config, one layer) under `tag`, as the manifest workloads seed. */
async function seed(endpoint: Endpoint | Target, image: string, tag: string, signal: AbortSignal): Promise<void> {
  const client = new RegistryClient(endpoint);
  const built = smallImage();
  await client.pushSmall(image, built.config, signal);
  await client.pushSmall(image, built.layer, signal);
  await client.putManifest(image, tag, built.manifest(), signal);
}
