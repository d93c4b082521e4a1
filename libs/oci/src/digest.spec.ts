import { parseDigest, tryParseDigest } from './digest';

describe('digest parsing', () => {
  it('accepts sha256 and sha512 with the right lengths', () => {
    expect(tryParseDigest(`sha256:${'a'.repeat(64)}`)?.algorithm).toBe('sha256');
    expect(tryParseDigest(`sha512:${'b'.repeat(128)}`)?.hex).toBe('b'.repeat(128));
  });
  it('refuses malformed digests with DIGEST_INVALID', () => {
    for (const bad of ['sha256:abc', `sha256:${'A'.repeat(64)}`, `md5:${'a'.repeat(32)}`, 'sha256', '', `sha256:${'a'.repeat(63)}/`]) {
      expect(tryParseDigest(bad)).toBeNull();
      expect(() => parseDigest(bad)).toThrow(expect.objectContaining({ code: 'DIGEST_INVALID' }));
    }
  });
});
