/**
 * The UI's one way to the REST API: same-origin fetch with the session cookie, the session's
 * CSRF token on every change, and the API's problem answers turned into ApiError.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

let csrfToken: string | undefined;

/** Set by the session on sign-in and on load; changes made without it are refused with 403. */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  // X-Requested-With: a 401 then challenges with a scheme browsers do not answer with their own password dialog.
  const headers: Record<string, string> = { Accept: 'application/json', 'X-Requested-With': 'XMLHttpRequest' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const json = text ? parse(text) : undefined;
  if (!res.ok) throw new ApiError(res.status, problemMessage(json) ?? `${res.status} ${res.statusText}`, json?.code ?? json?.errors?.[0]?.code);
  return json as T;
}

function parse(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// The REST API answers RFC 9457 problems ({title, detail}); registry-style errors come as {errors: [{message}]}.
function problemMessage(json: any): string | undefined {
  if (!json) return undefined;
  if (Array.isArray(json.errors) && typeof json.errors[0] === 'string') return json.errors.join('; ');
  return json.detail ?? json.errors?.[0]?.message ?? json.message ?? json.title;
}

export const get = <T>(path: string) => api<T>('GET', path);
export const send = <T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown) => api<T>(method, path, body);

/** Builds `/api/...` paths with query strings, leaving out empty values. */
export function apiPath(path: string, query: Record<string, string | number | boolean | undefined | null> = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}
