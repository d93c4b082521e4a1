import { isRegistryPath, registryMount } from './registry-paths';

describe('registry paths', () => {
  it('mounts both path forms, keeping the raw repository key', () => {
    expect(registryMount('/v2')).toEqual({ prefix: '/v2/' });
    expect(registryMount('/v2/docker-local/app/manifests/1')).toEqual({ prefix: '/v2/' });
    expect(registryMount('/api/docker/docker-local/v2')).toEqual({ prefix: '/api/docker/docker-local/v2/', repoKey: 'docker-local' });
    expect(registryMount('/api/docker/a%2Fb/v2/app/tags/list')).toEqual({ prefix: '/api/docker/a%2Fb/v2/', repoKey: 'a%2Fb' });
  });

  it('leaves the token endpoint and other paths to Nest', () => {
    expect(registryMount('/v2/token')).toBeUndefined();
    expect(registryMount('/v2x')).toBeUndefined();
    expect(registryMount('/api/docker/key/v2x')).toBeUndefined();
    expect(registryMount('/api/repositories')).toBeUndefined();
    // The Docker v1 API's deletion aliases are REST routes (problem+json answers).
    expect(registryMount('/v1/repositories/docker-local/team/app/tags/1')).toBeUndefined();
    expect(isRegistryPath('/v1/repositories/docker-local/team/app')).toBe(false);
  });

  it('carves promotion out of the scoped prefix, and nothing else', () => {
    expect(registryMount('/api/docker/docker-dev/v2/promote')).toBeUndefined();
    expect(isRegistryPath('/api/docker/docker-dev/v2/promote')).toBe(false);
    // Image names that merely contain "promote" stay registry routes.
    expect(registryMount('/api/docker/docker-dev/v2/promote/tags/list')).toEqual({ prefix: '/api/docker/docker-dev/v2/', repoKey: 'docker-dev' });
    expect(registryMount('/api/docker/docker-dev/v2/team/promote/manifests/1')).toEqual({ prefix: '/api/docker/docker-dev/v2/', repoKey: 'docker-dev' });
    expect(registryMount('/v2/docker-dev/promote')).toEqual({ prefix: '/v2/' });
  });

  it('counts the token endpoint as a registry path for error rendering', () => {
    expect(isRegistryPath('/v2/token')).toBe(true);
    expect(isRegistryPath('/api/docker/key/v2/')).toBe(true);
    expect(isRegistryPath('/api/users')).toBe(false);
  });
});
