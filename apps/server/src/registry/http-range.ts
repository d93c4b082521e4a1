import { ByteRange } from '@wharf/storage';

/**
 * Parses a single-range `Range: bytes=a-b` (or `bytes=a-`, `bytes=-n`) against a blob size.
 * Returns undefined for no header, or 'unsatisfiable' when it cannot be served.
 */
export function parseRangeHeader(header: string | undefined, size: number): ByteRange | undefined | 'unsatisfiable' {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return 'unsatisfiable';
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/**
 * Parses an upload chunk's `Content-Range: <start>-<end>` (the distribution spec's form,
 * without a unit; `bytes ` and a `/total` suffix are tolerated). Returns null when malformed.
 */
export function parseContentRange(header: string | undefined): ByteRange | undefined | null {
  if (header === undefined) return undefined;
  const match = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (!match) return null;
  const range = { start: Number(match[1]), end: Number(match[2]) };
  return range.end < range.start ? null : range;
}
