// The OpenAPI document against the server it describes: its security schemes and what each
// operation declares (checked against what the server does), a schema for every success and
// error answer, the token endpoint, real answers validated against their documented schemas
// (so the view classes cannot drift from the services' interfaces), and "Try it out" done the
// way Swagger UI does it: the declared scheme, the declared server, a 200.
import { HttpResult, RequestAuth, expectStatus, request } from './helpers/registry-http';
import { WharfTestServer, basicAuthorization, startWharf } from './helpers/wharf-server';

let server: WharfTestServer;
let doc: OpenApiDocument;

beforeAll(async () => {
  server = await startWharf();
  const res = await request(server, '/api/openapi.json', { auth: null });
  expectStatus(res, 200);
  doc = res.json;
});
afterAll(() => server?.close());

// The lead documents /api/repositories' answers separately; drop this once that is done.

type Schema = Record<string, any>;
type SecurityRequirement = Record<string, string[]>;
interface Operation {
  security?: SecurityRequirement[];
  parameters?: { name: string; in: string; required?: boolean; style?: string; explode?: boolean; schema: Schema }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { description: string; headers?: Record<string, unknown>; content?: Record<string, { schema: Schema }> }>;
}
interface OpenApiDocument {
  openapi: string;
  servers: { url: string }[];
  security: SecurityRequirement[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; securitySchemes: Record<string, Schema> };
}

function operations(): { path: string; method: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));
}

function operation(method: string, path: string): Operation {
  const op = doc.paths[path]?.[method];
  if (!op) throw new Error(`${method.toUpperCase()} ${path} is not in the document`);
  return op;
}

/** What an operation requires: its own `security`, else the document's. */
function securityOf(op: Operation): SecurityRequirement[] {
  return op.security ?? doc.security;
}

/** Callable without credentials: no requirement at all, or an empty (anonymous) one among them. */
function isPublic(op: Operation): boolean {
  const security = securityOf(op);
  return security.length === 0 || security.some((req) => Object.keys(req).length === 0);
}

function resolve(schema: Schema): Schema {
  if (!schema.$ref) return schema;
  const name = String(schema.$ref).replace('#/components/schemas/', '');
  const target = doc.components.schemas[name];
  if (!target) throw new Error(`unresolved ${schema.$ref}`);
  return target;
}

/** The schema of the answer `status` of an operation, for `mediaType`. */
function responseSchema(method: string, path: string, status: number, mediaType = 'application/json'): Schema {
  const schema = operation(method, path).responses[String(status)]?.content?.[mediaType]?.schema;
  if (!schema) throw new Error(`${method.toUpperCase()} ${path} documents no ${mediaType} schema for ${status}`);
  return resolve(schema);
}

/**
 * Checks a value against a schema (the subset @nestjs/swagger writes): types, nullability,
 * enums, patterns, date-times, and for objects exactly the documented properties: nothing
 * undocumented, nothing required missing. Returns the mismatches, each with its JSON path.
 */
function mismatches(schema: Schema, value: unknown, at = '$'): string[] {
  schema = resolve(schema);
  if (value === null) return schema.nullable ? [] : [`${at}: null but not nullable`];
  const type = schema.type ?? (schema.properties ? 'object' : undefined);
  switch (type) {
    case undefined:
      return [];
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return [`${at}: expected an object`];
      const record = value as Record<string, unknown>;
      const problems = (schema.required ?? []).filter((key: string) => !(key in record)).map((key: string) => `${at}.${key}: required but missing`);
      for (const [key, item] of Object.entries(record)) {
        const property = schema.properties?.[key] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
        if (property) problems.push(...mismatches(property, item, `${at}.${key}`));
        else if (!schema.additionalProperties) problems.push(`${at}.${key}: not in the schema`);
      }
      return problems;
    }
    case 'array':
      return Array.isArray(value) ? value.flatMap((item, i) => mismatches(schema.items ?? {}, item, `${at}[${i}]`)) : [`${at}: expected an array`];
    case 'integer':
      return Number.isInteger(value) ? [] : [`${at}: expected an integer, got ${JSON.stringify(value)}`];
    case 'number':
      return typeof value === 'number' ? [] : [`${at}: expected a number`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at}: expected a boolean`];
    case 'string': {
      if (typeof value !== 'string') return [`${at}: expected a string, got ${JSON.stringify(value)}`];
      if (schema.enum && !schema.enum.includes(value)) return [`${at}: "${value}" is not one of ${schema.enum.join(', ')}`];
      if (schema.pattern && !new RegExp(schema.pattern).test(value)) return [`${at}: "${value}" does not match ${schema.pattern}`];
      if (schema.format === 'date-time' && Number.isNaN(Date.parse(value))) return [`${at}: "${value}" is not a date-time`];
      return [];
    }
    default:
      return [`${at}: unknown schema type ${type}`];
  }
}

/** The answer is what the document says `method path` answers with its status. */
function expectDocumented(res: HttpResult, method: string, path: string): void {
  const op = operation(method, path);
  const documented = op.responses[String(res.status)];
  expect({ status: res.status, documented: Boolean(documented) }).toEqual({ status: res.status, documented: true });
  if (res.status === 204) return;
  const mediaType = (res.headers.get('content-type') ?? '').split(';')[0];
  const schema = documented.content?.[mediaType]?.schema;
  expect({ status: res.status, mediaType, schema: Boolean(schema) }).toEqual({ status: res.status, mediaType, schema: true });
  expect(mismatches(schema!, res.json)).toEqual([]);
}

/** The schema's property names, sorted. */
function propertiesOf(schema: Schema): string[] {
  return Object.keys(resolve(schema).properties ?? {}).sort();
}

function api(method: string, path: string, body?: unknown, auth?: RequestAuth): Promise<HttpResult> {
  return request(server, path, {
    method,
    auth,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

describe('security', () => {
  it('declares Basic and Bearer (access token) schemes, one of which every operation needs unless it says otherwise', () => {
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.components.securitySchemes.basic).toMatchObject({ type: 'http', scheme: 'basic' });
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes.bearer.description).toContain('wharf_');
    expect(doc.security).toEqual([{ basic: [] }, { bearer: [] }]);
    // Every requirement names a declared scheme.
    for (const { op } of operations()) {
      for (const requirement of securityOf(op)) for (const name of Object.keys(requirement)) expect(Object.keys(doc.components.securitySchemes)).toContain(name);
    }
  });

  it('names the public operations: health needs nothing; the token endpoint and repository reads take credentials or none', () => {
    expect(operation('get', '/health/live').security).toEqual([]);
    expect(operation('get', '/health/ready').security).toEqual([]);
    expect(operation('get', '/v2/token').security).toEqual([{ basic: [] }, { bearer: [] }, {}]);
    expect(operation('post', '/v2/token').security).toEqual([{}]);
    expect(
      operations()
        .filter(({ op }) => isPublic(op))
        .map(({ method, path }) => `${method} ${path}`)
        .sort(),
    ).toEqual([
      'get /api/promotions',
      'get /api/repositories',
      'get /api/repositories/{key}',
      'get /api/repositories/{key}/images',
      'get /api/repositories/{key}/manifest',
      'get /api/repositories/{key}/resolve',
      'get /api/repositories/{key}/tags',
      'get /api/system/info',
      'get /health/live',
      'get /health/ready',
      'get /v2/token',
      'post /v2/token',
    ]);
    // Administration, token creation and account changes need a password login: Basic only.
    for (const [method, path] of [
      ['get', '/api/security/users'],
      ['put', '/api/security/users/{username}'],
      ['post', '/api/security/users/{username}'],
      ['put', '/api/security/permissions/{name}'],
      ['get', '/api/security/groups'],
      ['post', '/api/security/tokens'],
    ]) {
      expect(securityOf(operation(method, path))).toEqual([{ basic: [] }]);
    }
    expect(securityOf(operation('get', '/api/security/users/{username}'))).toEqual([{ basic: [] }, { bearer: [] }]);
  });

  it('what is declared public answers anonymous callers, and parameterless reads declared secured refuse them with 401', async () => {
    for (const { path, method, op } of operations()) {
      if (method !== 'get' || path.includes('{')) continue;
      const res = await request(server, path, { auth: null });
      if (isPublic(op)) expectStatus(res, 200);
      else {
        expectStatus(res, 401);
        expect(res.headers.get('www-authenticate')).toBe('Basic realm="Wharf", charset="UTF-8"');
        expectDocumented(res, method, path);
      }
    }
  });
});

describe('responses', () => {
  it('every operation has a 2xx answer with a JSON schema, or an explicit 204 without a body', () => {
    const checked = operations();
    expect(checked.length).toBeGreaterThan(20);
    for (const { path, method, op } of checked) {
      const success = Object.entries(op.responses).filter(([status]) => /^2\d\d$/.test(status));
      expect({ operation: `${method} ${path}`, successes: success.length > 0 }).toEqual({ operation: `${method} ${path}`, successes: true });
      for (const [status, response] of success) {
        if (status === '204') expect({ operation: `${method} ${path}`, content: response.content }).toEqual({ operation: `${method} ${path}`, content: undefined });
        else
          expect({ operation: `${method} ${path}`, status, schema: Boolean(response.content?.['application/json']?.schema) }).toEqual({
            operation: `${method} ${path}`,
            status,
            schema: true,
          });
      }
    }
  });

  it('REST refusals are one shared problem+json schema; secured operations document 401 with its challenge and 429', () => {
    expect(propertiesOf(doc.components.schemas.ProblemDto)).toEqual(['detail', 'errors', 'status', 'title']);
    for (const { path, method, op } of operations()) {
      const failures = Object.entries(op.responses).filter(([status]) => /^[45]\d\d$/.test(status));
      for (const [, response] of failures) {
        if (path === '/v2/token') expect(response.content?.['application/json']?.schema).toEqual({ $ref: '#/components/schemas/RegistryErrorsDto' });
        else expect(response.content?.['application/problem+json']?.schema).toEqual({ $ref: '#/components/schemas/ProblemDto' });
      }
      if (isPublic(op) && path !== '/v2/token') continue;
      expect({ operation: `${method} ${path}`, statuses: Object.keys(op.responses) }).toEqual({ operation: `${method} ${path}`, statuses: expect.arrayContaining(['401', '429']) });
      expect(op.responses['401'].headers).toHaveProperty('WWW-Authenticate');
      expect(op.responses['429'].headers).toHaveProperty('Retry-After');
    }
  });
});

describe('the token endpoint', () => {
  it('GET documents service, repeated scope, offline_token and client_id', () => {
    const params = Object.fromEntries((operation('get', '/v2/token').parameters ?? []).map((p) => [p.name, p]));
    expect(Object.keys(params).sort()).toEqual(['client_id', 'offline_token', 'scope', 'service']);
    for (const p of Object.values(params)) expect(p).toMatchObject({ in: 'query', required: false });
    expect(params.scope).toMatchObject({ style: 'form', explode: true, schema: { type: 'array', items: { type: 'string' } } });
    expect(params.offline_token.schema.type).toBe('boolean');
  });

  it('POST documents the OAuth2 form, and both answer the token JSON or registry errors', () => {
    const form = resolve(operation('post', '/v2/token').requestBody!.content['application/x-www-form-urlencoded'].schema);
    expect(propertiesOf(form)).toEqual(['access_type', 'client_id', 'grant_type', 'password', 'refresh_token', 'scope', 'service', 'username']);
    expect(form.properties.grant_type.enum).toEqual(['password', 'refresh_token']);
    expect(form.required).toEqual(['grant_type']);
    for (const method of ['get', 'post']) {
      const answer = responseSchema(method, '/v2/token', 200);
      expect(propertiesOf(answer)).toEqual(['access_token', 'expires_in', 'issued_at', 'refresh_token', 'token']);
      expect(answer.required.sort()).toEqual(['access_token', 'expires_in', 'issued_at', 'token']);
      expect(Object.keys(operation(method, '/v2/token').responses)).toEqual(expect.arrayContaining(['200', '401', '429']));
    }
    expect(operation('post', '/v2/token').responses).toHaveProperty('405');
  });

  it('real answers match: with a refresh token, anonymous, by form, and a refusal', async () => {
    const offline = await request(server, '/v2/token?service=wharf&scope=registry:catalog:*&offline_token=true&client_id=e2e', { auth: server.adminAuthorization });
    expectStatus(offline, 200);
    expectDocumented(offline, 'get', '/v2/token');
    // Every documented field is there when a refresh token is asked for: the class is the answer.
    expect(Object.keys(offline.json).sort()).toEqual(propertiesOf(responseSchema('get', '/v2/token', 200)));
    const anonymous = await request(server, '/v2/token?service=wharf', { auth: null });
    expectDocumented(anonymous, 'get', '/v2/token');
    const form = await request(server, '/v2/token', {
      method: 'POST',
      auth: null,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: offline.json.refresh_token, service: 'wharf', client_id: 'e2e' }).toString(),
    });
    expectDocumented(form, 'post', '/v2/token');
    const refused = await request(server, '/v2/token?service=wharf', { auth: basicAuthorization('admin', 'not-the-password') });
    expectStatus(refused, 401);
    expectDocumented(refused, 'get', '/v2/token');
    const unsupported = await request(server, '/v2/token', {
      method: 'POST',
      auth: null,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=magic',
    });
    expectStatus(unsupported, 405);
    expectDocumented(unsupported, 'post', '/v2/token');
  });
});

describe('answers match their schemas', () => {
  it('users: the created, read and listed views have exactly the documented properties', async () => {
    const created = await api('PUT', '/api/security/users/schema-alice', { password: 'schema-alice-password', email: 'alice@example.com' });
    expectStatus(created, 201);
    expectDocumented(created, 'put', '/api/security/users/{username}');
    expect(Object.keys(created.json).sort()).toEqual(propertiesOf(responseSchema('put', '/api/security/users/{username}', 201)));
    expectDocumented(await api('GET', '/api/security/users/schema-alice'), 'get', '/api/security/users/{username}');
    expectDocumented(await api('POST', '/api/security/users/schema-alice', { email: null }), 'post', '/api/security/users/{username}');
    expectDocumented(await api('GET', '/api/security/users'), 'get', '/api/security/users');
    expectDocumented(await api('DELETE', '/api/security/users/schema-alice'), 'delete', '/api/security/users/{username}');
  });

  it('access tokens: the create answer (with the secret and expiresInSeconds) and list entries', async () => {
    const created = await api('POST', '/api/security/tokens', { name: 'schema-token', repositories: ['*'], actions: ['read'], expiresInSeconds: 600 });
    expectStatus(created, 201);
    expectDocumented(created, 'post', '/api/security/tokens');
    expect(Object.keys(created.json).sort()).toEqual(propertiesOf(responseSchema('post', '/api/security/tokens', 201)));
    expect(created.json.expiresInSeconds).toBe(600);
    const list = await api('GET', '/api/security/tokens');
    expectDocumented(list, 'get', '/api/security/tokens');
    expect(Object.keys(list.json[0]).sort()).toEqual(propertiesOf(responseSchema('get', '/api/security/tokens', 200).items ?? {}));
    expectDocumented(await api('DELETE', `/api/security/tokens/${created.json.id}`), 'delete', '/api/security/tokens/{id}');
  });

  it('groups, permissions, password change, health, and problems', async () => {
    expectDocumented(await api('PUT', '/api/security/groups/schema-ci', { description: 'CI' }), 'put', '/api/security/groups/{name}');
    expectDocumented(await api('POST', '/api/security/groups/schema-ci', {}), 'post', '/api/security/groups/{name}');
    expectDocumented(await api('GET', '/api/security/groups'), 'get', '/api/security/groups');
    const permission = { repositories: ['schema-*'], principals: { groups: { 'schema-ci': ['read'] } } };
    const created = await api('PUT', '/api/security/permissions/schema-perm', permission);
    expectStatus(created, 201);
    expectDocumented(created, 'put', '/api/security/permissions/{name}');
    const replaced = await api('PUT', '/api/security/permissions/schema-perm', permission);
    expectStatus(replaced, 200);
    expectDocumented(replaced, 'put', '/api/security/permissions/{name}');
    expectDocumented(await api('GET', '/api/security/permissions/schema-perm'), 'get', '/api/security/permissions/{name}');
    expectDocumented(await api('DELETE', '/api/security/permissions/schema-perm'), 'delete', '/api/security/permissions/{name}');
    expectDocumented(await api('DELETE', '/api/security/groups/schema-ci'), 'delete', '/api/security/groups/{name}');

    expectStatus(await api('PUT', '/api/security/users/schema-bob', { password: 'schema-bob-password' }), 201);
    const bob = basicAuthorization('schema-bob', 'schema-bob-password');
    const changed = await api('POST', '/api/security/password', { currentPassword: 'schema-bob-password', newPassword: 'schema-bob-password-2' }, bob);
    expectStatus(changed, 204);
    expectDocumented(changed, 'post', '/api/security/password');

    expectDocumented(await request(server, '/health/live', { auth: null }), 'get', '/health/live');
    expectDocumented(await request(server, '/health/ready', { auth: null }), 'get', '/health/ready');

    // Refusals, each documented for its operation: 400 with errors, 403, 404, 409, 415.
    const invalid = await api('PUT', '/api/security/users/schema-carol', { password: 'short', role: 'god' });
    expectStatus(invalid, 400);
    expect(invalid.json.errors.length).toBeGreaterThan(0);
    expectDocumented(invalid, 'put', '/api/security/users/{username}');
    const forbidden = await api('GET', '/api/security/users', undefined, basicAuthorization('schema-bob', 'schema-bob-password-2'));
    expectStatus(forbidden, 403);
    expectDocumented(forbidden, 'get', '/api/security/users');
    expectDocumented(await api('GET', '/api/security/groups/no-such-group'), 'get', '/api/security/groups/{name}');
    expectDocumented(await api('PUT', '/api/security/users/schema-bob', { password: 'schema-bob-password' }), 'put', '/api/security/users/{username}');
    const notJson = await request(server, '/api/security/groups/schema-x', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expectStatus(notJson, 415);
    expectDocumented(notJson, 'put', '/api/security/groups/{name}');
  });
});

describe('Try it out', () => {
  /** The URL Swagger UI calls: the document's first server, resolved against where the document was served, plus the path. */
  function urlFor(path: string, params: Record<string, string> = {}): string {
    const base = new URL(doc.servers[0].url, `${server.baseUrl}/api/openapi.json`).toString().replace(/\/$/, '');
    return base + path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(params[name]));
  }

  /** The Authorization header Swagger UI sends for a requirement, from what was typed into "Authorize". */
  function authorize(requirement: SecurityRequirement, entered: { username: string; password: string; accessToken?: string }): string {
    const [name] = Object.keys(requirement);
    const scheme = doc.components.securitySchemes[name];
    expect(scheme.type).toBe('http');
    if (scheme.scheme === 'basic') return `Basic ${Buffer.from(`${entered.username}:${entered.password}`).toString('base64')}`;
    if (scheme.scheme === 'bearer' && entered.accessToken) return `Bearer ${entered.accessToken}`;
    throw new Error(`nothing entered for ${name}`);
  }

  async function call(method: string, path: string, authorization: string | undefined, params: Record<string, string> = {}, body?: unknown): Promise<HttpResult> {
    const res = await fetch(urlFor(path, params), {
      method: method.toUpperCase(),
      headers: { accept: 'application/json', ...(authorization ? { authorization } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const raw = Buffer.from(await res.arrayBuffer());
    return { status: res.status, headers: res.headers, body: raw, json: raw.length ? JSON.parse(raw.toString()) : undefined };
  }

  it('each scheme an operation declares works as Swagger UI sends it: Basic, then Bearer with an access token', async () => {
    const entered: { username: string; password: string; accessToken?: string } = { username: server.admin.username, password: server.admin.password };
    // An access token, made through the document too: its operation declares Basic only.
    const create = securityOf(operation('post', '/api/security/tokens'));
    expect(create).toEqual([{ basic: [] }]);
    const made = await call('post', '/api/security/tokens', authorize(create[0], entered), {}, { name: 'try-it-out', repositories: ['*'], actions: ['read'] });
    expectStatus(made, 201);
    entered.accessToken = made.json.token;

    const readUser = operation('get', '/api/security/users/{username}');
    const schemes = securityOf(readUser).map((req) => Object.keys(req)[0]);
    expect(schemes).toEqual(['basic', 'bearer']);
    for (const requirement of securityOf(readUser)) {
      const res = await call('get', '/api/security/users/{username}', authorize(requirement, entered), { username: entered.username });
      expectStatus(res, 200);
      expectDocumented(res, 'get', '/api/security/users/{username}');
    }
    for (const requirement of securityOf(operation('get', '/api/security/tokens'))) {
      expectStatus(await call('get', '/api/security/tokens', authorize(requirement, entered)), 200);
    }
    // The token endpoint takes either scheme, or none.
    for (const requirement of securityOf(operation('get', '/v2/token'))) {
      const authorization = Object.keys(requirement).length ? authorize(requirement, entered) : undefined;
      const res = await call('get', '/v2/token?service=wharf', authorization);
      expectStatus(res, 200);
    }
    // A Basic-only declaration is meant: the same access token as Bearer is refused there.
    expect(securityOf(operation('get', '/api/security/users'))).toEqual([{ basic: [] }]);
    expectStatus(await call('get', '/api/security/users', `Bearer ${entered.accessToken}`), 403);
    expectStatus(await call('get', '/api/security/users', authorize({ basic: [] }, entered)), 200);
  });

  it('Swagger UI is served at /api/docs with the document that declares the schemes', async () => {
    const page = await request(server, '/api/docs', { auth: null });
    expectStatus(page, 200);
    expect(page.body.toString()).toContain('swagger-ui');
    const init = await request(server, '/api/docs/swagger-ui-init.js', { auth: null });
    expectStatus(init, 200);
    expect(init.body.toString()).toContain('"securitySchemes"');
  });
});
