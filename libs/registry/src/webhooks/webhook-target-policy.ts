import { LookupAddress, LookupOptions, lookup } from 'node:dns';
import { isIP } from 'node:net';

/**
 * Where webhooks may send (SSRF): http(s) URLs to public addresses only, unless
 * WHARF_WEBHOOK_ALLOW_PRIVATE is set. The URL's text is checked when a webhook is saved; the
 * addresses its host name resolves to are checked on every attempt, by the lookup the
 * connection itself uses, so a name that resolves (or is re-pointed) to 127.0.0.1, 10.x,
 * 169.254.169.254 or ::1 is refused at delivery, and the address checked is the one connected to.
 */

/** Address ranges that are not the public internet, by name (IPv4, then IPv6). */
const V4_RANGES: Array<[string, number, string]> = [
  ['0.0.0.0', 8, 'a "this network" address'],
  ['10.0.0.0', 8, 'a private address'],
  ['100.64.0.0', 10, 'a shared (carrier-grade NAT) address'],
  ['127.0.0.0', 8, 'a loopback address'],
  ['169.254.0.0', 16, 'a link-local address (cloud metadata lives there)'],
  ['172.16.0.0', 12, 'a private address'],
  ['192.0.0.0', 24, 'an IETF protocol address'],
  ['192.0.2.0', 24, 'a documentation address'],
  ['192.88.99.0', 24, 'a 6to4 relay address'],
  ['192.168.0.0', 16, 'a private address'],
  ['198.18.0.0', 15, 'a benchmarking address'],
  ['198.51.100.0', 24, 'a documentation address'],
  ['203.0.113.0', 24, 'a documentation address'],
  ['224.0.0.0', 4, 'a multicast address'],
  ['240.0.0.0', 4, 'a reserved address'],
];
const V6_RANGES: Array<[string, number, string]> = [
  ['::', 128, 'the unspecified address'],
  ['::1', 128, 'a loopback address'],
  ['100::', 64, 'a discard address'],
  ['2001::', 32, 'a Teredo address'],
  ['2001:db8::', 32, 'a documentation address'],
  ['fc00::', 7, 'a unique local (private) address'],
  ['fe80::', 10, 'a link-local address'],
  ['fec0::', 10, 'a site-local address'],
  ['ff00::', 8, 'a multicast address'],
];
/** IPv6 forms that carry an IPv4 address: judged by that address. */
const V6_EMBEDDING_V4: Array<[string, number, number]> = [
  ['::ffff:0:0', 96, 12], // IPv4-mapped
  ['::', 96, 12], // IPv4-compatible (deprecated)
  ['64:ff9b::', 96, 12], // NAT64
  ['2002::', 16, 2], // 6to4
];

/**
 * Why `address` (an IP literal) is not a public one: "a loopback address", ...; null when it is
 * public. Anything that does not parse is refused too.
 */
export function nonPublicReason(address: string): string | null {
  const bytes = parseIp(address);
  if (!bytes) return 'not an IP address';
  if (bytes.length === 4) return matchRanges(bytes, V4_RANGES);
  for (const [prefix, bits, offset] of V6_EMBEDDING_V4) {
    if (bits === 128 || !inRange(bytes, parseIp(prefix)!, bits)) continue;
    // `::` itself and `::1` are their own cases, not IPv4-compatible addresses.
    if (prefix === '::' && bytes.slice(12).every((b, i) => (i < 3 ? b === 0 : b <= 1))) continue;
    const reason = matchRanges(bytes.slice(offset, offset + 4), V4_RANGES);
    return reason && `${reason} (inside an IPv6 one)`;
  }
  return matchRanges(bytes, V6_RANGES);
}

/** What is wrong with a webhook URL as written, or null. Host names are checked when delivering. */
export function urlProblem(raw: string, allowPrivate: boolean): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be http or https, not ${url.protocol.replace(/:$/, '')}`;
  if (url.username || url.password) return 'must not carry credentials (receivers check the X-Wharf-Signature instead)';
  if (allowPrivate) return null;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const reason = isIP(host) ? nonPublicReason(host) : isLocalName(host) ? 'a loopback name' : null;
  return reason && `points at ${host}, ${reason}: webhooks to private networks are refused unless WHARF_WEBHOOK_ALLOW_PRIVATE=true`;
}

/** The refusal of an address a webhook's host resolved to. */
export class PrivateTargetError extends Error {
  readonly code = 'WHARF_PRIVATE_TARGET';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net.connect (undici's connect option) that refuses non-public addresses: every
 * address a name resolves to must be public, since the connection may use any of them.
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    lookup(hostname, { family: options.family ?? 0, hints: options.hints, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      if (!allowPrivate) {
        for (const { address } of addresses) {
          const reason = nonPublicReason(address);
          if (reason) {
            return callback(
              new PrivateTargetError(`${hostname} resolves to ${address}, ${reason}: webhooks to private networks are refused unless WHARF_WEBHOOK_ALLOW_PRIVATE=true`),
              [],
            );
          }
        }
      }
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

/** `localhost` and its subdomains (RFC 6761) are loopback whatever a resolver says. */
function isLocalName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

function matchRanges(bytes: number[], ranges: Array<[string, number, string]>): string | null {
  for (const [prefix, bits, reason] of ranges) if (inRange(bytes, parseIp(prefix)!, bits)) return reason;
  return null;
}

function inRange(bytes: number[], prefix: number[], bits: number): boolean {
  if (bytes.length !== prefix.length) return false;
  for (let i = 0; i < bits; i += 1) {
    const mask = 0x80 >> (i % 8);
    if ((bytes[i >> 3] & mask) !== (prefix[i >> 3] & mask)) return false;
  }
  return true;
}

/** The address's bytes (4 or 16), or null. */
function parseIp(address: string): number[] | null {
  const version = isIP(address);
  if (version === 4) return address.split('.').map(Number);
  if (version !== 6) return null;
  let text = address.replace(/%.*$/, '');
  // A dotted IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1].split('.').map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return groups.flatMap((group) => {
    const value = Number.parseInt(group, 16);
    return [value >> 8, value & 0xff];
  });
}
