import { describe, expect, it } from 'vitest';
import { clientKey } from './client-key.js';

describe('clientKey', () => {
  it('keeps IPv4 and unwraps IPv4-mapped IPv6', () => {
    expect(clientKey('192.0.2.1')).toBe('192.0.2.1');
    expect(clientKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(clientKey('::FFFF:192.0.2.1')).toBe('192.0.2.1');
  });

  it('counts an IPv6 client as its /64, however the address is written', () => {
    const k = '2001:db8:1:2::/64';
    expect(clientKey('2001:db8:1:2::1')).toBe(k);
    expect(clientKey('2001:0db8:0001:0002:ffff:eeee:dddd:cccc')).toBe(k);
    expect(clientKey('2001:db8:1:2:0:0:0:9')).toBe(k);
    expect(clientKey('2001:db8:1:3::1')).not.toBe(k);
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });

  it('leaves anything else as it is', () => {
    expect(clientKey('unknown')).toBe('unknown');
  });
});
