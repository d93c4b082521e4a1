import { imageAllowed, upstreamImageName } from './upstream-name';

describe('upstreamImageName', () => {
  it('adds library/ to one-segment names on Docker Hub only', () => {
    expect(upstreamImageName('https://registry-1.docker.io', 'nginx')).toBe('library/nginx');
    expect(upstreamImageName('https://registry-1.docker.io', 'bitnami/redis')).toBe('bitnami/redis');
    expect(upstreamImageName('http://127.0.0.1:5000', 'nginx')).toBe('nginx');
  });
});

describe('imageAllowed', () => {
  it('applies include and exclude patterns', () => {
    expect(imageAllowed('library/nginx', '**', '')).toBe(true);
    expect(imageAllowed('library/nginx', 'library/*', '')).toBe(true);
    expect(imageAllowed('bitnami/redis', 'library/*', '')).toBe(false);
    expect(imageAllowed('team/a/b', 'team/*', '')).toBe(false);
    expect(imageAllowed('team/a/b', 'team/**', '')).toBe(true);
    expect(imageAllowed('library/nginx', '**', 'library/ng*')).toBe(false);
    expect(imageAllowed('library/redis', '**', 'library/ng*, bitnami/**')).toBe(true);
  });
});
