import { accepts, parseAccept } from './accept';

describe('parseAccept', () => {
  it('splits lists, drops parameters and lowercases, from one header or several', () => {
    expect(parseAccept('application/vnd.OCI.image.manifest.v1+json; q=0.9, application/json')).toEqual(['application/vnd.oci.image.manifest.v1+json', 'application/json']);
    expect(parseAccept(['a/b', 'c/d;q=1'])).toEqual(['a/b', 'c/d']);
    expect(parseAccept(undefined)).toEqual([]);
    expect(parseAccept('')).toEqual([]);
  });

  it('answers a repeated header from memory, with the same parse', () => {
    const header = 'application/vnd.docker.distribution.manifest.v2+json, */*';
    const first = parseAccept(header);
    expect(parseAccept(header)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(accepts(first, 'anything/else')).toBe(true);
  });
});
