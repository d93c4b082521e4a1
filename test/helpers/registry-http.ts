// HTTP-level helpers for the distribution API e2e suites: plain requests with Node's fetch,
// raw requests over a socket for what fetch refuses to send (dot segments, lying
// Content-Length, truncated bodies), and small push helpers built on them. Every one of them
// sends the admin's credentials unless told otherwise: `auth: null` is anonymous, a string is
// the Authorization header to send instead (see RequestAuth).
import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Blob as OciBlob, BuiltImage, BuiltIndex, MediaTypes, allBlobs, blobOf, imageManifest, topManifest } from './oci-image-builder';
import { WharfTestServer, createLocalRepository, startWharf } from './wharf-server';

export interface HttpResult {
  status: number;
  headers: Headers;
  body: Buffer;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: any;
}

// --- suites ---------------------------------------------------------------------------------

/** Boots Wharf (see startWharf) with a local Docker repository under each of `keys`. */
export async function startWharfWithLocalRepositories(...keys: string[]): Promise<WharfTestServer> {
  const server = await startWharf();
  for (const key of keys) await createLocalRepository(server, key);
  return server;
}

/** A suite's image names, `<prefix>-1`, `<prefix>-2`, ... (prefix `img` by default): never the same twice. */
export function imageNamer(): (prefix?: string) => string {
  let counter = 0;
  return (prefix = 'img') => `${prefix}-${++counter}`;
}

// --- credentials ----------------------------------------------------------------------------

/**
 * Who a helper request is sent as: omitted (undefined) sends the admin's Basic credentials
 * (`server.adminAuthorization`); a string is sent as the Authorization header as is (`Basic ...`,
 * `Bearer ...`); null sends no Authorization header at all (anonymous).
 */
export type RequestAuth = string | null | undefined;

export interface AuthOption {
  auth?: RequestAuth;
}

/** The Authorization value a request is sent with, or undefined for none (see RequestAuth). */
export function authorizationFor(server: WharfTestServer, auth: RequestAuth): string | undefined {
  return auth === undefined ? server.adminAuthorization : (auth ?? undefined);
}

/**
 * `headers` with the Authorization header `auth` stands for. An Authorization header already in
 * `headers` (in any case) wins, so a test can also set one by hand.
 */
export function withAuthorization(server: WharfTestServer, headers: Record<string, string> = {}, auth?: RequestAuth): Record<string, string> {
  const authorization = authorizationFor(server, auth);
  if (authorization === undefined || Object.keys(headers).some((k) => k.toLowerCase() === 'authorization')) return { ...headers };
  return { authorization, ...headers };
}

// --- requests -------------------------------------------------------------------------------

export interface RequestOptions extends AuthOption {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

/**
 * One request with fetch; the whole body is read so the connection is free for the next.
 * Sent as the admin unless `auth` says otherwise (`auth: null` for anonymous).
 */
export async function request(server: WharfTestServer, pathAndQuery: string, options: RequestOptions = {}): Promise<HttpResult> {
  const res = await fetch(absolute(server, pathAndQuery), {
    method: options.method ?? 'GET',
    headers: withAuthorization(server, options.headers, options.auth),
    body: options.body,
    redirect: 'manual',
  });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body, json: tryJson(body) };
}

export function absolute(server: WharfTestServer, pathOrUrl: string): string {
  return new URL(pathOrUrl, server.baseUrl).toString();
}

function tryJson(body: Buffer): any {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Asserts a registry error: the status, the distribution spec's envelope
 * `{"errors":[{code,message,detail}]}` with `code`, and the API version header.
 */
export function expectRegistryError(res: HttpResult, status: number, code: string): void {
  const context = `${res.status} ${res.body.toString('utf8').slice(0, 500)}`;
  expect({ status: res.status, context }).toEqual({ status, context });
  expect(res.json).toBeDefined();
  expect(Array.isArray(res.json.errors)).toBe(true);
  expect(res.json.errors).toHaveLength(1);
  const [error] = res.json.errors;
  expect(error.code).toBe(code);
  expect(typeof error.message).toBe('string');
  expect(error.message.length).toBeGreaterThan(0);
  expect(error).toHaveProperty('detail');
  expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
}

/** Asserts the status, with the response body in the failure message. */
export function expectStatus(res: HttpResult, status: number): void {
  const context = `${res.status} ${res.body.toString('utf8').slice(0, 500)}`;
  expect({ status: res.status, context }).toEqual({ status, context });
}

// --- names and path forms -------------------------------------------------------------------

/** The two path forms of one image: `/v2/<key>/<image>/` and `/api/docker/<key>/v2/<image>/`. */
export interface PathForm {
  label: string;
  /** Base for `<base>blobs/...`, `<base>manifests/...`, ending in `/`. */
  base(repoKey: string, image: string): string;
  /** The catalog endpoint of this form: all repositories on /v2, one repository on /api/docker. */
  catalog(repoKey: string): string;
}

export const V2_FORM: PathForm = {
  label: '/v2/<repoKey>/<image>',
  base: (repoKey, image) => `/v2/${repoKey}/${image}/`,
  catalog: () => '/v2/_catalog',
};

export const API_FORM: PathForm = {
  label: '/api/docker/<repoKey>/v2/<image>',
  base: (repoKey, image) => `/api/docker/${repoKey}/v2/${image}/`,
  catalog: (repoKey) => `/api/docker/${repoKey}/v2/_catalog`,
};

export const PATH_FORMS: PathForm[] = [V2_FORM, API_FORM];

// --- digests and blobs ----------------------------------------------------------------------

export function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function sha512(bytes: Buffer): string {
  return `sha512:${createHash('sha512').update(bytes).digest('hex')}`;
}

/** Monolithic upload (`POST ?digest=`); asserts 201. */
export async function pushBlob(server: WharfTestServer, base: string, bytes: Buffer, digest = sha256(bytes), options: AuthOption = {}): Promise<string> {
  const res = await request(server, `${base}blobs/uploads/?digest=${encodeURIComponent(digest)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: bytes,
    auth: options.auth,
  });
  expectStatus(res, 201);
  return digest;
}

/** Starts an upload session; returns the Location (absolute URL) it answered with. */
export async function startUpload(server: WharfTestServer, base: string, options: AuthOption = {}): Promise<string> {
  const res = await request(server, `${base}blobs/uploads/`, { method: 'POST', auth: options.auth });
  expectStatus(res, 202);
  const location = res.headers.get('location');
  expect(location).toBeTruthy();
  return absolute(server, location!);
}

/** Appends `?digest=` (or `&digest=`) to an upload Location, which may already carry a query. */
export function withQuery(location: string, key: string, value: string): string {
  const url = new URL(location);
  url.searchParams.set(key, value);
  return url.toString();
}

export async function pushManifest(server: WharfTestServer, base: string, reference: string, manifest: Buffer, mediaType?: string, options: AuthOption = {}): Promise<HttpResult> {
  return request(server, `${base}manifests/${reference}`, {
    method: 'PUT',
    headers: mediaType ? { 'content-type': mediaType } : {},
    body: manifest,
    auth: options.auth,
  });
}

/** Pushes every blob and (child) manifest of an image or index, then the top manifest under `tag`. */
export async function pushImage(server: WharfTestServer, base: string, built: BuiltImage | BuiltIndex, tag: string, options: AuthOption = {}): Promise<string> {
  const images = 'index' in built ? built.images : [built];
  for (const image of images) {
    for (const blob of [image.config, ...image.layers]) await pushBlob(server, base, blob.bytes, blob.digest, options);
  }
  if ('index' in built) {
    for (const image of built.images) {
      const res = await pushManifest(server, base, image.manifest.digest, image.manifest.bytes, image.manifest.mediaType, options);
      expectStatus(res, 201);
    }
  }
  const top = topManifest(built);
  const res = await pushManifest(server, base, tag, top.bytes, top.mediaType, options);
  expectStatus(res, 201);
  expect(res.headers.get('docker-content-digest')).toBe(top.digest);
  return top.digest;
}

export const COSIGN_SIGNATURE = 'application/vnd.dev.cosign.artifact.sig.v1+json';
const EMPTY_CONFIG = blobOf(Buffer.from('{}'), MediaTypes.OciEmpty);

/**
 * A referrer as cosign (OCI 1.1 referrers mode), Notation or an SBOM tool pushes it over plain
 * HTTP: an empty config, one small layer, `artifactType` and `subject`, by digest. Asserts 201;
 * answers its digest and the answer's headers.
 */
export async function pushReferrerManifest(
  server: WharfTestServer,
  base: string,
  subject: { mediaType: string; digest: string; size: number },
  artifactType = COSIGN_SIGNATURE,
  layerMediaType = artifactType === COSIGN_SIGNATURE ? 'application/vnd.dev.cosign.simplesigning.v1+json' : artifactType,
): Promise<{ digest: string; headers: Headers }> {
  const layer = blobOf(randomBytes(64), layerMediaType);
  await pushBlobs(server, base, [EMPTY_CONFIG, layer]);
  const manifest = imageManifest({ config: EMPTY_CONFIG, layers: [layer], artifactType, subject });
  const res = await pushManifest(server, base, manifest.digest, manifest.bytes, manifest.mediaType);
  expectStatus(res, 201);
  return { digest: manifest.digest, headers: res.headers };
}

/** Uploads blobs only (configs and layers), e.g. before pushing hand-made manifests. */
export async function pushBlobs(server: WharfTestServer, base: string, blobs: OciBlob[], options: AuthOption = {}): Promise<void> {
  for (const blob of blobs) await pushBlob(server, base, blob.bytes, blob.digest, options);
}

export { allBlobs };

// --- raw HTTP -------------------------------------------------------------------------------

export interface RawResult {
  /** Undefined when the server closed the connection without answering. */
  status?: number;
  headers: Record<string, string>;
  body: Buffer;
  json: any;
  /** The socket error, if the connection failed (e.g. a reset). */
  error?: Error;
}

export interface RawRequest extends AuthOption {
  method: string;
  /** Sent exactly as given: no normalisation of `..` or percent-encoding. */
  path: string;
  headers?: Record<string, string>;
  /** Bytes written after the headers. */
  body?: Buffer;
  /**
   * End the socket (FIN) right after writing the body, without waiting for an answer:
   * with a Content-Length above the body's size, the request is truncated.
   */
  endAfterBody?: boolean;
  timeoutMs?: number;
}

/**
 * Writes an HTTP/1.1 request byte for byte over a TCP socket and reads one response (or
 * none). For what fetch will not send: dot segments, a lying Content-Length, a cut body.
 * The head carries an `authorization:` line for the admin unless `auth` says otherwise.
 */
export function rawRequest(server: WharfTestServer, req: RawRequest): Promise<RawResult> {
  const [hostname, port] = splitHost(server.host);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port });
    const chunks: Buffer[] = [];
    let error: Error | undefined;
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parseResponse(Buffer.concat(chunks), error));
    };
    const timer = setTimeout(finish, req.timeoutMs ?? 10_000);
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      // Stop at the end of the first response, since keep-alive would hold the socket open.
      if (responseComplete(Buffer.concat(chunks))) finish();
    });
    socket.on('error', (err) => {
      error = err;
      finish();
    });
    socket.on('close', finish);
    socket.on('connect', () => {
      const headers = { host: server.host, ...withAuthorization(server, req.headers, req.auth) };
      const head = [`${req.method} ${req.path} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
      socket.write(head);
      if (req.body) socket.write(req.body);
      if (req.endAfterBody) socket.end();
    });
  });
}

/** What `rawExchange` read: every response, in order, and whether the server ended the connection. */
export interface RawExchange {
  responses: RawResult[];
  closedByServer: boolean;
}

/**
 * Writes `data` byte for byte over a new connection (nothing added: the test writes the whole
 * request head) and reads until the server closes it or `timeoutMs` passes: for what a server
 * answers to pipelined or mis-framed requests, and whether it then closes.
 */
export function rawExchange(server: WharfTestServer, data: Buffer, timeoutMs = 10_000): Promise<RawExchange> {
  const [hostname, port] = splitHost(server.host);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port });
    const chunks: Buffer[] = [];
    let closedByServer = false;
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ responses: splitResponses(Buffer.concat(chunks)), closedByServer });
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', () => {
      closedByServer = true;
      finish();
    });
    socket.on('error', () => {
      closedByServer = true;
      finish();
    });
    socket.on('close', finish);
    socket.on('connect', () => socket.write(data));
  });
}

/** Consecutive HTTP/1.1 responses (Content-Length, chunked, or bodiless). */
function splitResponses(data: Buffer): RawResult[] {
  const responses: RawResult[] = [];
  let rest = data;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const head = rest.subarray(0, end).toString('latin1').toLowerCase();
    const length = /\r\ncontent-length:\s*(\d+)/.exec(head);
    let size = end + 4;
    if (length) size += Number(length[1]);
    else if (/\r\ntransfer-encoding:\s*chunked/.test(head)) {
      const last = rest.indexOf('\r\n0\r\n\r\n', end);
      size = last < 0 ? rest.length : last + 7;
    }
    responses.push(parseResponse(rest.subarray(0, size)));
    rest = rest.subarray(size);
  }
  return responses;
}

function splitHost(host: string): [string, number] {
  const colon = host.lastIndexOf(':');
  return [host.slice(0, colon).replace(/^\[|\]$/g, ''), Number(host.slice(colon + 1))];
}

function responseComplete(data: Buffer): boolean {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const head = data.subarray(0, end).toString('latin1').toLowerCase();
  const length = /\r\ncontent-length:\s*(\d+)/.exec(head);
  if (length) return data.length - end - 4 >= Number(length[1]);
  if (/\r\ntransfer-encoding:\s*chunked/.test(head)) return data.subarray(end).includes('\r\n0\r\n\r\n');
  // 204/304, or no length at all: the head is the whole response.
  return /^http\/1\.1 (204|304)/.test(head);
}

function parseResponse(data: Buffer, error?: Error): RawResult {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return { headers: {}, body: Buffer.alloc(0), json: undefined, error };
  const lines = data.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1]);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = data.subarray(end + 4);
  if (headers['transfer-encoding'] === 'chunked') body = dechunk(body);
  return { status, headers, body, json: tryJson(body), error };
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', offset);
    if (lineEnd < 0) break;
    const size = parseInt(data.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!size) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** Asserts a registry error on a raw response. */
export function expectRawRegistryError(res: RawResult, status: number, code: string): void {
  const context = `${res.status} ${res.body.toString('utf8').slice(0, 500)} ${res.error?.message ?? ''}`;
  expect({ status: res.status, context }).toEqual({ status, context });
  expect(res.json?.errors?.[0]?.code).toBe(code);
  expect(typeof res.json.errors[0].message).toBe('string');
  expect(res.json.errors[0]).toHaveProperty('detail');
}

/**
 * Streams `chunks` as the body of a request with chunked transfer encoding (no
 * Content-Length), pausing between chunks so they really arrive as separate writes.
 * Sent as the admin unless `options.auth` says otherwise.
 */
export function streamedRequest(
  server: WharfTestServer,
  method: string,
  url: string,
  chunks: Buffer[],
  headers: Record<string, string> = {},
  options: AuthOption = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const sent = withAuthorization(server, { 'transfer-encoding': 'chunked', ...headers }, options.auth);
    const req = http.request(absolute(server, url), { method, headers: sent }, (res) => {
      const body: Buffer[] = [];
      res.on('data', (c) => body.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(body) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    (async () => {
      for (const chunk of chunks) {
        req.write(chunk);
        await new Promise((r) => setTimeout(r, 20));
      }
      req.end();
    })().catch(reject);
  });
}

// --- disk -----------------------------------------------------------------------------------

/** Every regular file under `dir`, as paths relative to it; [] when `dir` does not exist. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(current: string): Promise<void> {
    let entries;
    try {
      entries = await fs.readdir(current, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else out.push(path.relative(dir, full));
    }
  }
  await walk(dir);
  return out.sort();
}

/** Polls until `check` passes (for effects that finish after the response, e.g. an aborted request). */
export async function eventually(check: () => Promise<void>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * A chunked upload by plain fetch: POST on `origins[0]`, one PATCH per chunk on the origins in
 * turn (from `origins[1]`, wrapping; one origin for a load balancer), the closing PUT with the
 * digest on `origins[0]`; every answer checked (202 with the growing Range, then 201).
 */
export async function pushChunksAcross(origins: string[], base: string, headers: Record<string, string>, chunks: Buffer[]): Promise<string> {
  const digest = sha256(Buffer.concat(chunks));
  const start = await fetch(`${origins[0]}${base}/blobs/uploads/`, { method: 'POST', headers });
  expect(start.status).toBe(202);
  let location = start.headers.get('location')!;
  let offset = 0;
  for (const [i, chunk] of chunks.entries()) {
    const res = await fetch(new URL(location, origins[(i + 1) % origins.length]), {
      method: 'PATCH',
      headers: { ...headers, 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + chunk.length - 1}` },
      body: chunk,
    });
    expect(res.status).toBe(202);
    offset += chunk.length;
    expect(res.headers.get('range')).toBe(`0-${offset - 1}`);
    location = res.headers.get('location')!;
  }
  const url = new URL(location, origins[0]);
  url.searchParams.set('digest', digest);
  expect((await fetch(url, { method: 'PUT', headers })).status).toBe(201);
  return digest;
}
