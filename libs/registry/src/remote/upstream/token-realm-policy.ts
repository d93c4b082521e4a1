/**
 * Whether a token realm, which comes from the upstream's own 401 answer, may receive the
 * configured credentials: only the upstream's origin itself or an allow-listed host. Otherwise a
 * hostile or compromised upstream could point the realm anywhere and harvest them. An
 * allow-listed realm over plain HTTP is refused when the upstream itself is HTTPS (no downgrade).
 */
export function realmMayReceiveCredentials(realm: URL, upstream: URL, allowList: readonly string[]): boolean {
  if (realm.origin === upstream.origin) return true;
  if (realm.protocol !== 'https:' && upstream.protocol === 'https:') return false;
  const hostname = realm.hostname.toLowerCase();
  const hostAndPort = `${hostname}:${realm.port || defaultPort(realm.protocol)}`;
  return allowList.some((raw) => {
    // Parsed here too: entries stored before they were normalised may be origins.
    const entry = parseRealmAllowEntry(raw);
    if ('problem' in entry) return false;
    // An entry with a port names one port; a bare host (or [v6] literal) names the host on any port.
    return entry.host.includes(':', entry.host.lastIndexOf(']') + 1) ? entry.host === hostAndPort : entry.host === hostname;
  });
}

/** An allow-list entry in its stored form (`host` or `host:port`), or why it names no host. */
export type RealmAllowEntry = { host: string } | { problem: string };

// Lower case after URL parsing, which also turns international names into xn-- labels.
const HOSTNAME = /^(?:\[[0-9a-f:.]+\]|[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*)$/;
const HOST_PORT = /^(\[[^\]]*\]|[^:]*)(?::(\d{1,5}))?$/;
const PATH_PROBLEM = 'has a path, query or fragment: a realm is matched by host (and port) only, so give just the host or the origin';

/**
 * Reads a tokenRealmAllowList entry: `host`, `host:port`, `[v6]` or `[v6]:port`, or an origin
 * written as a URL (`https://auth.example.com`, a trailing `/` allowed), which names its host and
 * its port (443 or 80 when none is written). A URL with a path, query or credentials is
 * refused rather than cut down: the policy matches hosts only, and a path that is silently
 * ignored would suggest it narrows what is allowed.
 */
export function parseRealmAllowEntry(raw: string): RealmAllowEntry {
  const entry = raw.trim();
  if (entry === '') return { problem: 'is empty' };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(entry)) return parseOrigin(entry);
  if (/[/?#]/.test(entry)) return { problem: PATH_PROBLEM };
  if (/[@\\\s]/.test(entry)) return { problem: 'is not a host, host:port or https:// origin' };
  const match = HOST_PORT.exec(entry);
  if (!match) return { problem: 'is not a host, host:port or https:// origin' };
  const hostname = canonicalHostname(match[1]);
  if (!hostname) return { problem: 'is not a host, host:port or https:// origin' };
  const port = match[2];
  if (port !== undefined && !validPort(Number(port))) return { problem: `has port ${port}, outside 1-65535` };
  return { host: port === undefined ? hostname : `${hostname}:${Number(port)}` };
}

function parseOrigin(entry: string): RealmAllowEntry {
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return { problem: 'is not a valid URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { problem: `has scheme ${url.protocol.slice(0, -1)}: only http(s) origins name a realm host` };
  if (url.username || url.password) return { problem: 'carries credentials' };
  if (url.pathname !== '/' || url.search || url.hash) {
    return { problem: PATH_PROBLEM };
  }
  if (!HOSTNAME.test(url.hostname)) return { problem: 'is not a host, host:port or https:// origin' };
  return { host: `${url.hostname}:${url.port || defaultPort(url.protocol)}` };
}

function canonicalHostname(host: string): string | null {
  if (host === '') return null;
  try {
    const hostname = new URL(`http://${host}/`).hostname;
    return HOSTNAME.test(hostname) ? hostname : null;
  } catch {
    return null;
  }
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

function defaultPort(protocol: string): string {
  return protocol === 'https:' ? '443' : '80';
}
