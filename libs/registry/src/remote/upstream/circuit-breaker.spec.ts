import { CircuitBreaker } from './circuit-breaker';

describe('CircuitBreaker', () => {
  let t: number;
  const now = () => t;
  beforeEach(() => (t = 1_000_000));

  it('opens after the threshold of consecutive failures, and a success resets the count', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 3, openMs: 1000, now });
    breaker.recordFailure();
    breaker.recordFailure();
    breaker.recordSuccess();
    breaker.recordFailure();
    breaker.recordFailure();
    expect(breaker.state).toBe('closed');
    expect(breaker.canRequest()).toBe(true);
    breaker.recordFailure();
    expect(breaker.state).toBe('open');
    expect(breaker.canRequest()).toBe(false);
  });

  it('lets exactly one probe through after openMs; its success closes the circuit', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, openMs: 1000, now });
    breaker.recordFailure();
    t += 999;
    expect(breaker.canRequest()).toBe(false);
    t += 1;
    expect(breaker.state).toBe('half-open');
    expect(breaker.canRequest()).toBe(true);
    expect(breaker.canRequest()).toBe(false); // a second caller while the probe is out
    breaker.recordSuccess();
    expect(breaker.state).toBe('closed');
    expect(breaker.canRequest()).toBe(true);
    expect(breaker.canRequest()).toBe(true);
  });

  it('re-opens for another openMs when the probe fails', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2, openMs: 1000, now });
    breaker.recordFailure();
    breaker.recordFailure();
    t += 1000;
    expect(breaker.canRequest()).toBe(true);
    breaker.recordFailure(); // one failure is enough in half-open
    expect(breaker.state).toBe('open');
    t += 500;
    expect(breaker.canRequest()).toBe(false);
    t += 500;
    expect(breaker.canRequest()).toBe(true);
  });

  it('does not stay wedged when a probe never reports back', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, openMs: 1000, now });
    breaker.recordFailure();
    t += 1000;
    expect(breaker.canRequest()).toBe(true);
    t += 999;
    expect(breaker.canRequest()).toBe(false);
    t += 1;
    expect(breaker.canRequest()).toBe(true);
  });
});
