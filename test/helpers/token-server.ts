// A Docker token server (https://distribution.github.io/distribution/spec/auth/token/) on a free
// loopback port: the realm of a token-authenticated upstream registry (see upstream-registry.ts).
// At startup it makes an EC P-256 key and a self-signed certificate with the `openssl` CLI;
// tokens are ES256 JWTs carrying that certificate in their `x5c` header, which CNCF
// Distribution verifies against its `rootcertbundle` (the certificate at `certPath`).
// Every request is recorded, with the username its Basic credentials carried, so tests can
// assert when credentials are, or are not, sent.
import { execFile } from 'node:child_process';
import { X509Certificate, KeyObject, createPrivateKey, randomUUID, sign } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** One resource of a token's `access` claim, as Distribution reads it. */
export interface TokenAccess {
  type: string;
  name: string;
  actions: string[];
}

/** A scope a client asked for, parsed from `type:name:action,action`. */
export interface RequestedScope {
  type: string;
  name: string;
  actions: string[];
}

export interface GrantRequest extends RequestedScope {
  /** The authenticated user, or undefined for an anonymous request. */
  username: string | undefined;
}

/** Decides which of the requested actions a token grants; return [] to grant none. */
export type GrantPolicy = (request: GrantRequest) => string[];

export interface TokenRequest {
  method: string;
  /** The request's path and query, as sent. */
  url: string;
  /** The username of the Basic credentials (or the POST form), valid or not; undefined when none were sent. */
  username: string | undefined;
  /** Whether the request carried an Authorization header at all (of any scheme). */
  hadAuthorization: boolean;
  service: string | undefined;
  /** The raw scope strings, one per scope (space-separated scopes are split). */
  scopes: string[];
  account: string | undefined;
  /** 200 when a token was issued, 401 for bad or missing credentials, 400 for a bad request. */
  status: number;
  /** What the issued token grants (empty when none was issued). */
  granted: TokenAccess[];
  /** The issued token, when one was. */
  token?: string;
}

export interface TokenServerOptions {
  /** Valid username → password pairs. Default `{ alice: 'secret' }`. */
  users?: Record<string, string>;
  /** Whether a request without credentials gets a token (a pull-only one with the default policy). Default true. */
  allowAnonymous?: boolean;
  /** The `aud` claim; the upstream's `auth.token.service`. Default 'wharf-test-upstream'. */
  service?: string;
  /** The `iss` claim; the upstream's `auth.token.issuer`. Default 'wharf-test-token-issuer'. */
  issuer?: string;
  /** Token lifetime (`exp - iat` and `expires_in`). Default 300. Distribution allows 60 s of leeway past `exp`. */
  tokenTtlSeconds?: number;
  /**
   * Which requested actions to grant. The default: an authenticated user gets every requested
   * action (repositories and `registry:catalog:*`); anonymous gets `pull` on repositories only.
   */
  grant?: GrantPolicy;
}

export interface TokenServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `http://127.0.0.1:PORT/token`: the upstream's `auth.token.realm`. */
  realm: string;
  service: string;
  issuer: string;
  /** PEM of the self-signed signing certificate: the upstream's `auth.token.rootcertbundle`. */
  certPath: string;
  /** Every request to the server, in arrival order. Clear it with `clearRequests()`. */
  requests: TokenRequest[];
  /** The user list; mutable at run time (e.g. to rotate a password). */
  users: Record<string, string>;
  /** Mutable at run time. */
  allowAnonymous: boolean;
  /** Mutable at run time. */
  tokenTtlSeconds: number;
  /** Mutable at run time; see TokenServerOptions.grant. */
  grant: GrantPolicy;
  /** Requests whose Basic credentials named `username` (valid or not). */
  requestsBy(username: string): TokenRequest[];
  /** Requests that sent no credentials. */
  anonymousRequests(): TokenRequest[];
  clearRequests(): void;
  /** Issues a token directly, without HTTP (e.g. for raw requests to the upstream). */
  issueToken(username: string | undefined, access: TokenAccess[]): string;
  /**
   * A token for `scopes` (e.g. `repository:library/app:pull`) fetched over HTTP like a client
   * would, with Basic credentials when given. Throws unless the server answers 200.
   */
  fetchToken(scopes: string[], creds?: { username: string; password: string }): Promise<string>;
  stop(): Promise<void>;
}

export const DEFAULT_TOKEN_SERVICE = 'wharf-test-upstream';
export const DEFAULT_TOKEN_ISSUER = 'wharf-test-token-issuer';

/** The default grant policy (see TokenServerOptions.grant). */
export const defaultGrant: GrantPolicy = ({ username, type, actions }) => {
  if (username !== undefined) return type === 'repository' || type === 'registry' ? actions : [];
  return type === 'repository' ? actions.filter((action) => action === 'pull') : [];
};

/** Parses `repository:library/app:pull,push`; the name may itself hold colons (a host:port). */
export function parseScope(scope: string): RequestedScope | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  // `repository(plugin)` carries a resource class in parentheses; the type is what precedes it.
  const type = scope.slice(0, first).replace(/\(.*\)$/, '');
  const name = scope.slice(first + 1, last);
  const actions = scope
    .slice(last + 1)
    .split(',')
    .filter(Boolean);
  return name ? { type, name, actions } : undefined;
}

/** Decodes a JWT's header and claims without verifying anything (for assertions in tests). */
export function decodeJwt(token: string): { header: Record<string, any>; claims: Record<string, any> } {
  const [header, claims] = token.split('.');
  const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  return { header: decode(header), claims: decode(claims) };
}

function base64url(value: Buffer | string): string {
  return Buffer.from(value).toString('base64url');
}

/** Parses `Basic base64(user:password)`; undefined for any other header. */
function parseBasic(header: string | undefined): { username: string; password: string } | undefined {
  const match = /^Basic\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { username: decoded, password: '' };
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

async function makeSigningKey(dir: string): Promise<{ key: KeyObject; certPath: string; certDer: Buffer }> {
  const keyPath = path.join(dir, 'key.pem');
  const certPath = path.join(dir, 'cert.pem');
  await execFileAsync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyPath,
    '-out',
    certPath,
    '-days',
    '2',
    '-subj',
    '/CN=wharf-test-token-issuer',
  ]);
  const key = createPrivateKey(await fs.readFile(keyPath));
  const certDer = new X509Certificate(await fs.readFile(certPath)).raw;
  return { key, certPath, certDer };
}

export async function startTokenServer(options: TokenServerOptions = {}): Promise<TokenServer> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-token-server-'));
  let signing: Awaited<ReturnType<typeof makeSigningKey>>;
  try {
    signing = await makeSigningKey(dir);
  } catch (error) {
    await fs.rm(dir, { recursive: true, force: true });
    throw error;
  }
  const service = options.service ?? DEFAULT_TOKEN_SERVICE;
  const issuer = options.issuer ?? DEFAULT_TOKEN_ISSUER;
  const x5c = [signing.certDer.toString('base64')];
  const requests: TokenRequest[] = [];

  const issueToken = (username: string | undefined, access: TokenAccess[]): string => {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'ES256', x5c };
    const claims = {
      iss: issuer,
      sub: username ?? '',
      aud: service,
      exp: now + state.tokenTtlSeconds,
      nbf: now - 1,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    // JWS ES256 signatures are r||s (IEEE P1363), not DER.
    const signature = sign('sha256', Buffer.from(signingInput), { key: signing.key, dsaEncoding: 'ieee-p1363' });
    return `${signingInput}.${base64url(signature)}`;
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://token.invalid');
    const params = new URLSearchParams(url.search);
    if (req.method === 'POST') {
      // The OAuth2 flavour (docker with an identity token, containerd): a form body.
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      for (const [k, v] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) params.append(k, v);
    }
    const scopes = params
      .getAll('scope')
      .flatMap((s) => s.split(' '))
      .filter(Boolean);
    let creds = parseBasic(req.headers.authorization);
    if (!creds && req.method === 'POST' && params.get('grant_type') === 'password') {
      creds = { username: params.get('username') ?? '', password: params.get('password') ?? '' };
    }
    const record: TokenRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      username: creds?.username,
      hadAuthorization: req.headers.authorization !== undefined,
      service: params.get('service') ?? undefined,
      scopes,
      account: params.get('account') ?? undefined,
      status: 0,
      granted: [],
    };
    requests.push(record);

    const reply = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const unauthorized = (message: string): void => reply(401, { errors: [{ code: 'UNAUTHORIZED', message }] }, { 'www-authenticate': 'Basic realm="wharf-test-token-server"' });

    if (url.pathname !== '/token' || (req.method !== 'GET' && req.method !== 'POST')) {
      reply(404, { errors: [{ code: 'NOT_FOUND', message: `${req.method} ${url.pathname}` }] });
      return;
    }
    if (record.service !== undefined && record.service !== service) {
      reply(400, { errors: [{ code: 'DENIED', message: `unknown service ${record.service}` }] });
      return;
    }
    if (req.headers.authorization !== undefined && !creds) {
      unauthorized('only Basic credentials are accepted');
      return;
    }
    if (creds && state.users[creds.username] !== creds.password) {
      unauthorized('invalid username or password');
      return;
    }
    if (!creds && !state.allowAnonymous) {
      unauthorized('authentication required');
      return;
    }
    const username = creds?.username;
    const granted: TokenAccess[] = [];
    for (const raw of scopes) {
      const scope = parseScope(raw);
      if (!scope) continue;
      const actions = state.grant({ ...scope, username }).filter((a) => scope.actions.includes(a) || scope.actions.includes('*'));
      if (actions.length) granted.push({ type: scope.type, name: scope.name, actions });
    }
    const token = issueToken(username, granted);
    record.granted = granted;
    record.token = token;
    reply(200, { token, access_token: token, expires_in: state.tokenTtlSeconds, issued_at: new Date().toISOString() });
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  const baseUrl = `http://127.0.0.1:${port}`;
  const realm = `${baseUrl}/token`;

  const state: TokenServer = {
    url: baseUrl,
    realm,
    service,
    issuer,
    certPath: signing.certPath,
    requests,
    users: { ...(options.users ?? { alice: 'secret' }) },
    allowAnonymous: options.allowAnonymous ?? true,
    tokenTtlSeconds: options.tokenTtlSeconds ?? 300,
    grant: options.grant ?? defaultGrant,
    requestsBy: (username) => requests.filter((r) => r.username === username),
    anonymousRequests: () => requests.filter((r) => !r.hadAuthorization && r.username === undefined),
    clearRequests: () => {
      requests.length = 0;
    },
    issueToken,
    fetchToken: async (scopeList, creds) => {
      const query = new URLSearchParams({ service });
      for (const scope of scopeList) query.append('scope', scope);
      const headers: Record<string, string> = {};
      if (creds) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
      const response = await fetch(`${realm}?${query}`, { headers });
      const body = await response.text();
      if (response.status !== 200) throw new Error(`token server answered ${response.status}: ${body}`);
      return (JSON.parse(body) as { token: string }).token;
    },
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
  return state;
}
