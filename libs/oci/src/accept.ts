/**
 * Accept negotiation for manifests. Clients send one Accept header per type or a
 * comma-separated list; no Accept, or a wildcard, accepts anything.
 */
export function parseAccept(headers: string | string[] | undefined): string[] {
  if (typeof headers === 'string') return parsedOnce(headers);
  const values = Array.isArray(headers) ? headers : [];
  return values
    .flatMap((v) => v.split(','))
    .map(mediaRange)
    .filter((v) => v.length > 0);
}

/**
 * A client sends the same Accept header on every request; parsing it showed in the profile
 * of the manifest load. Bounded: cleared when full, so odd headers cannot grow it.
 */
const PARSED = new Map<string, string[]>();
const PARSED_LIMIT = 256;

function parsedOnce(header: string): string[] {
  let parsed = PARSED.get(header);
  if (!parsed) {
    parsed = Object.freeze(
      header
        .split(',')
        .map(mediaRange)
        .filter((v) => v.length > 0),
    ) as string[];
    if (PARSED.size >= PARSED_LIMIT) PARSED.clear();
    PARSED.set(header, parsed);
  }
  return parsed;
}

function mediaRange(value: string): string {
  return value.split(';')[0].trim().toLowerCase();
}

export function accepts(accepted: string[], mediaType: string): boolean {
  if (accepted.length === 0) return true;
  return accepted.some((a) => a === '*/*' || a === 'application/*' || a === 'application/json' || a === mediaType);
}
