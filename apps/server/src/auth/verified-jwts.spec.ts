import { Clock, RegistryTokenClaims } from '@wharf/auth';
import { VerifiedJwts } from './verified-jwts';

class FakeClock extends Clock {
  at = 1_000_000_000;
  now(): number {
    return this.at;
  }
}

function claims(exp: number): RegistryTokenClaims {
  return { iss: 'wharf', sub: 'u', aud: 'wharf', exp, nbf: 0, iat: 0, jti: 'j', access: [], typ: 'access' };
}

describe('VerifiedJwts', () => {
  it('answers a remembered token until its exp, then forgets it', () => {
    const clock = new FakeClock();
    const jwts = new VerifiedJwts(clock);
    jwts.remember('a.b.c', claims(clock.at / 1000 + 60));
    expect(jwts.get('a.b.c')?.sub).toBe('u');
    expect(jwts.get('a.b.d')).toBeUndefined();
    clock.at += 59_999;
    expect(jwts.get('a.b.c')).toBeDefined();
    clock.at += 1;
    expect(jwts.get('a.b.c')).toBeUndefined();
  });

  it('keeps at most 10,000 tokens, dropping the oldest first', () => {
    const clock = new FakeClock();
    const jwts = new VerifiedJwts(clock);
    for (let i = 0; i <= 10_000; i += 1) jwts.remember(`t${i}`, claims(clock.at / 1000 + 60));
    expect(jwts.get('t0')).toBeUndefined();
    expect(jwts.get('t1')).toBeDefined();
    expect(jwts.get('t10000')).toBeDefined();
  });
});
