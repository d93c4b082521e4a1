// The benchmark itself (issue: `npm run bench` prints the table, bounded, leaving nothing
// running) and its load client, which must not hang on HEAD answers that carry a
// Content-Length. No speed is asserted here: figures live in the bench's own output.
import { execFileSync, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { LatencyHistogram, runLoad } from '../bench/load-client';

const ROOT = path.join(__dirname, '..');

describe('the bench load client', () => {
  it('keeps its connections through HEAD answers with a Content-Length, and stops on time', async () => {
    const server = createServer((req, res) => {
      res.writeHead(200, { 'content-length': '1234', 'content-type': 'application/json' });
      res.end(req.method === 'HEAD' ? undefined : Buffer.alloc(1234));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      for (const method of ['HEAD', 'GET'] as const) {
        const started = Date.now();
        const load = await runLoad({ origin, path: '/m', method, headers: {}, connections: 4, durationMs: 1000 });
        expect(Date.now() - started).toBeLessThan(5000); // bounded: a hung HEAD would wait for a body
        expect(load.errors).toBe(0);
        expect(load.connects).toBe(0); // no reconnects after the warm-up: keep-alive held
        expect(load.requests).toBeGreaterThan(100);
        expect(load.p50Ms).toBeLessThanOrEqual(load.p99Ms);
        expect(load.p99Ms).toBeLessThanOrEqual(load.maxMs);
        expect(load.clientLoopDelayP99Ms).toBeGreaterThan(0);
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('reports percentiles within 1% of the true ones', () => {
    const histogram = new LatencyHistogram();
    for (let i = 1; i <= 10_000; i++) histogram.record(i / 100); // 0.01 .. 100 ms, uniform
    expect(histogram.percentile(50) / 50).toBeCloseTo(1, 1);
    expect(Math.abs(histogram.percentile(99) / 99 - 1)).toBeLessThan(0.011);
    expect(histogram.max).toBe(100);
  });
});

/** Processes running the built Wharf server or Distribution, by command line. */
function serverProcesses(): number {
  try {
    return Number(execFileSync('pgrep', ['-fc', 'dist/apps/server/src/main.js|/usr/bin/docker-registry'], { encoding: 'utf8' }).trim());
  } catch {
    return 0; // pgrep exits 1 when nothing matches
  }
}

describe('npm run bench (BENCH_QUICK=1)', () => {
  it('runs every workload against Wharf and Distribution, prints the table and stops all it started', async () => {
    const before = serverProcesses();
    const child = spawn('npx', ['ts-node', '--transpile-only', 'bench/run.ts'], {
      cwd: ROOT,
      env: { ...process.env, BENCH_QUICK: '1', DATABASE_URL: process.env.WHARF_TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect({ code, tail: code === 0 ? '' : output.slice(-3000) }).toEqual({ code: 0, tail: '' });

    const table = await readFile(path.join(ROOT, 'bench', 'results', 'quick.md'), 'utf8');
    const rows = table.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| workload') && !line.startsWith('| ---'));
    const cells = rows.map((row) => row.split('|').map((cell) => cell.trim()));
    for (const workload of [
      'blob push',
      'blob pull',
      'concurrent pushes',
      'manifest GET by tag',
      'manifest HEAD by tag',
      'manifest PUT',
      'tags/list',
      'pull-through',
      'peak memory',
      'virtual of 3',
      'real clients: skopeo copy',
      'S3: blob push',
      'S3: blob pull',
    ]) {
      const found = cells.filter(([, name]) => name.includes(workload) && !isWharfOnly(name));
      expect({ workload, rows: found.length > 0 }).toEqual({ workload, rows: true });
      for (const [, name, wharf, distribution] of found) {
        // Every figure is a number for both registries: no workload failed or was skipped.
        expect({ name, wharf, distribution }).toEqual({ name, wharf: expect.stringMatching(/^[\d,.]+$/), distribution: expect.stringMatching(/^[\d,.]+$/) });
      }
    }
    // Wharf-only rows (promotion; the labelled Basic loads; two hosts against one; the web UI): a figure for Wharf, n/a for Distribution.
    const wharfOnly = cells.filter(([, name]) => isWharfOnly(name));
    expect(wharfOnly.filter(([, name]) => name.startsWith('two hosts on S3'))).toHaveLength(2);
    for (const [, name, wharf, distribution] of wharfOnly) {
      expect({ name, wharf, distribution }).toEqual({ name, wharf: expect.stringMatching(/^[\d,.]+$/), distribution: 'n/a' });
    }
    expect(table).toMatch(/sha256, one core: \d+ MB\/s/);
    expect(table).toMatch(/plain loopback file stream .* out \d+ MB\/s/);
    expect(serverProcesses()).toBe(before);
  }, 300_000); // a quick run takes about a minute here
});

/** Rows Distribution has no counterpart for: promotion, and Wharf's manifest loads with Basic credentials. */
function isWharfOnly(name: string): boolean {
  return name.startsWith('promotion') || name.includes('Basic credentials') || name.startsWith('two hosts on S3') || name.startsWith('web UI');
}
