import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Browser, BrowserContext, CDPSession, chromium } from 'playwright-core';
import { request } from 'undici';
import { Endpoint, OCI_MANIFEST, RegistryClient, agent } from '../registry-client';
import { Row } from '../report';
import { createRepository } from '../targets';
import { BenchContext, inParallel, percentile } from './common';

const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const WEB_DIST = path.join(__dirname, '..', '..', 'dist', 'web');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Manifests pushed at once during the setup. */
const SETUP_CONCURRENCY = 32;
/** The web UI's page size (apps/web/src/api/queries.ts). */
const PAGE = 50;
const REST_WARMUP = 5;
const REST_RUNS = 50;
const BROWSER_WARM = 10;
const BROWSER_COLD = 10;
const TARGET_PAGE_MS = 300;
const TARGET_JS_KB = 250;
const IMAGE_PREFIX = 'bench/ui/img-';

interface ImagesPage {
  images: { name: string; tags: number }[];
  next: string | null;
}

/**
 * The web UI's issue target (Wharf only: Distribution has no UI, its cells say n/a): "the first
 * page of a repository with 10,000 images in < 300 ms; JavaScript for the first view under
 * 250 KB gzipped". A local repository of its own gets one config and one layer (pushed once:
 * blob links are per repository), then 10,000 images `bench/ui/img-00000` … `img-09999` (1,000
 * in quick mode), each a manifest naming that config and layer (with its name as an annotation,
 * so no two share a digest), tagged `latest`, pushed 32 at a time with Bearer tokens as clients
 * do. Then, signed in with a session cookie as the browser is (`POST /api/session`):
 *  - REST: `GET /api/repositories/<key>/images?limit=50` as the UI sends it, 50 times in a row
 *    after 5 warm-ups, for the first page, a page in the middle (`after=` the middle name) and a
 *    search (`q=` naming the last ten images); every answer checked (count, names in order).
 *  - Browser: Debian's Chromium (headless, playwright-core) opening `/ui/repositories/<key>`, timed
 *    in the page from navigation start (`performance.now()`) to the first row of the Images
 *    table appearing (a MutationObserver installed before the app's scripts run); warm: new
 *    pages of one signed-in context (the HTTP cache holds the hashed assets), after one load not
 *    counted; cold: a fresh context each (the session cookie only, empty cache); in the app: the
 *    repositories list open, from the click on the repository's name to its first image row.
 *  - The first view's JavaScript: the Vite manifest's entry (`index.html`) and its static
 *    imports, gzipped (the CSS separately); dynamic imports (admin pages) are not counted.
 */
export async function webUi(ctx: BenchContext): Promise<Row[]> {
  const { wharf, signal } = ctx;
  if (!fs.existsSync(path.join(WEB_DIST, 'index.html'))) throw new Error(`${WEB_DIST} has no build of the web UI: run npm run build (nest build, then vite build)`);
  if (!wharf.adminHeaders || !wharf.adminPassword) throw new Error('the Wharf target has no admin credentials');
  setMaxListeners(4 * SETUP_CONCURRENCY, signal);
  const count = ctx.scale.quick ? 1_000 : 10_000;
  const name = (i: number) => `${IMAGE_PREFIX}${String(i).padStart(5, '0')}`;
  const names = Array.from({ length: count }, (_, i) => name(i));
  const middle = Math.floor(count / 2);
  // A substring the last ten names alone hold: img-0999 of 10,000 (img-09990 … img-09999).
  const search = `img-${String(Math.floor((count - 1) / 10)).padStart(4, '0')}`;
  const searched = names.filter((n) => n.includes(search));

  const js = firstViewAssets();

  const key = `bench-ui-${randomBytes(3).toString('hex')}`;
  await createRepository(wharf.origin, wharf.adminHeaders, key, { rclass: 'local', packageType: 'docker' });
  const endpoint: Endpoint = { origin: wharf.origin, headers: wharf.headers, tokens: wharf.tokens, v2: (image) => `/v2/${key}/${image}` };
  const client = new RegistryClient(endpoint);

  const setupStarted = performance.now();
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: {} }));
  const layer = randomBytes(1024);
  const configDigest = await client.pushSmall(names[0], config, signal);
  const layerDigest = await client.pushSmall(names[0], layer, signal);
  await inParallel(count, SETUP_CONCURRENCY, async (i) => {
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length },
        layers: [{ mediaType: OCI_LAYER, digest: layerDigest, size: layer.length }],
        annotations: { 'org.opencontainers.image.ref.name': names[i] },
      }),
    );
    await client.putManifest(names[i], 'latest', manifest, signal);
  });
  const setupSeconds = (performance.now() - setupStarted) / 1000;
  console.log(`  setup: ${count.toLocaleString('en-US')} images in ${key} in ${setupSeconds.toFixed(1)} s (${(count / setupSeconds).toFixed(0)} manifests/s, a token each)`);

  // REST as the browser calls it: the session cookie, X-Requested-With.
  const cookie = await signIn(wharf.origin, wharf.adminPassword, signal);
  const headers = { cookie, accept: 'application/json', 'x-requested-with': 'XMLHttpRequest' };
  const page = async (query: Record<string, string>): Promise<{ ms: number; body: ImagesPage }> => {
    const qs = new URLSearchParams({ ...query, limit: String(PAGE) });
    const started = performance.now();
    const res = await request(`${wharf.origin}/api/repositories/${key}/images?${qs}`, { headers, signal, dispatcher: agent });
    const text = await res.body.text();
    const ms = performance.now() - started;
    if (res.statusCode !== 200) throw new Error(`GET /api/repositories/${key}/images?${qs}: ${res.statusCode} ${text.slice(0, 300)}`);
    return { ms, body: JSON.parse(text) as ImagesPage };
  };
  const timePage = async (what: string, query: Record<string, string>, expected: string[]): Promise<number[]> => {
    const times: number[] = [];
    for (let run = 0; run < REST_WARMUP + REST_RUNS; run++) {
      const { ms, body } = await page(query);
      const got = body.images.map((image) => image.name);
      if (got.length !== expected.length || got.some((n, i) => n !== expected[i]))
        throw new Error(`${what}: ${got.length} images (${got.slice(0, 2).join(', ')} …), expected ${expected.length} (${expected.slice(0, 2).join(', ')} …)`);
      if (body.images.some((image) => image.tags !== 1)) throw new Error(`${what}: an image without its one tag`);
      if (run >= REST_WARMUP) times.push(ms);
    }
    return times;
  };
  const first = await timePage('first page', {}, names.slice(0, PAGE));
  const mid = await timePage('middle page', { after: names[middle] }, names.slice(middle + 1, middle + 1 + PAGE));
  const found = await timePage('search', { q: search }, searched.slice(0, PAGE));

  const loads = await browserLoads(ctx, `${wharf.origin}/ui/repositories/${key}`, key, wharf.adminPassword, names[0]);

  const images = `${count.toLocaleString('en-US')} images`;
  const verdict = (ms: number) => `target < ${TARGET_PAGE_MS} ms: ${ms < TARGET_PAGE_MS ? 'met' : 'missed'}`;
  const row = (workload: string, unit: string, wharfValue: number, note: string): Row => ({
    workload,
    unit,
    better: 'lower',
    wharf: wharfValue,
    distribution: 'n/a',
    note: `${note}; Distribution: no web UI`,
  });
  const restRows = (what: string, times: number[], note: string): Row[] => [
    row(
      `web UI REST: ${what}, ${images}`,
      'p50 ms',
      percentile(times, 50),
      `${note}; ${REST_RUNS} in a row after ${REST_WARMUP} warm-ups, session cookie; ${verdict(percentile(times, 50))}`,
    ),
    row(`web UI REST: ${what}, ${images}`, 'p95 ms', percentile(times, 95), `max ${fmt(Math.max(...times))} ms`),
  ];
  const browserRows = (what: string, loads: Load[], note: string): Row[] => {
    const times = loads.map((l) => l.firstRow);
    const wall = loads.map((l) => l.wall);
    return [
      row(`web UI in Chromium: ${what}, ${images}`, 'p50 ms', percentile(times, 50), `${note}; ${verdict(percentile(times, 50))}`),
      row(
        `web UI in Chromium: ${what}, ${images}`,
        'p95 ms',
        percentile(times, 95),
        `${waterfall(loads)}; wall time around goto + waitFor: p50 ${fmt(percentile(wall, 50))}, p95 ${fmt(percentile(wall, 95))} ms`,
      ),
    ];
  };
  const shown = 'navigation start to the first row of the Images table (performance.now() in the page, a MutationObserver)';
  return [
    ...restRows('first page of 50', first, `GET /api/repositories/<key>/images?limit=${PAGE}`),
    ...restRows('a page in the middle', mid, `after=${names[middle]}`),
    ...restRows(`search, ${searched.length} found`, found, `q=${search}`),
    ...browserRows('repository page, warm cache', loads.warm, `${BROWSER_WARM} new pages of one signed-in context after one not counted: ${shown}`),
    ...browserRows('repository page, cold cache', loads.cold, `${BROWSER_COLD}, a fresh context each (the session cookie, an empty cache): ${shown}`),
    row(
      `web UI in Chromium: repository page from the repositories list, ${images}`,
      'p50 ms',
      percentile(loads.inApp, 50),
      `${BROWSER_WARM} times: the list open, a click on the repository's name, to the first row of its Images table (the app's own navigation, no page load); ${verdict(percentile(loads.inApp, 50))}`,
    ),
    row(`web UI in Chromium: repository page from the repositories list, ${images}`, 'p95 ms', percentile(loads.inApp, 95), `max ${fmt(Math.max(...loads.inApp))} ms`),
    {
      workload: 'web UI: JavaScript of the first view',
      unit: 'KB gzipped',
      better: 'lower',
      wharf: js.jsGzip / 1000,
      distribution: 'n/a',
      note: `${js.files.length} file(s) (${js.files.join(', ')}), ${kb(js.jsRaw)} KB raw; CSS ${kb(js.cssGzip)} KB gzipped (${kb(js.cssRaw)} KB raw); KB = 1,000 bytes, gzip level 6; Wharf sends them ${
        loads.cold.some((l) => l.jsCompressed)
          ? 'compressed'
          : `uncompressed (a cold load moved ${kb(
              percentile(
                loads.cold.map((l) => l.jsBytes),
                50,
              ),
            )} KB of scripts)`
      }; target < ${TARGET_JS_KB} KB: ${js.jsGzip / 1000 < TARGET_JS_KB ? 'met' : 'missed'}; Distribution: no web UI`,
    },
  ];
}

/** POST /api/session as the sign-in page does; the `wharf_session` cookie to send. */
async function signIn(origin: string, password: string, signal: AbortSignal): Promise<string> {
  const res = await request(`${origin}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'x-requested-with': 'XMLHttpRequest' },
    body: JSON.stringify({ username: 'admin', password }),
    signal,
    dispatcher: agent,
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`POST /api/session: ${res.statusCode} ${text.slice(0, 300)}`);
  const setCookie = res.headers['set-cookie'];
  const cookie = (Array.isArray(setCookie) ? setCookie : [setCookie ?? '']).map((c) => c.split(';')[0].trim()).find((c) => c.startsWith('wharf_session='));
  if (!cookie) throw new Error('POST /api/session set no wharf_session cookie');
  return cookie;
}

/** One page load, in ms from navigation start (the page's own clock) unless said otherwise. */
interface Load {
  /** The first row of the Images table in the DOM. */
  firstRow: number;
  /** Wall time in the bench around goto + waitFor (includes Playwright's round trips). */
  wall: number;
  /** The HTML's last byte; DOMContentLoaded's end (module scripts fetched and run). */
  html: number;
  scripts: number;
  /** The app's first API call sent; the repository's answer in; the images page asked and in. */
  firstCall: number;
  repository: number;
  imagesAsked: number;
  imagesIn: number;
  /** Bytes of scripts on the wire, and whether any came compressed. */
  jsBytes: number;
  jsCompressed: boolean;
}

/** In every page, before the app's scripts: the time the first row of the Images table appears (and a promise of it). */
const FIRST_ROW_OBSERVER = `(() => {
  const seen = () => document.querySelector('table[aria-label="Images"] tbody tr');
  window.__firstRow = new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      if (window.__firstRowAt === undefined && seen()) {
        window.__firstRowAt = performance.now();
        observer.disconnect();
        resolve(window.__firstRowAt);
      }
    });
    observer.observe(document, { childList: true, subtree: true });
  });
})();`;

/**
 * Waits for the observer's promise through the DevTools protocol. Not with a Playwright locator:
 * a locator injects Playwright's own script into the page while it loads, ~25 ms of the page's
 * main thread on this machine, which no user's browser runs.
 */
async function firstRowShown(devtools: CDPSession): Promise<void> {
  const deadline = performance.now() + 15_000;
  while (performance.now() < deadline) {
    // Right after the commit the evaluation can still land in the previous document: then again.
    const answer = await Promise.race([
      devtools.send('Runtime.evaluate', { expression: 'window.__firstRow', awaitPromise: true, returnByValue: true }).catch(() => undefined),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), deadline - performance.now())),
    ]);
    if (typeof answer?.result.value === 'number') return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the first row of the Images table did not appear within 15 s');
}

/** What the page measured: the first row's time, its navigation and API timings, its scripts' bytes. */
const IN_PAGE_FIGURES = `(() => {
  const resources = performance.getEntriesByType('resource');
  const scripts = resources.filter((e) => e.initiatorType === 'script' || new URL(e.name).pathname.endsWith('.js'));
  const nav = performance.getEntriesByType('navigation')[0];
  return {
    firstRow: window.__firstRowAt,
    html: nav ? nav.responseEnd : NaN,
    scripts: nav ? nav.domContentLoadedEventEnd : NaN,
    api: resources.filter((e) => new URL(e.name).pathname.startsWith('/api/')).map((e) => ({ path: new URL(e.name).pathname, start: e.startTime, end: e.responseEnd })),
    jsBytes: scripts.reduce((sum, e) => sum + e.transferSize, 0),
    jsCompressed: scripts.some((e) => e.encodedBodySize > 0 && e.encodedBodySize < e.decodedBodySize),
  };
})()`;

interface InPage {
  firstRow?: number;
  html: number;
  scripts: number;
  api: { path: string; start: number; end: number }[];
  jsBytes: number;
  jsCompressed: boolean;
}

/** Chromium opening the repository page: `warm` new pages of one signed-in context, then `cold` fresh contexts. */
async function browserLoads(ctx: BenchContext, url: string, key: string, password: string, firstName: string): Promise<{ warm: Load[]; cold: Load[]; inApp: number[] }> {
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await browser.close();
  };
  ctx.resources.add('Chromium (web UI)', close);
  try {
    const origin = new URL(url).origin;
    const signedIn = await browser.newContext();
    await signedIn.addInitScript(FIRST_ROW_OBSERVER);
    const res = await signedIn.request.post(`${origin}/api/session`, {
      data: { username: 'admin', password },
      headers: { 'x-requested-with': 'XMLHttpRequest' },
    });
    if (res.status() !== 200) throw new Error(`POST /api/session from Chromium: ${res.status()} ${(await res.text()).slice(0, 300)}`);
    const state = await signedIn.storageState();

    const load = async (context: BrowserContext): Promise<Load> => {
      if (ctx.signal.aborted) throw new Error('aborted');
      const page = await context.newPage();
      try {
        const devtools = await context.newCDPSession(page);
        const started = performance.now();
        await page.goto(url, { waitUntil: 'commit' });
        await firstRowShown(devtools);
        const wall = performance.now() - started;
        const table = page.getByRole('table', { name: 'Images' });
        const shown = await table.getByRole('row').nth(1).getByRole('link').first().textContent();
        if (shown !== firstName) throw new Error(`the first row shows ${shown}, expected ${firstName}`);
        const m = (await page.evaluate(IN_PAGE_FIGURES)) as InPage;
        if (m.firstRow === undefined) throw new Error('the page did not record the first row (the observer did not run)');
        const call = (p: string) => m.api.find((e) => e.path === p) ?? { start: NaN, end: NaN };
        const images = call(`/api/repositories/${key}/images`);
        return {
          firstRow: m.firstRow,
          wall,
          html: m.html,
          scripts: m.scripts,
          firstCall: Math.min(...m.api.map((e) => e.start)),
          repository: call(`/api/repositories/${key}`).end,
          imagesAsked: images.start,
          imagesIn: images.end,
          jsBytes: m.jsBytes,
          jsCompressed: m.jsCompressed,
        };
      } finally {
        await page.close();
      }
    };

    await load(signedIn); // fills the context's cache: not counted
    const warm: Load[] = [];
    for (let i = 0; i < BROWSER_WARM; i++) warm.push(await load(signedIn));

    // Most visits come from within the app: the repositories list open, a click on the repository's name.
    const clickThrough = async (): Promise<number> => {
      const page = await signedIn.newPage();
      try {
        const devtools = await signedIn.newCDPSession(page);
        await page.goto(new URL('/ui/repositories', url).toString());
        const link = page.getByRole('table', { name: 'Repositories' }).getByRole('link', { name: key, exact: true });
        await link.waitFor({ state: 'visible', timeout: 15_000 });
        await page.evaluate("document.addEventListener('click', () => { window.__clickAt = performance.now(); }, { capture: true, once: true })");
        await link.click();
        await firstRowShown(devtools);
        const { firstRow, clickAt } = (await page.evaluate('({ firstRow: window.__firstRowAt, clickAt: window.__clickAt })')) as { firstRow: number; clickAt: number };
        return firstRow - clickAt;
      } finally {
        await page.close();
      }
    };
    const inApp: number[] = [];
    for (let i = 0; i < BROWSER_WARM; i++) inApp.push(await clickThrough());
    await signedIn.close();

    const cold: Load[] = [];
    for (let i = 0; i < BROWSER_COLD; i++) {
      const fresh = await browser.newContext({ storageState: state });
      await fresh.addInitScript(FIRST_ROW_OBSERVER);
      try {
        cold.push(await load(fresh));
      } finally {
        await fresh.close();
      }
    }
    return { warm, cold, inApp };
  } finally {
    await close();
  }
}

/** The medians of a series of loads' steps, for the row's note. */
function waterfall(loads: Load[]): string {
  const p50 = (get: (l: Load) => number) => fmt(percentile(loads.map(get), 50));
  const jsBytes = percentile(
    loads.map((l) => l.jsBytes),
    50,
  );
  const wire = jsBytes === 0 ? 'none (from the cache)' : `${kb(jsBytes)} KB, ${loads.some((l) => l.jsCompressed) ? 'compressed' : 'uncompressed'}`;
  return [
    `medians: HTML in ${p50((l) => l.html)}, scripts run (DOMContentLoaded) ${p50((l) => l.scripts)}, first API call ${p50((l) => l.firstCall)},`,
    `repository answered ${p50((l) => l.repository)}, images asked ${p50((l) => l.imagesAsked)} and answered ${p50((l) => l.imagesIn)}, first row ${p50((l) => l.firstRow)} ms;`,
    `scripts over the wire ${wire}`,
  ].join(' ');
}

interface Assets {
  files: string[];
  jsRaw: number;
  jsGzip: number;
  cssRaw: number;
  cssGzip: number;
}

/** The entry of the Vite manifest and what it imports statically (recursively), with their CSS. */
function firstViewAssets(): Assets {
  const manifestFile = path.join(WEB_DIST, '.vite', 'manifest.json');
  if (!fs.existsSync(manifestFile)) throw new Error(`${manifestFile} is missing: run npm run build (vite build writes it)`);
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as Record<string, { file: string; imports?: string[]; css?: string[] }>;
  if (!manifest['index.html']) throw new Error(`${manifestFile} has no entry 'index.html'`);
  const chunks = new Set<string>();
  const css = new Set<string>();
  const visit = (id: string) => {
    const chunk = manifest[id];
    if (!chunk) throw new Error(`${manifestFile}: imported chunk ${id} is not in the manifest`);
    if (chunks.has(chunk.file)) return;
    chunks.add(chunk.file);
    for (const file of chunk.css ?? []) css.add(file);
    for (const imported of chunk.imports ?? []) visit(imported);
  };
  visit('index.html');
  const sizes = (files: Iterable<string>) => {
    let raw = 0;
    let gz = 0;
    for (const file of files) {
      const bytes = fs.readFileSync(path.join(WEB_DIST, file));
      raw += bytes.length;
      gz += gzipSync(bytes).length;
    }
    return { raw, gz };
  };
  const js = sizes(chunks);
  const styles = sizes(css);
  return { files: [...chunks].map((f) => path.basename(f)), jsRaw: js.raw, jsGzip: js.gz, cssRaw: styles.raw, cssGzip: styles.gz };
}

function kb(bytes: number): string {
  return (bytes / 1000).toFixed(bytes >= 100_000 ? 0 : 1);
}

function fmt(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}
