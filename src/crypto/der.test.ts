import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bits, ipBytes, oid, octets, seq, smallUint, time, uint } from './der.js';

const hex = (b: Buffer): string => b.toString('hex');

describe('DER encoders', () => {
  it('encode object identifiers, including multi-byte arcs', () => {
    expect(hex(oid('1.2.840.10045.4.3.2'))).toBe('06082a8648ce3d040302'); // ecdsa-with-SHA256
    expect(hex(oid('2.5.29.17'))).toBe('0603551d11');
    expect(hex(oid('1.3.6.1.5.5.7.3.1'))).toBe('06082b06010505070301');
  });

  it('use short lengths below 128 and long lengths above', () => {
    expect(hex(octets(Buffer.alloc(127))).slice(0, 4)).toBe('047f');
    expect(hex(octets(Buffer.alloc(200))).slice(0, 6)).toBe('0481c8');
    expect(hex(octets(Buffer.alloc(300))).slice(0, 8)).toBe('0482012c');
    expect(hex(seq())).toBe('3000');
  });

  it('encode unsigned integers minimally and never as negative', () => {
    expect(hex(uint(Buffer.from([0x80])))).toBe('02020080');
    expect(hex(uint(Buffer.from([0, 0, 5])))).toBe('020105');
    expect(hex(uint(Buffer.from([0, 0x90])))).toBe('02020090');
    expect(hex(smallUint(0))).toBe('020100');
    expect(hex(smallUint(2))).toBe('020102');
    expect(hex(smallUint(65537))).toBe('0203010001');
  });

  it('encode bit strings with their unused-bit count', () => {
    expect(hex(bits(Buffer.from([0x80]), 7))).toBe('03020780');
  });

  it('switch from UTCTime to GeneralizedTime in 2050 (RFC 5280)', () => {
    expect(time(new Date('2049-12-31T23:59:59Z')).toString('latin1')).toBe('\x17\x0d491231235959Z');
    expect(time(new Date('2050-01-01T00:00:00Z')).toString('latin1')).toBe('\x18\x0f20500101000000Z');
  });
});

describe('ipBytes', () => {
  it('reads IPv4 and the IPv6 forms', () => {
    expect(hex(ipBytes('192.0.2.1'))).toBe('c0000201');
    expect(hex(ipBytes('::1'))).toBe('00000000000000000000000000000001');
    expect(hex(ipBytes('::'))).toBe('00000000000000000000000000000000');
    expect(hex(ipBytes('1::'))).toBe('00010000000000000000000000000000');
    expect(hex(ipBytes('2001:db8::25'))).toBe('20010db8000000000000000000000025');
    expect(hex(ipBytes('::ffff:192.0.2.1'))).toBe('00000000000000000000ffffc0000201');
    expect(() => ipBytes('mail.example.org')).toThrow(TypeError);
  });

  it('agrees with the uncompressed and compressed forms of any address', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 }), (groups) => {
        const expected = Buffer.alloc(16);
        groups.forEach((g, i) => expected.writeUInt16BE(g, i * 2));
        const full = groups.map((g) => g.toString(16)).join(':');
        expect(hex(ipBytes(full))).toBe(hex(expected));
        // Compress the longest run of zero groups (length >= 2) to "::".
        let best = [-1, 0];
        for (let i = 0; i < 8; i++) {
          let j = i;
          while (j < 8 && groups[j] === 0) j++;
          if (j - i > (best[1] ?? 0)) best = [i, j - i];
        }
        const [start = -1, len = 0] = best;
        if (len >= 2) {
          const left = groups.slice(0, start).map((g) => g.toString(16)).join(':');
          const right = groups.slice(start + len).map((g) => g.toString(16)).join(':');
          expect(hex(ipBytes(`${left}::${right}`))).toBe(hex(expected));
        }
      }),
    );
  });
});
