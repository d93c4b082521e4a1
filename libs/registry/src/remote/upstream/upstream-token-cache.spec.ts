import { UpstreamTokenCache } from './upstream-token-cache';

describe('UpstreamTokenCache', () => {
  it('keeps a token until its lifetime minus the safety margin', async () => {
    let t = 0;
    const cache = new UpstreamTokenCache(() => t);
    await cache.obtain('s', async () => ({ token: 'abc', lifetimeMs: 300_000 }));
    t = 289_999;
    expect(cache.peek('s')).toBe('abc');
    t = 290_000;
    expect(cache.peek('s')).toBeUndefined();
  });

  it('shares one fetch between concurrent callers and caches nothing when refused', async () => {
    const cache = new UpstreamTokenCache(() => 0);
    const fetch = jest.fn(async () => ({ token: 'abc', lifetimeMs: 60_000 }));
    expect(await Promise.all([cache.obtain('s', fetch), cache.obtain('s', fetch)])).toEqual(['abc', 'abc']);
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(await cache.obtain('other', async () => undefined)).toBeUndefined();
    expect(cache.peek('other')).toBeUndefined();
  });

  it('invalidates only the token that was rejected', async () => {
    const cache = new UpstreamTokenCache(() => 0);
    await cache.obtain('s', async () => ({ token: 'new', lifetimeMs: 60_000 }));
    cache.invalidate('s', 'old');
    expect(cache.peek('s')).toBe('new');
    cache.invalidate('s', 'new');
    expect(cache.peek('s')).toBeUndefined();
  });
});
