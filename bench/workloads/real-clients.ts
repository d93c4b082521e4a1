import { spawn, spawnSync } from 'node:child_process';
import { Hash, createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { crc32, gzipSync } from 'node:zlib';
import { tarHeader } from '../../test/helpers/oci-image-builder';
import { Row } from '../report';
import { Target } from '../targets';
import { processTree } from '../wharf-process';
import { BenchContext, Both, Measured, bothRepeatedAll, mbps, measuredRow } from './common';

const MiB = 1024 * 1024;
const LAYERS = 4;
const PARALLEL_PULLS = 8;
const TAG = 'v1';
const CHUNK = 4 * MiB;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
const FIGURES = ['seconds', 'mbps', 'serverCpu', 'clientCpu'] as const;
type Figures = Record<(typeof FIGURES)[number], number>;
interface Pushed {
  ref: string;
  manifestDigest: string;
  bytes: number;
}

/**
 * Real clients (issue "Real-client rows, both registries, same run"): `skopeo copy`, the
 * containers/image client podman and buildah share, pushing a 1 GiB image of 4 layers of
 * 256 MiB of incompressible data (BENCH_QUICK: 4 × 26 MiB) from an OCI layout on disk, pulling
 * it back into a `dir:`, and eight pulls at once of a 128 MiB image of the same shape (4 × 32 MiB,
 * 1 GiB in all; eight of the 1 GiB image would take ~40 s a run on two cores, eight of a 256 MiB
 * one took 9–10 s, skopeo's own CPU being the limit, and the run cannot afford that six times).
 * Wall time of the skopeo processes, from spawn to exit: the client's own time (process start,
 * Wharf's token dance, its checks) is part of what a user waits for. Skopeo gets its own policy, registries.d and auth file, so the
 * machine's configuration does not take part.
 *
 * Every push uploads blobs the registry has never seen: each layer is one large gzip member
 * (stored deflate blocks of random data, written and hashed once, outside timing) followed by
 * a small member with a tar entry of its own per push (a valid multi-member gzip, a valid tar),
 * so each push changes every layer's digest and diff id, the config and the manifest, at the
 * cost of rewriting a few hundred bytes and finishing copies of the kept hash states. The
 * large first members stay in the page cache, as a freshly built image's layers would be.
 */
export async function realClients(ctx: BenchContext): Promise<Row[]> {
  const f = ctx.scale.quick ? 0.1 : 1;
  const layerBytes = Math.round(256 * f) * MiB;
  const smallLayerBytes = Math.round(32 * f) * MiB;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-bench-real-clients-'));
  const removeDir = () => fs.rm(dir, { recursive: true, force: true });
  // Also on SIGINT/SIGTERM, when the run exits without reaching this workload's finally.
  ctx.resources.add('real-clients temp dir', removeDir);
  try {
    const skopeo = await SkopeoRunner.create(path.join(dir, 'skopeo'));
    const built = Date.now();
    const layout = await OciImage.build(path.join(dir, 'layout'), LAYERS, layerBytes, ctx.signal);
    const small = await OciImage.build(path.join(dir, 'layout-small'), LAYERS, smallLayerBytes, ctx.signal);
    console.log(`  built the OCI layouts (${LAYERS} × ${layerBytes / MiB} MiB, ${LAYERS} × ${smallLayerBytes / MiB} MiB) in ${((Date.now() - built) / 1000).toFixed(1)} s`);
    const suffix = randomBytes(3).toString('hex');
    const pushed = new Map<Target, Pushed>();
    let pullDirs = 0;
    const pullDir = () => path.join(dir, `pull-${pullDirs++}`);

    const push = await bothRepeatedAll(ctx, ctx.scale.reps, FIGURES, async (target, signal, rep) => {
      const variant = await layout.variant(`${target.name}-${rep}-${suffix}`);
      const ref = reference(target, `bench/real-clients-${suffix}-${rep}`);
      const digestFile = path.join(dir, `digest-${target.name}-${rep}`);
      spawnSync('sync'); // the previous copy's writes are not flushed during this one
      const m = await measure(target, () => skopeo.copy(`oci:${layout.dir}:${TAG}`, ref, creds(target), { dest: true, digestFile }, signal));
      const digest = (await fs.readFile(digestFile, 'utf8')).trim();
      if (digest !== variant.manifestDigest) throw new Error(`skopeo pushed manifest ${digest}, the layout holds ${variant.manifestDigest}`);
      pushed.set(target, { ref, manifestDigest: variant.manifestDigest, bytes: variant.bytes });
      return { seconds: m.seconds, mbps: mbps(variant.bytes, m.seconds), serverCpu: m.serverCpu, clientCpu: m.clientCpu };
    });

    // The small image for the pulls at once: pushed once per target, untimed, before its first run.
    const pushedSmall = new Map<Target, Pushed>();
    const pushSmall = async (target: Target, signal: AbortSignal): Promise<Pushed> => {
      const variant = await small.variant(`${target.name}-small-${suffix}`);
      const ref = reference(target, `bench/real-clients-${suffix}-small`);
      await skopeo.copy(`oci:${small.dir}:${TAG}`, ref, creds(target), { dest: true }, signal);
      const image = { ref, manifestDigest: variant.manifestDigest, bytes: variant.bytes };
      pushedSmall.set(target, image);
      return image;
    };

    const pullOnce = async (target: Target, signal: AbortSignal, count: number): Promise<Figures> => {
      const image = count === 1 ? pushed.get(target) : (pushedSmall.get(target) ?? (await pushSmall(target, signal)));
      if (!image) throw new Error('nothing to pull: the push failed');
      const dirs = Array.from({ length: count }, pullDir);
      try {
        spawnSync('sync');
        // One failure stops the others: their directories are removed right after.
        const batch = new AbortController();
        const stop = AbortSignal.any([signal, batch.signal]);
        const m = await measure(target, async () => {
          const runs = dirs.map((d) =>
            skopeo.copy(image.ref, `dir:${d}`, creds(target), { dest: false }, stop).catch((err: Error) => {
              batch.abort(err);
              throw err;
            }),
          );
          const settled = await Promise.allSettled(runs);
          const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
          if (failed) throw failed.reason;
        });
        for (const d of dirs) await checkPulled(d, image.manifestDigest, image.bytes);
        return { seconds: m.seconds, mbps: mbps(count * image.bytes, m.seconds), serverCpu: m.serverCpu, clientCpu: m.clientCpu };
      } finally {
        await Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true })));
      }
    };
    const pull = await bothRepeatedAll(ctx, ctx.scale.reps, FIGURES, (target, signal) => pullOnce(target, signal, 1));
    const parallel = await bothRepeatedAll(ctx, ctx.scale.reps, FIGURES, (target, signal) => pullOnce(target, signal, PARALLEL_PULLS));

    const size = `${fmtSize(LAYERS * layerBytes)} image (${LAYERS} × ${layerBytes / MiB} MiB layers)`;
    const smallSize = `${fmtSize(LAYERS * smallLayerBytes)} image (${LAYERS} × ${smallLayerBytes / MiB} MiB layers)`;
    const common = 'Wharf: skopeo with --creds admin, which answers the 401 with a Bearer token from /v2/token (the token dance) per repository; Distribution: anonymous';
    return [
      measuredRow(
        `real clients: skopeo copy push of a ${size}, oci: layout → registry`,
        's',
        'lower',
        push.seconds,
        `${throughput(push.mbps)}; ${cpu(push)}; every push uploads ${LAYERS} layers the registry has not seen (each layer's last gzip member, a small tar entry, differs per push; the rest of the layer is the same bytes each time, read from the page cache), to a fresh image name; skopeo sends an oci: layout's layers one after another (its --debug log); ${common}`,
      ),
      measuredRow(
        `real clients: skopeo copy pull of it, registry → dir:`,
        's',
        'lower',
        pull.seconds,
        `${throughput(pull.mbps)}; ${cpu(pull)}; the last pushed image (its blobs still in the registry's page cache), into a new directory under /tmp, deleted after; skopeo checks each blob's digest and fsyncs it, so the client's disk writes are in the time; ${common}`,
      ),
      measuredRow(
        `real clients: ${PARALLEL_PULLS} skopeo copy pulls at once of a ${smallSize}, until all finish`,
        's',
        'lower',
        parallel.seconds,
        `${cpu(parallel)}; ${PARALLEL_PULLS} skopeo processes started together, all pulling one image, each into its own directory (deleted after); a smaller image than the push's, to keep the run's time`,
      ),
      measuredRow(
        `real clients: ${PARALLEL_PULLS} skopeo copy pulls at once of a ${smallSize}, aggregate`,
        'MB/s',
        'higher',
        parallel.mbps,
        `${PARALLEL_PULLS} × the image's bytes (${fmtSize(PARALLEL_PULLS * LAYERS * smallLayerBytes)} in all) over the wall time until the last skopeo exits`,
      ),
    ];
  } finally {
    await removeDir();
  }
}

/** `docker://127.0.0.1:PORT/<path>:tag` for an image name, as the target addresses it. */
function reference(target: Target, image: string): string {
  return `docker://${new URL(target.origin).host}${target.v2(image).slice('/v2'.length)}:${TAG}`;
}

/** Wharf's admin credentials, out of its Basic header; none for Distribution (anonymous). */
function creds(target: Target): string | undefined {
  const basic = target.adminHeaders?.authorization;
  return basic ? Buffer.from(basic.slice('Basic '.length), 'base64').toString('utf8') : undefined;
}

/** Wall time of `fn`, and the CPU time the server's processes and this process's reaped children (skopeo) spent meanwhile. */
async function measure(target: Target, fn: () => Promise<void>): Promise<{ seconds: number; serverCpu: number; clientCpu: number }> {
  const pids = target.pid === undefined ? [] : await processTree(target.pid);
  const server0 = serverTicks(pids);
  const client0 = childTicks();
  const started = process.hrtime.bigint();
  await fn();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, serverCpu: (serverTicks(pids) - server0) / 100, clientCpu: (childTicks() - client0) / 100 };
}

/** utime + stime of the processes, in clock ticks (100 a second). */
function serverTicks(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone: a worker that exited
    }
  }
  return ticks;
}

/** cutime + cstime of this process: the CPU time of its children that have exited and been waited for. */
function childTicks(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[13]) + Number(fields[14]);
}

/** A pulled `dir:` holds the pushed manifest and all the image's bytes. */
async function checkPulled(dir: string, manifestDigest: string, bytes: number): Promise<void> {
  const manifest = await fs.readFile(path.join(dir, 'manifest.json'));
  const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
  if (digest !== manifestDigest) throw new Error(`pulled manifest ${digest}, pushed ${manifestDigest}`);
  let total = 0;
  for (const name of await fs.readdir(dir)) if (/^[0-9a-f]{64}$/.test(name)) total += (await fs.stat(path.join(dir, name))).size;
  if (total !== bytes) throw new Error(`pulled ${total} bytes of blobs, pushed ${bytes}`);
}

function fmtSize(bytes: number): string {
  return bytes >= 1024 * MiB && bytes % (1024 * MiB) === 0 ? `${bytes / (1024 * MiB)} GiB` : `${Math.round(bytes / MiB)} MiB`;
}

function fmtFigure(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function medianOf(m: Measured | string): string {
  return typeof m === 'string' ? m : fmtFigure(m.median);
}

function throughput(m: Both<Measured>): string {
  return `MB/s W ${medianOf(m.wharf)}, D ${medianOf(m.distribution)}`;
}

/** The medians of the CPU seconds the server and skopeo spent per run. */
function cpu(r: Record<(typeof FIGURES)[number], Both<Measured>>): string {
  return `CPU s per run, server W ${medianOf(r.serverCpu.wharf)} / D ${medianOf(r.serverCpu.distribution)}, skopeo W ${medianOf(r.clientCpu.wharf)} / D ${medianOf(r.clientCpu.distribution)}`;
}

// --- skopeo ---------------------------------------------------------------------------------

/** skopeo with a config of its own: accept-anything policy, empty registries.d and auth file, its own TMPDIR. */
class SkopeoRunner {
  private constructor(private readonly dir: string) {}

  static async create(dir: string): Promise<SkopeoRunner> {
    await fs.mkdir(path.join(dir, 'registries.d'), { recursive: true });
    await fs.mkdir(path.join(dir, 'tmp'));
    await fs.writeFile(path.join(dir, 'policy.json'), JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
    await fs.writeFile(path.join(dir, 'auth.json'), '{}');
    return new SkopeoRunner(dir);
  }

  /** `skopeo copy source destination`; `creds` go with the registry side (`dest` says which that is). */
  copy(source: string, destination: string, creds: string | undefined, side: { dest: boolean; digestFile?: string }, signal: AbortSignal): Promise<void> {
    const args = [
      '--policy',
      path.join(this.dir, 'policy.json'),
      '--registries.d',
      path.join(this.dir, 'registries.d'),
      '--tmpdir',
      path.join(this.dir, 'tmp'),
      'copy',
      '--quiet',
      '--retry-times',
      '0',
      '--authfile',
      path.join(this.dir, 'auth.json'),
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      // The layout's digests go to the registry unchanged (no recompression, no manifest conversion).
      '--preserve-digests',
      ...(side.digestFile ? ['--digestfile', side.digestFile] : []),
      ...(creds ? [side.dest ? '--dest-creds' : '--src-creds', creds] : []),
      source,
      destination,
    ];
    return new Promise((resolve, reject) => {
      const child = spawn('skopeo', args, {
        env: { ...process.env, REGISTRY_AUTH_FILE: path.join(this.dir, 'auth.json'), TMPDIR: path.join(this.dir, 'tmp') },
        stdio: ['ignore', 'ignore', 'pipe'],
        signal,
        killSignal: 'SIGKILL',
      });
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString('utf8')).slice(-2000);
      });
      child.once('error', reject);
      child.once('close', (code, sig) => {
        if (code === 0) resolve();
        else reject(new Error(`skopeo copy exited with ${code ?? sig}: ${stderr.trim().slice(-400)}`));
      });
    });
  }
}

// --- the image --------------------------------------------------------------------------------

interface LayerFile {
  /** The file as it is now, under its current digest's name. */
  file: string;
  /** Bytes of the first gzip member (the tar's large entry), kept from one variant to the next. */
  prefixBytes: number;
  /** SHA-256 states after the prefix: of the tar (diff id) and of the gzip bytes (digest). */
  tarHash: Hash;
  gzipHash: Hash;
}

/**
 * An OCI image layout of `layers` gzip'd tar layers of random data, streamed to disk and hashed
 * while written (never held in memory). `variant(id)` gives every layer a new last gzip member
 * and rewrites config, manifest and index.json, so the layout holds an image no registry has.
 */
class OciImage {
  private previous: string[] = [];

  private constructor(
    readonly dir: string,
    private readonly layers: LayerFile[],
  ) {}

  static async build(dir: string, count: number, layerBytes: number, signal: AbortSignal): Promise<OciImage> {
    const blobs = path.join(dir, 'blobs', 'sha256');
    await fs.mkdir(blobs, { recursive: true });
    await fs.writeFile(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    const layers: LayerFile[] = [];
    for (let i = 0; i < count; i++) {
      if (signal.aborted) throw new Error('aborted');
      const file = path.join(blobs, `building-${i}`);
      const tarHash = createHash('sha256');
      const gzipHash = createHash('sha256');
      const out = await fs.open(file, 'w');
      try {
        // One write in flight while the next chunk is made.
        let writing: Promise<unknown> = Promise.resolve();
        const emit = async (bytes: Buffer) => {
          gzipHash.update(bytes);
          await writing;
          writing = out.write(bytes);
        };
        const gzip = new StoredGzip();
        await emit(gzip.header());
        const header = tarHeader(`wharf/layer-${i}.bin`, layerBytes);
        tarHash.update(header);
        await emit(gzip.deflate(header));
        for (let offset = 0; offset < layerBytes; offset += CHUNK) {
          const chunk = randomBytes(Math.min(CHUNK, layerBytes - offset));
          tarHash.update(chunk);
          await emit(gzip.deflate(chunk));
        }
        // layerBytes is whole MiB: the entry needs no padding to 512 bytes.
        await emit(gzip.end());
        await writing;
      } finally {
        await out.close();
      }
      layers.push({ file, prefixBytes: (await fs.stat(file)).size, tarHash, gzipHash });
    }
    return new OciImage(dir, layers);
  }

  /** A new image in the layout under TAG: every layer's last member, the config and the manifest are new. */
  async variant(id: string): Promise<{ manifestDigest: string; bytes: number }> {
    const blobs = path.join(this.dir, 'blobs', 'sha256');
    const descriptors: { mediaType: string; digest: string; size: number }[] = [];
    const diffIds: string[] = [];
    for (const [i, layer] of this.layers.entries()) {
      const tail = Buffer.concat([tarHeader(`wharf/variant-${i}`, Buffer.byteLength(id)), pad512(Buffer.from(id)), Buffer.alloc(1024)]);
      const tailGzip = gzipSync(tail);
      await fs.truncate(layer.file, layer.prefixBytes);
      await fs.appendFile(layer.file, tailGzip);
      const digest = `sha256:${layer.gzipHash.copy().update(tailGzip).digest('hex')}`;
      diffIds.push(`sha256:${layer.tarHash.copy().update(tail).digest('hex')}`);
      const file = path.join(blobs, digest.slice('sha256:'.length));
      await fs.rename(layer.file, file);
      layer.file = file;
      descriptors.push({ mediaType: OCI_LAYER_GZIP, digest, size: layer.prefixBytes + tailGzip.length });
    }
    const created = new Date().toISOString();
    const config = json({
      created,
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: diffIds.map((_, i) => ({ created, created_by: `wharf bench layer ${i + 1}` })),
    });
    const configDigest = sha256(config);
    const manifest = json({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length },
      layers: descriptors,
    });
    const manifestDigest = sha256(manifest);
    for (const old of this.previous) await fs.rm(path.join(blobs, old.slice('sha256:'.length)), { force: true });
    await fs.writeFile(path.join(blobs, configDigest.slice('sha256:'.length)), config);
    await fs.writeFile(path.join(blobs, manifestDigest.slice('sha256:'.length)), manifest);
    this.previous = [configDigest, manifestDigest];
    const top = { mediaType: OCI_MANIFEST, digest: manifestDigest, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': TAG } };
    await fs.writeFile(path.join(this.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [top] }));
    const bytes = config.length + descriptors.reduce((sum, d) => sum + d.size, 0);
    return { manifestDigest, bytes };
  }
}

/**
 * A gzip member of stored (uncompressed) deflate blocks, as `gzip -0` writes: random data gains
 * nothing from compression, and this costs a copy and a CRC-32 instead of zlib's pass.
 */
class StoredGzip {
  private crc = 0;
  private size = 0;

  header(): Buffer {
    // Magic, deflate, no flags, no mtime, no extra flags, OS unknown.
    return Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
  }

  /** `data` as non-final stored blocks of at most 65,535 bytes. */
  deflate(data: Buffer): Buffer {
    this.crc = crc32(data, this.crc);
    this.size += data.length;
    const blocks = Math.ceil(data.length / 0xffff);
    const out = Buffer.allocUnsafe(data.length + 5 * blocks);
    let at = 0;
    for (let from = 0; from < data.length; from += 0xffff) {
      const length = Math.min(0xffff, data.length - from);
      out[at] = 0; // BFINAL 0, BTYPE 00 (stored)
      out.writeUInt16LE(length, at + 1);
      out.writeUInt16LE(~length & 0xffff, at + 3);
      data.copy(out, at + 5, from, from + length);
      at += 5 + length;
    }
    return out;
  }

  /** An empty final stored block, then CRC-32 and size (mod 2^32) of the uncompressed data. */
  end(): Buffer {
    const out = Buffer.alloc(13);
    out[0] = 1; // BFINAL 1, BTYPE 00
    out.writeUInt16LE(0, 1);
    out.writeUInt16LE(0xffff, 3);
    out.writeUInt32LE(this.crc >>> 0, 5);
    out.writeUInt32LE(this.size % 2 ** 32, 9);
    return out;
  }
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function pad512(content: Buffer): Buffer {
  const padding = (512 - (content.length % 512)) % 512;
  return padding ? Buffer.concat([content, Buffer.alloc(padding)]) : content;
}
