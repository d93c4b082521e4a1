import * as http from 'node:http';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { memoryOf, startWharfProcess } from './wharf-process';
import { SyntheticBlob } from './synthetic-blob';

/**
 * Pushes one large blob monolithically into a Wharf process and pulls it back, checking the
 * digest, and reports MB/s and Wharf's resident memory before and after.
 * Usage: node dist-bench/bench/blob-roundtrip.js [sizeMiB]
 */
async function main(): Promise<void> {
  const sizeMiB = Number(process.argv[2] ?? 1024);
  const blob = new SyntheticBlob(sizeMiB * 1024 * 1024);
  const digest = await blob.digest();
  const wharf = await startWharfProcess();
  try {
    await fetch(`${wharf.url}/api/repositories/bench`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rclass: 'local', packageType: 'docker' }),
    });
    const idle = await memoryOf(wharf.pid);

    let started = process.hrtime.bigint();
    const status = await push(`${wharf.url}/v2/bench/big/blobs/uploads/?digest=${digest}`, blob);
    const pushSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (status !== 201) throw new Error(`push answered ${status}`);

    started = process.hrtime.bigint();
    const pulled = await pull(`${wharf.url}/v2/bench/big/blobs/${digest}`);
    const pullSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (pulled !== digest) throw new Error(`pulled ${pulled}, expected ${digest}`);

    const after = await memoryOf(wharf.pid);
    const mb = blob.size / 1e6;
    console.log(JSON.stringify({
      sizeMiB,
      pushMBps: Math.round(mb / pushSeconds),
      pullMBps: Math.round(mb / pullSeconds),
      idleRssMiB: Math.round(idle.rssMiB),
      peakRssMiB: Math.round(after.peakMiB),
    }));
  } finally {
    await wharf.stop();
  }
}

function push(url: string, blob: SyntheticBlob): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'content-length': blob.size } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    pipeline(blob.stream(), req).catch(reject);
  });
}

function pull(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      const hash = createHash('sha256');
      res.on('data', (chunk) => hash.update(chunk));
      res.on('end', () => resolve(`sha256:${hash.digest('hex')}`));
      res.on('error', reject);
    }).on('error', reject);
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
