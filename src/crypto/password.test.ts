import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dummyVerify, hashPassword, needsRehash, verifyPassword } from './password.js';

const b64 = (b: Buffer): string => b.toString('base64').replace(/=+$/, '');

// RFC 7914 section 12 test vectors, written in our encoding.
const RFC7914 = [
  {
    plain: 'password',
    encoded: `$scrypt$ln=10,r=8,p=16$${b64(Buffer.from('NaCl'))}$${b64(
      Buffer.from('fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640', 'hex'),
    )}`,
  },
  {
    plain: 'pleaseletmein',
    encoded: `$scrypt$ln=14,r=8,p=1$${b64(Buffer.from('SodiumChloride'))}$${b64(
      Buffer.from('7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887', 'hex'),
    )}`,
  },
];

describe('hashPassword', () => {
  it('writes a PHC string with scrypt parameters, a 16-byte salt and a 32-byte hash', async () => {
    const h = await hashPassword('correct horse battery staple');
    const m = /^\$scrypt\$ln=15,r=8,p=1\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(h);
    expect(m).not.toBeNull();
    expect(Buffer.from(m?.[1] ?? '', 'base64')).toHaveLength(16);
    expect(Buffer.from(m?.[2] ?? '', 'base64')).toHaveLength(32);
    expect(h).not.toContain('correct horse');
  });

  it('salts: the same password hashes differently each time', async () => {
    const [a, b] = await Promise.all([hashPassword('same'), hashPassword('same')]);
    expect(a).not.toBe(b);
    expect(await verifyPassword('same', a)).toBe(true);
    expect(await verifyPassword('same', b)).toBe(true);
  });
});

describe('verifyPassword', () => {
  it('accepts the right password and refuses others', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 40, unit: 'grapheme' }), fc.string({ minLength: 1, maxLength: 5 }), async (plain, extra) => {
        const h = await hashPassword(plain);
        expect(await verifyPassword(plain, h)).toBe(true);
        expect(await verifyPassword(plain + extra, h)).toBe(false);
      }),
      { numRuns: 6 },
    );
  });

  it('agrees with the RFC 7914 scrypt test vectors', async () => {
    for (const v of RFC7914) {
      expect(await verifyPassword(v.plain, v.encoded)).toBe(true);
      expect(await verifyPassword(`${v.plain}x`, v.encoded)).toBe(false);
    }
  });

  it('treats composed and decomposed accents as the same password', async () => {
    const h = await hashPassword('caf\u00e9');
    expect(await verifyPassword('cafe\u0301', h)).toBe(true);
  });

  it('returns false, never throws, for malformed or hostile encodings', async () => {
    const good = await hashPassword('pw');
    const [, , params = '', salt = '', hash = ''] = good.split('$');
    const bad = [
      '',
      'pw',
      '$2b$12$abcdefghijklmnopqrstuuIuXvGUE4jEZx2X6GTCgNRkHxD6Lq6',
      `$scrypt$${params}$${salt}`,
      `$scrypt$${params}$$${hash}`,
      `$scrypt$${params}$${salt}$`,
      `$scrypt$${params}$${salt}$${hash.slice(0, 8)}`, // too short to be a hash
      `$scrypt$${params}$${salt}$${hash}$extra`,
      `$scrypt$ln=31,r=8,p=1$${salt}$${hash}`, // 2^31 would take minutes
      `$scrypt$ln=15,r=99,p=1$${salt}$${hash}`,
      `$scrypt$ln=15,r=8,p=0$${salt}$${hash}`,
      `$scrypt$ln=15,r=8,p=1$${salt}$${hash.replace(/./, '*')}`,
      `$argon2id$v=19$m=65536,t=3,p=4$${salt}$${hash}`,
    ];
    for (const e of bad) expect(await verifyPassword('pw', e)).toBe(false);
  });

  it('detects a single changed character of the stored hash', async () => {
    const good = await hashPassword('pw');
    const i = good.length - 3;
    const flipped = good.slice(0, i) + (good[i] === 'A' ? 'B' : 'A') + good.slice(i + 1);
    expect(await verifyPassword('pw', flipped)).toBe(false);
  });
});

describe('needsRehash', () => {
  it('is false for a fresh hash and true for weaker or foreign ones', async () => {
    expect(needsRehash(await hashPassword('x'))).toBe(false);
    expect(needsRehash(RFC7914[1]?.encoded ?? '')).toBe(true); // ln=14
    expect(needsRehash(RFC7914[0]?.encoded ?? '')).toBe(true); // ln=10, 4-byte salt
    expect(needsRehash('not a hash')).toBe(true);
  });
});

describe('dummyVerify', () => {
  it('always fails', async () => {
    expect(await dummyVerify()).toBe(false);
    expect(await dummyVerify('any password')).toBe(false);
  });
});
