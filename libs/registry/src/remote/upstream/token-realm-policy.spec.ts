import { realmMayReceiveCredentials } from './token-realm-policy';

describe('realmMayReceiveCredentials', () => {
  const hub = new URL('https://registry-1.docker.io');

  it('trusts the upstream origin itself', () => {
    expect(realmMayReceiveCredentials(new URL('https://registry-1.docker.io/token'), hub, [])).toBe(true);
    // same host, other port or scheme: another origin
    expect(realmMayReceiveCredentials(new URL('https://registry-1.docker.io:8443/token'), hub, [])).toBe(false);
  });

  it('trusts allow-listed hosts only, by host (any port) or host:port', () => {
    expect(realmMayReceiveCredentials(new URL('https://auth.docker.io/token'), hub, ['auth.docker.io'])).toBe(true);
    expect(realmMayReceiveCredentials(new URL('https://AUTH.docker.io:444/token'), hub, ['auth.docker.io'])).toBe(true);
    expect(realmMayReceiveCredentials(new URL('https://auth.docker.io:444/token'), hub, ['auth.docker.io:443'])).toBe(false);
    expect(realmMayReceiveCredentials(new URL('https://evil.example/token'), hub, ['auth.docker.io'])).toBe(false);
    expect(realmMayReceiveCredentials(new URL('https://auth.docker.io.evil.example/token'), hub, ['auth.docker.io'])).toBe(false);
  });

  it('refuses a plain-HTTP realm for an HTTPS upstream even when allow-listed', () => {
    expect(realmMayReceiveCredentials(new URL('http://auth.docker.io/token'), hub, ['auth.docker.io'])).toBe(false);
  });
});
