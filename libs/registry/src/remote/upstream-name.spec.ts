import { remoteDefaults } from './remote-settings';
import { imageAllowed } from '../image-patterns';
import { upstreamImageName } from './upstream-name';

describe('upstreamImageName', () => {
  it('adds library/ to one-segment names when the remote says so (Docker Hub by default)', () => {
    expect(upstreamImageName(true, 'nginx')).toBe('library/nginx');
    expect(upstreamImageName(true, 'bitnami/redis')).toBe('bitnami/redis');
    expect(upstreamImageName(false, 'nginx')).toBe('nginx');
  });

  it('turns the prefix on by default for Docker Hub only', () => {
    expect(remoteDefaults('https://registry-1.docker.io').libraryPrefix).toBe(true);
    expect(remoteDefaults('http://127.0.0.1:5000').libraryPrefix).toBe(false);
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
