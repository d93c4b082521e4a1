import { runLoad } from '../load-client';
import { Row } from '../report';
import { MANIFEST_ACCEPT, RegistryClient, authorized, smallImage } from '../registry-client';
import { Target } from '../targets';
import { BenchContext, Both, Measured, both, bothRepeated, bothRepeatedAll, inParallel, measuredRow, median, percentile, pick } from './common';

/** Pushes a small image (config, one layer) under `tag`; returns the manifest builder for variants. */
async function seed(target: Target, image: string, tag: string, signal: AbortSignal): Promise<ReturnType<typeof smallImage>> {
  const client = new RegistryClient(target);
  const built = smallImage();
  await client.pushSmall(image, built.config, signal);
  await client.pushSmall(image, built.layer, signal);
  await client.putManifest(image, tag, built.manifest(), signal);
  return built;
}

/**
 * Manifest GET and HEAD by tag, closed loop at each concurrency for a fixed duration, three
 * times on each target in alternating order: one 10-second sample moved by up to half between
 * runs on this shared machine, so the medians are reported with their ranges.
 */
export async function manifestReads(ctx: BenchContext): Promise<Row[]> {
  const image = 'bench/app';
  for (const target of [ctx.wharf, ctx.distribution]) await seed(target, image, 'latest', ctx.signal);
  const rows: Row[] = [];
  for (const method of ['GET', 'HEAD'] as const) {
    for (const connections of [16, 64]) {
      const path = (target: Target) => `${target.v2(image)}/manifests/latest`;
      const measure = async (target: Target, headers: Record<string, string>) => {
        const load = await runLoad({ origin: target.origin, path: path(target), method, headers, connections, durationMs: ctx.scale.loadMs });
        if (load.connects > 0) console.error(`  ${target.name} ${method} @${connections}: ${load.connects} connections opened during the run (not kept alive)`);
        if (load.errors > 0) console.error(`  ${target.name} ${method} @${connections}: ${load.errors} errors of ${load.requests} (${load.firstError})`);
        if (load.errors > load.requests / 100) throw new Error(`${load.errors} errors of ${load.requests}: ${load.firstError}`);
        return load;
      };
      // Wharf's GETs also once with Basic credentials (verified once, then cached), which no
      // client sends: the figure the Bearer path is measured against.
      const withBasic = method === 'GET';
      const result = await bothRepeatedAll(ctx, ctx.scale.reps, ['rps', 'p50', 'p99', 'clientDelay', 'basicRps'], async (target) => {
        const load = await measure(target, await authorized(target, path(target), { accept: MANIFEST_ACCEPT }));
        const basic = withBasic && target.adminHeaders ? await measure(target, { ...target.adminHeaders, accept: MANIFEST_ACCEPT }) : undefined;
        return { rps: load.rps, p50: load.p50Ms, p99: load.p99Ms, clientDelay: load.clientLoopDelayP99Ms, basicRps: basic?.rps ?? Number.NaN };
      });
      const name = `manifest ${method} by tag, ${connections} conns`;
      rows.push(
        measuredRow(name, 'req/s', 'higher', result.rps, 'Wharf: Bearer token from /v2/token, as clients send; Distribution: anonymous'),
        measuredRow(name, 'p50 ms', 'lower', result.p50),
        measuredRow(name, 'p99 ms', 'lower', result.p99, clientDelayNote(result.clientDelay)),
      );
      if (withBasic) {
        const bearerOverBasic =
          typeof result.rps.wharf === 'string' || typeof result.basicRps.wharf === 'string' ? undefined : result.rps.wharf.median / result.basicRps.wharf.median;
        rows.push(
          measuredRow(
            `${name}, Basic credentials (no client sends them)`,
            'req/s',
            'higher',
            { wharf: result.basicRps.wharf, distribution: 'n/a' },
            bearerOverBasic === undefined ? undefined : `Bearer/Basic ${bearerOverBasic.toFixed(2)}×`,
          ),
        );
      }
    }
  }
  return rows;
}

/** The load client's own event-loop delay (p99, median of the runs): its share of the tail. */
function clientDelayNote(delay: Both<Measured>): string {
  const ms = (m: Measured | string) => (typeof m === 'string' ? m : `${m.median.toFixed(1)} ms`);
  return `client's event-loop delay p99: W ${ms(delay.wharf)}, D ${ms(delay.distribution)}`;
}

/** Distinct small manifests PUT one after another on one connection, each under its own tag. */
export async function manifestPuts(ctx: BenchContext): Promise<Row[]> {
  const image = 'bench/puts';
  const builders = new Map<Target, ReturnType<typeof smallImage>>();
  for (const target of [ctx.wharf, ctx.distribution]) builders.set(target, await seed(target, image, 'seed', ctx.signal));
  const count = ctx.scale.manifestPuts;
  const result = await bothRepeated(ctx, ctx.scale.reps, async (target, signal, rep) => {
    const client = new RegistryClient(target);
    const built = builders.get(target)!;
    const bodies = Array.from({ length: count }, (_, i) => built.manifest(`put-${rep}-${i}`));
    const started = performance.now();
    for (let i = 0; i < count; i++) await client.putManifest(image, `put-${rep}-${i}`, bodies[i], signal);
    return count / ((performance.now() - started) / 1000);
  });
  return [measuredRow(`manifest PUT, ${count} distinct, sequential`, 'manifests/s', 'higher', result)];
}

/**
 * An image with many tags listed page by page (n per page, following Link). Distribution 2.8
 * ignores `n` and answers every tag in one page, so the whole walk is the comparable figure.
 */
export async function tagList(ctx: BenchContext): Promise<Row[]> {
  const image = 'bench/tagged';
  const { tags, tagPage } = ctx.scale;
  for (const target of [ctx.wharf, ctx.distribution]) {
    const tag = (i: number) => `t${String(i).padStart(5, '0')}`;
    const built = await seed(target, image, tag(0), ctx.signal);
    const client = new RegistryClient(target);
    const manifest = built.manifest();
    await inParallel(tags - 1, 8, (i) => client.putManifest(image, tag(i + 1), manifest, ctx.signal));
  }
  const walks = ctx.scale.quick ? 5 : 20;
  const result = await both(ctx, async (target, signal) => {
    const client = new RegistryClient(target);
    await client.listTags(image, tagPage, signal); // warm-up
    const walkMs: number[] = [];
    const pageMs: number[] = [];
    let pages = 0;
    for (let i = 0; i < walks; i++) {
      const started = performance.now();
      const walk = await client.listTags(image, tagPage, signal);
      walkMs.push(performance.now() - started);
      pageMs.push(...walk.pagesMs);
      pages = walk.pagesMs.length;
      if (walk.tags !== tags) throw new Error(`listed ${walk.tags} tags, expected ${tags}`);
    }
    return { walk: median(walkMs), page: median(pageMs), p99Page: percentile(pageMs, 99), pages };
  });
  const pages = (r: typeof result.wharf) => (typeof r === 'string' ? '' : `${r.pages}`);
  return [
    {
      workload: `tags/list, ${tags} tags, n=${tagPage}: whole walk`,
      unit: 'p50 ms',
      better: 'lower',
      wharf: pick(result.wharf, (r) => r.walk),
      distribution: pick(result.distribution, (r) => r.walk),
      note: `pages: Wharf ${pages(result.wharf)}, Distribution ${pages(result.distribution)} (2.8 ignores n)`,
    },
    {
      workload: `tags/list, n=${tagPage}: one page`,
      unit: 'p50 ms',
      better: 'lower',
      wharf: pick(result.wharf, (r) => r.page),
      distribution: pick(result.distribution, (r) => r.page),
    },
  ];
}
