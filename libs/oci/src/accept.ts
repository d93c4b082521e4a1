/**
 * Accept negotiation for manifests. Clients send one Accept header per type or a
 * comma-separated list; no Accept, or a wildcard, accepts anything.
 */
export function parseAccept(headers: string | string[] | undefined): string[] {
  const values = Array.isArray(headers) ? headers : headers ? [headers] : [];
  return values
    .flatMap((v) => v.split(','))
    .map((v) => v.split(';')[0].trim().toLowerCase())
    .filter((v) => v.length > 0);
}

export function accepts(accepted: string[], mediaType: string): boolean {
  if (accepted.length === 0) return true;
  return accepted.some((a) => a === '*/*' || a === 'application/*' || a === 'application/json' || a === mediaType);
}
