import { createHash, randomBytes } from 'node:crypto';

/**
 * Access token secrets: `wharf_<token id, 32 hex>_<32 random bytes, 43 base64url>`. The id lets
 * the server find the row with one lookup; the random part is what proves possession. The
 * prefix makes leaked tokens easy to recognize (secret scanners, logs).
 */
const TOKEN_PATTERN = /^wharf_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ParsedAccessToken {
  /** The token row's id, a uuid with dashes. */
  tokenId: string;
  /** The random part, compared through its hash. */
  secret: string;
}

/** A fresh random part: 256 bits. */
export function generateAccessTokenSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** The whole token shown to the user, once. */
export function formatAccessToken(tokenId: string, secret: string): string {
  if (!UUID_PATTERN.test(tokenId)) throw new Error('access token id must be a uuid');
  return `wharf_${tokenId.replace(/-/g, '').toLowerCase()}_${secret}`;
}

/** The id and random part of a token, or null when it is not shaped like one. */
export function parseAccessTokenSecret(token: string): ParsedAccessToken | null {
  const match = TOKEN_PATTERN.exec(token);
  if (!match) return null;
  const hex = match[1];
  const tokenId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { tokenId, secret: match[2] };
}

/** sha256 hex of the random part: 256 bits of entropy need no slow hash. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}
