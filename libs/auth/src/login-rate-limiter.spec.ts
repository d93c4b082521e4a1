import { loadConfig } from '@wharf/config';
import { Clock } from './clock';
import { LoginRateLimiter } from './login-rate-limiter';

class FakeClock extends Clock {
  t = 1_000_000;
  now(): number {
    return this.t;
  }
}

function refusal(run: () => void): { code?: string; headers?: Record<string, string> } | undefined {
  try {
    run();
    return undefined;
  } catch (err) {
    return err as { code?: string; headers?: Record<string, string> };
  }
}

describe('LoginRateLimiter', () => {
  const config = loadConfig({
    WHARF_LOGIN_MAX_FAILURES: '3',
    WHARF_LOGIN_MAX_FAILURES_PER_USER: '5',
    WHARF_LOGIN_MAX_FAILURES_PER_ADDRESS: '8',
    WHARF_LOGIN_WINDOW_SECONDS: '60',
  });

  it('refuses a (user, address) pair after its limit, with Retry-After, until the window passes', () => {
    const clock = new FakeClock();
    const limiter = new LoginRateLimiter(config, clock);
    for (let i = 0; i < 3; i++) {
      limiter.assertAllowed('alice', '10.0.0.1');
      limiter.recordFailure('alice', '10.0.0.1');
      clock.t += 1000;
    }
    const error = refusal(() => limiter.assertAllowed('alice', '10.0.0.1'));
    expect(error?.code).toBe('TOOMANYREQUESTS');
    expect(Number(error?.headers?.['Retry-After'])).toBe(57);
    limiter.assertAllowed('alice', '10.0.0.2');
    limiter.assertAllowed('bob', '10.0.0.1');
    clock.t += 58_000;
    expect(() => limiter.assertAllowed('alice', '10.0.0.1')).not.toThrow();
  });

  it('the default figures: 10 per pair, 50 per user, 100 per address', () => {
    const defaults = loadConfig({});
    expect([defaults.loginMaxFailures, defaults.loginMaxFailuresPerUser, defaults.loginMaxFailuresPerAddress]).toEqual([10, 50, 100]);
  });

  it('past the per-user limit, only the addresses that failed for that user are refused', () => {
    const limiter = new LoginRateLimiter(config, new FakeClock());
    for (let i = 1; i <= 5; i++) limiter.recordFailure('alice', `10.0.1.${i}`);
    expect(refusal(() => limiter.assertAllowed('alice', '10.0.1.1'))?.code).toBe('TOOMANYREQUESTS');
    expect(() => limiter.assertAllowed('alice', '10.0.1.9')).not.toThrow();
    expect(() => limiter.assertAllowed('bob', '10.0.1.1')).not.toThrow();
  });

  it('below the per-user limit, one failure from an address refuses nothing', () => {
    const limiter = new LoginRateLimiter(config, new FakeClock());
    for (let i = 1; i <= 4; i++) limiter.recordFailure('alice', `10.0.2.${i}`);
    expect(() => limiter.assertAllowed('alice', '10.0.2.1')).not.toThrow();
  });

  it('past the per-address limit, only the user names that failed there are refused', () => {
    const limiter = new LoginRateLimiter(config, new FakeClock());
    for (let i = 1; i <= 8; i++) limiter.recordFailure(`user${i}`, '192.0.2.1');
    expect(refusal(() => limiter.assertAllowed('user1', '192.0.2.1'))?.code).toBe('TOOMANYREQUESTS');
    expect(() => limiter.assertAllowed('admin', '192.0.2.1')).not.toThrow();
    expect(() => limiter.assertAllowed('user1', '192.0.2.2')).not.toThrow();
  });

  it('bare access tokens count as the name "" at their address', () => {
    const limiter = new LoginRateLimiter(config, new FakeClock());
    for (let i = 0; i < 3; i++) limiter.recordFailure(undefined, '192.0.2.7');
    expect(refusal(() => limiter.assertAllowed(undefined, '192.0.2.7'))?.code).toBe('TOOMANYREQUESTS');
    expect(() => limiter.assertAllowed('alice', '192.0.2.7')).not.toThrow();
  });

  it("forgets a pair's failures after its success, not the crowd's", () => {
    const limiter = new LoginRateLimiter(config, new FakeClock());
    limiter.recordFailure('alice', '1');
    limiter.recordFailure('alice', '1');
    limiter.recordSuccess('alice', '1');
    limiter.recordFailure('alice', '1');
    expect(() => limiter.assertAllowed('alice', '1')).not.toThrow();
    for (let i = 2; i <= 5; i++) limiter.recordFailure('alice', String(i));
    expect(refusal(() => limiter.assertAllowed('alice', '1'))?.code).toBe('TOOMANYREQUESTS');
  });
});
