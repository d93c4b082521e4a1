import { parseRealmAllowEntry, realmMayReceiveCredentials } from './token-realm-policy';

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

  it('matches host:port against the port a realm URL leaves implicit', () => {
    expect(realmMayReceiveCredentials(new URL('https://auth.docker.io/token'), hub, ['auth.docker.io:443'])).toBe(true);
    expect(realmMayReceiveCredentials(new URL('https://[::1]:5001/token'), hub, ['[::1]:5001'])).toBe(true);
    expect(realmMayReceiveCredentials(new URL('https://[::1]:5002/token'), hub, ['[::1]'])).toBe(true);
  });

  it('matches entries stored as origins before they were normalised, and never ones that name no host', () => {
    expect(realmMayReceiveCredentials(new URL('https://auth.docker.io/token'), hub, ['https://auth.docker.io'])).toBe(true);
    expect(realmMayReceiveCredentials(new URL('https://auth.docker.io/token'), hub, ['https://auth.docker.io/'])).toBe(true);
    expect(realmMayReceiveCredentials(new URL('https://auth.docker.io:8443/token'), hub, ['https://auth.docker.io'])).toBe(false);
    expect(realmMayReceiveCredentials(new URL('https://auth.docker.io/token'), hub, ['https://auth.docker.io/token', '*.docker.io', ''])).toBe(false);
  });

  it('refuses a plain-HTTP realm for an HTTPS upstream even when allow-listed', () => {
    expect(realmMayReceiveCredentials(new URL('http://auth.docker.io/token'), hub, ['auth.docker.io'])).toBe(false);
    expect(realmMayReceiveCredentials(new URL('http://auth.docker.io/token'), hub, ['http://auth.docker.io'])).toBe(false);
  });
});

describe('parseRealmAllowEntry', () => {
  it.each([
    ['auth.docker.io', 'auth.docker.io'],
    ['  Auth.Docker.IO ', 'auth.docker.io'],
    ['auth.example.com:5001', 'auth.example.com:5001'],
    ['127.0.0.1:8080', '127.0.0.1:8080'],
    ['[::1]', '[::1]'],
    ['[::1]:5001', '[::1]:5001'],
    ['https://auth.example.com', 'auth.example.com:443'],
    ['https://auth.example.com/', 'auth.example.com:443'],
    ['HTTPS://Auth.Example.com:8443', 'auth.example.com:8443'],
    ['http://auth.example.com', 'auth.example.com:80'],
    ['http://127.0.0.1:5001/', '127.0.0.1:5001'],
    ['https://bücher.example', 'xn--bcher-kva.example:443'],
  ])('%s is stored as %s', (entry, host) => {
    expect(parseRealmAllowEntry(entry)).toEqual({ host });
  });

  it.each([
    ['https://auth.example.com/token', /path/],
    ['https://auth.example.com/?service=x', /path, query/],
    ['auth.example.com/token', /path/],
    ['https://user:pw@auth.example.com', /credentials/],
    ['ftp://auth.example.com', /scheme ftp/],
    ['auth.example.com:0', /port 0/],
    ['auth.example.com:70000', /port 70000/],
    ['*.example.com', /not a host/],
    ['auth example.com', /not a host/],
    ['user@auth.example.com', /not a host/],
    ['', /empty/],
    ['https://', /not a valid URL/],
  ])('%s is refused (%s)', (entry, problem) => {
    const parsed = parseRealmAllowEntry(entry);
    expect(parsed).toEqual({ problem: expect.stringMatching(problem) });
  });
});
