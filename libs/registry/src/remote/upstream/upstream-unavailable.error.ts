export type UpstreamUnavailableReason = 'network' | 'timeout' | 'circuit-open' | 'protocol' | 'closed';

/**
 * The upstream could not give an answer: connection failure, timeout, open circuit breaker,
 * a broken redirect chain, or a closed client. Callers usually map it to UNAVAILABLE or fall
 * back to what is cached. An upstream that answers, even with a 5xx, is a response instead.
 */
export class UpstreamUnavailableError extends Error {
  override readonly name = 'UpstreamUnavailableError';
  readonly reason: UpstreamUnavailableReason;
  /** The upstream origin (never with credentials). */
  readonly upstream?: string;
  /** Whether another attempt could help (connection errors and timeouts). */
  readonly retryable: boolean;

  constructor(message: string, options: { reason?: UpstreamUnavailableReason; upstream?: string; retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.reason = options.reason ?? 'network';
    this.upstream = options.upstream;
    this.retryable = options.retryable ?? false;
  }
}
