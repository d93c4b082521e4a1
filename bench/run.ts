import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { otherLoad, sampleCpu } from './cpu-usage';
import { agent } from './registry-client';
import { Report, Row, renderMarkdown, renderText } from './report';
import { Resources, startDistributionTarget, startWharfTarget } from './targets';
import { blobTransfer } from './workloads/blob-transfer';
import { BenchContext, Workload, scale } from './workloads/common';
import { concurrentPush } from './workloads/concurrent-push';
import { loopbackFileStream, pageCacheWrites, sha256Rate } from './workloads/machine';
import { manifestPuts, manifestReads, tagList } from './workloads/manifests';
import { streamingMemory } from './workloads/memory';
import { promotion } from './workloads/promotion';
import { pullThrough } from './workloads/pull-through';
import { realClients } from './workloads/real-clients';
import { s3Storage } from './workloads/s3';
import { scaleOut } from './workloads/scale-out';
import { virtualRepositories } from './workloads/virtual';
import { webUi } from './workloads/web-ui';

/**
 * `npm run bench`: Wharf (from dist/) and Distribution side by side on loopback, the same
 * workloads with the same client, one table. BENCH_QUICK=1 shrinks sizes and durations 10x.
 * Everything it starts is stopped at the end, on failure and on SIGINT/SIGTERM.
 */
const WORKLOADS: [string, Workload][] = [
  ['blob push and pull', blobTransfer],
  ['concurrent pushes', concurrentPush],
  ['manifest GET/HEAD load', manifestReads],
  ['manifest PUT', manifestPuts],
  ['tags/list', tagList],
  ['pull-through', pullThrough],
  ['memory while streaming', streamingMemory],
  ['virtual', virtualRepositories],
  ['promotion', promotion],
  ['web UI', webUi],
  ['real clients', realClients],
  ['s3', s3Storage],
  ['scale-out', scaleOut],
];

async function main(): Promise<number> {
  const quick = process.env.BENCH_QUICK === '1';
  const s = scale(quick);
  const resources = new Resources();
  const run = new AbortController();
  const runStarted = Date.now();
  const cpuAtStart = sampleCpu();
  // The whole run stays under 16 minutes (real-client rows take ~2 of them, S3 and scale-out ~2): past this, remaining workloads are skipped.
  const deadline = setTimeout(() => run.abort(new Error('the run took too long')), quick ? 240_000 : 960_000);

  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${signal}: stopping everything`);
    run.abort(new Error(signal));
    void resources.stopAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const rows: Row[] = [];
  const context: string[] = [];
  const notes: string[] = [];
  let database = '';
  try {
    console.log(`wharf bench (${quick ? 'quick: sizes and durations / 10' : 'full'})`);
    const cpus = os.cpus();
    const sha = sha256Rate(quick ? 300 : 1000);
    console.log('> machine: loopback file stream');
    const loopback = await loopbackFileStream(s, resources);
    console.log('> machine: page-cache writes');
    const pages = await pageCacheWrites();
    context.push(
      `date: ${new Date().toISOString()}`,
      `machine: ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory, ${os.type()} ${os.release()}, Node ${process.version}`,
      `sha256, one core: ${sha.toFixed(0)} MB/s`,
      `plain loopback file stream (${loopback.size}, Node http in a separate process, same client): out ${loopback.outMBps.toFixed(0)} MB/s, in ${loopback.inMBps.toFixed(0)} MB/s`,
      `page cache, a new 256 MiB file in 2 MiB writes: ${pages.freshMBps.toFixed(0)} MB/s; again right after deleting it (its pages reused): ${pages.reusedMBps.toFixed(0)} MB/s`,
      `Distribution: ${version()}`,
    );

    console.log('> starting Wharf and Distribution');
    const wharf = await startWharfTarget(resources);
    const distribution = await startDistributionTarget(resources);
    database = wharf.database ?? '';
    // Wharf's own settings pass through to it; secrets stay out of the report.
    const settings = Object.entries(process.env)
      .filter(([name]) => name.startsWith('WHARF_') && !/PASSWORD|SECRET|KEY/.test(name))
      .map(([name, value]) => `${name}=${value}`);
    context.push(`Wharf: ${commit()}, metadata in ${database}${settings.length > 0 ? `, with ${settings.join(' ')}` : ''}`);

    for (const [name, workload] of selected(WORKLOADS)) {
      if (run.signal.aborted) {
        rows.push({ workload: name, unit: '', better: 'higher', wharf: 'skipped', distribution: 'skipped', note: String(run.signal.reason?.message ?? 'aborted') });
        continue;
      }
      console.log(`> ${name}`);
      const started = Date.now();
      const bound = new AbortController();
      const ctx: BenchContext = { scale: s, resources, wharf, distribution, signal: AbortSignal.any([run.signal, bound.signal]) };
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          bound.abort(new Error('timed out'));
          reject(new Error(`timed out after ${(2 * s.workloadTimeoutMs) / 1000} s`));
        }, 2 * s.workloadTimeoutMs);
      });
      try {
        const produced = await Promise.race([workload(ctx), timeout]);
        rows.push(...produced);
        for (const row of produced) console.log(`  ${row.workload} (${row.unit}): Wharf ${fmt(row.wharf)}, Distribution ${fmt(row.distribution)}`);
      } catch (err) {
        console.error(`  ${name} failed: ${(err as Error).message}`);
        rows.push({ workload: name, unit: '', better: 'higher', wharf: 'failed', distribution: 'failed', note: (err as Error).message.slice(0, 120) });
      } finally {
        clearTimeout(timer);
      }
      console.log(`  (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    }
  } finally {
    clearTimeout(deadline);
    console.log('> stopping');
    await resources.stopAll();
    await agent.close().catch(() => undefined);
  }
  context.push(`other processes on the machine during the run: ${otherLoad(cpuAtStart, sampleCpu())}`);

  notes.push(
    'Same client for both (undici, streamed bodies, keep-alive); both servers on 127.0.0.1 of the same machine as the client, which shares its cores.',
    'Wharf requests carry Bearer tokens from /v2/token, as docker, podman and skopeo send them (rows labelled Basic credentials excepted); Distribution runs anonymous, with the filesystem driver.',
    'Pushes: POST then PUT (monolithic) or PATCH per chunk then PUT; each target pushes its own distinct blobs; page cache dropped before each timed push (when root).',
    'Loads: closed loop, one request in flight per connection, for the whole duration, after a warm-up of a fifth of it (at most 2 s).',
    `Total run time: ${((Date.now() - runStarted) / 1000).toFixed(0)} s.`,
  );
  const report: Report = { title: `Wharf vs Distribution${quick ? ' (BENCH_QUICK: sizes and durations / 10)' : ''}`, context, rows, notes };
  console.log(`\n${renderText(report)}\n`);
  const out = path.join(__dirname, 'results', process.env.BENCH_ONLY ? 'partial.md' : quick ? 'quick.md' : 'latest.md');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, renderMarkdown(report));
  console.log(`written to ${path.relative(process.cwd(), out)}`);
  return rows.some((r) => r.wharf === 'failed' || r.distribution === 'failed' || r.wharf === 'timed out' || r.distribution === 'timed out') ? 1 : 0;
}

/** BENCH_ONLY=pull-through,tags/list runs only the named workloads, for working on one of them. */
function selected(workloads: [string, Workload][]): [string, Workload][] {
  const only = process.env.BENCH_ONLY?.split(',').map((name) => name.trim());
  if (!only) return workloads;
  const unknown = only.filter((name) => !workloads.some(([known]) => known === name));
  if (unknown.length > 0) throw new Error(`BENCH_ONLY names unknown workloads: ${unknown.join(', ')}; known: ${workloads.map(([n]) => n).join(', ')}`);
  return workloads.filter(([name]) => only.includes(name));
}

function fmt(v: number | string): string {
  return typeof v === 'number' ? v.toFixed(2) : v;
}

function version(): string {
  try {
    return execFileSync('/usr/bin/docker-registry', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown version';
  }
}

function commit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: path.join(__dirname, '..'), encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'apps', 'libs', 'migrations'], { cwd: path.join(__dirname, '..'), encoding: 'utf8' }).trim();
    return `commit ${sha}${dirty ? ' (with uncommitted changes)' : ''}`;
  } catch {
    return 'commit unknown';
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
