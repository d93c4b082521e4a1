import { parseWwwAuthenticate } from './www-authenticate';

describe('parseWwwAuthenticate', () => {
  it('parses a Docker Hub Bearer challenge', () => {
    expect(parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull' } },
    ]);
  });

  it('splits several challenges in one value and across header lines, keeping quoted commas and escapes', () => {
    expect(parseWwwAuthenticate(['Basic realm="a, \\"b\\"", charset=UTF-8, Bearer realm="https://x/token?a=1",scope="repository:a:pull,push"', 'Negotiate'])).toEqual([
      { scheme: 'basic', params: { realm: 'a, "b"', charset: 'UTF-8' } },
      { scheme: 'bearer', params: { realm: 'https://x/token?a=1', scope: 'repository:a:pull,push' } },
      { scheme: 'negotiate', params: {} },
    ]);
  });

  it('gives nothing for a missing header', () => {
    expect(parseWwwAuthenticate(undefined)).toEqual([]);
    expect(parseWwwAuthenticate('')).toEqual([]);
  });
});
