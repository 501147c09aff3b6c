import { describe, expect, it } from 'vitest';
import { displayAddress, sourceAddressKey } from './source-address.js';

describe('sourceAddressKey', () => {
  it('keeps an IPv4 address, and unwraps an IPv4-mapped IPv6 one', () => {
    expect(sourceAddressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(sourceAddressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(sourceAddressKey('::FFFF:203.0.113.7')).toBe('203.0.113.7');
  });

  it('groups IPv6 addresses by their /64 prefix, however they are written', () => {
    const key = '2001:db8:0:1::/64';
    expect(sourceAddressKey('2001:db8:0:1::1')).toBe(key);
    expect(sourceAddressKey('2001:0db8:0000:0001:abcd:ef01:2345:6789')).toBe(key);
    expect(sourceAddressKey('2001:db8:0:1:ffff::%eth0')).toBe(key);
    expect(sourceAddressKey('2001:db8:0:2::1')).not.toBe(key);
    expect(sourceAddressKey('::1')).toBe('0:0:0:0::/64');
    expect(sourceAddressKey('2001:db8::')).toBe('2001:db8:0:0::/64');
  });

  it('has no key without an address', () => {
    expect(sourceAddressKey(undefined)).toBeUndefined();
    expect(sourceAddressKey('')).toBeUndefined();
  });
});

describe('displayAddress', () => {
  it('shows an IPv4-mapped IPv6 address as IPv4, and any other address whole', () => {
    expect(displayAddress('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(displayAddress('203.0.113.7')).toBe('203.0.113.7');
    expect(displayAddress('2001:db8:0:1::1')).toBe('2001:db8:0:1::1');
    expect(displayAddress(undefined)).toBeNull();
  });
});
