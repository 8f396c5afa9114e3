import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mask } from './mask.js';
import { scanCards } from './cards.js';

describe('mask', () => {
  it.each([
    ['credit_card', '4111 1111 1111 1111', '4111 **** **** 1111'],
    ['credit_card', '4111-1111-1111-1111', '4111 **** **** 1111'],
    ['credit_card', '378282246310005', '3782 **** ***0 005'],
    ['iban', 'DE89 3704 0044 0532 0130 00', 'DE89 **** **** **** **** 00'],
    ['us_ssn', '536-22-6789', '***-**-6789'],
    ['us_ssn', '536226789', '***-**-6789'],
    ['uk_nino', 'AB 12 34 56 C', 'AB******C'],
    ['aba_routing', '021000021', '*****0021'],
    ['cloud_key', 'AKIAQ3EGRP5WZ2LXN7TY', 'AKIA****'],
    ['jwt', 'eyJhbGciOiJIUzI1NiJ9.e30.sig', 'eyJh****'],
    ['password', 'correct-horse-battery', 'corr****'],
    ['password', 'hunter2!', '****'],
    ['private_key', '-----BEGIN RSA PRIVATE KEY-----\nMIIE…\n-----END RSA PRIVATE KEY-----', '-----BEGIN RSA PRIVATE KEY----- ****'],
    ['keywords', 'attorney-client', 'attorney-client'],
    ['label', 'X-Classification: secret', 'X-Classification: secret'],
    ['fingerprint', 'merger-plan', 'merger-plan'],
    ['regex', 'PRJ-1234-AB', 'PR****AB'],
    ['regex', 'PRJ-12', '****'],
  ] as const)('%s %j → %j', (type, value, want) => {
    expect(mask(type, value)).toBe(want);
  });

  it('keeps configured text printable and short', () => {
    expect(mask('keywords', 'a\u0000b\nc')).toBe('a b c');
    expect(mask('label', 'x'.repeat(500))).toHaveLength(100);
  });

  it('never shows the middle digits of a card', () => {
    const pan = fc.integer({ min: 13, max: 19 }).chain((n) => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }));
    const sep = fc.constantFrom('', ' ', '-');
    fc.assert(
      fc.property(pan, sep, (digits, s) => {
        const d = digits.join('');
        const value = d.match(/.{1,4}/g)!.join(s);
        const masked = mask('credit_card', value).replaceAll(' ', '');
        expect(masked).toBe(d.slice(0, 4) + '*'.repeat(d.length - 8) + d.slice(-4));
      }),
    );
  });

  it('masks every card the detector finds down to first and last four', () => {
    const text = 'a 4111 1111 1111 1111 b 5555555555554444 c 3782 822463 10005';
    expect(scanCards(text)).toHaveLength(3);
    for (const hit of scanCards(text)) {
      const masked = mask('credit_card', hit.value);
      expect(masked).toMatch(/^\d{4} \*{4} [* \d]+$/);
      expect(masked.replace(/\D/g, '')).toHaveLength(8);
    }
  });
});
