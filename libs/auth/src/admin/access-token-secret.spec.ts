import { randomUUID } from 'node:crypto';
import { formatAccessToken, generateAccessTokenSecret, hashSecret, isUuid, parseAccessTokenSecret } from './access-token-secret';

describe('access token secrets', () => {
  it('generates 43 base64url characters (32 random bytes), different every time', () => {
    const secrets = new Set(Array.from({ length: 50 }, () => generateAccessTokenSecret()));
    expect(secrets.size).toBe(50);
    for (const secret of secrets) {
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    }
  });

  it('formats wharf_<id without dashes>_<secret> and parses it back', () => {
    const id = randomUUID();
    const secret = generateAccessTokenSecret();
    const token = formatAccessToken(id, secret);
    expect(token).toBe(`wharf_${id.replace(/-/g, '')}_${secret}`);
    expect(token).toMatch(/^wharf_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/);
    expect(parseAccessTokenSecret(token)).toEqual({ tokenId: id, secret });
  });

  it('parses secrets that start or end with the separator and dash characters', () => {
    const id = '0123abcd-4567-89ef-0123-456789abcdef';
    for (const secret of [`_${'a'.repeat(42)}`, `${'-'.repeat(42)}_`, '_'.repeat(43)]) {
      expect(parseAccessTokenSecret(formatAccessToken(id, secret))).toEqual({ tokenId: id, secret });
    }
  });

  it('lowercases the id it embeds and refuses ids that are not uuids', () => {
    const id = randomUUID();
    expect(formatAccessToken(id.toUpperCase(), 'x'.repeat(43))).toBe(formatAccessToken(id, 'x'.repeat(43)));
    expect(() => formatAccessToken('not-a-uuid', 'x'.repeat(43))).toThrow();
  });

  it.each([
    ['empty', ''],
    ['another prefix', `ghp_${'0'.repeat(32)}_${'a'.repeat(43)}`],
    ['uppercase prefix', `WHARF_${'0'.repeat(32)}_${'a'.repeat(43)}`],
    ['uppercase hex', `wharf_${'A'.repeat(32)}_${'a'.repeat(43)}`],
    ['short id', `wharf_${'0'.repeat(31)}_${'a'.repeat(43)}`],
    ['id with dashes', `wharf_0123abcd-4567-89ef-0123-456789abcdef_${'a'.repeat(43)}`],
    ['short secret', `wharf_${'0'.repeat(32)}_${'a'.repeat(42)}`],
    ['long secret', `wharf_${'0'.repeat(32)}_${'a'.repeat(44)}`],
    ['padded secret', `wharf_${'0'.repeat(32)}_${'a'.repeat(42)}=`],
    ['standard base64', `wharf_${'0'.repeat(32)}_${'a'.repeat(42)}+`],
    ['trailing newline', `wharf_${'0'.repeat(32)}_${'a'.repeat(43)}\n`],
    ['a JWT', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln'],
    ['a password', 'correct horse battery staple'],
  ])('refuses %s', (_what, token) => {
    expect(parseAccessTokenSecret(token)).toBeNull();
  });

  it('hashes with sha256, hex', () => {
    expect(hashSecret('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const secret = generateAccessTokenSecret();
    expect(hashSecret(secret)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashSecret(secret)).not.toContain(secret);
  });

  it('recognizes uuids', () => {
    expect(isUuid(randomUUID())).toBe(true);
    expect(isUuid('0123abcd-4567-89ef-0123-456789abcdeg')).toBe(false);
    expect(isUuid("1' OR '1'='1")).toBe(false);
  });
});
