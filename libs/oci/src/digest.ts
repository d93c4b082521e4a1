import { RegistryError } from './registry-error';

export type DigestAlgorithm = 'sha256' | 'sha512';

/** A validated digest: `algorithm:hex`, with the hex length the algorithm demands. */
export interface Digest {
  readonly algorithm: DigestAlgorithm;
  readonly hex: string;
  /** The canonical `algorithm:hex` string. */
  readonly value: string;
}

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
const DIGEST_PATTERN = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

/** Parses a digest string, or returns null when it is malformed or of an unsupported algorithm. */
export function tryParseDigest(input: string): Digest | null {
  const match = DIGEST_PATTERN.exec(input);
  if (!match) return null;
  const algorithm = match[1] as DigestAlgorithm;
  const expected = HEX_LENGTH[algorithm];
  const hex = match[2];
  if (!expected || hex.length !== expected || !/^[a-f0-9]+$/.test(hex)) return null;
  return { algorithm, hex, value: `${algorithm}:${hex}` };
}

/** Parses a digest string or throws DIGEST_INVALID naming the bad input. */
export function parseDigest(input: string): Digest {
  const digest = tryParseDigest(input);
  if (!digest) {
    throw new RegistryError('DIGEST_INVALID', `invalid digest "${truncate(input)}": expected sha256:<64 hex> or sha512:<128 hex>`);
  }
  return digest;
}

export function isDigestLike(reference: string): boolean {
  return reference.includes(':');
}

function truncate(s: string): string {
  return s.length > 140 ? `${s.slice(0, 140)}…` : s;
}
