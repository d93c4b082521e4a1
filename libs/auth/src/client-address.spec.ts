import { limitedAddress } from './client-address';

describe('limitedAddress', () => {
  it('keeps IPv4 addresses, also written IPv4-mapped', () => {
    expect(limitedAddress('192.0.2.7')).toBe('192.0.2.7');
    expect(limitedAddress('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(limitedAddress('::FFFF:192.0.2.7')).toBe('192.0.2.7');
  });

  it('counts IPv6 addresses by their /64, however they are written', () => {
    const prefix = '2001:db8:0:1::/64';
    expect(limitedAddress('2001:db8:0:1::1')).toBe(prefix);
    expect(limitedAddress('2001:0db8:0000:0001:abcd:ef01:2345:6789')).toBe(prefix);
    expect(limitedAddress('2001:db8::1:0:0:0:5')).toBe(prefix);
    expect(limitedAddress('2001:db8:0:1:1:2:192.0.2.1')).toBe(prefix);
    expect(limitedAddress('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(limitedAddress('::1')).toBe('0:0:0:0::/64');
    expect(limitedAddress('2001:db8:0:2::1')).not.toBe(prefix);
  });

  it('leaves anything else as it is', () => {
    expect(limitedAddress('unknown')).toBe('unknown');
  });
});
