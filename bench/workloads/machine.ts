import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { request } from 'undici';
import { RegistryClient, agent } from '../registry-client';
import { SyntheticBlob } from '../synthetic-blob';
import { Resources } from '../targets';
import { Scale, dropCaches, mbps, mib } from './common';

/** One core's SHA-256 rate over 4 MiB updates, for about `ms`. */
export function sha256Rate(ms: number): number {
  const block = randomBytes(4 * 1024 * 1024);
  const hash = createHash('sha256');
  let bytes = 0;
  const started = performance.now();
  while (performance.now() - started < ms) {
    hash.update(block);
    bytes += block.length;
  }
  hash.digest();
  return mbps(bytes, (performance.now() - started) / 1000);
}

// A plain Node HTTP server in its own process (as the registries are): GET streams the file
// out, PUT streams the body into a new file. No hashing, no database: the loopback ceiling.
const PLAIN_SERVER = `
const fs = require('fs'), http = require('http'), path = require('path');
const [file, dir] = process.argv.slice(1);
const server = http.createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-length': fs.statSync(file).size });
    fs.createReadStream(file).pipe(res);
  } else {
    const out = fs.createWriteStream(path.join(dir, 'upload'));
    req.pipe(out).on('finish', () => out.close(() => res.writeHead(201, { 'content-length': 0 }).end()));
  }
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.on('SIGTERM', () => process.exit(0));
`;

/** A plain loopback file stream out of and into a separate Node process, with the bench's own client. */
export async function loopbackFileStream(scale: Scale, resources: Resources): Promise<{ outMBps: number; inMBps: number; size: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-bench-loopback-'));
  resources.add('loopback file dir', () => fs.rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'file');
  const blob = new SyntheticBlob(scale.blobBytes);
  await pipeline(blob.stream(), createWriteStream(file));

  const child = spawn(process.execPath, ['-e', PLAIN_SERVER, file, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const closed = new Promise((r) => child.once('close', r));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await closed;
  };
  resources.add('loopback file server', stop);
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      child.once('close', (code) => reject(new Error(`the plain server exited with ${code}`)));
    });
    const client = new RegistryClient({ origin: `http://127.0.0.1:${port}`, headers: {}, v2: () => '' });
    const signal = AbortSignal.timeout(scale.workloadTimeoutMs);

    await client.pull('/file', signal); // warm-up: the file was just written, as a pushed blob would be
    const out = await client.pull('/file', signal);
    dropCaches();
    const started = performance.now();
    const res = await request(`http://127.0.0.1:${port}/file`, {
      method: 'PUT',
      body: blob.stream(),
      headers: { 'content-length': String(blob.size) },
      signal,
      dispatcher: agent,
    });
    await res.body.dump();
    const inSeconds = (performance.now() - started) / 1000;
    return { outMBps: mbps(out.bytes, out.seconds), inMBps: mbps(blob.size, inSeconds), size: mib(blob.size) };
  } finally {
    await stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/**
 * What the kernel charges for page-cache writes, which every cache fill and push pays: a new
 * 256 MiB file written in 2 MiB writes (no fsync), then another right after the first is deleted,
 * so that its pages are reused. On the VMs here the first was up to six times slower (411
 * against 2,355 MB/s in one run), and pushes and cache fills pay the same.
 */
export async function pageCacheWrites(): Promise<{ freshMBps: number; reusedMBps: number }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-bench-pages-'));
  const block = randomBytes(2 * 1024 * 1024);
  const size = 256 * 1024 * 1024;
  const writeFile = async (name: string) => {
    const started = performance.now();
    const handle = await fs.open(path.join(dir, name), 'w');
    try {
      for (let written = 0; written < size; written += block.length) await handle.write(block);
    } finally {
      await handle.close();
    }
    return mbps(size, (performance.now() - started) / 1000);
  };
  try {
    const freshMBps = await writeFile('first');
    await fs.rm(path.join(dir, 'first'));
    return { freshMBps, reusedMBps: await writeFile('second') };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
