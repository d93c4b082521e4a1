import { loadConfig } from '@wharf/config';
import { Clock } from './clock';
import { LoginRateLimiter } from './login-rate-limiter';

class FakeClock extends Clock {
  t = 1_000_000;
  now(): number {
    return this.t;
  }
}

describe('LoginRateLimiter', () => {
  const config = loadConfig({ WHARF_LOGIN_MAX_FAILURES: '3', WHARF_LOGIN_WINDOW_SECONDS: '60' });

  it('refuses a user after the limit, with Retry-After, until the window passes', () => {
    const clock = new FakeClock();
    const limiter = new LoginRateLimiter(config, clock);
    for (let i = 0; i < 3; i++) {
      limiter.assertAllowed('alice', `10.0.0.${i}`);
      limiter.recordFailure('alice', `10.0.0.${i}`);
    }
    let error: any;
    try {
      limiter.assertAllowed('alice', '10.0.0.9');
    } catch (err) {
      error = err;
    }
    expect(error?.code).toBe('TOOMANYREQUESTS');
    expect(Number(error.headers['Retry-After'])).toBe(60);
    limiter.assertAllowed('bob', '10.0.0.9');
    clock.t += 61_000;
    expect(() => limiter.assertAllowed('alice', '10.0.0.9')).not.toThrow();
  });

  it('refuses an address that tries many user names', () => {
    const limiter = new LoginRateLimiter(config, new FakeClock());
    for (const user of ['a', 'b', 'c']) limiter.recordFailure(user, '192.0.2.1');
    expect(() => limiter.assertAllowed('d', '192.0.2.1')).toThrow(expect.objectContaining({ code: 'TOOMANYREQUESTS' }));
    expect(() => limiter.assertAllowed('d', '192.0.2.2')).not.toThrow();
  });

  it('forgets a user\'s failures after a success', () => {
    const limiter = new LoginRateLimiter(config, new FakeClock());
    limiter.recordFailure('alice', '1');
    limiter.recordFailure('alice', '2');
    limiter.recordSuccess('alice');
    limiter.recordFailure('alice', '3');
    expect(() => limiter.assertAllowed('alice', '4')).not.toThrow();
  });
});
