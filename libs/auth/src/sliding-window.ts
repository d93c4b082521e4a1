/**
 * The sliding window approximation of request limits (as Cloudflare's and nginx's limiters
 * count): fixed windows aligned to the epoch hold the counts, and the rate at any moment is the
 * current window's count plus the previous window's, weighted by the share of it that a window
 * ending now still covers. Two counters per subject instead of a timestamp per request, and no
 * burst of twice the limit across a window boundary as plain fixed windows allow.
 */
export interface WindowPosition {
  /** Start of the fixed window `now` falls in, and of the one before (epoch ms). */
  start: number;
  previousStart: number;
  /** How much of the previous window still counts: 1 at the start of the current one, 0 at its end. */
  previousWeight: number;
}

export interface SlidingCounts {
  current: number;
  previous: number;
}

export function windowAt(now: number, windowSeconds: number): WindowPosition {
  const length = windowSeconds * 1000;
  const start = Math.floor(now / length) * length;
  return { start, previousStart: start - length, previousWeight: 1 - (now - start) / length };
}

/** Requests left before the limit, at this moment, rounded down. */
export function remaining(limit: number, counts: SlidingCounts, previousWeight: number): number {
  return Math.max(0, Math.floor(limit - counts.current - counts.previous * previousWeight + 1e-9));
}

/**
 * Whole seconds until one more request fits under `limit` if none is made meanwhile (at least
 * 1): within this window while the previous one's weight fades, or, when this window alone is
 * full, into the next one until this window's weight has faded enough.
 */
export function secondsUntilAllowed(limit: number, counts: SlidingCounts, previousWeight: number, windowSeconds: number): number {
  const { current, previous } = counts;
  let seconds: number;
  if (current + 1 <= limit) {
    const weightThatFits = previous > 0 ? (limit - 1 - current) / previous : 1;
    seconds = Math.max(0, previousWeight - weightThatFits) * windowSeconds;
  } else {
    seconds = previousWeight * windowSeconds + (1 - (limit - 1) / current) * windowSeconds;
  }
  return Math.max(1, Math.ceil(seconds - 1e-9));
}
