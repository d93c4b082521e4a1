import { guardedLookup, nonPublicReason, urlProblem } from './webhook-target-policy';

describe('webhook target policy', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'carrier-grade'],
    ['0.0.0.0', 'this network'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fd00::1', 'unique local'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['2002:7f00:1::', 'loopback'],
  ])('refuses %s (%s)', (address, kind) => {
    expect(nonPublicReason(address)).toContain(kind);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '192.169.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '2002:808:808::'])('lets %s through', (address) => {
    expect(nonPublicReason(address)).toBeNull();
  });

  it('checks URLs as written: scheme, credentials, literal addresses and localhost, in any spelling the URL parser reads', () => {
    expect(urlProblem('https://hooks.example.com/wharf', false)).toBeNull();
    expect(urlProblem('ftp://hooks.example.com/', false)).toContain('http or https');
    expect(urlProblem('not a url', false)).toContain('not a URL');
    expect(urlProblem('https://user:pw@hooks.example.com/', false)).toContain('credentials');
    expect(urlProblem('http://127.0.0.1:9000/', false)).toContain('loopback');
    expect(urlProblem('http://2130706433/', false)).toContain('loopback');
    expect(urlProblem('http://0x7f.1/', false)).toContain('loopback');
    expect(urlProblem('http://[::1]/', false)).toContain('loopback');
    expect(urlProblem('http://[::ffff:169.254.169.254]/', false)).toContain('link-local');
    expect(urlProblem('http://LOCALHOST./', false)).toContain('loopback');
    expect(urlProblem('http://hooks.localhost/', false)).toContain('loopback');
    expect(urlProblem('http://10.0.0.5/', false)).toContain('WHARF_WEBHOOK_ALLOW_PRIVATE=true');
    expect(urlProblem('http://10.0.0.5/', true)).toBeNull();
    expect(urlProblem('http://localhost:9000/', true)).toBeNull();
  });

  it('refuses a name that resolves to a private address when connecting, and answers in both lookup styles otherwise', async () => {
    const resolve = (allow: boolean, all: boolean) =>
      new Promise<unknown>((done) => guardedLookup(allow)('localhost', { all }, (err, address, family) => done(err ?? { address, family })));
    expect(String(await resolve(false, true))).toMatch(/localhost resolves to (127\.0\.0\.1|::1), a loopback address/);
    expect(await resolve(true, true)).toEqual({ address: expect.arrayContaining([expect.objectContaining({ address: expect.any(String) })]), family: undefined });
    expect(await resolve(true, false)).toEqual({ address: expect.any(String), family: expect.any(Number) });
  });
});
